package cart

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// Limits on what one cart holds.
const (
	// MaxQuantity is the largest quantity of one line.
	MaxQuantity = 100
	// MaxNotes is the longest note on a line, in characters (runes).
	MaxNotes = 1000
	// MaxLines is the largest number of distinct lines in a cart.
	MaxLines = 50
	// MaxSelections is the largest number of modifier selections in one request.
	MaxSelections = 20
)

// Modifier is one chosen option of a line, priced from the catalog.
type Modifier struct {
	GroupID  string      `json:"group_id"`
	OptionID string      `json:"option_id"`
	Name     string      `json:"name"`
	Amount   menu.Amount `json:"amount,omitempty"`
	// Price is added to the unit price of the line, in cents.
	Price int64 `json:"price"`
}

// Line is one item of a cart with its size, options and quantity. Prices are in cents.
type Line struct {
	// ID is short ("L3"), unique within the cart and never reused by it, so a model
	// can name the line to remove.
	ID       string `json:"id"`
	ItemID   string `json:"item_id"`
	Name     string `json:"name"`
	SizeID   string `json:"size_id,omitempty"`
	SizeName string `json:"size_name,omitempty"`
	// Modifiers are in menu order: by modifier group as the catalog lists the groups,
	// then by option as the group lists them.
	Modifiers []Modifier `json:"modifiers,omitempty"`
	Quantity  int        `json:"quantity"`
	Notes     string     `json:"notes,omitempty"`
	// UnitPrice is the item price plus the size delta plus every modifier price.
	UnitPrice int64 `json:"unit_price"`
	// Total is UnitPrice × Quantity.
	Total int64 `json:"total"`
}

// Cart is the order a guest is building. Amounts are in cents of Currency.
type Cart struct {
	Key          string `json:"key"`
	RestaurantID string `json:"restaurant_id"`
	// Instance identifies this cart's lifetime under Key: a cart created again under
	// the same key after expiry gets a new one, so ids derived from it do not repeat.
	Instance string `json:"instance"`
	Currency string `json:"currency"`
	Lines    []Line `json:"lines"`
	Subtotal int64  `json:"subtotal"`
	Tax      int64  `json:"tax"`
	Total    int64  `json:"total"`
	// TaxPPM is the tax rate in parts per million, taken from the catalog on Add.
	TaxPPM int64 `json:"tax_ppm"`
	// Version increases by one on every change.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// SubmittedOrderID is the id of the last order submitted from this cart.
	SubmittedOrderID string `json:"submitted_order_id,omitempty"`
	// LastLineNumber is the number in the most recent line id, so ids are not reused.
	LastLineNumber int `json:"last_line_number"`
}

// Selection is a modifier option requested for a line.
type Selection struct {
	// GroupID optionally names the modifier group by id or name.
	GroupID string `json:"group,omitempty"`
	// OptionID names the option by id, name or alias. A spoken quantifier in front of
	// it ("a lot of skim milk") sets the amount when Amount is empty.
	OptionID string `json:"option"`
	// Amount is empty (regular), "light" or "extra".
	Amount menu.Amount `json:"amount,omitempty"`
}

// AddRequest is a request to add an item to a cart. Its names may be ids, names or
// aliases.
type AddRequest struct {
	ItemID string
	// SizeID may be empty when the item has a default size or no sizes.
	SizeID    string
	Modifiers []Selection
	// Quantity is floored and clamped to 1–MaxQuantity; 0 means 1 and NaN is rejected.
	Quantity float64
	// Notes are trimmed and cut to MaxNotes characters.
	Notes string
}

// Add validates req against the catalog and adds the line, or adds its quantity to an
// identical line (same item, size, options with amounts and notes). It returns the
// line as it is now in the cart. A *ValidationError explains what to change.
func (c *Cart) Add(cat *menu.Catalog, req AddRequest) (Line, error) {
	if c.RestaurantID != "" && c.RestaurantID != cat.Restaurant.ID {
		return Line{}, fmt.Errorf("add to cart: cart belongs to restaurant %q, not %q", c.RestaurantID, cat.Restaurant.ID)
	}
	line, err := buildLine(cat, req)
	if err != nil {
		return Line{}, err
	}
	c.RestaurantID = cat.Restaurant.ID
	c.Currency = cat.Restaurant.Currency
	c.TaxPPM = cat.TaxPPM()

	for i := range c.Lines {
		existing := &c.Lines[i]
		if !existing.sameChoices(&line) {
			continue
		}
		quantity := min(existing.Quantity+line.Quantity, MaxQuantity)
		if quantity == existing.Quantity && line.UnitPrice == existing.UnitPrice {
			return cloneLine(*existing), nil // already at MaxQuantity: not a change
		}
		existing.Quantity = quantity
		existing.UnitPrice = line.UnitPrice
		c.changed()
		return cloneLine(*existing), nil
	}

	if len(c.Lines) >= MaxLines {
		return Line{}, invalid("item_id", fmt.Sprintf("the order already has %d lines, the most one order can hold; submit it or remove a line first", MaxLines))
	}
	c.LastLineNumber++
	line.ID = "L" + strconv.Itoa(c.LastLineNumber)
	c.Lines = append(c.Lines, line)
	c.changed()
	return cloneLine(line), nil
}

// Remove takes quantity units off the line with the given id, or the whole line when
// quantity is 0 or at least the line's quantity. It returns what was removed: the line
// with Quantity and Total of the removed units.
func (c *Cart) Remove(lineID string, quantity int) (Line, error) {
	if quantity < 0 {
		return Line{}, invalid("quantity", fmt.Sprintf("must be 0 (the whole line) or a positive number (got %d)", quantity))
	}
	i := slices.IndexFunc(c.Lines, func(l Line) bool { return l.ID == lineID })
	if i < 0 {
		return Line{}, invalid("line_id", c.unknownLine(lineID))
	}
	removed := cloneLine(c.Lines[i])
	if quantity == 0 || quantity >= c.Lines[i].Quantity {
		c.Lines = slices.Delete(c.Lines, i, i+1)
	} else {
		c.Lines[i].Quantity -= quantity
		removed.Quantity = quantity
	}
	removed.Total = removed.UnitPrice * int64(removed.Quantity)
	c.changed()
	return removed, nil
}

func (c *Cart) unknownLine(lineID string) string {
	if len(c.Lines) == 0 {
		return fmt.Sprintf("unknown line %q; the order is empty", lineID)
	}
	ids := make([]string, len(c.Lines))
	for i, l := range c.Lines {
		ids[i] = l.ID
	}
	return fmt.Sprintf("unknown line %q; the order has lines %s", lineID, strings.Join(ids, ", "))
}

// Clear removes every line. Clearing an empty cart is not a change.
func (c *Cart) Clear() {
	if len(c.Lines) == 0 {
		return
	}
	c.Lines = nil
	c.changed()
}

// MarkSubmitted records that the cart's lines became the order orderID and empties
// the cart.
func (c *Cart) MarkSubmitted(orderID string) {
	c.SubmittedOrderID = orderID
	c.Lines = nil
	c.changed()
}

// Quantity returns the number of units over all lines.
func (c *Cart) Quantity() int {
	n := 0
	for _, l := range c.Lines {
		n += l.Quantity
	}
	return n
}

// Line returns the line with the given id.
func (c *Cart) Line(id string) (Line, bool) {
	for _, l := range c.Lines {
		if l.ID == id {
			return cloneLine(l), true
		}
	}
	return Line{}, false
}

// Recalculate sets each line total, the subtotal, the tax and the total from the unit
// prices, quantities and TaxPPM.
func (c *Cart) Recalculate() {
	c.Subtotal = 0
	for i := range c.Lines {
		l := &c.Lines[i]
		l.Total = l.UnitPrice * int64(l.Quantity)
		c.Subtotal += l.Total
	}
	c.Tax = Tax(c.Subtotal, c.TaxPPM)
	c.Total = c.Subtotal + c.Tax
}

func (c *Cart) changed() {
	c.Recalculate()
	c.Version++
}

// Clone returns a deep copy of the cart.
func (c Cart) Clone() Cart {
	if c.Lines != nil {
		lines := make([]Line, len(c.Lines))
		for i, l := range c.Lines {
			lines[i] = cloneLine(l)
		}
		c.Lines = lines
	}
	return c
}

func cloneLine(l Line) Line {
	l.Modifiers = slices.Clone(l.Modifiers)
	return l
}

// Tax returns subtotal × ppm / 1,000,000 rounded half away from zero. It is computed
// once on a cart's subtotal, not per line, in 128-bit integer arithmetic so that no
// subtotal overflows. ppm must be in [0, 1,000,000).
func Tax(subtotal, ppm int64) int64 {
	if ppm <= 0 || subtotal == 0 {
		return 0
	}
	magnitude := uint64(subtotal)
	if subtotal < 0 {
		magnitude = -magnitude
	}
	// magnitude < 2^63 and ppm < 10^6, so hi < 10^6 and the quotient fits in 63 bits.
	hi, lo := bits.Mul64(magnitude, uint64(ppm))
	q, r := bits.Div64(hi, lo, 1_000_000)
	if r >= 500_000 {
		q++
	}
	if subtotal < 0 {
		return -int64(q)
	}
	return int64(q)
}

// ClampQuantity turns a requested quantity into a line quantity: floored, 0 and
// negative values become 1, values above MaxQuantity become MaxQuantity. NaN is
// rejected.
func ClampQuantity(q float64) (int, error) {
	if math.IsNaN(q) {
		return 0, invalid("quantity", fmt.Sprintf("must be a whole number from 1 to %d", MaxQuantity))
	}
	q = math.Floor(q)
	switch {
	case q < 1:
		return 1, nil
	case q > MaxQuantity:
		return MaxQuantity, nil
	}
	return int(q), nil
}

// CleanNotes trims notes, replaces invalid UTF-8 and cuts the result to MaxNotes
// characters.
func CleanNotes(notes string) string {
	notes = strings.TrimSpace(strings.ToValidUTF8(notes, "\uFFFD"))
	if utf8.RuneCountInString(notes) <= MaxNotes {
		return notes
	}
	n := 0
	for i := range notes {
		if n == MaxNotes {
			return strings.TrimSpace(notes[:i])
		}
		n++
	}
	return notes
}

func (l *Line) sameChoices(o *Line) bool {
	return l.ItemID == o.ItemID && l.SizeID == o.SizeID && l.Notes == o.Notes &&
		slices.EqualFunc(l.Modifiers, o.Modifiers, func(a, b Modifier) bool {
			return a.GroupID == b.GroupID && a.OptionID == b.OptionID && a.Amount == b.Amount
		})
}
