package localmodel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// leadIns are the openings of an order the grammar accepts. Interpret skips them.
var leadIns = []string{
	"can i get", "can i have", "could i get", "could i have", "may i have",
	"i want", "i'd like", "i would like", "i'll have", "i'll take",
	"give me", "get me", "make me", "brew", "and", "also",
}

// Repetition limits of the grammar. A line has at most maxPreModifiers phrases
// before its item ("a large dark roast double shot latte" has three). It has at
// most maxPostModifiers after "with". An utterance has at most maxSpokenLines
// items.
const (
	maxPreModifiers  = 3
	maxPostModifiers = 3
	maxSpokenLines   = 3
)

// Grammar is a JSGF grammar built from a catalog.
type Grammar struct {
	// JSGF is the grammar text; its public rule <utterance> is the start.
	JSGF string
	// Words lists every word the grammar uses, sorted; the recognizer needs a
	// pronunciation for each.
	Words []string
	// SkippedItems lists ids of items left out because none of their names or
	// aliases has all its words in the dictionary. The caller logs them.
	SkippedItems []string
	// SkippedPhrases lists other phrases left out for the same reason, as
	// "kind id: phrase".
	SkippedPhrases []string
}

// BuildGrammar generates the grammar of orders and control phrases for a catalog.
// It covers item names and aliases with their plurals, sizes, and modifier
// options. Options of groups that allow amounts may follow "a little bit of", "a
// lot of" and the like. It also covers quantities from "a" to "ten", lead-ins
// such as "can I get", several items joined by "and", and the phrases for
// finishing, confirming, removing, clearing and asking about the store, the
// specials and the menu. A phrase with a word that dict lacks is left out and
// listed in the result. A nil dict accepts every word.
func BuildGrammar(cat *menu.Catalog, dict *Dictionary) Grammar {
	b := &grammarBuilder{dict: dict, words: make(map[string]bool)}
	return b.build(cat)
}

type grammarBuilder struct {
	dict    *Dictionary
	words   map[string]bool
	rules   strings.Builder
	skipped Grammar
}

// signature groups items that take the same sizes and modifier groups, so that
// they share one line rule.
type signature struct {
	key    string
	sizes  []string
	groups []string
	items  []string
}

func (b *grammarBuilder) build(cat *menu.Catalog) Grammar {
	fmt.Fprintf(&b.rules, "#JSGF V1.0;\ngrammar voiceorder;\n")
	groupRules := b.groupRules(cat)
	sigs := b.signatures(cat, groupRules)
	top := []string{"<order>"}
	fmt.Fprintf(&b.rules, "<order> = [<lead_in>] <line>%s [please];\n", repeatOptional(" and <line>", maxSpokenLines-1))
	b.speakable("and please")
	b.rule("lead_in", b.usable("lead-in", "", leadIns))
	b.rule("quantity", b.usable("quantity", "", spokenQuantities))
	amounts := make([]string, 0, len(amountPhrases))
	for p := range amountPhrases {
		amounts = append(amounts, p)
	}
	slices.Sort(amounts)
	b.rule("amount", b.usable("amount", "", amounts))

	lines := make([]string, 0, len(sigs))
	anyItem := make([]string, 0, len(sigs))
	for i, s := range sigs {
		lines = append(lines, fmt.Sprintf("<line_%d>", i))
		anyItem = append(anyItem, fmt.Sprintf("<item_%d>", i))
		b.lineRules(cat, i, s, groupRules)
	}
	if len(lines) == 0 {
		// A catalog with nothing speakable still yields a valid grammar of control
		// phrases; <line> then matches the word "nothing", which Interpret ignores.
		lines, anyItem = []string{"nothing"}, []string{"nothing"}
		b.words["nothing"] = true
	}
	b.rule("line", lines)
	b.rule("any_item", anyItem)
	top = append(top, b.controlRules()...)
	fmt.Fprintf(&b.rules, "public <utterance> = %s;\n", strings.Join(top, " | "))

	g := b.skipped
	g.JSGF = b.rules.String()
	for w := range b.words {
		g.Words = append(g.Words, w)
	}
	slices.Sort(g.Words)
	return g
}

// groupRules writes one rule per modifier group with the usable phrases of its
// options, and returns the rule name of each group that has any.
func (b *grammarBuilder) groupRules(cat *menu.Catalog) map[string]string {
	names := make(map[string]string)
	for i := range cat.ModifierGroups {
		g := &cat.ModifierGroups[i]
		var alts []string
		for _, o := range g.Options {
			alts = append(alts, b.usable("option", g.ID+"."+o.ID, namePhrases(o.Name, o.Aliases))...)
		}
		if len(alts) == 0 {
			continue
		}
		names[g.ID] = fmt.Sprintf("group_%d", i)
		b.rule(names[g.ID], alts)
	}
	return names
}

func (b *grammarBuilder) signatures(cat *menu.Catalog, groupRules map[string]string) []*signature {
	var sigs []*signature
	byKey := make(map[string]*signature)
	for i := range cat.Items {
		it := &cat.Items[i]
		phrases := b.usable("item", it.ID, itemPhrases(it))
		if len(phrases) == 0 {
			b.skipped.SkippedItems = append(b.skipped.SkippedItems, it.ID)
			continue
		}
		for _, p := range phrases {
			if pl := plural(p); b.speakable(pl) {
				phrases = append(phrases, pl)
			}
		}
		var sizes []string
		for _, s := range it.Sizes {
			sizes = append(sizes, b.usable("size", it.ID+"."+s.ID, namePhrases(s.Name, s.Aliases))...)
		}
		var groups []string
		for _, gid := range it.ModifierGroups {
			if _, ok := groupRules[gid]; ok {
				groups = append(groups, gid)
			}
		}
		key := strings.Join(sizes, ",") + "|" + strings.Join(groups, ",")
		s, ok := byKey[key]
		if !ok {
			s = &signature{key: key, sizes: sizes, groups: groups}
			byKey[key] = s
			sigs = append(sigs, s)
		}
		s.items = append(s.items, phrases...)
	}
	return sigs
}

// lineRules writes the rules of one signature: the line, its items, its sizes and
// the modifiers allowed before and after the item.
func (b *grammarBuilder) lineRules(cat *menu.Catalog, i int, s *signature, groupRules map[string]string) {
	b.rule(fmt.Sprintf("item_%d", i), s.items)

	var pre, post []string
	if len(s.sizes) > 0 {
		b.rule(fmt.Sprintf("size_%d", i), s.sizes)
		pre = append(pre, fmt.Sprintf("<size_%d>", i))
	}
	connector := "with"
	for _, gid := range s.groups {
		g, _ := cat.Group(gid)
		ref := "<" + groupRules[gid] + ">"
		if g.Amounts {
			post = append(post, "[<amount>] "+ref)
			continue
		}
		pre = append(pre, ref)
		post = append(post, "[a | an] "+ref)
		if g.Min > 0 {
			connector = "(with | on)"
		}
	}

	line := "[<quantity>] "
	if len(pre) > 0 {
		b.rule(fmt.Sprintf("pre_%d", i), pre)
		line += repeatOptional(fmt.Sprintf("<pre_%d>", i), min(maxPreModifiers, len(pre))) + " "
	}
	line += fmt.Sprintf("<item_%d>", i)
	if len(post) > 0 {
		b.rule(fmt.Sprintf("post_%d", i), post)
		more := repeatOptional(fmt.Sprintf(" and <post_%d>", i), min(maxPostModifiers, len(post))-1)
		line += fmt.Sprintf(" [%s <post_%d>%s]", connector, i, more)
		b.speakable("with and a an")
		if connector != "with" {
			b.speakable("on")
		}
	}
	b.rule(fmt.Sprintf("line_%d", i), []string{line})
}

// controlRules writes the rules of the control phrases and returns the references
// to put in the start rule. A rule with no speakable phrase is left out.
func (b *grammarBuilder) controlRules() []string {
	var refs []string
	names := map[IntentKind]string{
		IntentDone: "done", IntentYes: "yes", IntentNo: "no", IntentClear: "clear",
		IntentStoreInfo: "store_info", IntentSpecials: "specials", IntentMenu: "menu",
	}
	for _, c := range controlPhrases {
		alts := b.usable("control", names[c.kind], c.phrases)
		if len(alts) == 0 {
			continue
		}
		b.rule(names[c.kind], alts)
		refs = append(refs, "<"+names[c.kind]+">")
	}
	verbs := b.usable("control", "remove", removeVerbs)
	articles := b.usable("control", "remove", removeArticles[:2])
	if len(verbs) == 0 || len(articles) == 0 {
		return refs
	}
	b.rule("remove", []string{fmt.Sprintf("(%s) [%s] <any_item>", strings.Join(verbs, " | "), strings.Join(articles, " | "))})
	return append(refs, "<remove>")
}

// usable returns the phrases whose words are all in the dictionary, records their
// words, and lists the others as skipped.
func (b *grammarBuilder) usable(kind, id string, phrases []string) []string {
	out := make([]string, 0, len(phrases))
	for _, p := range phrases {
		if !b.speakable(p) {
			b.skipped.SkippedPhrases = append(b.skipped.SkippedPhrases, fmt.Sprintf("%s %s: %s", kind, id, p))
			continue
		}
		out = append(out, p)
	}
	return out
}

// speakable reports whether every word of the phrase has a pronunciation, and if
// so records the words.
func (b *grammarBuilder) speakable(phrase string) bool {
	words := strings.Fields(phrase)
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if !validJSGFWord(w) || (b.dict != nil && !b.dict.Has(w)) {
			return false
		}
	}
	for _, w := range words {
		b.words[w] = true
	}
	return true
}

// validJSGFWord accepts the characters menu.Normalize keeps: lowercase letters,
// digits and apostrophes, so no word can break the grammar's syntax.
func validJSGFWord(w string) bool {
	for _, r := range w {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '\'':
		default:
			return false
		}
	}
	return true
}

func (b *grammarBuilder) rule(name string, alts []string) {
	fmt.Fprintf(&b.rules, "<%s> = %s;\n", name, strings.Join(alts, " | "))
}

// repeatOptional returns n nested optional copies of s: repeatOptional(" x", 2)
// is "[ x[ x]]", which matches zero, one or two copies.
func repeatOptional(s string, n int) string {
	if n <= 0 {
		return ""
	}
	out := ""
	for range n {
		out = "[" + s + out + "]"
	}
	return out
}
