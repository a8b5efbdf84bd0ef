package menu_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// baseMenu is a small valid menu that the validation cases break one edit at a time.
const baseMenu = `
restaurant:
  id: test-cafe
  name: Test Café
  time_zone: America/New_York
  currency: USD
  tax_rate: 0.08
  hours:
    - days: [mon, tue, wed, thu, fri]
      open: "07:00"
      close: "19:00"
categories:
  - {id: drinks, name: Drinks}
  - {id: food, name: Food}
modifier_groups:
  - id: milk
    name: Milk
    min: 0
    max: 1
    amounts: true
    options:
      - {id: whole, name: Whole milk}
      - {id: oat, name: Oat milk, price: 70}
  - id: bread
    name: Bread
    min: 1
    max: 1
    options:
      - {id: bagel, name: Bagel}
items:
  - id: latte
    name: Latte
    category: drinks
    price: 400
    sizes:
      - {id: small, name: Small, price_delta: 0}
      - {id: large, name: Large, price_delta: 100}
    default_size: small
    modifier_groups: [milk]
  - id: toast
    name: Toast
    category: food
    price: 300
    modifier_groups: [bread]
  - id: muffin
    name: Muffin
    category: food
    price: 350
  - id: tea
    name: Tea
    category: drinks
    price: 250
    sizes:
      - {id: small, name: Small, price_delta: 0}
      - {id: large, name: Large, price_delta: 75}
specials:
  - {item_id: latte, description: Latte of the day}
`

func TestParseBaseMenu(t *testing.T) {
	c, err := menu.Parse("base", []byte(baseMenu))
	if err != nil {
		t.Fatalf("Parse(base) error: %v", err)
	}
	if got, want := c.TaxPPM(), int64(80000); got != want {
		t.Errorf("TaxPPM() = %d, want %d", got, want)
	}
	if got, want := c.Location().String(), "America/New_York"; got != want {
		t.Errorf("Location() = %q, want %q", got, want)
	}
	if _, ok := c.Item("tea"); !ok {
		t.Errorf("Item(tea) not found")
	}
	if _, ok := c.Group("bread"); !ok {
		t.Errorf("Group(bread) not found")
	}
}

func TestParseValidation(t *testing.T) {
	tests := []struct {
		name      string
		old, new  string // edit applied once to baseMenu
		wantPaths []string
	}{
		{
			name:      "negative size price",
			old:       "{id: large, name: Large, price_delta: 75}",
			new:       "{id: large, name: Large, price_delta: -300}",
			wantPaths: []string{"items[3].sizes[1].price_delta"},
		},
		{
			name:      "max below one",
			old:       "min: 0\n    max: 1\n    amounts: true",
			new:       "min: 0\n    max: 0\n    amounts: true",
			wantPaths: []string{"modifier_groups[0].max"},
		},
		{
			name:      "max below min",
			old:       "min: 1\n    max: 1",
			new:       "min: 1\n    max: 0",
			wantPaths: []string{"modifier_groups[1].max", "modifier_groups[1].max"},
		},
		{
			name:      "min above option count",
			old:       "min: 1\n    max: 1",
			new:       "min: 2\n    max: 2",
			wantPaths: []string{"modifier_groups[1].min"},
		},
		{
			name:      "unknown time zone",
			old:       "time_zone: America/New_York",
			new:       "time_zone: Mars/Olympus_Mons",
			wantPaths: []string{"restaurant.time_zone"},
		},
		{
			name:      "missing time zone",
			old:       "time_zone: America/New_York",
			new:       "time_zone: ''",
			wantPaths: []string{"restaurant.time_zone"},
		},
		{
			name:      "duplicate item id",
			old:       "id: muffin",
			new:       "id: toast",
			wantPaths: []string{"items[2].id"},
		},
		{
			name:      "duplicate option id",
			old:       "{id: oat, name: Oat milk, price: 70}",
			new:       "{id: whole, name: Oat milk, price: 70}",
			wantPaths: []string{"modifier_groups[0].options[1].id"},
		},
		{
			name:      "duplicate size id",
			old:       "{id: large, name: Large, price_delta: 100}",
			new:       "{id: small, name: Large, price_delta: 100}",
			wantPaths: []string{"items[0].sizes[1].id"},
		},
		{
			name:      "duplicate category id",
			old:       "{id: food, name: Food}",
			new:       "{id: drinks, name: Food}",
			wantPaths: []string{"categories[1].id", "items[1].category", "items[2].category"},
		},
		{
			name:      "bad id characters",
			old:       "id: muffin",
			new:       "id: Blue Muffin",
			wantPaths: []string{"items[2].id"},
		},
		{
			name:      "empty item name",
			old:       "name: Muffin",
			new:       "name: '  '",
			wantPaths: []string{"items[2].name"},
		},
		{
			name:      "negative item price",
			old:       "price: 350",
			new:       "price: -1",
			wantPaths: []string{"items[2].price"},
		},
		{
			name:      "price above maximum",
			old:       "price: 350",
			new:       "price: 1000000001",
			wantPaths: []string{"items[2].price"},
		},
		{
			name:      "negative option price",
			old:       "{id: oat, name: Oat milk, price: 70}",
			new:       "{id: oat, name: Oat milk, price: -70}",
			wantPaths: []string{"modifier_groups[0].options[1].price"},
		},
		{
			name:      "unknown category",
			old:       "category: food\n    price: 350",
			new:       "category: pastry\n    price: 350",
			wantPaths: []string{"items[2].category"},
		},
		{
			name:      "unknown modifier group",
			old:       "modifier_groups: [bread]",
			new:       "modifier_groups: [bread, sauce]",
			wantPaths: []string{"items[1].modifier_groups[1]"},
		},
		{
			name:      "modifier group listed twice",
			old:       "modifier_groups: [bread]",
			new:       "modifier_groups: [bread, bread]",
			wantPaths: []string{"items[1].modifier_groups[1]"},
		},
		{
			name:      "unknown default size",
			old:       "default_size: small",
			new:       "default_size: huge",
			wantPaths: []string{"items[0].default_size"},
		},
		{
			name:      "default size without sizes",
			old:       "price: 350",
			new:       "price: 350\n    default_size: small",
			wantPaths: []string{"items[2].default_size"},
		},
		{
			name:      "group without options",
			old:       "options:\n      - {id: bagel, name: Bagel}",
			new:       "options: []",
			wantPaths: []string{"modifier_groups[1].options", "modifier_groups[1].min"},
		},
		{
			name:      "special for unknown item",
			old:       "{item_id: latte, description: Latte of the day}",
			new:       "{item_id: scone, description: Scone of the day}",
			wantPaths: []string{"specials[0].item_id"},
		},
		{
			name:      "bad currency",
			old:       "currency: USD",
			new:       "currency: usd",
			wantPaths: []string{"restaurant.currency"},
		},
		{
			name:      "tax rate of one",
			old:       "tax_rate: 0.08",
			new:       "tax_rate: 1",
			wantPaths: []string{"restaurant.tax_rate"},
		},
		{
			name:      "tax rate not a number",
			old:       "tax_rate: 0.08",
			new:       "tax_rate: .nan",
			wantPaths: []string{"restaurant.tax_rate"},
		},
		{
			name:      "unknown weekday",
			old:       "days: [mon, tue, wed, thu, fri]",
			new:       "days: [mon, tues]",
			wantPaths: []string{"restaurant.hours[0].days[1]"},
		},
		{
			name:      "no weekdays",
			old:       "days: [mon, tue, wed, thu, fri]",
			new:       "days: []",
			wantPaths: []string{"restaurant.hours[0].days"},
		},
		{
			name:      "clock without leading zero",
			old:       `open: "07:00"`,
			new:       `open: "7:00"`,
			wantPaths: []string{"restaurant.hours[0].open"},
		},
		{
			name:      "clock with trailing letter",
			old:       `open: "07:00"`,
			new:       `open: "07:0x"`,
			wantPaths: []string{"restaurant.hours[0].open"},
		},
		{
			name:      "clock with sign",
			old:       `open: "07:00"`,
			new:       `open: "+7:00"`,
			wantPaths: []string{"restaurant.hours[0].open"},
		},
		{
			name:      "clock past midnight",
			old:       `close: "19:00"`,
			new:       `close: "24:30"`,
			wantPaths: []string{"restaurant.hours[0].close"},
		},
		{
			name:      "opening at 24:00",
			old:       `open: "07:00"`,
			new:       `open: "24:00"`,
			wantPaths: []string{"restaurant.hours[0].open"},
		},
		{
			name:      "open equals close",
			old:       `close: "19:00"`,
			new:       `close: "07:00"`,
			wantPaths: []string{"restaurant.hours[0].close"},
		},
		{
			name:      "no hours",
			old:       "hours:\n    - days: [mon, tue, wed, thu, fri]\n      open: \"07:00\"\n      close: \"19:00\"",
			new:       "hours: []",
			wantPaths: []string{"restaurant.hours"},
		},
		{
			name:      "no items",
			old:       baseMenu[strings.Index(baseMenu, "items:"):strings.Index(baseMenu, "specials:")],
			new:       "items: []\n",
			wantPaths: []string{"items", "specials[0].item_id"},
		},
		{
			name:      "price with decimals",
			old:       "price: 350",
			new:       "price: 3.50",
			wantPaths: []string{"items[2].price"},
		},
		{
			name:      "size delta with decimals",
			old:       "{id: large, name: Large, price_delta: 75}",
			new:       "{id: large, name: Large, price_delta: 0.75}",
			wantPaths: []string{"items[3].sizes[1].price_delta"},
		},
		{
			name:      "fractional max",
			old:       "min: 0\n    max: 1\n    amounts: true",
			new:       "min: 0\n    max: 1.5\n    amounts: true",
			wantPaths: []string{"modifier_groups[0].max"},
		},
		{
			name: "several problems at once",
			old:  "id: muffin\n    name: Muffin\n    category: food\n    price: 350",
			new:  "id: Muffin\n    name: ''\n    category: cakes\n    price: -5",
			wantPaths: []string{
				"items[2].id", "items[2].name", "items[2].price", "items[2].category",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(baseMenu, tt.old) {
				t.Fatalf("edit %q does not occur in baseMenu", tt.old)
			}
			data := strings.Replace(baseMenu, tt.old, tt.new, 1)
			_, err := menu.Parse("test.yaml", []byte(data))
			var verr *menu.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse error = %v, want *menu.ValidationError", err)
			}
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.Path)
				if p.Message == "" {
					t.Errorf("problem at %s has an empty message", p.Path)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tt.wantPaths)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("problem paths = %q, want %q\nerror: %v", got, want, err)
			}
			for _, p := range tt.wantPaths {
				if !strings.Contains(err.Error(), p+": ") {
					t.Errorf("Error() does not name %s:\n%v", p, err)
				}
			}
			if !strings.Contains(err.Error(), "test.yaml") {
				t.Errorf("Error() does not name the source:\n%v", err)
			}
		})
	}
}

func TestParseDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "empty file", data: "", wantErr: "file is empty"},
		{name: "only a comment", data: "# nothing here\n", wantErr: "file is empty"},
		{name: "not yaml", data: "{{{ this is not: yaml", wantErr: "parse menu"},
		{name: "binary", data: "\x00\x01\x02\xff", wantErr: "parse menu"},
		{name: "list at top level", data: "- a\n- b\n", wantErr: "parse menu"},
		{
			name:    "unknown top-level field",
			data:    baseMenu + "colour: red\n",
			wantErr: "field colour not found",
		},
		{
			name:    "unknown item field",
			data:    strings.Replace(baseMenu, "price: 350", "price: 350\n    colour: blue", 1),
			wantErr: "field colour not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := menu.Parse("test.yaml", []byte(tt.data))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()

	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(baseMenu), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := menu.LoadFile(good); err != nil {
		t.Errorf("LoadFile(good) error: %v", err)
	}

	if _, err := menu.LoadFile(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile(missing) error = %v, want os.ErrNotExist", err)
	}

	big := filepath.Join(dir, "big.yaml")
	padding := strings.Repeat("# padding\n", menu.MaxFileSize/10+1)
	if err := os.WriteFile(big, []byte(baseMenu+padding), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := menu.LoadFile(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("LoadFile(big) error = %v, want a size error", err)
	}
}

func mustParse(t testing.TB, data string) *menu.Catalog {
	t.Helper()
	c, err := menu.Parse("test.yaml", []byte(data))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}
