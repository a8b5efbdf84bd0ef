package session

import (
	"strings"
	"unicode/utf8"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// Bounds of the summary a replacement model connection receives.
const (
	summaryTurns     = 12  // most recent turns repeated
	summaryTurnRunes = 300 // maximum length of a repeated turn, in characters
)

// summary describes the conversation so far for a new model connection: the recent
// turns, the cart and the order if one was placed. The new connection has nothing
// else about the call.
//
// NOTE: the cart is the one the last finished tool call returned. A tool still
// running when the old connection dropped changes the cart after the summary went
// out, and its output is dropped, so the model learns of that change only from
// get_current_order.
func (c *conversation) summary() string {
	view := c.s.record.View()
	var b strings.Builder
	b.WriteString("The connection to this phone call was replaced; continue the same conversation. ")
	b.WriteString("Do not greet the caller again, and do not repeat what was already said.\n")

	turns := view.Turns
	if len(turns) > summaryTurns {
		turns = turns[len(turns)-summaryTurns:]
	}
	if len(turns) > 0 {
		b.WriteString("Most recent turns:\n")
		for _, t := range turns {
			b.WriteString(t.Role)
			b.WriteString(": ")
			b.WriteString(truncateRunes(t.Text, summaryTurnRunes))
			b.WriteByte('\n')
		}
	}
	writeCart(&b, view.Cart)
	if o := view.Order; o != nil {
		b.WriteString("The order was placed as number ")
		b.WriteString(o.Number)
		b.WriteString(".\n")
	}
	return b.String()
}

func writeCart(b *strings.Builder, c *cart.Cart) {
	if c == nil || len(c.Lines) == 0 {
		b.WriteString("The order is empty.\n")
		return
	}
	b.WriteString("The order now holds, as the tools report it:\n")
	for _, l := range c.Lines {
		b.WriteString("- ")
		b.WriteString(cart.Describe(l))
		b.WriteString(" (line ")
		b.WriteString(l.ID)
		b.WriteString(")\n")
	}
	b.WriteString("Total ")
	b.WriteString(menu.FormatPrice(c.Total, c.Currency))
	b.WriteString(" including tax. Use get_current_order before quoting it.\n")
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// summaryItem returns the conversation.item.create that gives a new connection the
// summary as a system message.
func summaryItem(text string) realtime.ClientEvent {
	return realtime.ClientEvent{
		Type: realtime.ClientConversationItemCreate,
		Item: &realtime.Item{
			Type:    realtime.ItemMessage,
			Role:    realtime.RoleSystem,
			Content: []realtime.ContentPart{{Type: realtime.ContentInputText, Text: text}},
		},
	}
}
