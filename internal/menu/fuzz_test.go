package menu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/menus"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic, and a menu it
// accepts must be usable: every id resolves and the hours can be evaluated.
func FuzzParse(f *testing.F) {
	f.Add(menus.Default)
	f.Add([]byte(baseMenu))
	f.Add([]byte(lateMenu))
	f.Add([]byte(""))
	f.Add([]byte("items: [{id: x}]"))
	f.Add([]byte("a: &a [*a, *a]"))
	f.Add([]byte(strings.Replace(baseMenu, "price: 350", "price: 3.5", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := menu.Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a catalog with error %v", err)
			}
			return
		}
		for i := range c.Items {
			it := &c.Items[i]
			if got, ok := c.ResolveItem(it.ID); !ok || got.ID != it.ID {
				t.Fatalf("ResolveItem(%q) failed on an accepted menu", it.ID)
			}
			for _, gid := range it.ModifierGroups {
				if _, ok := c.Group(gid); !ok {
					t.Fatalf("item %s names group %q that Group does not find", it.ID, gid)
				}
			}
			if it.DefaultSize != "" {
				if _, ok := it.Size(it.DefaultSize); !ok {
					t.Fatalf("item %s default size %q not found", it.ID, it.DefaultSize)
				}
			}
		}
		now := time.Date(2025, 6, 6, 12, 0, 0, 0, time.UTC)
		c.IsOpen(now)
		if _, ok := c.NextOpening(now); !ok {
			t.Fatalf("NextOpening found no opening on an accepted menu")
		}
		c.Search(string(data[:min(len(data), 40)]), 3)
	})
}

// FuzzNormalize checks that Normalize is idempotent and never panics on arbitrary
// text, since it runs on every phrase a caller or a model sends.
func FuzzNormalize(f *testing.F) {
	f.Add("Iced  Mocha!")
	f.Add("a lot of skim milk")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		n := menu.Normalize(s)
		if again := menu.Normalize(n); again != n {
			t.Fatalf("Normalize(Normalize(%q)) = %q, want %q", s, again, n)
		}
		menu.SplitAmount(s)
	})
}
