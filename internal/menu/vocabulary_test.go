package menu_test

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// testdataDir returns the shared test data folder: $VOICEORDER_TESTDATA, or
// ../shared/testdata beside the repository root (the folder holding go.mod).
func testdataDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("VOICEORDER_TESTDATA"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "testdata")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// grammar is the part of the coffee-order benchmark grammar this test reads: the
// values the speakers use for each slot.
type grammar struct {
	Context struct {
		Slots map[string][]string `yaml:"slots"`
	} `yaml:"context"`
}

// TestSpokenVocabularyResolves checks that every drink, size, roast, shot count, milk
// and sweetener in the spoken coffee-order recordings names something on the shipped
// menu, so those recordings can drive whole orders.
func TestSpokenVocabularyResolves(t *testing.T) {
	path := filepath.Join(testdataDir(t), "audio", "coffee-orders", "coffee_maker.yaml")
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("spoken order grammar not found at %s; set VOICEORDER_TESTDATA to the test data folder", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var g grammar
	if err := yaml.Unmarshal(data, &g); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	slots := g.Context.Slots
	for _, name := range []string{"size", "roast", "numberOfShots", "coffeeDrink", "milkAmount", "sugarAmount"} {
		if len(slots[name]) == 0 {
			t.Fatalf("grammar has no values for slot %s", name)
		}
	}

	c := shippedMenu(t)
	latte, _ := c.Item("latte")

	for _, v := range slots["coffeeDrink"] {
		if _, ok := c.ResolveItem(v); !ok {
			t.Errorf("drink %q does not resolve to a menu item", v)
		}
	}
	for _, v := range slots["size"] {
		if _, ok := latte.ResolveSize(v); !ok {
			t.Errorf("size %q does not resolve to a size of %s", v, latte.ID)
		}
	}
	options := []struct{ slot, group string }{
		{"roast", "roast"},
		{"numberOfShots", "shots"},
		{"milkAmount", "milk"},
		{"sugarAmount", "sweetener"},
	}
	for _, o := range options {
		for _, v := range slots[o.slot] {
			amount, rest := menu.SplitAmount(v)
			g, _, ok := c.ResolveOption(latte, "", rest)
			switch {
			case !ok:
				t.Errorf("%s %q (option %q) does not resolve on %s", o.slot, v, rest, latte.ID)
			case g.ID != o.group:
				t.Errorf("%s %q resolves to group %s, want %s", o.slot, v, g.ID, o.group)
			case amount != menu.AmountRegular && !g.Amounts:
				t.Errorf("%s %q asks for amount %q but group %s does not offer amounts", o.slot, v, amount, g.ID)
			}
		}
	}
}
