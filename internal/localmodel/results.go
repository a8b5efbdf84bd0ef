package localmodel

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// toolResult is the envelope every order tool returns. Fields the policy does not
// read are ignored, and a missing field reads as its zero value.
type toolResult struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

type lineData struct {
	Description string `json:"description"`
}

type orderData struct {
	Lines     []lineData `json:"lines"`
	ItemCount int        `json:"item_count"`
	TotalText string     `json:"total_text"`
}

type addData struct {
	Line  lineData  `json:"line"`
	Order orderData `json:"order"`
}

type submitData struct {
	OrderNumber string `json:"order_number"`
	TotalText   string `json:"total_text"`
}

type storeData struct {
	HoursText string `json:"hours_text"`
}

type specialsData struct {
	Specials []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		PriceText   string `json:"price_text"`
	} `json:"specials"`
}

type menuData struct {
	Items []struct {
		Name string `json:"name"`
	} `json:"items"`
	Count int `json:"count"`
}

// parseResult decodes a tool output; an output that is not an envelope reads as a
// failure with no detail.
func parseResult(output string) toolResult {
	var r toolResult
	if err := json.Unmarshal([]byte(output), &r); err != nil {
		return toolResult{}
	}
	return r
}

// decodeData fills dst from the envelope's data, leaving it zero when data is
// missing or of another shape.
func decodeData(r toolResult, dst any) {
	if len(r.Data) > 0 {
		_ = json.Unmarshal(r.Data, dst) // a malformed data field leaves dst partly zero, which the callers handle
	}
}

// speakResults turns the outputs of all waiting calls into one reply and clears
// them.
func (p *Policy) speakResults() Reply {
	var added, failed, other []string
	tail := ""
	for _, c := range p.waiting {
		output, ok := p.outputs[c.CallID]
		if !ok {
			other = append(other, promptFailed)
			continue
		}
		r := parseResult(output)
		switch c.Name {
		case toolAddToOrder:
			if r.Success {
				var d addData
				decodeData(r, &d)
				added = append(added, d.Line.Description)
				p.hasItems = true
			} else {
				failed = append(failed, p.addFailure(c, r))
			}
		default:
			text, t := p.resultSpeech(c, r)
			other = append(other, text)
			if t != "" {
				tail = t
			}
		}
	}
	p.waiting = p.waiting[:0]
	clear(p.outputs)

	var parts []string
	if len(added) > 0 {
		parts = append(parts, "Added "+joinAnd(nonEmpty(added, "that"))+".")
	}
	parts = append(parts, failed...)
	parts = append(parts, other...)
	switch {
	case tail != "":
		parts = append(parts, tail)
	case len(added) > 0:
		parts = append(parts, promptAnythingMore)
	case len(failed) > 0, !p.hasItems:
		parts = append(parts, promptWhat)
	default:
		parts = append(parts, promptAnythingMore)
	}
	return Reply{Speech: strings.Join(parts, " ")}
}

// addFailure returns the sentence that reports an item the tool could not add,
// with the tool's error in plain words.
func (p *Policy) addFailure(c pendingCall, r toolResult) string {
	name := c.itemID
	if it, ok := p.cfg.Catalog.Item(c.itemID); ok {
		name = strings.ToLower(it.Name)
	}
	if strings.Contains(r.Error, "unknown item") {
		return fmt.Sprintf("Sorry, %s is not on the menu.", name)
	}
	return fmt.Sprintf("Sorry, I couldn't add the %s: %s.", name, plainError(r.Error))
}

// resultSpeech returns what to say about one tool result, and the question that
// ends the reply when this result decides it.
func (p *Policy) resultSpeech(c pendingCall, r toolResult) (string, string) {
	if !r.Success {
		if c.Name == toolSubmitOrder {
			p.stage = stageOrdering
		}
		return "Sorry, " + plainError(r.Error) + ".", promptWhat
	}
	switch c.Name {
	case toolGetCurrentOrder:
		var d orderData
		decodeData(r, &d)
		if len(d.Lines) == 0 {
			p.hasItems = false
			p.stage = stageOrdering
			return "You haven't ordered anything yet.", promptWhat
		}
		p.hasItems = true
		p.stage = stageConfirming
		descs := make([]string, len(d.Lines))
		for i, l := range d.Lines {
			descs[i] = l.Description
		}
		return fmt.Sprintf("That's %s. Your total is %s.", joinAnd(descs), d.TotalText), "Shall I place the order?"
	case toolSubmitOrder:
		var d submitData
		decodeData(r, &d)
		p.stage = stagePlaced
		p.hasItems = false
		if d.OrderNumber == "" {
			return "Your order is placed.", "Thank you, goodbye!"
		}
		return fmt.Sprintf("Your order number is %s.", d.OrderNumber), "Thank you, goodbye!"
	case toolRemoveFromOrder:
		var d orderData
		decodeData(r, &d)
		p.hasItems = d.ItemCount > 0
		return r.Message, promptAnythingMore
	case toolClearOrder:
		p.hasItems = false
		return "I've cleared your order.", promptWhat
	case toolGetStoreInfo:
		var d storeData
		decodeData(r, &d)
		text := r.Message
		if d.HoursText != "" {
			text += " Our hours are " + d.HoursText + "."
		}
		return strings.TrimSpace(text), ""
	case toolGetSpecials:
		var d specialsData
		decodeData(r, &d)
		if len(d.Specials) == 0 {
			return "There are no specials right now.", ""
		}
		descs := make([]string, len(d.Specials))
		for i, s := range d.Specials {
			descs[i] = strings.TrimSuffix(s.Description, ".")
		}
		return "Our specials: " + strings.Join(descs, ". ") + ".", ""
	case toolFindMenuItems:
		var d menuData
		decodeData(r, &d)
		names := make([]string, 0, maxMenuNames)
		for _, it := range d.Items[:min(len(d.Items), maxMenuNames)] {
			names = append(names, strings.ToLower(it.Name))
		}
		if len(names) == 0 {
			return "Sorry, I couldn't read the menu.", promptWhat
		}
		if d.Count > len(names) {
			names = append(names, "more")
		}
		return "We have " + joinAnd(names) + ".", promptWhat
	}
	return strings.TrimSpace(r.Message), ""
}

// plainError turns a tool error written for a model ("size: unknown size
// \"huge\"; the sizes are ...") into a clause to speak: the first sentence of it
// without the field name, and without instructions after a semicolon.
func plainError(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return "something went wrong"
	}
	if field, rest, ok := strings.Cut(msg, ": "); ok && !strings.ContainsAny(field, " \"") {
		msg = rest
	}
	if i := strings.IndexAny(msg, ";\n"); i > 0 {
		msg = msg[:i]
	}
	msg = strings.TrimRight(msg, ". ")
	if r := []rune(msg); len(r) > 0 && unicode.IsUpper(r[0]) && (len(r) == 1 || !unicode.IsUpper(r[1])) {
		r[0] = unicode.ToLower(r[0])
		msg = string(r)
	}
	return msg
}

func nonEmpty(parts []string, fallback string) []string {
	out := make([]string, len(parts))
	for i, s := range parts {
		if s == "" {
			s = fallback
		}
		out[i] = s
	}
	return out
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
