package menu_test

import (
	"slices"
	"testing"

	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/menus"
)

func shippedMenu(t testing.TB) *menu.Catalog {
	t.Helper()
	c, err := menu.Parse(menus.DefaultName, menus.Default)
	if err != nil {
		t.Fatalf("parse shipped menu: %v", err)
	}
	return c
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Iced  Mocha!", "iced mocha"},
		{"  caffè LATTE ", "caffè latte"},
		{"house_coffee", "house coffee"},
		{"I'd like", "i'd like"},
		{"12-ounce", "12 ounce"},
		{"", ""},
		{"!!!", ""},
	}
	for _, tt := range tests {
		if got := menu.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestResolveItem(t *testing.T) {
	c := shippedMenu(t)
	tests := []struct {
		query  string
		wantID string // empty: no match
	}{
		{"house_coffee", "house_coffee"},
		{"house coffee", "house_coffee"},
		{"House Coffee", "house_coffee"},
		{"coffee", "house_coffee"},
		{"drip coffee", "house_coffee"},
		{"Iced mocha", "iced_mocha"},
		{"cafe latte", "latte"},
		{"croissant", "croissant"},
		{"Butter croissant", "croissant"},
		{"egg sandwich", "breakfast_sandwich"},
		{"muffin", "blueberry_muffin"},
		{"pizza", ""},
		{"", ""},
		{"latte with oat milk", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			it, ok := c.ResolveItem(tt.query)
			switch {
			case tt.wantID == "" && ok:
				t.Errorf("ResolveItem(%q) = %s, want no match", tt.query, it.ID)
			case tt.wantID != "" && !ok:
				t.Errorf("ResolveItem(%q) found nothing, want %s", tt.query, tt.wantID)
			case ok && it.ID != tt.wantID:
				t.Errorf("ResolveItem(%q) = %s, want %s", tt.query, it.ID, tt.wantID)
			}
		})
	}
}

func TestResolveSize(t *testing.T) {
	c := shippedMenu(t)
	coffee, _ := c.Item("house_coffee")
	tests := []struct {
		query  string
		wantID string
	}{
		{"small", "small"},
		{"Large", "large"},
		{"twelve ounce", "small"},
		{"12 ounce", "small"},
		{"12-ounce", "small"},
		{"eight ounce", "short"},
		{"20 ounce", "large"},
		{"Sixteen Ounce", "medium"},
		{"huge", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			s, ok := coffee.ResolveSize(tt.query)
			switch {
			case tt.wantID == "" && ok:
				t.Errorf("ResolveSize(%q) = %s, want no match", tt.query, s.ID)
			case tt.wantID != "" && !ok:
				t.Errorf("ResolveSize(%q) found nothing, want %s", tt.query, tt.wantID)
			case ok && s.ID != tt.wantID:
				t.Errorf("ResolveSize(%q) = %s, want %s", tt.query, s.ID, tt.wantID)
			}
		})
	}
	muffin, _ := c.Item("blueberry_muffin")
	if s, ok := muffin.ResolveSize("small"); ok {
		t.Errorf("muffin.ResolveSize(small) = %s, want no match for an item without sizes", s.ID)
	}
}

func TestResolveOption(t *testing.T) {
	c := shippedMenu(t)
	latte, _ := c.Item("latte")
	sandwich, _ := c.Item("breakfast_sandwich")
	tests := []struct {
		name       string
		item       *menu.Item
		group      string
		query      string
		wantGroup  string
		wantOption string // empty: no match
	}{
		{"alias", latte, "", "skim milk", "milk", "skim"},
		{"short alias", latte, "", "skim", "milk", "skim"},
		{"option id equals group id", latte, "", "milk", "milk", "milk"},
		{"name", latte, "", "Oat milk", "milk", "oat"},
		{"id", latte, "", "brown_sugar", "sweetener", "brown_sugar"},
		{"spoken id", latte, "", "brown sugar", "sweetener", "brown_sugar"},
		{"shots", latte, "", "double shot", "shots", "double"},
		{"roast", latte, "", "dark roast", "roast", "dark"},
		{"group by id", latte, "syrup", "vanilla", "syrup", "vanilla"},
		{"group by name", latte, "Flavor syrup", "vanilla", "syrup", "vanilla"},
		{"option outside named group", latte, "milk", "vanilla", "", ""},
		{"group the item lacks", latte, "bread", "bagel", "", ""},
		{"unknown option", latte, "", "goat milk", "", ""},
		{"sandwich bread", sandwich, "", "croissant", "bread", "croissant"},
		{"sandwich extra", sandwich, "", "egg", "sandwich_extras", "extra_egg"},
		{"option of another item", sandwich, "", "oat milk", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, o, ok := c.ResolveOption(tt.item, tt.group, tt.query)
			switch {
			case tt.wantOption == "" && ok:
				t.Errorf("ResolveOption(%s, %q, %q) = %s/%s, want no match", tt.item.ID, tt.group, tt.query, g.ID, o.ID)
			case tt.wantOption != "" && !ok:
				t.Errorf("ResolveOption(%s, %q, %q) found nothing, want %s/%s", tt.item.ID, tt.group, tt.query, tt.wantGroup, tt.wantOption)
			case ok && (g.ID != tt.wantGroup || o.ID != tt.wantOption):
				t.Errorf("ResolveOption(%s, %q, %q) = %s/%s, want %s/%s", tt.item.ID, tt.group, tt.query, g.ID, o.ID, tt.wantGroup, tt.wantOption)
			}
		})
	}
}

func TestSplitAmount(t *testing.T) {
	tests := []struct {
		in         string
		wantAmount menu.Amount
		wantRest   string
	}{
		{"a lot of skim milk", menu.AmountExtra, "skim milk"},
		{"lots of sugar", menu.AmountExtra, "sugar"},
		{"extra cream", menu.AmountExtra, "cream"},
		{"a little bit of whole milk", menu.AmountLight, "whole milk"},
		{"a bit of sweetener", menu.AmountLight, "sweetener"},
		{"A little honey", menu.AmountLight, "honey"},
		{"some brown sugar", menu.AmountRegular, "brown sugar"},
		{"oat milk", menu.AmountRegular, "oat milk"},
		{"something", menu.AmountRegular, "something"},
		{"extra", menu.AmountRegular, "extra"},
	}
	for _, tt := range tests {
		amount, rest := menu.SplitAmount(tt.in)
		if amount != tt.wantAmount || rest != tt.wantRest {
			t.Errorf("SplitAmount(%q) = %q, %q; want %q, %q", tt.in, amount, rest, tt.wantAmount, tt.wantRest)
		}
	}
}

func TestSearch(t *testing.T) {
	c := shippedMenu(t)
	tests := []struct {
		query     string
		limit     int
		wantFirst []string // the leading ids, in order
		wantAll   []string // ids that must appear somewhere
		wantNone  bool
	}{
		{query: "coffee", limit: 5, wantFirst: []string{"house_coffee"}, wantAll: []string{"iced_coffee"}},
		{query: "iced mocha", limit: 3, wantFirst: []string{"iced_mocha"}, wantAll: []string{"mocha"}},
		{query: "mocha", limit: 3, wantFirst: []string{"mocha", "iced_mocha"}},
		{query: "croissants", limit: 3, wantFirst: []string{"croissant"}},
		{query: "muffin", limit: 3, wantFirst: []string{"blueberry_muffin"}},
		{query: "Espresso drinks", limit: 0, wantFirst: []string{"espresso"}, wantAll: []string{"latte", "cappuccino", "americano"}},
		{query: "bakery", limit: 0, wantAll: []string{"croissant", "blueberry_muffin", "plain_bagel"}},
		{query: "cold drinks", limit: 0, wantAll: []string{"iced_coffee", "iced_mocha"}},
		{query: "pizza", limit: 3, wantNone: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := ids(c.Search(tt.query, tt.limit))
			if tt.limit > 0 && len(got) > tt.limit {
				t.Errorf("Search(%q, %d) returned %d items, want at most %d", tt.query, tt.limit, len(got), tt.limit)
			}
			if tt.wantNone && len(got) != 0 {
				t.Errorf("Search(%q) = %v, want nothing", tt.query, got)
			}
			if len(got) < len(tt.wantFirst) || !slices.Equal(got[:len(tt.wantFirst)], tt.wantFirst) {
				t.Errorf("Search(%q) = %v, want it to start with %v", tt.query, got, tt.wantFirst)
			}
			for _, id := range tt.wantAll {
				if !slices.Contains(got, id) {
					t.Errorf("Search(%q) = %v, want it to include %s", tt.query, got, id)
				}
			}
		})
	}

	all := ids(c.Search("", 0))
	if want := len(c.Items); len(all) != want || all[0] != c.Items[0].ID {
		t.Errorf("Search(\"\") = %v, want all %d items in menu order", all, want)
	}
}

func ids(items []*menu.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func TestFormatPrice(t *testing.T) {
	tests := []struct {
		amount   int64
		currency string
		want     string
	}{
		{1234, "USD", "$12.34"},
		{5, "USD", "$0.05"},
		{0, "USD", "$0.00"},
		{-250, "USD", "-$2.50"},
		{1234, "EUR", "€12.34"},
		{1234, "CHF", "12.34 CHF"},
		{1234, "JPY", "¥1234"},
		{1234, "", "12.34"},
		{-9223372036854775808, "USD", "-$92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := menu.FormatPrice(tt.amount, tt.currency); got != tt.want {
			t.Errorf("FormatPrice(%d, %q) = %q, want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	c := shippedMenu(b)
	for b.Loop() {
		c.Search("large iced mocha", 3)
	}
}

func BenchmarkResolveOption(b *testing.B) {
	c := shippedMenu(b)
	latte, _ := c.Item("latte")
	for b.Loop() {
		c.ResolveOption(latte, "", "oat milk")
	}
}
