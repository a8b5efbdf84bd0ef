package cart_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/menus"
)

func catalog(t testing.TB) *menu.Catalog {
	t.Helper()
	c, err := menu.Parse(menus.DefaultName, menus.Default)
	if err != nil {
		t.Fatalf("parse shipped menu: %v", err)
	}
	return c
}

func TestAddPricesFromCatalog(t *testing.T) {
	cat := catalog(t)
	tests := []struct {
		name         string
		req          cart.AddRequest
		wantSize     string
		wantMods     []string // group/option[:amount] in menu order
		wantUnit     int64
		wantQuantity int
	}{
		{
			name:         "default size",
			req:          cart.AddRequest{ItemID: "latte"},
			wantSize:     "small",
			wantUnit:     425,
			wantQuantity: 1,
		},
		{
			name:         "size alias and priced options",
			req:          cart.AddRequest{ItemID: "Latte", SizeID: "twenty ounce", Quantity: 2, Modifiers: []cart.Selection{{OptionID: "oat"}, {OptionID: "double shot"}}},
			wantSize:     "large",
			wantMods:     []string{"shots/double", "milk/oat"},
			wantUnit:     425 + 100 + 75 + 70,
			wantQuantity: 2,
		},
		{
			name:         "negative size delta",
			req:          cart.AddRequest{ItemID: "coffee", SizeID: "short"},
			wantSize:     "short",
			wantUnit:     275 - 40,
			wantQuantity: 1,
		},
		{
			name:         "spoken amount",
			req:          cart.AddRequest{ItemID: "house_coffee", Modifiers: []cart.Selection{{OptionID: "a lot of skim milk"}, {OptionID: "a little bit of sugar"}}},
			wantSize:     "small",
			wantMods:     []string{"milk/skim:extra", "sweetener/sugar:light"},
			wantUnit:     275,
			wantQuantity: 1,
		},
		{
			name:         "explicit amount and group name",
			req:          cart.AddRequest{ItemID: "mocha", Modifiers: []cart.Selection{{GroupID: "Milk", OptionID: "whole", Amount: "extra"}}},
			wantSize:     "small",
			wantMods:     []string{"milk/whole:extra"},
			wantUnit:     475,
			wantQuantity: 1,
		},
		{
			name:         "amount in capitals with a spoken quantifier",
			req:          cart.AddRequest{ItemID: "mocha", Modifiers: []cart.Selection{{OptionID: "lots of oat milk", Amount: " Extra"}}},
			wantSize:     "small",
			wantMods:     []string{"milk/oat:extra"},
			wantUnit:     475 + 70,
			wantQuantity: 1,
		},
		{
			name:         "regular amount word",
			req:          cart.AddRequest{ItemID: "mocha", Modifiers: []cart.Selection{{OptionID: "whole", Amount: "regular"}}},
			wantSize:     "small",
			wantMods:     []string{"milk/whole"},
			wantUnit:     475,
			wantQuantity: 1,
		},
		{
			name:         "required group chosen",
			req:          cart.AddRequest{ItemID: "egg sandwich", Modifiers: []cart.Selection{{OptionID: "bacon"}, {OptionID: "croissant"}, {OptionID: "avocado"}}},
			wantMods:     []string{"bread/croissant", "sandwich_extras/bacon", "sandwich_extras/avocado"},
			wantUnit:     650 + 100 + 150 + 125,
			wantQuantity: 1,
		},
		{
			name:         "item without sizes",
			req:          cart.AddRequest{ItemID: "muffin", Quantity: 3},
			wantUnit:     375,
			wantQuantity: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c cart.Cart
			line, err := c.Add(cat, tt.req)
			if err != nil {
				t.Fatalf("Add error: %v", err)
			}
			if line.SizeID != tt.wantSize {
				t.Errorf("SizeID = %q, want %q", line.SizeID, tt.wantSize)
			}
			if got := modKeys(line); strings.Join(got, " ") != strings.Join(tt.wantMods, " ") {
				t.Errorf("modifiers = %v, want %v", got, tt.wantMods)
			}
			if line.UnitPrice != tt.wantUnit {
				t.Errorf("UnitPrice = %d, want %d", line.UnitPrice, tt.wantUnit)
			}
			if line.Quantity != tt.wantQuantity {
				t.Errorf("Quantity = %d, want %d", line.Quantity, tt.wantQuantity)
			}
			if want := tt.wantUnit * int64(tt.wantQuantity); line.Total != want || c.Subtotal != want {
				t.Errorf("line total %d, subtotal %d; want both %d", line.Total, c.Subtotal, want)
			}
			if c.Version != 1 {
				t.Errorf("Version = %d, want 1", c.Version)
			}
			if c.Currency != "USD" || c.RestaurantID != "corner-cafe" || c.TaxPPM != 88750 {
				t.Errorf("cart currency %q, restaurant %q, tax %d; want USD, corner-cafe, 88750", c.Currency, c.RestaurantID, c.TaxPPM)
			}
		})
	}
}

func modKeys(l cart.Line) []string {
	var out []string
	for _, m := range l.Modifiers {
		k := m.GroupID + "/" + m.OptionID
		if m.Amount != menu.AmountRegular {
			k += ":" + string(m.Amount)
		}
		out = append(out, k)
	}
	return out
}

func TestAddRejects(t *testing.T) {
	cat := catalog(t)
	soldOut := catalog(t)
	it, _ := soldOut.Item("iced_mocha")
	it.Unavailable = true

	tests := []struct {
		name      string
		cat       *menu.Catalog
		req       cart.AddRequest
		wantField string
		wantError string // exact Error() when set
		wantParts []string
	}{
		{
			name:      "missing item",
			req:       cart.AddRequest{},
			wantField: "item_id",
		},
		{
			name:      "unknown item names close matches",
			req:       cart.AddRequest{ItemID: "iced latte"},
			wantField: "item_id",
			wantParts: []string{`unknown item "iced latte"`, "latte", "iced_coffee"},
		},
		{
			name:      "unknown item without matches",
			req:       cart.AddRequest{ItemID: "pizza"},
			wantField: "item_id",
			wantParts: []string{`unknown item "pizza"`},
		},
		{
			name:      "sold out",
			cat:       soldOut,
			req:       cart.AddRequest{ItemID: "iced_mocha"},
			wantField: "item_id",
			wantParts: []string{"sold out"},
		},
		{
			name:      "unknown size",
			req:       cart.AddRequest{ItemID: "latte", SizeID: "huge"},
			wantField: "size",
			wantError: `size: unknown size "huge"; choose one of short, small, medium, large`,
		},
		{
			name:      "size on item without sizes",
			req:       cart.AddRequest{ItemID: "muffin", SizeID: "large"},
			wantField: "size",
			wantParts: []string{"one size"},
		},
		{
			name:      "unknown option in named group",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{GroupID: "milk", OptionID: "goat"}}},
			wantField: "milk",
			wantError: `milk: unknown option "goat"; choose one of milk, skim, whole, soy, almond, oat, cream`,
		},
		{
			name:      "unknown option without group",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "goat milk"}}},
			wantField: "modifiers",
			wantParts: []string{`unknown option "goat milk" for Latte`, "milk (milk, skim, whole, soy, almond, oat, cream)", "syrup (vanilla, caramel, hazelnut)"},
		},
		{
			name:      "option of another item",
			req:       cart.AddRequest{ItemID: "oatmeal", Modifiers: []cart.Selection{{OptionID: "oat milk"}}},
			wantField: "modifiers",
			wantParts: []string{"takes no modifiers"},
		},
		{
			name:      "group the item lacks",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{GroupID: "bread", OptionID: "bagel"}}},
			wantField: "modifiers",
			wantParts: []string{`no modifier group "bread"`, "roast, shots, milk, sweetener, syrup"},
		},
		{
			name:      "empty option",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: " "}}},
			wantField: "modifiers[0].option",
		},
		{
			name:      "required group missing",
			req:       cart.AddRequest{ItemID: "breakfast_sandwich"},
			wantField: "bread",
			wantParts: []string{"english_muffin, bagel, croissant"},
		},
		{
			name:      "above group max",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "oat"}, {OptionID: "soy"}}},
			wantField: "milk",
			wantParts: []string{"at most 1", "got 2: oat, soy"},
		},
		{
			name:      "above max of two",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "sugar"}, {OptionID: "honey"}, {OptionID: "stevia"}}},
			wantField: "sweetener",
			wantParts: []string{"at most 2"},
		},
		{
			name:      "required group with two choices",
			req:       cart.AddRequest{ItemID: "breakfast_sandwich", Modifiers: []cart.Selection{{OptionID: "bagel"}, {OptionID: "english muffin"}}},
			wantField: "bread",
			wantParts: []string{"at most 1"},
		},
		{
			name:      "option listed twice",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "sugar"}, {OptionID: "white sugar"}}},
			wantField: "sweetener",
			wantParts: []string{"listed twice"},
		},
		{
			name:      "amount on a group without amounts",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "vanilla", Amount: menu.AmountExtra}}},
			wantField: "syrup",
			wantParts: []string{"leave amount empty"},
		},
		{
			name:      "spoken amount on a group without amounts",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "a lot of vanilla"}}},
			wantField: "syrup",
		},
		{
			name:      "unknown amount",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "oat", Amount: "huge"}}},
			wantField: "milk",
			wantParts: []string{`unknown amount "huge"`, "light or extra"},
		},
		{
			name:      "too many selections",
			req:       cart.AddRequest{ItemID: "latte", Modifiers: make([]cart.Selection, cart.MaxSelections+1)},
			wantField: "modifiers",
		},
		{
			name:      "quantity not a number",
			req:       cart.AddRequest{ItemID: "latte", Quantity: math.NaN()},
			wantField: "quantity",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cat
			if tt.cat != nil {
				c = tt.cat
			}
			var crt cart.Cart
			_, err := crt.Add(c, tt.req)
			var verr *cart.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Add error = %v, want *cart.ValidationError", err)
			}
			if verr.Field != tt.wantField {
				t.Errorf("Field = %q, want %q (error: %v)", verr.Field, tt.wantField, err)
			}
			if tt.wantError != "" && err.Error() != tt.wantError {
				t.Errorf("Error() = %q\nwant      %q", err.Error(), tt.wantError)
			}
			for _, p := range tt.wantParts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("Error() = %q, want it to contain %q", err.Error(), p)
				}
			}
			if crt.Version != 0 || len(crt.Lines) != 0 {
				t.Errorf("rejected Add changed the cart: version %d, %d lines", crt.Version, len(crt.Lines))
			}
		})
	}
}

func TestAddRequiresSizeWithoutDefault(t *testing.T) {
	cat := catalog(t)
	it, _ := cat.Item("latte")
	it.DefaultSize = ""
	var c cart.Cart
	_, err := c.Add(cat, cart.AddRequest{ItemID: "latte"})
	if err == nil || err.Error() != "size: missing; Latte needs a size: choose one of short, small, medium, large" {
		t.Errorf("Add without size = %v, want the missing size error naming the sizes", err)
	}
}

func TestClampQuantity(t *testing.T) {
	tests := []struct {
		in      float64
		want    int
		wantErr bool
	}{
		{in: 1, want: 1},
		{in: 2.7, want: 2},
		{in: 0, want: 1},
		{in: 0.5, want: 1},
		{in: -3, want: 1},
		{in: 100, want: 100},
		{in: 100.9, want: 100},
		{in: 500, want: 100},
		{in: math.Inf(1), want: 100},
		{in: math.Inf(-1), want: 1},
		{in: math.NaN(), wantErr: true},
	}
	for _, tt := range tests {
		got, err := cart.ClampQuantity(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ClampQuantity(%v) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCleanNotes(t *testing.T) {
	long := strings.Repeat("é", cart.MaxNotes+10)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"trimmed", "  extra hot \n", "extra hot"},
		{"empty", "   ", ""},
		{"cut to max runes", long, strings.Repeat("é", cart.MaxNotes)},
		{"exactly max", strings.Repeat("a", cart.MaxNotes), strings.Repeat("a", cart.MaxNotes)},
		{"invalid utf-8", "hot\xff", "hot\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cart.CleanNotes(tt.in)
			if got != tt.want {
				t.Errorf("CleanNotes = %q (%d runes), want %q (%d runes)", got, utf8.RuneCountInString(got), tt.want, utf8.RuneCountInString(tt.want))
			}
		})
	}
}

func TestAddQuantityAndNotes(t *testing.T) {
	cat := catalog(t)
	var c cart.Cart
	line, err := c.Add(cat, cart.AddRequest{ItemID: "latte", Quantity: 2.7, Notes: "  " + strings.Repeat("x", 1200) + " "})
	if err != nil {
		t.Fatal(err)
	}
	if line.Quantity != 2 {
		t.Errorf("Quantity = %d, want 2", line.Quantity)
	}
	if n := utf8.RuneCountInString(line.Notes); n != cart.MaxNotes {
		t.Errorf("notes length = %d, want %d", n, cart.MaxNotes)
	}
}

func TestAddMergesIdenticalLines(t *testing.T) {
	cat := catalog(t)
	var c cart.Cart
	add := func(req cart.AddRequest) cart.Line {
		t.Helper()
		l, err := c.Add(cat, req)
		if err != nil {
			t.Fatalf("Add(%+v): %v", req, err)
		}
		return l
	}
	first := add(cart.AddRequest{ItemID: "latte", SizeID: "large", Modifiers: []cart.Selection{{OptionID: "oat"}, {OptionID: "sugar"}}})
	// Same choices spelled differently and listed in another order.
	merged := add(cart.AddRequest{ItemID: "Latte", SizeID: "twenty ounce", Quantity: 2, Modifiers: []cart.Selection{{OptionID: "white sugar"}, {GroupID: "milk", OptionID: "Oat milk"}}})
	if merged.ID != first.ID || merged.Quantity != 3 {
		t.Errorf("merged line = %s × %d, want %s × 3", merged.ID, merged.Quantity, first.ID)
	}
	if len(c.Lines) != 1 {
		t.Fatalf("cart has %d lines, want 1", len(c.Lines))
	}

	distinct := []cart.AddRequest{
		{ItemID: "latte", SizeID: "small", Modifiers: []cart.Selection{{OptionID: "oat"}, {OptionID: "sugar"}}},
		{ItemID: "latte", SizeID: "large", Modifiers: []cart.Selection{{OptionID: "oat", Amount: "extra"}, {OptionID: "sugar"}}},
		{ItemID: "latte", SizeID: "large", Modifiers: []cart.Selection{{OptionID: "oat"}}},
		{ItemID: "latte", SizeID: "large", Modifiers: []cart.Selection{{OptionID: "oat"}, {OptionID: "sugar"}}, Notes: "extra hot"},
	}
	for _, req := range distinct {
		add(req)
	}
	if got, want := len(c.Lines), 1+len(distinct); got != want {
		t.Errorf("cart has %d lines, want %d", got, want)
	}

	capped := add(cart.AddRequest{ItemID: "latte", SizeID: "large", Quantity: 99, Modifiers: []cart.Selection{{OptionID: "oat"}, {OptionID: "sugar"}}})
	if capped.Quantity != cart.MaxQuantity {
		t.Errorf("merged quantity = %d, want cap %d", capped.Quantity, cart.MaxQuantity)
	}
	if c.Version != 7 {
		t.Errorf("Version = %d, want 7 after 7 adds", c.Version)
	}

	full := add(cart.AddRequest{ItemID: "latte", SizeID: "large", Modifiers: []cart.Selection{{OptionID: "oat"}, {OptionID: "sugar"}}})
	if full.Quantity != cart.MaxQuantity || c.Version != 7 {
		t.Errorf("adding to a full line: quantity %d, version %d; want %d, 7 (no change)", full.Quantity, c.Version, cart.MaxQuantity)
	}
}

func TestAddLineLimit(t *testing.T) {
	cat := catalog(t)
	var c cart.Cart
	for i := range cart.MaxLines {
		if _, err := c.Add(cat, cart.AddRequest{ItemID: "muffin", Notes: strings.Repeat("x", i+1)}); err != nil {
			t.Fatalf("Add line %d: %v", i+1, err)
		}
	}
	_, err := c.Add(cat, cart.AddRequest{ItemID: "muffin"})
	var verr *cart.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Add beyond MaxLines error = %v, want *cart.ValidationError", err)
	}
	// Merging into an existing line is still allowed.
	if _, err := c.Add(cat, cart.AddRequest{ItemID: "muffin", Notes: "x"}); err != nil {
		t.Errorf("Add merging at MaxLines: %v", err)
	}
}

func TestTax(t *testing.T) {
	tests := []struct {
		name     string
		subtotal int64
		ppm      int64
		want     int64
	}{
		{"zero rate", 1000, 0, 0},
		{"exact", 200, 25000, 5},
		{"half rounds up", 20, 25000, 1},
		{"half rounds away from zero when negative", -20, 25000, -1},
		{"below half rounds down", 275, 88750, 24},
		{"above half rounds up", 550, 88750, 49},
		{"largest subtotal", math.MaxInt64, 500000, 4611686018427387904},
		{"largest rate", 1_000_000, 999_999, 999_999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cart.Tax(tt.subtotal, tt.ppm); got != tt.want {
				t.Errorf("Tax(%d, %d) = %d, want %d", tt.subtotal, tt.ppm, got, tt.want)
			}
		})
	}
}

// TestTaxRoundedOnceOnSubtotal shows two house coffees on separate lines: rounding
// each line's tax (24.41 → 24 cents, twice) would give 48 cents, but the tax on the
// 550-cent subtotal is 48.81 → 49 cents.
func TestTaxRoundedOnceOnSubtotal(t *testing.T) {
	cat := catalog(t)
	var c cart.Cart
	for _, notes := range []string{"", "extra hot"} {
		if _, err := c.Add(cat, cart.AddRequest{ItemID: "house_coffee", Notes: notes}); err != nil {
			t.Fatal(err)
		}
	}
	perLine := int64(0)
	for _, l := range c.Lines {
		perLine += cart.Tax(l.Total, c.TaxPPM)
	}
	if c.Subtotal != 550 || c.Tax != 49 || c.Total != 599 {
		t.Errorf("subtotal %d, tax %d, total %d; want 550, 49, 599", c.Subtotal, c.Tax, c.Total)
	}
	if perLine == c.Tax {
		t.Errorf("per-line rounding gives %d, the same as the subtotal's; the case no longer shows the difference", perLine)
	}
}

func TestRemove(t *testing.T) {
	cat := catalog(t)
	newCart := func(t *testing.T) *cart.Cart {
		var c cart.Cart
		if _, err := c.Add(cat, cart.AddRequest{ItemID: "latte", Quantity: 3}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Add(cat, cart.AddRequest{ItemID: "muffin"}); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	tests := []struct {
		name          string
		lineID        string
		quantity      int
		wantRemoved   int
		wantLines     int
		wantLatteLeft int
		wantField     string
	}{
		{name: "part of a line", lineID: "L1", quantity: 2, wantRemoved: 2, wantLines: 2, wantLatteLeft: 1},
		{name: "whole line by zero", lineID: "L1", quantity: 0, wantRemoved: 3, wantLines: 1},
		{name: "more than the line", lineID: "L1", quantity: 10, wantRemoved: 3, wantLines: 1},
		{name: "unknown line", lineID: "L9", wantField: "line_id"},
		{name: "negative quantity", lineID: "L1", quantity: -1, wantField: "quantity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCart(t)
			before := c.Version
			removed, err := c.Remove(tt.lineID, tt.quantity)
			if tt.wantField != "" {
				var verr *cart.ValidationError
				if !errors.As(err, &verr) || verr.Field != tt.wantField {
					t.Fatalf("Remove error = %v, want a ValidationError on %s", err, tt.wantField)
				}
				if c.Version != before {
					t.Errorf("rejected Remove changed the version")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if removed.Quantity != tt.wantRemoved || removed.Total != 425*int64(tt.wantRemoved) {
				t.Errorf("removed %d for %d cents, want %d for %d", removed.Quantity, removed.Total, tt.wantRemoved, 425*tt.wantRemoved)
			}
			if len(c.Lines) != tt.wantLines {
				t.Errorf("%d lines left, want %d", len(c.Lines), tt.wantLines)
			}
			if l, ok := c.Line("L1"); ok && l.Quantity != tt.wantLatteLeft {
				t.Errorf("latte quantity left = %d, want %d", l.Quantity, tt.wantLatteLeft)
			}
			var sum int64
			for _, l := range c.Lines {
				sum += l.Total
			}
			if c.Subtotal != sum || c.Total != c.Subtotal+c.Tax {
				t.Errorf("totals not recalculated: subtotal %d (lines %d), total %d", c.Subtotal, sum, c.Total)
			}
			if c.Version != before+1 {
				t.Errorf("Version = %d, want %d", c.Version, before+1)
			}
		})
	}
}

func TestLineIDsNotReused(t *testing.T) {
	cat := catalog(t)
	var c cart.Cart
	a, _ := c.Add(cat, cart.AddRequest{ItemID: "latte"})
	if _, err := c.Remove(a.ID, 0); err != nil {
		t.Fatal(err)
	}
	b, _ := c.Add(cat, cart.AddRequest{ItemID: "latte"})
	if a.ID == b.ID {
		t.Errorf("line id %s reused after removal", a.ID)
	}
	if a.ID != "L1" || b.ID != "L2" {
		t.Errorf("line ids = %s, %s; want L1, L2", a.ID, b.ID)
	}
}

func TestClearAndSubmit(t *testing.T) {
	cat := catalog(t)
	var c cart.Cart
	c.Clear()
	if c.Version != 0 {
		t.Errorf("Clear on an empty cart changed the version to %d", c.Version)
	}
	if _, err := c.Add(cat, cart.AddRequest{ItemID: "latte"}); err != nil {
		t.Fatal(err)
	}
	c.Clear()
	if len(c.Lines) != 0 || c.Subtotal != 0 || c.Tax != 0 || c.Total != 0 || c.Version != 2 {
		t.Errorf("after Clear: %d lines, totals %d/%d/%d, version %d", len(c.Lines), c.Subtotal, c.Tax, c.Total, c.Version)
	}
	if _, err := c.Add(cat, cart.AddRequest{ItemID: "latte"}); err != nil {
		t.Fatal(err)
	}
	c.MarkSubmitted("order-1")
	if c.SubmittedOrderID != "order-1" || len(c.Lines) != 0 || c.Total != 0 || c.Version != 4 {
		t.Errorf("after MarkSubmitted: order %q, %d lines, total %d, version %d", c.SubmittedOrderID, len(c.Lines), c.Total, c.Version)
	}
}

func TestAddOtherRestaurant(t *testing.T) {
	cat := catalog(t)
	c := cart.Cart{RestaurantID: "other"}
	if _, err := c.Add(cat, cart.AddRequest{ItemID: "latte"}); err == nil {
		t.Errorf("Add to another restaurant's cart succeeded")
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		line cart.Line
		want string
	}{
		{
			name: "plural with size and amounts",
			line: cart.Line{Name: "Latte", SizeName: "Large", Quantity: 2, Modifiers: []cart.Modifier{
				{Name: "Oat milk"}, {Name: "Sugar", Amount: menu.AmountExtra},
			}},
			want: "2 large lattes with oat milk and a lot of sugar",
		},
		{
			name: "one with article",
			line: cart.Line{Name: "Plain bagel", Quantity: 1, Modifiers: []cart.Modifier{{Name: "Butter"}}},
			want: "a plain bagel with butter",
		},
		{
			name: "an before a vowel",
			line: cart.Line{Name: "Iced mocha", Quantity: 1},
			want: "an iced mocha",
		},
		{
			name: "three modifiers and a light amount",
			line: cart.Line{Name: "House coffee", SizeName: "Medium", Quantity: 1, Modifiers: []cart.Modifier{
				{Name: "Dark roast"}, {Name: "Skim milk", Amount: menu.AmountLight}, {Name: "Honey"},
			}},
			want: "a medium house coffee with dark roast, a little skim milk and honey",
		},
		{
			name: "plural in es",
			line: cart.Line{Name: "Breakfast sandwich", Quantity: 3},
			want: "3 breakfast sandwiches",
		},
		{
			name: "notes",
			line: cart.Line{Name: "Espresso", SizeName: "Short", Quantity: 2, Notes: "in a mug"},
			want: "2 short espressos (in a mug)",
		},
		{
			name: "acronym kept",
			line: cart.Line{Name: "BLT", Quantity: 1},
			want: "a BLT",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cart.Describe(tt.line); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCartJSON(t *testing.T) {
	cat := catalog(t)
	c := cart.Cart{Key: "k"}
	if _, err := c.Add(cat, cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "a lot of oat milk"}}}); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"restaurant_id":"corner-cafe"`, `"unit_price":495`, `"group_id":"milk"`, `"amount":"extra"`, `"subtotal":495`, `"tax":44`, `"total":539`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("JSON %s lacks %s", data, key)
		}
	}
	var back cart.Cart
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Total != c.Total || back.LastLineNumber != 1 || len(back.Lines) != 1 || back.Lines[0].Modifiers[0].Amount != menu.AmountExtra {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestCloneIsDeep(t *testing.T) {
	cat := catalog(t)
	var c cart.Cart
	if _, err := c.Add(cat, cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "oat"}}}); err != nil {
		t.Fatal(err)
	}
	d := c.Clone()
	d.Lines[0].Quantity = 9
	d.Lines[0].Modifiers[0].OptionID = "soy"
	if c.Lines[0].Quantity != 1 || c.Lines[0].Modifiers[0].OptionID != "oat" {
		t.Errorf("changing a clone changed the original: %+v", c.Lines[0])
	}
}

func BenchmarkAdd(b *testing.B) {
	cat := catalog(b)
	req := cart.AddRequest{ItemID: "latte", SizeID: "large", Quantity: 1, Modifiers: []cart.Selection{{OptionID: "a lot of oat milk"}, {OptionID: "sugar"}}}
	for b.Loop() {
		var c cart.Cart
		if _, err := c.Add(cat, req); err != nil {
			b.Fatal(err)
		}
	}
}
