package localmodel

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/voiceorder/voiceorder/internal/menu"
)

func TestInterpretHeardAs(t *testing.T) {
	_, clips := loadClips(t)
	cat := testCatalog(t)
	for _, c := range clips {
		if c.HeardAs == nil {
			continue
		}
		t.Run(c.File[:8], func(t *testing.T) {
			want := expectedLine(t, cat, c.Slots)
			if diff := lineDiff(Interpret(cat, *c.HeardAs), want); diff != "" {
				t.Errorf("Interpret(%q): %s", *c.HeardAs, diff)
			}
		})
	}
}

func TestInterpret(t *testing.T) {
	cat := testCatalog(t)
	mod := func(g, o string, a menu.Amount) Modifier { return Modifier{GroupID: g, OptionID: o, Amount: a} }
	tests := []struct {
		name string
		text string
		want Intent
	}{
		{"typed order with punctuation", "I'd like a large latte with oat milk, please.",
			Intent{Kind: IntentOrder, Items: []OrderLine{{ItemID: "latte", SizeID: "large", Quantity: 1, Modifiers: []Modifier{mod("milk", "oat", "")}}}}},
		{"two items", "a latte and a blueberry muffin",
			Intent{Kind: IntentOrder, Items: []OrderLine{{ItemID: "latte", Quantity: 1}, {ItemID: "blueberry_muffin", Quantity: 1}}}},
		{"quantity and plural", "two lattes and three croissants",
			Intent{Kind: IntentOrder, Items: []OrderLine{{ItemID: "latte", Quantity: 2}, {ItemID: "croissant", Quantity: 3}}}},
		{"modifiers stay with their item", "a mocha with extra whole milk and a bagel with cream cheese",
			Intent{Kind: IntentOrder, Items: []OrderLine{
				{ItemID: "mocha", Quantity: 1, Modifiers: []Modifier{mod("milk", "whole", menu.AmountExtra)}},
				{ItemID: "plain_bagel", Quantity: 1, Modifiers: []Modifier{mod("spread", "cream_cheese", "")}}}}},
		{"bread option after on", "a breakfast sandwich on a bagel with bacon",
			Intent{Kind: IntentOrder, Items: []OrderLine{{ItemID: "breakfast_sandwich", Quantity: 1,
				Modifiers: []Modifier{mod("bread", "bagel", ""), mod("sandwich_extras", "bacon", "")}}}}},
		{"size word that is also a roast", "an medium medium roast iced coffee",
			Intent{Kind: IntentOrder, Items: []OrderLine{{ItemID: "iced_coffee", SizeID: "medium", Quantity: 1, Modifiers: []Modifier{mod("roast", "medium", "")}}}}},
		{"second size is dropped", "a medium double short americano",
			Intent{Kind: IntentOrder, Items: []OrderLine{{ItemID: "americano", SizeID: "medium", Quantity: 1, Modifiers: []Modifier{mod("shots", "double", "")}}}}},
		{"option of another item", "a croissant with oat milk",
			Intent{Kind: IntentOrder, Items: []OrderLine{{ItemID: "croissant", Quantity: 1, Modifiers: []Modifier{mod("milk", "oat", "")}}}}},
		{"light amount", "a coffee with a little bit of honey",
			Intent{Kind: IntentOrder, Items: []OrderLine{{ItemID: "house_coffee", Quantity: 1, Modifiers: []Modifier{mod("sweetener", "honey", menu.AmountLight)}}}}},
		{"some is regular", "a latte with some milk",
			Intent{Kind: IntentOrder, Items: []OrderLine{{ItemID: "latte", Quantity: 1, Modifiers: []Modifier{mod("milk", "milk", "")}}}}},
		{"done", "that's all", Intent{Kind: IntentDone}},
		{"done typed with thanks", "No, that's all. Thanks!", Intent{Kind: IntentDone}},
		{"yes", "yes please", Intent{Kind: IntentYes}},
		{"place the order", "place the order", Intent{Kind: IntentYes}},
		{"no", "no", Intent{Kind: IntentNo}},
		{"not yet", "not yet", Intent{Kind: IntentNo}},
		{"remove", "remove the latte", Intent{Kind: IntentRemove, ItemID: "latte"}},
		{"cancel item", "cancel the blueberry muffin", Intent{Kind: IntentRemove, ItemID: "blueberry_muffin"}},
		{"clear", "start over", Intent{Kind: IntentClear}},
		{"cancel order", "cancel my order", Intent{Kind: IntentClear}},
		{"hours", "what are your hours", Intent{Kind: IntentStoreInfo}},
		{"open typed", "Are you open on Sunday?", Intent{Kind: IntentStoreInfo}},
		{"specials", "what are the specials", Intent{Kind: IntentSpecials}},
		{"menu", "what do you have", Intent{Kind: IntentMenu}},
		{"nothing known", "the weather is nice today", Intent{Kind: IntentUnknown}},
		{"empty", "", Intent{Kind: IntentUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Interpret(cat, tt.text)
			if !intentEqual(got, tt.want) {
				t.Errorf("Interpret(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
		})
	}
}

func intentEqual(a, b Intent) bool {
	return a.Kind == b.Kind && a.ItemID == b.ItemID && slices.EqualFunc(a.Items, b.Items, func(x, y OrderLine) bool {
		return x.ItemID == y.ItemID && x.SizeID == y.SizeID && x.Quantity == y.Quantity && slices.Equal(x.Modifiers, y.Modifiers)
	})
}

func TestInterpretBoundsLines(t *testing.T) {
	got := Interpret(testCatalog(t), strings.Repeat("a latte and ", 30))
	if len(got.Items) != maxOrderLines {
		t.Errorf("got %d lines, want the limit of %d", len(got.Items), maxOrderLines)
	}
}

func FuzzInterpret(f *testing.F) {
	cat := testCatalog(f)
	ip := newInterpreter(cat)
	f.Add("can i get a large latte with a lot of oat milk and two croissants")
	f.Add("remove the the latte")
	f.Add("with with and a a a on")
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return
		}
		in := ip.interpret(text)
		if len(in.Items) > maxOrderLines {
			t.Errorf("%d lines, more than %d", len(in.Items), maxOrderLines)
		}
		for _, l := range in.Items {
			if _, ok := cat.Item(l.ItemID); !ok || l.Quantity < 1 {
				t.Errorf("line %+v names no menu item or has no quantity", l)
			}
		}
	})
}
