package localmodel

import (
	"strings"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// IntentKind is the request an utterance makes.
type IntentKind uint8

// Intent kinds. IntentUnknown is an utterance that names nothing on the menu and
// matches no control phrase.
const (
	IntentUnknown IntentKind = iota
	IntentOrder
	IntentDone
	IntentYes
	IntentNo
	IntentRemove
	IntentClear
	IntentStoreInfo
	IntentSpecials
	IntentMenu
)

var intentNames = [...]string{"unknown", "order", "done", "yes", "no", "remove", "clear", "store_info", "specials", "menu"}

func (k IntentKind) String() string {
	if int(k) < len(intentNames) {
		return intentNames[k]
	}
	return "invalid"
}

// Intent is the meaning of one utterance. Items is set for IntentOrder and ItemID
// for IntentRemove.
type Intent struct {
	Kind   IntentKind
	Items  []OrderLine
	ItemID string
}

// OrderLine is one item the caller asked for. SizeID is empty when the caller named
// no size; the cart then applies the item's default.
type OrderLine struct {
	ItemID    string
	SizeID    string
	Quantity  int
	Modifiers []Modifier
}

// Modifier is one chosen option. GroupID is empty when the option belongs to no
// group of the catalog that could be found; the order tool then rejects it.
type Modifier struct {
	GroupID  string
	OptionID string
	Amount   menu.Amount
}

// maxOrderLines bounds the lines one utterance can add.
const maxOrderLines = 10

// maxInterpretWords bounds the words considered; typed input may be long.
const maxInterpretWords = 64

// controlPhrases are whole utterances, after normalization, that steer the
// conversation. BuildGrammar puts the same phrases in the grammar.
var controlPhrases = []struct {
	kind    IntentKind
	phrases []string
}{
	{IntentDone, []string{"that's all", "that's it", "no that's all", "no that's it", "nothing else",
		"no thanks", "no thank you", "that will be all", "that is all", "i'm done", "that's everything"}},
	{IntentYes, []string{"yes", "yes please", "yeah", "yep", "correct", "sure", "place the order",
		"please place the order", "that's right", "yes that's right", "okay"}},
	{IntentNo, []string{"no", "not yet", "nope", "wait"}},
	{IntentClear, []string{"start over", "cancel my order", "cancel the order", "clear my order", "cancel everything"}},
	{IntentStoreInfo, []string{"what are your hours", "are you open", "when are you open", "when do you close",
		"what time do you close", "where are you"}},
	{IntentSpecials, []string{"what are the specials", "what are your specials", "any specials",
		"what's special today"}},
	{IntentMenu, []string{"what do you have", "what's on the menu", "what's on your menu", "read me the menu"}},
}

// removeVerbs and removeArticles form "remove the latte", "cancel my croissant".
var (
	removeVerbs    = []string{"remove", "cancel", "take off", "delete"}
	removeArticles = []string{"the", "my", "a", "an"}
)

// politeTails are dropped from the end of typed text before control phrases are
// matched, so that "That's all, thanks" reads as "that's all".
var politeTails = []string{"thanks", "thank you", "please"}

// Interpret parses a recognizer hypothesis or typed text into an intent, resolving
// the words through the catalog's names and aliases. Words the menu does not know
// are skipped, so lead-ins ("can I get", "I'd like") need no listing here.
func Interpret(cat *menu.Catalog, text string) Intent {
	return newInterpreter(cat).interpret(text)
}

// interpreter keeps the lexicon of one catalog between utterances.
type interpreter struct {
	cat *menu.Catalog
	lx  *lexicon
}

func newInterpreter(cat *menu.Catalog) *interpreter {
	return &interpreter{cat: cat, lx: newLexicon(cat)}
}

func (ip *interpreter) interpret(text string) Intent {
	norm := menu.Normalize(text)
	words := strings.Fields(norm)
	if len(words) == 0 {
		return Intent{Kind: IntentUnknown}
	}
	if len(words) > maxInterpretWords {
		words = words[:maxInterpretWords]
		norm = strings.Join(words, " ")
	}
	if k, ok := controlIntent(norm); ok {
		return Intent{Kind: k}
	}
	if id, ok := ip.removeIntent(words); ok {
		return Intent{Kind: IntentRemove, ItemID: id}
	}
	if lines := ip.orderLines(words); len(lines) > 0 {
		return Intent{Kind: IntentOrder, Items: lines}
	}
	return Intent{Kind: keywordIntent(words)}
}

func controlIntent(norm string) (IntentKind, bool) {
	for {
		for _, c := range controlPhrases {
			for _, p := range c.phrases {
				if norm == p {
					return c.kind, true
				}
			}
		}
		trimmed := norm
		for _, tail := range politeTails {
			trimmed = strings.TrimSpace(strings.TrimSuffix(trimmed, " "+tail))
		}
		if trimmed == norm {
			return IntentUnknown, false
		}
		norm = trimmed
	}
}

// keywordIntent catches typed questions that are not worded like the grammar.
func keywordIntent(words []string) IntentKind {
	for _, w := range words {
		switch w {
		case "hours", "open", "close", "closing", "address":
			return IntentStoreInfo
		case "special", "specials":
			return IntentSpecials
		case "menu":
			return IntentMenu
		}
	}
	return IntentUnknown
}

func (ip *interpreter) removeIntent(words []string) (string, bool) {
	rest := strings.Join(words, " ")
	verb := false
	for _, v := range removeVerbs {
		if r, ok := strings.CutPrefix(rest, v+" "); ok {
			rest, verb = r, true
			break
		}
	}
	if !verb {
		return "", false
	}
	for _, a := range removeArticles {
		if r, ok := strings.CutPrefix(rest, a+" "); ok {
			rest = r
			break
		}
	}
	for _, t := range ip.lx.tokenize(strings.Fields(rest)) {
		if e, ok := t.has(phraseItem); ok {
			if it, ok := ip.cat.ResolveItem(e.canonical); ok {
				return it.ID, true
			}
		}
	}
	return "", false
}

// lineDraft is an order line while its words are being read.
type lineDraft struct {
	quantity int
	item     *menu.Item
	mods     []modWord
}

// modWord is a size or option phrase not yet resolved against an item.
type modWord struct {
	tok    token
	amount menu.Amount
}

// orderLines reads "[quantity] [pre-modifiers] item [with|on modifiers]" repeated.
// Modifiers before an item belong to it; modifiers after "with" or "on" belong to
// the item before them until a quantity starts the next line.
func (ip *interpreter) orderLines(words []string) []OrderLine {
	var (
		lines    []*lineDraft
		pending  = &lineDraft{}
		current  *lineDraft
		postMods bool // modifiers now attach to current
		amount   menu.Amount
		prev     string
	)
	for _, t := range ip.lx.tokenize(words) {
		switch {
		case t.phrase == "with" || t.phrase == "on":
			if current != nil {
				postMods = true
			}
		case ip.isOptionHere(t, current, postMods):
			target := pending
			if postMods {
				target = current
			}
			target.mods = append(target.mods, modWord{tok: t, amount: amount})
			amount = menu.AmountRegular
		case hasKind(t, phraseItem):
			e, _ := t.has(phraseItem)
			it, ok := ip.cat.ResolveItem(e.canonical)
			if !ok || len(lines) == maxOrderLines {
				break
			}
			pending.item = it
			lines = append(lines, pending)
			current, pending, postMods = pending, &lineDraft{}, false
		case hasKind(t, phraseAmount):
			e, _ := t.has(phraseAmount)
			amount = e.amount
		case hasKind(t, phraseQuantity):
			e, _ := t.has(phraseQuantity)
			// "with a double shot": an article right after the connector keeps the
			// modifiers on the current item.
			if prev == "with" || prev == "on" {
				break
			}
			pending.quantity = e.quantity
			postMods = false
		case hasKind(t, phraseSize):
			target := pending
			if current != nil && pending.quantity == 0 && len(pending.mods) == 0 && postMods {
				target = current
			}
			target.mods = append(target.mods, modWord{tok: t})
		}
		prev = t.phrase
	}
	// Modifiers left after the last item ("a latte, large") belong to it.
	if current != nil && len(pending.mods) > 0 {
		current.mods = append(current.mods, pending.mods...)
	}
	out := make([]OrderLine, 0, len(lines))
	for _, d := range lines {
		out = append(out, ip.resolveLine(d))
	}
	return out
}

func hasKind(t token, kind phraseKind) bool {
	_, ok := t.has(kind)
	return ok
}

// isOptionHere reports whether a token should be read as a modifier option rather
// than as an item or a size. It is an option when the phrase names no item, or
// when it follows "with" or "on" and is an option of the current item ("on a
// bagel").
func (ip *interpreter) isOptionHere(t token, current *lineDraft, postMods bool) bool {
	e, ok := t.has(phraseOption)
	if !ok {
		return false
	}
	if hasKind(t, phraseSize) {
		return false // sizes and size-like options are resolved against the item later
	}
	if !hasKind(t, phraseItem) {
		return true
	}
	if !postMods || current == nil {
		return false
	}
	_, _, found := ip.cat.ResolveOption(current.item, "", e.canonical)
	return found
}

func (ip *interpreter) resolveLine(d *lineDraft) OrderLine {
	line := OrderLine{ItemID: d.item.ID, Quantity: d.quantity}
	if line.Quantity == 0 {
		line.Quantity = 1
	}
	for _, m := range d.mods {
		if line.SizeID == "" {
			if e, ok := m.tok.has(phraseSize); ok {
				if s, ok := d.item.ResolveSize(e.canonical); ok {
					line.SizeID = s.ID
					continue
				}
			}
		}
		e, ok := m.tok.has(phraseOption)
		if !ok {
			continue
		}
		line.Modifiers = append(line.Modifiers, ip.resolveOption(d.item, e.canonical, m.amount))
	}
	return line
}

// resolveOption finds the option among the item's groups, or failing that in any
// group of the catalog, so that the order tool can report why it is not allowed.
func (ip *interpreter) resolveOption(it *menu.Item, phrase string, amount menu.Amount) Modifier {
	if g, o, ok := ip.cat.ResolveOption(it, "", phrase); ok {
		if !g.Amounts {
			amount = menu.AmountRegular
		}
		return Modifier{GroupID: g.ID, OptionID: o.ID, Amount: amount}
	}
	for i := range ip.cat.ModifierGroups {
		g := &ip.cat.ModifierGroups[i]
		for _, o := range g.Options {
			for _, p := range namePhrases(o.Name, o.Aliases) {
				if p == phrase {
					return Modifier{GroupID: g.ID, OptionID: o.ID, Amount: amount}
				}
			}
		}
	}
	return Modifier{OptionID: phrase, Amount: amount}
}
