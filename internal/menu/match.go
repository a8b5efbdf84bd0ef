package menu

import (
	"sort"
	"strings"
	"unicode"
)

// Normalize lowercases s, turns punctuation into spaces and collapses runs of spaces,
// so that "Iced  Mocha!" and "iced mocha" compare equal.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
			b.WriteRune(unicode.ToLower(r))
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

func matches(query, id, name string, aliases []string) bool {
	if query == id || query == Normalize(name) || query == Normalize(strings.ReplaceAll(id, "_", " ")) {
		return true
	}
	for _, a := range aliases {
		if query == Normalize(a) {
			return true
		}
	}
	return false
}

// ResolveItem returns the item whose id, name or alias equals the query after
// normalization.
func (c *Catalog) ResolveItem(query string) (*Item, bool) {
	if it, ok := c.Item(query); ok {
		return it, true
	}
	q := Normalize(query)
	for i := range c.Items {
		it := &c.Items[i]
		if matches(q, it.ID, it.Name, it.Aliases) {
			return it, true
		}
	}
	return nil, false
}

// ResolveSize returns the item's size whose id, name or alias equals the query.
func (it *Item) ResolveSize(query string) (*Size, bool) {
	q := Normalize(query)
	for i := range it.Sizes {
		s := &it.Sizes[i]
		if s.ID == query || matches(q, s.ID, s.Name, s.Aliases) {
			return s, true
		}
	}
	return nil, false
}

// ResolveOption finds an option by id, name or alias among the modifier groups the
// item offers, in the item's group order. When group is not empty, only the group
// whose id or name equals it is searched.
func (c *Catalog) ResolveOption(it *Item, group, query string) (*ModifierGroup, *Option, bool) {
	q := Normalize(query)
	for _, gid := range it.ModifierGroups {
		g, _ := c.Group(gid)
		if group != "" && !matches(Normalize(group), g.ID, g.Name, nil) && group != g.ID {
			continue
		}
		for i := range g.Options {
			o := &g.Options[i]
			if o.ID == query || matches(q, o.ID, o.Name, o.Aliases) {
				return g, o, true
			}
		}
	}
	return nil, nil, false
}

// Search returns items whose name, alias, category or description shares words with
// the query, best match first, at most limit of them (all when limit ≤ 0). An item
// that the whole query names ranks first. A word found in a name or alias counts
// three times as much as one found in the category or description, and ties keep
// menu order. A word of more than three letters matches its plural. An empty query
// lists every item in menu order.
func (c *Catalog) Search(query string, limit int) []*Item {
	words := strings.Fields(Normalize(query))
	type scored struct {
		item  *Item
		score int
	}
	var exact *Item
	if len(words) > 0 {
		exact, _ = c.ResolveItem(query)
	}
	var found []scored
	for i := range c.Items {
		it := &c.Items[i]
		s := 0
		if len(words) == 0 {
			s = 1
		}
		if it == exact {
			s += 100
		}
		names := strings.Fields(Normalize(it.Name + " " + strings.Join(it.Aliases, " ")))
		details := strings.Fields(Normalize(it.Category + " " + c.categoryName(it.Category) + " " + it.Description))
		for _, w := range words {
			switch {
			case containsWord(names, w):
				s += 3
			case containsWord(details, w):
				s++
			}
		}
		if s > 0 {
			found = append(found, scored{it, s})
		}
	}
	sort.SliceStable(found, func(a, b int) bool { return found[a].score > found[b].score })
	if limit > 0 && len(found) > limit {
		found = found[:limit]
	}
	out := make([]*Item, len(found))
	for i, f := range found {
		out[i] = f.item
	}
	return out
}

// containsWord reports whether w is one of words, treating a word of more than three
// letters and its plural in "s" as equal.
func containsWord(words []string, w string) bool {
	for _, h := range words {
		if w == h || (len(w) > 3 && strings.TrimSuffix(w, "s") == strings.TrimSuffix(h, "s")) {
			return true
		}
	}
	return false
}

func (c *Catalog) categoryName(id string) string {
	for _, cat := range c.Categories {
		if cat.ID == id {
			return cat.Name
		}
	}
	return ""
}

// amountPhrases are the spoken quantifiers SplitAmount recognizes. A phrase comes
// before every shorter phrase it starts with, so "a little bit of" wins over "a little".
var amountPhrases = []struct {
	prefix string
	amount Amount
}{
	{"a little bit of", AmountLight},
	{"a little bit", AmountLight},
	{"a touch of", AmountLight},
	{"a splash of", AmountLight},
	{"a little", AmountLight},
	{"a bit of", AmountLight},
	{"light on", AmountLight},
	{"plenty of", AmountExtra},
	{"heavy on", AmountExtra},
	{"a lot of", AmountExtra},
	{"lots of", AmountExtra},
	{"extra", AmountExtra},
	{"some", AmountRegular},
}

// SplitAmount separates a spoken quantifier from an option phrase: "a lot of skim
// milk" gives AmountExtra and "skim milk", "some sugar" gives AmountRegular and
// "sugar". The rest is normalized. A phrase without a quantifier is returned whole
// with AmountRegular. Because some option names start with such a word ("Extra egg"),
// resolve the whole phrase first and split it only when that fails.
func SplitAmount(phrase string) (Amount, string) {
	p := Normalize(phrase)
	for _, a := range amountPhrases {
		if rest, ok := strings.CutPrefix(p, a.prefix+" "); ok {
			return a.amount, rest
		}
	}
	return AmountRegular, p
}
