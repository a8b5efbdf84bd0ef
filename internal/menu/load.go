package menu

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds a menu file; a larger file is rejected before parsing.
const MaxFileSize = 4 << 20

// MaxPrice bounds every price and the magnitude of every size delta in a menu, in
// the smallest currency unit ($10,000,000.00 in cents). It keeps cart arithmetic far
// from int64 overflow.
const MaxPrice = 1_000_000_000

// ValidationError lists every problem found in a menu, each with its path in the file
// (for example "items[3].sizes[1].price_delta").
type ValidationError struct {
	Source   string
	Problems []Problem
}

// Problem is one invalid value in a menu file.
type Problem struct {
	Path    string
	Message string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid menu %s: %d problem(s)", e.Source, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Path, p.Message)
	}
	return b.String()
}

// LoadFile reads and validates a menu file.
func LoadFile(path string) (*Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open menu: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read menu %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("read menu %s: file is larger than %d bytes", path, MaxFileSize)
	}
	return Parse(path, data)
}

// Parse decodes and validates a menu. source names the input in error messages.
// Unknown fields are rejected so that a misspelt key does not silently drop data.
func Parse(source string, data []byte) (*Catalog, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("parse menu %s: file is empty", source)
		}
		return nil, fmt.Errorf("parse menu %s: %w", source, err)
	}
	v := validator{source: source}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil {
		v.wholeNumbers(&root, "")
	}
	// A fractional number was decoded truncated; checking the catalog built from it
	// would add problems that are not in the file.
	if len(v.problems) > 0 {
		return nil, &ValidationError{Source: source, Problems: v.problems}
	}
	v.catalog(&c)
	if len(v.problems) > 0 {
		return nil, &ValidationError{Source: source, Problems: v.problems}
	}
	c.index()
	return &c, nil
}

func (c *Catalog) index() {
	c.itemIndex = make(map[string]int, len(c.Items))
	for i, it := range c.Items {
		c.itemIndex[it.ID] = i
	}
	c.groupIndex = make(map[string]int, len(c.ModifierGroups))
	for i, g := range c.ModifierGroups {
		c.groupIndex[g.ID] = i
	}
	c.Restaurant.taxPPM = int64(math.Round(c.Restaurant.TaxRate * 1e6))
	c.location, _ = time.LoadLocation(c.Restaurant.TimeZone) // validated already
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

type validator struct {
	source   string
	problems []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) id(path, id string) {
	if !idPattern.MatchString(id) {
		v.add(path, "must be 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter or digit (got %q)", id)
	}
}

func (v *validator) name(path, name string) {
	if strings.TrimSpace(name) == "" {
		v.add(path, "must not be empty")
	}
}

func (v *validator) price(path string, p int64) {
	if p < 0 || p > MaxPrice {
		v.add(path, "must be between 0 and %d (got %d)", MaxPrice, p)
	}
}

func (v *validator) unique(path string, seen map[string]string, id string) {
	if prev, ok := seen[id]; ok {
		v.add(path, "duplicate id %q (also at %s)", id, prev)
		return
	}
	seen[id] = path
}

// integerKeys are the menu keys decoded into integers. The YAML decoder truncates a
// fractional value such as "price: 3.50" to 3 without an error, so wholeNumbers
// rejects fractions under these keys before they turn into wrong prices.
var integerKeys = map[string]string{
	"price":       "must be a whole number of cents",
	"price_delta": "must be a whole number of cents",
	"min":         "must be a whole number",
	"max":         "must be a whole number",
}

// wholeNumbers walks the document tree and reports every fractional number under a
// key in integerKeys, with its path. Aliases are not followed because their anchors
// are reported where they are defined.
func (v *validator) wholeNumbers(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			v.wholeNumbers(c, path)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			v.wholeNumbers(c, fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			p := key.Value
			if path != "" {
				p = path + "." + key.Value
			}
			if msg, ok := integerKeys[key.Value]; ok && value.Kind == yaml.ScalarNode && value.ShortTag() == "!!float" {
				v.add(p, "%s (got %s)%s", msg, value.Value, centsHint(key.Value, value.Value))
				continue
			}
			v.wholeNumbers(value, p)
		}
	}
}

// centsHint suggests the whole number of cents for a price written in currency units.
func centsHint(key, value string) string {
	if key != "price" && key != "price_delta" {
		return ""
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return ""
	}
	return fmt.Sprintf("; write %d for %s", int64(math.Round(f*100)), value)
}

func (v *validator) catalog(c *Catalog) {
	v.restaurant("restaurant", &c.Restaurant)

	categories := map[string]string{}
	for i, cat := range c.Categories {
		p := fmt.Sprintf("categories[%d]", i)
		v.id(p+".id", cat.ID)
		v.name(p+".name", cat.Name)
		v.unique(p+".id", categories, cat.ID)
	}

	groups := map[string]string{}
	for i := range c.ModifierGroups {
		p := fmt.Sprintf("modifier_groups[%d]", i)
		v.group(p, &c.ModifierGroups[i])
		v.unique(p+".id", groups, c.ModifierGroups[i].ID)
	}

	if len(c.Items) == 0 {
		v.add("items", "must list at least one item")
	}
	items := map[string]string{}
	for i := range c.Items {
		p := fmt.Sprintf("items[%d]", i)
		v.item(p, &c.Items[i], categories, groups)
		v.unique(p+".id", items, c.Items[i].ID)
	}

	for i, s := range c.Specials {
		p := fmt.Sprintf("specials[%d]", i)
		if _, ok := items[s.ItemID]; !ok {
			v.add(p+".item_id", "unknown item %q", s.ItemID)
		}
		v.name(p+".description", s.Description)
	}
}

func (v *validator) restaurant(p string, r *Restaurant) {
	v.id(p+".id", r.ID)
	v.name(p+".name", r.Name)
	if r.TimeZone == "" {
		v.add(p+".time_zone", "must name an IANA time zone such as America/New_York")
	} else if _, err := time.LoadLocation(r.TimeZone); err != nil {
		v.add(p+".time_zone", "unknown time zone %q; use an IANA name such as America/New_York", r.TimeZone)
	}
	if len(r.Currency) != 3 || strings.ToUpper(r.Currency) != r.Currency {
		v.add(p+".currency", "must be a three-letter ISO 4217 code such as USD (got %q)", r.Currency)
	}
	if r.TaxRate < 0 || r.TaxRate >= 1 || math.IsNaN(r.TaxRate) {
		v.add(p+".tax_rate", "must be a fraction in [0, 1), such as 0.0825 for 8.25 %% (got %v)", r.TaxRate)
	}
	if len(r.Hours) == 0 {
		v.add(p+".hours", "must list at least one opening window")
	}
	for i, h := range r.Hours {
		hp := fmt.Sprintf("%s.hours[%d]", p, i)
		if len(h.Days) == 0 {
			v.add(hp+".days", "must list at least one weekday (sun, mon, tue, wed, thu, fri, sat)")
		}
		for j, d := range h.Days {
			if _, ok := weekdays[d]; !ok {
				v.add(fmt.Sprintf("%s.days[%d]", hp, j), "must be one of sun, mon, tue, wed, thu, fri, sat (got %q)", d)
			}
		}
		open, openErr := parseClock(h.Open)
		closing, closeErr := parseClock(h.Close)
		switch {
		case openErr != nil:
			v.add(hp+".open", "%v", openErr)
		case open == 24*60:
			v.add(hp+".open", "must be before 24:00; a window that opens at midnight opens at 00:00 of the next day")
		}
		if closeErr != nil {
			v.add(hp+".close", "%v", closeErr)
		}
		if openErr == nil && closeErr == nil && open == closing {
			v.add(hp+".close", "must differ from open %s; use open 00:00 and close 24:00 for a whole day", h.Open)
		}
	}
}

func (v *validator) group(p string, g *ModifierGroup) {
	v.id(p+".id", g.ID)
	v.name(p+".name", g.Name)
	if g.Min < 0 {
		v.add(p+".min", "must be ≥ 0 (got %d)", g.Min)
	}
	if g.Max < 1 {
		v.add(p+".max", "must be ≥ 1 (got %d)", g.Max)
	}
	if g.Max < g.Min {
		v.add(p+".max", "must be ≥ min %d (got %d)", g.Min, g.Max)
	}
	if len(g.Options) == 0 {
		v.add(p+".options", "must list at least one option")
	}
	if g.Min > len(g.Options) {
		v.add(p+".min", "is %d but the group has only %d option(s)", g.Min, len(g.Options))
	}
	seen := map[string]string{}
	for i, o := range g.Options {
		op := fmt.Sprintf("%s.options[%d]", p, i)
		v.id(op+".id", o.ID)
		v.name(op+".name", o.Name)
		v.price(op+".price", o.Price)
		v.unique(op+".id", seen, o.ID)
	}
}

func (v *validator) item(p string, it *Item, categories, groups map[string]string) {
	v.id(p+".id", it.ID)
	v.name(p+".name", it.Name)
	v.price(p+".price", it.Price)
	if _, ok := categories[it.Category]; !ok {
		v.add(p+".category", "unknown category %q", it.Category)
	}
	sizes := map[string]string{}
	for i, s := range it.Sizes {
		sp := fmt.Sprintf("%s.sizes[%d]", p, i)
		v.id(sp+".id", s.ID)
		v.name(sp+".name", s.Name)
		switch {
		case s.PriceDelta < -MaxPrice || s.PriceDelta > MaxPrice:
			v.add(sp+".price_delta", "must be between %d and %d (got %d)", -MaxPrice, MaxPrice, s.PriceDelta)
		case it.Price+s.PriceDelta < 0:
			v.add(sp+".price_delta", "makes the price negative: item price %d + delta %d must be ≥ 0", it.Price, s.PriceDelta)
		}
		v.unique(sp+".id", sizes, s.ID)
	}
	if it.DefaultSize != "" && len(it.Sizes) == 0 {
		v.add(p+".default_size", "is %q but the item has no sizes; remove default_size or add sizes", it.DefaultSize)
	} else if it.DefaultSize != "" {
		if _, ok := sizes[it.DefaultSize]; !ok {
			v.add(p+".default_size", "unknown size %q; the item's sizes are %s", it.DefaultSize, strings.Join(it.SizeIDs(), ", "))
		}
	}
	seen := map[string]bool{}
	for i, g := range it.ModifierGroups {
		gp := fmt.Sprintf("%s.modifier_groups[%d]", p, i)
		if _, ok := groups[g]; !ok {
			v.add(gp, "unknown modifier group %q; the menu's groups are %s", g, strings.Join(slices.Sorted(maps.Keys(groups)), ", "))
		}
		if seen[g] {
			v.add(gp, "modifier group %q is listed twice", g)
		}
		seen[g] = true
	}
}

// parseClock parses "HH:MM" (24-hour, two digits each) into minutes after
// midnight; "24:00" is allowed as a closing time.
func parseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("must be a 24-hour time HH:MM (got %q)", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("must be a 24-hour time between 00:00 and 24:00 (got %q)", s)
	}
	return h*60 + m, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
