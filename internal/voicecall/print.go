package voicecall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/order"
)

// printLine writes one live line to w; a nil w prints nothing. Write errors are
// ignored, because the output is a display and the call goes on without it.
func printLine(w io.Writer, line string) {
	if w == nil {
		return
	}
	fmt.Fprintln(w, line)
}

func formatTurn(t SpokenTurn) string {
	return t.Role + ": " + t.Text
}

// formatToolCall returns "tool: NAME ARGUMENTS -> ok" or "... -> error: MESSAGE".
func formatToolCall(c ToolCall) string {
	args := compactJSON(c.Arguments)
	outcome := "ok"
	if !c.Success {
		outcome = "error: " + toolError(c.Result)
	}
	return fmt.Sprintf("tool: %s %s -> %s", c.Name, args, outcome)
}

func compactJSON(m json.RawMessage) string {
	if len(m) == 0 {
		return "{}"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, m); err != nil {
		return string(m)
	}
	return b.String()
}

// toolError returns the message of a failed tool result, whose envelope is
// {success, data, error, message}.
func toolError(result json.RawMessage) string {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(result, &env) != nil {
		return "failed"
	}
	var text string
	if json.Unmarshal(env.Error, &text) == nil && text != "" {
		return text
	}
	var detail struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	if json.Unmarshal(env.Error, &detail) == nil && (detail.Message != "" || detail.Code != "") {
		return strings.TrimSpace(detail.Message + " " + paren(detail.Code))
	}
	if env.Message != "" {
		return env.Message
	}
	return "failed"
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// PrintSummary writes the items and the placed order. The items come from the cart,
// or, once submitting the order has emptied the cart, from the order. There is one
// line per item with quantity, name, size, modifiers and line total, then subtotal,
// tax and total. The last line reads "order: #101 (id …)", or "order: none".
func PrintSummary(w io.Writer, r *Result) error {
	var c cart.Cart
	if len(r.Cart) > 0 {
		if err := json.Unmarshal(r.Cart, &c); err != nil {
			return fmt.Errorf("decode cart: %w", err)
		}
	}
	var o *order.Order
	if len(r.Order) > 0 {
		o = new(order.Order)
		if err := json.Unmarshal(r.Order, o); err != nil {
			return fmt.Errorf("decode order: %w", err)
		}
	}

	var b strings.Builder
	switch {
	case len(c.Lines) > 0:
		b.WriteString("cart:\n")
		writeLines(&b, c.Lines, c.Currency)
		writeTotals(&b, c.Subtotal, c.Tax, c.Total, c.Currency)
	case o != nil:
		b.WriteString("cart (submitted as the order):\n")
		writeLines(&b, o.Lines, o.Currency)
		writeTotals(&b, o.Subtotal, o.Tax, o.Total, o.Currency)
	default:
		b.WriteString("cart: empty\n")
	}
	if o == nil {
		b.WriteString("order: none\n")
	} else {
		fmt.Fprintf(&b, "order: #%s (id %s)\n", o.Number, o.ID)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTotals(b *strings.Builder, subtotal, tax, total int64, currency string) {
	fmt.Fprintf(b, "  subtotal %s\n  tax      %s\n  total    %s\n",
		formatCents(subtotal, currency), formatCents(tax, currency), formatCents(total, currency))
}

// writeLines writes "  2 × Latte, Large, Oat milk, extra Vanilla  $11.50" per line.
func writeLines(b *strings.Builder, lines []cart.Line, currency string) {
	for _, l := range lines {
		fmt.Fprintf(b, "  %d × %s  %s\n", l.Quantity, DescribeLine(l), formatCents(l.Total, currency))
	}
}

// DescribeLine returns a cart line's name, size and modifiers, such as
// "Latte, Large, Oat milk, extra Vanilla".
func DescribeLine(l cart.Line) string {
	parts := []string{l.Name}
	if l.SizeName != "" {
		parts = append(parts, l.SizeName)
	}
	for _, m := range l.Modifiers {
		if m.Amount != menu.AmountRegular {
			parts = append(parts, string(m.Amount)+" "+m.Name)
		} else {
			parts = append(parts, m.Name)
		}
	}
	s := strings.Join(parts, ", ")
	if l.Notes != "" {
		s += " (" + l.Notes + ")"
	}
	return s
}

// formatCents formats an amount in cents; an unknown currency is taken as USD.
func formatCents(cents int64, currency string) string {
	if currency == "" {
		currency = "USD"
	}
	return menu.FormatPrice(cents, currency)
}

// PrintOrder writes a stored order: its number and id, one line per item, the
// totals and when it was created.
func PrintOrder(w io.Writer, o *order.Order) error {
	var b strings.Builder
	fmt.Fprintf(&b, "order #%s (id %s, status %s)\n", o.Number, o.ID, o.Status)
	writeLines(&b, o.Lines, o.Currency)
	writeTotals(&b, o.Subtotal, o.Tax, o.Total, o.Currency)
	fmt.Fprintf(&b, "  created  %s\n", o.CreatedAt.Format(time.RFC3339))
	_, err := io.WriteString(w, b.String())
	return err
}
