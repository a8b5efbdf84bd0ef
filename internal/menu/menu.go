// Package menu provides a restaurant's catalog: items, sizes, modifier groups, store
// hours, specials and tax, loaded from a YAML file and validated as a whole. It also
// resolves the words a caller or a model uses ("twelve ounce", "oat milk") to catalog
// ids. It does not hold carts or prices of orders; see package cart.
package menu

import (
	"time"
)

// Catalog is one restaurant's menu. It is immutable after Load and safe for concurrent
// use; lookups never allocate maps.
type Catalog struct {
	Restaurant Restaurant `yaml:"restaurant" json:"restaurant"`
	Categories []Category `yaml:"categories" json:"categories"`
	Items      []Item     `yaml:"items" json:"items"`
	// ModifierGroups are shared by id between items.
	ModifierGroups []ModifierGroup `yaml:"modifier_groups" json:"modifier_groups"`
	Specials       []Special       `yaml:"specials" json:"specials,omitempty"`

	itemIndex  map[string]int
	groupIndex map[string]int
	location   *time.Location
}

// Restaurant identifies the store and carries its hours and tax.
type Restaurant struct {
	ID       string `yaml:"id" json:"id"`
	Name     string `yaml:"name" json:"name"`
	Phone    string `yaml:"phone" json:"phone,omitempty"`
	Address  string `yaml:"address" json:"address,omitempty"`
	TimeZone string `yaml:"time_zone" json:"time_zone"`
	Currency string `yaml:"currency" json:"currency"`
	// TaxRate is a fraction (0.0825 for 8.25 %). It is converted once to parts per
	// million so that tax arithmetic stays in integers.
	TaxRate float64 `yaml:"tax_rate" json:"tax_rate"`
	Hours   []Hours `yaml:"hours" json:"hours"`

	taxPPM int64
}

// Hours is one opening window on the listed weekdays, in the restaurant's time zone.
// Close may be earlier than Open for a window that runs past midnight.
type Hours struct {
	Days  []string `yaml:"days" json:"days"`
	Open  string   `yaml:"open" json:"open"`
	Close string   `yaml:"close" json:"close"`
}

// Category groups items for listing.
type Category struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
}

// Item is something a guest can order. Price is in the smallest currency unit (cents).
type Item struct {
	ID          string   `yaml:"id" json:"id"`
	Name        string   `yaml:"name" json:"name"`
	Category    string   `yaml:"category" json:"category"`
	Aliases     []string `yaml:"aliases" json:"aliases,omitempty"`
	Description string   `yaml:"description" json:"description,omitempty"`
	Price       int64    `yaml:"price" json:"price"`
	// Sizes, when present, are required: a line of this item names one of them.
	Sizes []Size `yaml:"sizes" json:"sizes,omitempty"`
	// DefaultSize is the size id used when the guest names none; empty means the
	// guest must choose.
	DefaultSize string `yaml:"default_size" json:"default_size,omitempty"`
	// ModifierGroups lists ids of entries in Catalog.ModifierGroups.
	ModifierGroups []string `yaml:"modifier_groups" json:"modifier_groups,omitempty"`
	Dietary        []string `yaml:"dietary" json:"dietary,omitempty"`
	// Unavailable marks an item that is on the menu but cannot be ordered now (sold out).
	Unavailable bool `yaml:"unavailable" json:"unavailable,omitempty"`
}

// Size is a size of an item; PriceDelta is added to the item price and may be negative.
type Size struct {
	ID         string   `yaml:"id" json:"id"`
	Name       string   `yaml:"name" json:"name"`
	Aliases    []string `yaml:"aliases" json:"aliases,omitempty"`
	PriceDelta int64    `yaml:"price_delta" json:"price_delta"`
}

// ModifierGroup is a set of options a guest chooses from, between Min and Max of them.
type ModifierGroup struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"`
	Min     int      `yaml:"min" json:"min"`
	Max     int      `yaml:"max" json:"max"`
	Options []Option `yaml:"options" json:"options"`
	// Amounts, when true, lets a guest ask for a little or a lot of an option
	// ("a lot of skim milk"); the amount does not change the price.
	Amounts bool `yaml:"amounts" json:"amounts,omitempty"`
}

// Option is one choice in a modifier group; Price is added per unit of the line.
type Option struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"`
	Aliases []string `yaml:"aliases" json:"aliases,omitempty"`
	Price   int64    `yaml:"price" json:"price"`
}

// Special is a promoted item with a line the assistant can read out.
type Special struct {
	ItemID      string `yaml:"item_id" json:"item_id"`
	Description string `yaml:"description" json:"description"`
}

// Amount is how much of a modifier option a guest asked for.
type Amount string

// Amounts a guest can ask for when a group allows them. The empty amount is regular.
const (
	AmountRegular Amount = ""
	AmountLight   Amount = "light"
	AmountExtra   Amount = "extra"
)

// Item returns the item with the given id.
func (c *Catalog) Item(id string) (*Item, bool) {
	i, ok := c.itemIndex[id]
	if !ok {
		return nil, false
	}
	return &c.Items[i], true
}

// Group returns the modifier group with the given id.
func (c *Catalog) Group(id string) (*ModifierGroup, bool) {
	i, ok := c.groupIndex[id]
	if !ok {
		return nil, false
	}
	return &c.ModifierGroups[i], true
}

// TaxPPM returns the tax rate in parts per million.
func (c *Catalog) TaxPPM() int64 { return c.Restaurant.taxPPM }

// Location returns the restaurant's time zone.
func (c *Catalog) Location() *time.Location { return c.location }

// Size returns the size of the item with the given id.
func (it *Item) Size(id string) (*Size, bool) {
	for i := range it.Sizes {
		if it.Sizes[i].ID == id {
			return &it.Sizes[i], true
		}
	}
	return nil, false
}

// HasGroup reports whether the item offers the modifier group.
func (it *Item) HasGroup(id string) bool {
	for _, g := range it.ModifierGroups {
		if g == id {
			return true
		}
	}
	return false
}

// Option returns the option with the given id.
func (g *ModifierGroup) Option(id string) (*Option, bool) {
	for i := range g.Options {
		if g.Options[i].ID == id {
			return &g.Options[i], true
		}
	}
	return nil, false
}

// OptionIDs returns the ids of the group's options in menu order.
func (g *ModifierGroup) OptionIDs() []string {
	ids := make([]string, len(g.Options))
	for i, o := range g.Options {
		ids[i] = o.ID
	}
	return ids
}

// SizeIDs returns the ids of the item's sizes in menu order.
func (it *Item) SizeIDs() []string {
	ids := make([]string, len(it.Sizes))
	for i, s := range it.Sizes {
		ids[i] = s.ID
	}
	return ids
}
