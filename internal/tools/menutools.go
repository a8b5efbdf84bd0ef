package tools

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// maxSearchResults bounds the items find_menu_items returns.
const maxSearchResults = 10

type itemSummary struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Category    string   `json:"category"`
	Description string   `json:"description,omitempty"`
	Price       int64    `json:"price"`
	PriceText   string   `json:"price_text"`
	Sizes       []string `json:"sizes,omitempty"`
	Available   bool     `json:"available"`
}

type categoryView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type findResult struct {
	Items      []itemSummary  `json:"items"`
	Count      int            `json:"count"`
	Categories []categoryView `json:"categories,omitempty"`
}

func (e *Executor) findMenuItems(call Call) Outcome {
	var args struct {
		Query    string `json:"query"`
		Category string `json:"category"`
	}
	if err := decodeArguments(call.Name, call.Arguments, &args); err != nil {
		return e.fail(call, err)
	}
	cat := e.env.Catalog
	items := cat.Search(args.Query, 0)
	if args.Category != "" {
		id, ok := e.resolveCategory(args.Category)
		if !ok {
			return failure(fmt.Sprintf("category: unknown category %q; the categories are %s", args.Category, strings.Join(e.categoryIDs(), ", ")))
		}
		items = slices.DeleteFunc(items, func(it *menu.Item) bool { return it.Category != id })
	}

	res := findResult{Items: []itemSummary{}, Count: len(items)}
	for _, it := range items[:min(len(items), maxSearchResults)] {
		res.Items = append(res.Items, e.summarize(it))
	}
	var msg string
	switch {
	case len(items) == 0:
		res.Categories = e.categories()
		msg = fmt.Sprintf("Nothing on the menu matches %q. Tell the guest, and offer something from the categories listed.", args.Query)
	case len(items) > maxSearchResults:
		msg = fmt.Sprintf("Showing the best %d of %d matches; search with more specific words for others.", maxSearchResults, len(items))
	}
	return Outcome{Result: Result{Success: true, Data: res, Message: msg}}
}

func (e *Executor) resolveCategory(query string) (string, bool) {
	q := menu.Normalize(query)
	for _, c := range e.env.Catalog.Categories {
		if c.ID == query || menu.Normalize(c.ID) == q || menu.Normalize(c.Name) == q {
			return c.ID, true
		}
	}
	return "", false
}

func (e *Executor) categories() []categoryView {
	out := make([]categoryView, len(e.env.Catalog.Categories))
	for i, c := range e.env.Catalog.Categories {
		out[i] = categoryView{ID: c.ID, Name: c.Name}
	}
	return out
}

func (e *Executor) categoryIDs() []string {
	out := make([]string, len(e.env.Catalog.Categories))
	for i, c := range e.env.Catalog.Categories {
		out[i] = c.ID
	}
	return out
}

// summarize lists an item with its price at the default size, or its price range
// when the guest must choose a size.
func (e *Executor) summarize(it *menu.Item) itemSummary {
	currency := e.env.Catalog.Restaurant.Currency
	s := itemSummary{
		ID: it.ID, Name: it.Name, Category: it.Category, Description: it.Description,
		Price: it.Price, Sizes: it.SizeIDs(), Available: !it.Unavailable,
	}
	if len(it.Sizes) == 0 {
		s.PriceText = menu.FormatPrice(it.Price, currency)
		return s
	}
	low, high := it.Price+it.Sizes[0].PriceDelta, it.Price+it.Sizes[0].PriceDelta
	for _, size := range it.Sizes {
		low = min(low, it.Price+size.PriceDelta)
		high = max(high, it.Price+size.PriceDelta)
	}
	if d, ok := it.Size(it.DefaultSize); ok {
		s.Price = it.Price + d.PriceDelta
	} else {
		s.Price = low
	}
	s.PriceText = menu.FormatPrice(low, currency)
	if high != low {
		s.PriceText += " to " + menu.FormatPrice(high, currency)
	}
	return s
}

type sizeView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Price     int64  `json:"price"`
	PriceText string `json:"price_text"`
}

type optionView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Price     int64  `json:"price"`
	PriceText string `json:"price_text,omitempty"`
}

type groupView struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Required bool         `json:"required"`
	Min      int          `json:"min"`
	Max      int          `json:"max"`
	Amounts  bool         `json:"amounts"`
	Options  []optionView `json:"options"`
}

type itemDetails struct {
	itemSummary
	Dietary        []string    `json:"dietary,omitempty"`
	SizeOptions    []sizeView  `json:"size_options,omitempty"`
	DefaultSize    string      `json:"default_size,omitempty"`
	ModifierGroups []groupView `json:"modifier_groups,omitempty"`
}

func (e *Executor) getItemDetails(call Call) Outcome {
	var args struct {
		ItemID string `json:"item_id"`
	}
	if err := decodeArguments(call.Name, call.Arguments, &args); err != nil {
		return e.fail(call, err)
	}
	it, err := e.findItem(args.ItemID)
	if err != nil {
		return e.fail(call, err)
	}
	cat := e.env.Catalog
	currency := cat.Restaurant.Currency
	d := itemDetails{itemSummary: e.summarize(it), Dietary: it.Dietary, DefaultSize: it.DefaultSize}
	for _, s := range it.Sizes {
		p := it.Price + s.PriceDelta
		d.SizeOptions = append(d.SizeOptions, sizeView{ID: s.ID, Name: s.Name, Price: p, PriceText: menu.FormatPrice(p, currency)})
	}
	var required []string
	for _, gid := range it.ModifierGroups {
		g, _ := cat.Group(gid)
		gv := groupView{ID: g.ID, Name: g.Name, Required: g.Min > 0, Min: g.Min, Max: g.Max, Amounts: g.Amounts}
		for _, o := range g.Options {
			ov := optionView{ID: o.ID, Name: o.Name, Price: o.Price}
			if o.Price != 0 {
				ov.PriceText = "+" + menu.FormatPrice(o.Price, currency)
			}
			gv.Options = append(gv.Options, ov)
		}
		if gv.Required {
			required = append(required, strings.ToLower(g.Name))
		}
		d.ModifierGroups = append(d.ModifierGroups, gv)
	}

	var notes []string
	if it.Unavailable {
		notes = append(notes, fmt.Sprintf("%s is sold out.", it.Name))
	}
	if len(it.Sizes) > 0 && it.DefaultSize == "" {
		notes = append(notes, "Ask the guest which size.")
	}
	if len(required) > 0 {
		notes = append(notes, fmt.Sprintf("Ask the guest to choose %s.", joinAnd(required)))
	}
	return Outcome{Result: Result{Success: true, Data: d, Message: strings.Join(notes, " ")}}
}

type hoursView struct {
	Days  []string `json:"days"`
	Open  string   `json:"open"`
	Close string   `json:"close"`
}

type storeInfo struct {
	Name            string      `json:"name"`
	Phone           string      `json:"phone,omitempty"`
	Address         string      `json:"address,omitempty"`
	TimeZone        string      `json:"time_zone"`
	LocalTime       string      `json:"local_time"`
	OpenNow         bool        `json:"open_now"`
	Hours           []hoursView `json:"hours"`
	HoursText       string      `json:"hours_text"`
	NextOpening     *time.Time  `json:"next_opening,omitempty"`
	NextOpeningText string      `json:"next_opening_text,omitempty"`
}

func (e *Executor) getStoreInfo(call Call) Outcome {
	var args struct{}
	if err := decodeArguments(call.Name, call.Arguments, &args); err != nil {
		return e.fail(call, err)
	}
	cat := e.env.Catalog
	r := cat.Restaurant
	now := e.env.Now().In(cat.Location())
	info := storeInfo{
		Name: r.Name, Phone: r.Phone, Address: r.Address, TimeZone: r.TimeZone,
		LocalTime: now.Format("Monday 15:04"),
		OpenNow:   cat.IsOpen(now),
		HoursText: hoursText(r.Hours),
	}
	for _, h := range r.Hours {
		info.Hours = append(info.Hours, hoursView{Days: h.Days, Open: h.Open, Close: h.Close})
	}
	msg := fmt.Sprintf("%s is open now.", r.Name)
	if !info.OpenNow {
		msg = fmt.Sprintf("%s is closed now.", r.Name)
		if next, ok := cat.NextOpening(now); ok {
			info.NextOpening = &next
			info.NextOpeningText = next.Format("Monday 15:04")
			msg = fmt.Sprintf("%s is closed now and opens %s. Orders can still be placed.", r.Name, info.NextOpeningText)
		}
	}
	return Outcome{Result: Result{Success: true, Data: info, Message: msg}}
}

var dayNames = map[string]string{
	"sun": "Sunday", "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday",
	"thu": "Thursday", "fri": "Friday", "sat": "Saturday",
}

// weekOrder lists weekdays from Monday, the order in which opening hours are read.
var weekOrder = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// hoursText reads opening windows aloud: "Monday to Friday 06:30 to 19:00".
func hoursText(hours []menu.Hours) string {
	parts := make([]string, len(hours))
	for i, h := range hours {
		parts[i] = daysText(h.Days) + " " + h.Open + " to " + h.Close
	}
	return strings.Join(parts, ", ")
}

// daysText names a run of three or more consecutive weekdays by its ends.
func daysText(days []string) string {
	idx := make([]int, 0, len(days))
	for _, d := range days {
		if i := slices.Index(weekOrder, d); i >= 0 {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	consecutive := len(idx) >= 3 && idx[len(idx)-1]-idx[0] == len(idx)-1
	if consecutive {
		return dayNames[weekOrder[idx[0]]] + " to " + dayNames[weekOrder[idx[len(idx)-1]]]
	}
	names := make([]string, len(idx))
	for i, x := range idx {
		names[i] = dayNames[weekOrder[x]]
	}
	return joinAnd(names)
}

type specialView struct {
	ItemID      string `json:"item_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	PriceText   string `json:"price_text"`
	Available   bool   `json:"available"`
}

func (e *Executor) getSpecials(call Call) Outcome {
	var args struct{}
	if err := decodeArguments(call.Name, call.Arguments, &args); err != nil {
		return e.fail(call, err)
	}
	cat := e.env.Catalog
	specials := []specialView{}
	for _, s := range cat.Specials {
		it, _ := cat.Item(s.ItemID)
		sum := e.summarize(it)
		specials = append(specials, specialView{ItemID: it.ID, Name: it.Name, Description: s.Description, PriceText: sum.PriceText, Available: !it.Unavailable})
	}
	msg := ""
	if len(specials) == 0 {
		msg = "There are no specials right now."
	}
	return Outcome{Result: Result{Success: true, Data: map[string]any{"specials": specials}, Message: msg}}
}
