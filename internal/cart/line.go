package cart

import (
	"fmt"
	"slices"
	"strings"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// buildLine validates a request against the catalog and prices it. The line has no
// id yet.
func buildLine(cat *menu.Catalog, req AddRequest) (Line, error) {
	it, err := resolveItem(cat, req.ItemID)
	if err != nil {
		return Line{}, err
	}
	quantity, err := ClampQuantity(req.Quantity)
	if err != nil {
		return Line{}, err
	}
	line := Line{
		ItemID:    it.ID,
		Name:      it.Name,
		Quantity:  quantity,
		Notes:     CleanNotes(req.Notes),
		UnitPrice: it.Price,
	}

	size, err := resolveSize(it, req.SizeID)
	if err != nil {
		return Line{}, err
	}
	if size != nil {
		line.SizeID, line.SizeName = size.ID, size.Name
		line.UnitPrice += size.PriceDelta
	}

	line.Modifiers, err = resolveModifiers(cat, it, req.Modifiers)
	if err != nil {
		return Line{}, err
	}
	for _, m := range line.Modifiers {
		line.UnitPrice += m.Price
	}
	line.Total = line.UnitPrice * int64(line.Quantity)
	return line, nil
}

// FindItem returns the item whose id, name or alias is query. When there is none,
// the *ValidationError names up to three items that share words with the query.
func FindItem(cat *menu.Catalog, query string) (*menu.Item, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, invalid("item_id", "missing; name a menu item by id or name")
	}
	it, ok := cat.ResolveItem(query)
	if !ok {
		return nil, invalid("item_id", unknownItemMessage(cat, query))
	}
	return it, nil
}

func resolveItem(cat *menu.Catalog, query string) (*menu.Item, error) {
	it, err := FindItem(cat, query)
	if err != nil {
		return nil, err
	}
	if it.Unavailable {
		return nil, invalid("item_id", fmt.Sprintf("%s (%s) is sold out; offer something else", it.Name, it.ID))
	}
	return it, nil
}

// unknownItemMessage names up to three items that share words with the query.
func unknownItemMessage(cat *menu.Catalog, query string) string {
	matches := cat.Search(query, 3)
	if len(matches) == 0 {
		return fmt.Sprintf("unknown item %q; search the menu for the item id", query)
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = fmt.Sprintf("%s (%s)", m.ID, m.Name)
	}
	return fmt.Sprintf("unknown item %q; close matches: %s", query, strings.Join(names, ", "))
}

func resolveSize(it *menu.Item, query string) (*menu.Size, error) {
	query = strings.TrimSpace(query)
	if len(it.Sizes) == 0 {
		if query != "" {
			return nil, invalid("size", fmt.Sprintf("%s comes in one size; leave size empty", it.Name))
		}
		return nil, nil
	}
	if query == "" {
		if it.DefaultSize == "" {
			return nil, invalid("size", fmt.Sprintf("missing; %s needs a size: choose one of %s", it.Name, strings.Join(it.SizeIDs(), ", ")))
		}
		s, _ := it.Size(it.DefaultSize)
		return s, nil
	}
	s, ok := it.ResolveSize(query)
	if !ok {
		return nil, invalid("size", fmt.Sprintf("unknown size %q; choose one of %s", query, strings.Join(it.SizeIDs(), ", ")))
	}
	return s, nil
}

// chosen is a resolved selection with the positions that put it in menu order.
type chosen struct {
	group       *menu.ModifierGroup
	groupIndex  int
	optionIndex int
	mod         Modifier
}

func resolveModifiers(cat *menu.Catalog, it *menu.Item, sels []Selection) ([]Modifier, error) {
	if len(sels) == 0 && !hasRequiredGroup(cat, it) {
		return nil, nil
	}
	if len(sels) > MaxSelections {
		return nil, invalid("modifiers", fmt.Sprintf("%d modifiers is more than the %d one item can take; list each option once", len(sels), MaxSelections))
	}
	picks := make([]chosen, 0, len(sels))
	for i, sel := range sels {
		p, err := resolveSelection(cat, it, i, sel)
		if err != nil {
			return nil, err
		}
		for _, prev := range picks {
			if prev.mod.GroupID == p.mod.GroupID && prev.mod.OptionID == p.mod.OptionID {
				return nil, invalid(p.group.ID, fmt.Sprintf("%q is listed twice; list it once, with amount extra for more", p.mod.OptionID))
			}
		}
		picks = append(picks, p)
	}
	if err := checkGroupCounts(cat, it, picks); err != nil {
		return nil, err
	}
	slices.SortFunc(picks, func(a, b chosen) int {
		if a.groupIndex != b.groupIndex {
			return a.groupIndex - b.groupIndex
		}
		return a.optionIndex - b.optionIndex
	})
	if len(picks) == 0 {
		return nil, nil
	}
	mods := make([]Modifier, len(picks))
	for i, p := range picks {
		mods[i] = p.mod
	}
	return mods, nil
}

func hasRequiredGroup(cat *menu.Catalog, it *menu.Item) bool {
	for _, gid := range it.ModifierGroups {
		if g, _ := cat.Group(gid); g.Min > 0 {
			return true
		}
	}
	return false
}

func resolveSelection(cat *menu.Catalog, it *menu.Item, index int, sel Selection) (chosen, error) {
	query := strings.TrimSpace(sel.OptionID)
	groupQuery := strings.TrimSpace(sel.GroupID)
	if query == "" {
		return chosen{}, invalid(fmt.Sprintf("modifiers[%d].option", index), "missing; name an option by id or name")
	}
	if groupQuery != "" {
		if _, ok := findGroup(cat, it, groupQuery); !ok {
			return chosen{}, invalid("modifiers", unknownGroupMessage(cat, it, groupQuery))
		}
	}

	amount := normalizeAmount(sel.Amount)
	g, o, ok := cat.ResolveOption(it, groupQuery, query)
	if !ok {
		// "a lot of skim milk": take the quantifier as the amount unless the request
		// names a different one.
		spoken, rest := menu.SplitAmount(query)
		if rest != menu.Normalize(query) && (amount == menu.AmountRegular || amount == spoken) {
			g, o, ok = cat.ResolveOption(it, groupQuery, rest)
			amount = spoken
		}
	}
	if !ok {
		return chosen{}, unknownOptionError(cat, it, groupQuery, query)
	}
	if err := checkAmount(g, amount); err != nil {
		return chosen{}, err
	}
	groupIndex, _ := groupPosition(cat, g.ID)
	return chosen{
		group:       g,
		groupIndex:  groupIndex,
		optionIndex: slices.IndexFunc(g.Options, func(x menu.Option) bool { return x.ID == o.ID }),
		mod:         Modifier{GroupID: g.ID, OptionID: o.ID, Name: o.Name, Amount: amount, Price: o.Price},
	}, nil
}

// normalizeAmount lowercases an amount and maps the words for a regular amount to
// AmountRegular. Other values are returned for checkAmount to reject.
func normalizeAmount(a menu.Amount) menu.Amount {
	switch n := menu.Amount(strings.ToLower(strings.TrimSpace(string(a)))); n {
	case "regular", "normal":
		return menu.AmountRegular
	default:
		return n
	}
}

// checkAmount rejects an unknown amount and an amount the group does not offer.
func checkAmount(g *menu.ModifierGroup, amount menu.Amount) error {
	switch amount {
	case menu.AmountRegular:
		return nil
	case menu.AmountLight, menu.AmountExtra:
		if !g.Amounts {
			return invalid(g.ID, fmt.Sprintf("%s does not come in light or extra amounts; leave amount empty", g.Name))
		}
		return nil
	}
	return invalid(g.ID, fmt.Sprintf("unknown amount %q; use light or extra, or leave amount empty", amount))
}

// findGroup returns the item's modifier group whose id or name is query.
func findGroup(cat *menu.Catalog, it *menu.Item, query string) (*menu.ModifierGroup, bool) {
	q := menu.Normalize(query)
	for _, gid := range it.ModifierGroups {
		g, _ := cat.Group(gid)
		if g.ID == query || menu.Normalize(g.ID) == q || menu.Normalize(g.Name) == q {
			return g, true
		}
	}
	return nil, false
}

func groupPosition(cat *menu.Catalog, id string) (int, bool) {
	for i := range cat.ModifierGroups {
		if cat.ModifierGroups[i].ID == id {
			return i, true
		}
	}
	return 0, false
}

func unknownGroupMessage(cat *menu.Catalog, it *menu.Item, query string) string {
	if len(it.ModifierGroups) == 0 {
		return fmt.Sprintf("%s takes no modifiers (got group %q); leave modifiers empty", it.Name, query)
	}
	return fmt.Sprintf("%s has no modifier group %q; its groups are %s", it.Name, query, strings.Join(it.ModifierGroups, ", "))
}

func unknownOptionError(cat *menu.Catalog, it *menu.Item, groupQuery, query string) error {
	if groupQuery != "" {
		g, _ := findGroup(cat, it, groupQuery)
		return invalid(g.ID, fmt.Sprintf("unknown option %q; choose one of %s", query, strings.Join(g.OptionIDs(), ", ")))
	}
	if len(it.ModifierGroups) == 0 {
		return invalid("modifiers", fmt.Sprintf("%s takes no modifiers (got %q); leave modifiers empty", it.Name, query))
	}
	groups := make([]string, len(it.ModifierGroups))
	for i, gid := range it.ModifierGroups {
		g, _ := cat.Group(gid)
		groups[i] = fmt.Sprintf("%s (%s)", g.ID, strings.Join(g.OptionIDs(), ", "))
	}
	return invalid("modifiers", fmt.Sprintf("unknown option %q for %s; choose from %s", query, it.Name, strings.Join(groups, ", ")))
}

// checkGroupCounts enforces each group's minimum and maximum number of choices.
func checkGroupCounts(cat *menu.Catalog, it *menu.Item, picks []chosen) error {
	for _, gid := range it.ModifierGroups {
		g, _ := cat.Group(gid)
		var picked []string
		for _, p := range picks {
			if p.group.ID == g.ID {
				picked = append(picked, p.mod.OptionID)
			}
		}
		choices := strings.Join(g.OptionIDs(), ", ")
		switch {
		case len(picked) > g.Max:
			return invalid(g.ID, fmt.Sprintf("choose at most %d of %s (got %d: %s)", g.Max, choices, len(picked), strings.Join(picked, ", ")))
		case len(picked) < g.Min && g.Min == 1:
			return invalid(g.ID, fmt.Sprintf("missing; %s needs a choice of %s: choose one of %s", it.Name, strings.ToLower(g.Name), choices))
		case len(picked) < g.Min:
			return invalid(g.ID, fmt.Sprintf("missing; %s needs %d choices of %s (got %d): choose from %s", it.Name, g.Min, strings.ToLower(g.Name), len(picked), choices))
		}
	}
	return nil
}
