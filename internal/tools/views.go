package tools

import (
	"fmt"
	"strings"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
)

// lineView is a cart line as the model reads it.
type lineView struct {
	LineID        string         `json:"line_id"`
	ItemID        string         `json:"item_id"`
	Description   string         `json:"description"`
	Quantity      int            `json:"quantity"`
	Size          string         `json:"size,omitempty"`
	Modifiers     []modifierView `json:"modifiers,omitempty"`
	Notes         string         `json:"notes,omitempty"`
	UnitPrice     int64          `json:"unit_price"`
	UnitPriceText string         `json:"unit_price_text"`
	Total         int64          `json:"total"`
	TotalText     string         `json:"total_text"`
}

type modifierView struct {
	Group  string      `json:"group"`
	Option string      `json:"option"`
	Name   string      `json:"name"`
	Amount menu.Amount `json:"amount,omitempty"`
}

// cartView is the whole order as the model reads it. Amounts are in cents, with a
// formatted copy for speaking.
type cartView struct {
	Lines        []lineView `json:"lines"`
	ItemCount    int        `json:"item_count"`
	Subtotal     int64      `json:"subtotal"`
	SubtotalText string     `json:"subtotal_text"`
	Tax          int64      `json:"tax"`
	TaxText      string     `json:"tax_text"`
	Total        int64      `json:"total"`
	TotalText    string     `json:"total_text"`
	Currency     string     `json:"currency"`
}

func newLineView(l cart.Line, currency string) lineView {
	v := lineView{
		LineID:        l.ID,
		ItemID:        l.ItemID,
		Description:   cart.Describe(l),
		Quantity:      l.Quantity,
		Size:          l.SizeID,
		Notes:         l.Notes,
		UnitPrice:     l.UnitPrice,
		UnitPriceText: menu.FormatPrice(l.UnitPrice, currency),
		Total:         l.Total,
		TotalText:     menu.FormatPrice(l.Total, currency),
	}
	for _, m := range l.Modifiers {
		v.Modifiers = append(v.Modifiers, modifierView{Group: m.GroupID, Option: m.OptionID, Name: m.Name, Amount: m.Amount})
	}
	return v
}

func newCartView(c *cart.Cart, currency string) cartView {
	if c.Currency != "" {
		currency = c.Currency
	}
	v := cartView{
		Lines:        make([]lineView, len(c.Lines)),
		ItemCount:    c.Quantity(),
		Subtotal:     c.Subtotal,
		SubtotalText: menu.FormatPrice(c.Subtotal, currency),
		Tax:          c.Tax,
		TaxText:      menu.FormatPrice(c.Tax, currency),
		Total:        c.Total,
		TotalText:    menu.FormatPrice(c.Total, currency),
		Currency:     currency,
	}
	for i, l := range c.Lines {
		v.Lines[i] = newLineView(l, currency)
	}
	return v
}

// orderSummary is a sentence that reads the order's lines and total.
func orderSummary(c *cart.Cart, currency string) string {
	if len(c.Lines) == 0 {
		return "The order is empty."
	}
	if c.Currency != "" {
		currency = c.Currency
	}
	parts := make([]string, len(c.Lines))
	for i, l := range c.Lines {
		parts[i] = cart.Describe(l)
	}
	return fmt.Sprintf("The order is %s. The total is %s including %s tax.",
		joinAnd(parts), menu.FormatPrice(c.Total, currency), menu.FormatPrice(c.Tax, currency))
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
