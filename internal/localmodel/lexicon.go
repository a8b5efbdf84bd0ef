package localmodel

import (
	"strings"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// phraseKind is the kind of menu entity that a phrase names.
type phraseKind uint8

const (
	phraseItem phraseKind = iota + 1
	phraseSize
	phraseOption
	phraseAmount
	phraseQuantity
)

// phraseEntry is one meaning of a phrase. Phrases are resolved to catalog ids only
// once the item of their line is known, because "medium" is a size of a latte and
// also a roast, and "bagel" is an item and also a bread for a sandwich.
type phraseEntry struct {
	kind phraseKind
	// canonical is the phrase to pass to the catalog's Resolve helpers: the
	// singular for a plural item phrase, otherwise the phrase itself.
	canonical string
	amount    menu.Amount
	quantity  int
}

// amountPhrases maps the phrases for more or less of an option to an amount.
// "some" requests the regular amount ("with some milk" is "with milk"), so it
// maps to AmountRegular.
var amountPhrases = map[string]menu.Amount{
	"a little bit of": menu.AmountLight,
	"a little":        menu.AmountLight,
	"a bit of":        menu.AmountLight,
	"light on":        menu.AmountLight,
	"some":            menu.AmountRegular,
	"a lot of":        menu.AmountExtra,
	"lots of":         menu.AmountExtra,
	"extra":           menu.AmountExtra,
}

// quantityWords are the quantities Interpret reads.
var quantityWords = []string{"a", "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}

// spokenQuantities are the quantities the grammar accepts. "eight" is left out:
// the recognizer heard "a twenty ounce latte" and "a iced mocha" as "eight ..."
// in three of sixteen recorded orders, and eight of one item is a rare order.
var spokenQuantities = []string{"a", "an", "one", "two", "three", "four", "five", "six", "seven", "nine", "ten"}

func quantityOf(word string) int {
	switch word {
	case "a", "an":
		return 1
	}
	for i, w := range quantityWords[2:] {
		if w == word {
			return i + 1
		}
	}
	return 0
}

// lexicon is every phrase of a catalog that Interpret recognizes, keyed by its
// normalized text.
type lexicon struct {
	phrases  map[string][]phraseEntry
	maxWords int
}

func newLexicon(cat *menu.Catalog) *lexicon {
	lx := &lexicon{phrases: make(map[string][]phraseEntry)}
	for i := range cat.Items {
		it := &cat.Items[i]
		for _, p := range itemPhrases(it) {
			lx.add(p, phraseEntry{kind: phraseItem, canonical: p})
			if pl := plural(p); pl != p {
				lx.add(pl, phraseEntry{kind: phraseItem, canonical: p})
			}
		}
		for j := range it.Sizes {
			for _, p := range namePhrases(it.Sizes[j].Name, it.Sizes[j].Aliases) {
				lx.add(p, phraseEntry{kind: phraseSize, canonical: p})
			}
		}
	}
	for i := range cat.ModifierGroups {
		for _, o := range cat.ModifierGroups[i].Options {
			for _, p := range namePhrases(o.Name, o.Aliases) {
				lx.add(p, phraseEntry{kind: phraseOption, canonical: p})
			}
		}
	}
	for p, a := range amountPhrases {
		lx.add(p, phraseEntry{kind: phraseAmount, canonical: p, amount: a})
	}
	for _, w := range quantityWords {
		lx.add(w, phraseEntry{kind: phraseQuantity, canonical: w, quantity: quantityOf(w)})
	}
	return lx
}

// add records a meaning of a phrase once, however many catalog entries share it.
func (lx *lexicon) add(phrase string, e phraseEntry) {
	if phrase == "" {
		return
	}
	for _, old := range lx.phrases[phrase] {
		if old.kind == e.kind && old.canonical == e.canonical {
			return
		}
	}
	lx.phrases[phrase] = append(lx.phrases[phrase], e)
	if n := len(strings.Fields(phrase)); n > lx.maxWords {
		lx.maxWords = n
	}
}

// token is a run of words matched to a phrase of the lexicon.
type token struct {
	phrase  string
	entries []phraseEntry
}

func (t token) has(kind phraseKind) (phraseEntry, bool) {
	for _, e := range t.entries {
		if e.kind == kind {
			return e, true
		}
	}
	return phraseEntry{}, false
}

// tokenize splits normalized words into the longest known phrases, left to right.
// Words that start no known phrase come back as tokens without entries, so that
// connectors such as "with" and "and" stay visible to the parser.
func (lx *lexicon) tokenize(words []string) []token {
	var out []token
	for i := 0; i < len(words); {
		n := min(lx.maxWords, len(words)-i)
		matched := false
		for ; n > 0; n-- {
			phrase := strings.Join(words[i:i+n], " ")
			if entries, ok := lx.phrases[phrase]; ok {
				out = append(out, token{phrase: phrase, entries: entries})
				i += n
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, token{phrase: words[i]})
			i++
		}
	}
	return out
}

// itemPhrases returns the normalized name and aliases of an item.
func itemPhrases(it *menu.Item) []string {
	return namePhrases(it.Name, it.Aliases)
}

func namePhrases(name string, aliases []string) []string {
	out := make([]string, 0, 1+len(aliases))
	seen := make(map[string]bool, 1+len(aliases))
	for _, s := range append([]string{name}, aliases...) {
		p := menu.Normalize(s)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// plural returns the phrase with its last word in the regular English plural
// ("lattes", "breakfast sandwiches", "blueberry muffins"). Irregular plurals are
// not produced; the grammar keeps only plurals the dictionary lists.
func plural(phrase string) string {
	i := strings.LastIndexByte(phrase, ' ')
	head, last := phrase[:i+1], phrase[i+1:]
	switch {
	case last == "":
		return phrase
	case strings.HasSuffix(last, "s"), strings.HasSuffix(last, "x"),
		strings.HasSuffix(last, "ch"), strings.HasSuffix(last, "sh"):
		return head + last + "es"
	case strings.HasSuffix(last, "y") && len(last) > 1 && !strings.ContainsRune("aeiou", rune(last[len(last)-2])):
		return head + last[:len(last)-1] + "ies"
	default:
		return head + last + "s"
	}
}
