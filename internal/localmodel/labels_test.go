package localmodel

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// slotGroups maps the benchmark's slot names to the shipped menu's modifier groups.
var slotGroups = map[string]string{
	"roast":         "roast",
	"numberOfShots": "shots",
	"milkAmount":    "milk",
	"sugarAmount":   "sweetener",
}

// expectedLine resolves a clip's labelled slots to the order line the shipped
// menu should produce, without the lexicon that Interpret uses.
func expectedLine(t testing.TB, cat *menu.Catalog, slots map[string]string) OrderLine {
	t.Helper()
	it, ok := cat.ResolveItem(slots["coffeeDrink"])
	if !ok {
		t.Fatalf("labelled drink %q is not on the menu", slots["coffeeDrink"])
	}
	line := OrderLine{ItemID: it.ID, Quantity: 1}
	if s := slots["size"]; s != "" {
		size, ok := it.ResolveSize(s)
		if !ok {
			t.Fatalf("labelled size %q is not a size of %s", s, it.ID)
		}
		line.SizeID = size.ID
	}
	for slot, group := range slotGroups {
		value := slots[slot]
		if value == "" {
			continue
		}
		amount := menu.AmountRegular
		for prefix, a := range map[string]menu.Amount{"a lot of ": menu.AmountExtra, "lots of ": menu.AmountExtra,
			"a little bit of ": menu.AmountLight, "a bit of ": menu.AmountLight, "some ": menu.AmountRegular} {
			if rest, ok := strings.CutPrefix(value, prefix); ok {
				value, amount = rest, a
			}
		}
		g, o, ok := cat.ResolveOption(it, group, value)
		if !ok {
			t.Fatalf("labelled %s %q is not an option of %s", slot, value, it.ID)
		}
		line.Modifiers = append(line.Modifiers, Modifier{GroupID: g.ID, OptionID: o.ID, Amount: amount})
	}
	sortModifiers(line.Modifiers)
	return line
}

func sortModifiers(mods []Modifier) {
	slices.SortFunc(mods, func(a, b Modifier) int { return strings.Compare(a.GroupID+a.OptionID, b.GroupID+b.OptionID) })
}

// lineDiff returns how an intent differs from a single expected line, or "".
func lineDiff(in Intent, want OrderLine) string {
	if in.Kind != IntentOrder || len(in.Items) != 1 {
		return fmt.Sprintf("got intent %s with %d items, want one order line", in.Kind, len(in.Items))
	}
	got := in.Items[0]
	got.Modifiers = slices.Clone(got.Modifiers)
	sortModifiers(got.Modifiers)
	if got.ItemID != want.ItemID || got.SizeID != want.SizeID || got.Quantity != want.Quantity || !slices.Equal(got.Modifiers, want.Modifiers) {
		return fmt.Sprintf("got %+v, want %+v", got, want)
	}
	return ""
}
