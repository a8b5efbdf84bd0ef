package localmodel

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// Tool names the policy calls; they are the gateway's order tools.
const (
	toolFindMenuItems   = "find_menu_items"
	toolAddToOrder      = "add_to_order"
	toolRemoveFromOrder = "remove_from_order"
	toolGetCurrentOrder = "get_current_order"
	toolClearOrder      = "clear_order"
	toolGetStoreInfo    = "get_store_info"
	toolGetSpecials     = "get_specials"
	toolSubmitOrder     = "submit_order"
)

// RequiredTools are the function tools a session must declare for the policy to
// take an order.
var RequiredTools = []string{
	toolFindMenuItems, toolAddToOrder, toolRemoveFromOrder, toolGetCurrentOrder,
	toolClearOrder, toolGetStoreInfo, toolGetSpecials, toolSubmitOrder,
}

// Spoken prompts.
const (
	promptNotCaught    = "Sorry, I didn't catch that. What would you like?"
	promptWhat         = "What would you like?"
	promptAnythingMore = "Anything else?"
	promptChange       = "What would you like to change?"
	promptGoodbye      = "Your order is placed. Thank you, goodbye!"
	promptFailed       = "Sorry, something went wrong with that."
	promptUnavailable  = "Sorry, I can't do that right now."
)

// maxMenuNames bounds the item names read out for "what do you have".
const maxMenuNames = 8

// Utterance is the caller's words, as recognized or as typed.
type Utterance struct {
	Text string
	// Confidence is the recognizer's WordScorePerFrame; it is ignored when Typed.
	Confidence float64
	// Typed marks text the caller typed instead of speaking; it is not checked
	// against the confidence threshold.
	Typed bool
}

// ToolCall is a function call for the client to run.
type ToolCall struct {
	CallID    string
	Name      string
	Arguments string
}

// Reply is the content of one response: function calls to run, or, when Calls is
// empty, words to speak.
type Reply struct {
	Calls  []ToolCall
	Speech string
}

// PolicyConfig configures a Policy.
type PolicyConfig struct {
	Catalog *menu.Catalog
	// ConfidenceThreshold rejects spoken utterances whose confidence is lower.
	ConfidenceThreshold float64
	// CallIDPrefix starts every call id, so that ids are unique per connection.
	CallIDPrefix string
}

type stage uint8

const (
	stageOrdering   stage = iota
	stageConfirming       // the order was read back and the caller was asked to confirm
	stagePlaced
)

// pendingCall is a function call whose output the policy waits for.
type pendingCall struct {
	ToolCall
	itemID string // the item of add_to_order and remove_from_order
}

// Policy is the deterministic dialogue of the offline engine: it turns the
// caller's utterances into tool calls and the tools' outputs into speech. It does no
// I/O and is not safe for concurrent use.
type Policy struct {
	cfg       PolicyConfig
	interp    *interpreter
	tools     map[string]bool
	greeted   bool
	stage     stage
	hasItems  bool
	heard     *Utterance
	waiting   []pendingCall
	outputs   map[string]string
	callCount int
}

// NewPolicy returns a policy at the start of a conversation. It calls no tool until
// SetTools declares them.
func NewPolicy(cfg PolicyConfig) *Policy {
	return &Policy{cfg: cfg, interp: newInterpreter(cfg.Catalog), outputs: make(map[string]string)}
}

// SetTools records the function tools the session declared.
func (p *Policy) SetTools(names []string) {
	p.tools = make(map[string]bool, len(names))
	for _, n := range names {
		p.tools[n] = true
	}
}

// MissingTools returns the required tools that names lacks.
func MissingTools(names []string) []string {
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[n] = true
	}
	var missing []string
	for _, t := range RequiredTools {
		if !have[t] {
			missing = append(missing, t)
		}
	}
	return missing
}

// Hear records a caller utterance for the next response. A later utterance
// replaces one that no response has handled yet.
func (p *Policy) Hear(u Utterance) {
	p.heard = &u
}

// ToolOutput records the output of a call the policy made. It reports false for a
// call id the policy is not waiting for, whose output it ignores.
func (p *Policy) ToolOutput(callID, output string) bool {
	for _, c := range p.waiting {
		if c.CallID == callID {
			p.outputs[callID] = output
			return true
		}
	}
	return false
}

// Respond returns the content of the next response. Outputs of earlier calls come
// first once all have arrived, then a new utterance, then outputs still missing
// (which are reported as failures), then the greeting or a prompt.
func (p *Policy) Respond() Reply {
	switch {
	case len(p.waiting) > 0 && p.allOutputs():
		return p.speakResults()
	case p.heard != nil:
		u := *p.heard
		p.heard = nil
		p.greeted = true
		return p.handle(u)
	case len(p.waiting) > 0:
		return p.speakResults()
	case !p.greeted:
		p.greeted = true
		return Reply{Speech: fmt.Sprintf("Hi, welcome to %s. What can I get you?", p.cfg.Catalog.Restaurant.Name)}
	case p.stage == stagePlaced:
		return Reply{Speech: promptGoodbye}
	default:
		return Reply{Speech: promptWhat}
	}
}

func (p *Policy) allOutputs() bool {
	for _, c := range p.waiting {
		if _, ok := p.outputs[c.CallID]; !ok {
			return false
		}
	}
	return true
}

func (p *Policy) handle(u Utterance) Reply {
	if strings.TrimSpace(u.Text) == "" || (!u.Typed && u.Confidence < p.cfg.ConfidenceThreshold) {
		return Reply{Speech: promptNotCaught}
	}
	in := p.interp.interpret(u.Text)
	switch in.Kind {
	case IntentOrder:
		p.stage = stageOrdering
		calls := make([]pendingCall, 0, len(in.Items))
		for _, line := range in.Items {
			calls = append(calls, pendingCall{ToolCall: ToolCall{Name: toolAddToOrder, Arguments: addArguments(line)}, itemID: line.ItemID})
		}
		return p.call(calls...)
	case IntentDone:
		if p.stage == stagePlaced {
			return Reply{Speech: promptGoodbye}
		}
		return p.call(pendingCall{ToolCall: ToolCall{Name: toolGetCurrentOrder, Arguments: "{}"}})
	case IntentYes:
		switch p.stage {
		case stageConfirming:
			return p.call(pendingCall{ToolCall: ToolCall{Name: toolSubmitOrder, Arguments: "{}"}})
		case stagePlaced:
			return Reply{Speech: promptGoodbye}
		}
		return Reply{Speech: promptWhat}
	case IntentNo:
		switch {
		case p.stage == stageConfirming:
			p.stage = stageOrdering
			return Reply{Speech: promptChange}
		case p.stage == stageOrdering && p.hasItems:
			// "No" to "Anything else?" finishes the order.
			return p.call(pendingCall{ToolCall: ToolCall{Name: toolGetCurrentOrder, Arguments: "{}"}})
		}
		return Reply{Speech: promptWhat}
	case IntentRemove:
		p.stage = stageOrdering
		return p.call(pendingCall{ToolCall: ToolCall{Name: toolRemoveFromOrder, Arguments: jsonObject(map[string]any{"item_id": in.ItemID})}, itemID: in.ItemID})
	case IntentClear:
		p.stage = stageOrdering
		return p.call(pendingCall{ToolCall: ToolCall{Name: toolClearOrder, Arguments: "{}"}})
	case IntentStoreInfo:
		return p.call(pendingCall{ToolCall: ToolCall{Name: toolGetStoreInfo, Arguments: "{}"}})
	case IntentSpecials:
		return p.call(pendingCall{ToolCall: ToolCall{Name: toolGetSpecials, Arguments: "{}"}})
	case IntentMenu:
		return p.call(pendingCall{ToolCall: ToolCall{Name: toolFindMenuItems, Arguments: `{"query":""}`}})
	}
	return Reply{Speech: promptNotCaught}
}

// call assigns call ids and waits for the calls' outputs. A tool the session did
// not declare cannot be called, so the policy apologizes instead.
func (p *Policy) call(calls ...pendingCall) Reply {
	var r Reply
	for _, c := range calls {
		if !p.tools[c.Name] {
			return Reply{Speech: promptUnavailable}
		}
	}
	for _, c := range calls {
		p.callCount++
		c.CallID = fmt.Sprintf("%scall_%d", p.cfg.CallIDPrefix, p.callCount)
		p.waiting = append(p.waiting, c)
		r.Calls = append(r.Calls, c.ToolCall)
	}
	return r
}

func addArguments(line OrderLine) string {
	args := map[string]any{"item_id": line.ItemID, "quantity": line.Quantity}
	if line.SizeID != "" {
		args["size"] = line.SizeID
	}
	if len(line.Modifiers) > 0 {
		mods := make([]map[string]string, 0, len(line.Modifiers))
		for _, m := range line.Modifiers {
			mod := map[string]string{"option": m.OptionID}
			if m.GroupID != "" {
				mod["group"] = m.GroupID
			}
			if m.Amount != menu.AmountRegular {
				mod["amount"] = string(m.Amount)
			}
			mods = append(mods, mod)
		}
		args["modifiers"] = mods
	}
	return jsonObject(args)
}

func jsonObject(v map[string]any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}" // maps of strings and numbers always encode
	}
	return string(b)
}
