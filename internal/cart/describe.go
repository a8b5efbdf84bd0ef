package cart

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/voiceorder/voiceorder/internal/menu"
)

// Describe returns a short description of a line for the assistant to speak, such as
// "2 large lattes with oat milk and a lot of sugar" or "a plain bagel with butter".
func Describe(l Line) string {
	var b strings.Builder
	name := spokenName(l.Name)
	if l.Quantity > 1 {
		name = plural(name)
	}
	words := name
	if l.SizeName != "" {
		words = spokenName(l.SizeName) + " " + name
	}

	if l.Quantity == 1 {
		b.WriteString(article(words))
		b.WriteByte(' ')
	} else {
		b.WriteString(strconv.Itoa(l.Quantity))
		b.WriteByte(' ')
	}
	b.WriteString(words)

	if len(l.Modifiers) > 0 {
		parts := make([]string, len(l.Modifiers))
		for i, m := range l.Modifiers {
			parts[i] = amountPhrase(m.Amount) + spokenName(m.Name)
		}
		b.WriteString(" with ")
		b.WriteString(joinAnd(parts))
	}
	if l.Notes != "" {
		b.WriteString(" (")
		b.WriteString(l.Notes)
		b.WriteByte(')')
	}
	return b.String()
}

func amountPhrase(a menu.Amount) string {
	switch a {
	case menu.AmountLight:
		return "a little "
	case menu.AmountExtra:
		return "a lot of "
	}
	return ""
}

// spokenName lowercases the first letter of a menu name unless the name starts with
// an acronym ("BLT").
func spokenName(s string) string {
	first, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	if second, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(second) {
		return s
	}
	return string(unicode.ToLower(first)) + s[n:]
}

// plural makes the last word of an English noun phrase plural with the regular rules.
func plural(s string) string {
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return s
	case strings.HasSuffix(lower, "s"), strings.HasSuffix(lower, "x"), strings.HasSuffix(lower, "z"),
		strings.HasSuffix(lower, "ch"), strings.HasSuffix(lower, "sh"):
		return s + "es"
	case len(lower) > 1 && strings.HasSuffix(lower, "y") && !strings.ContainsRune("aeiou", rune(lower[len(lower)-2])):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}

func article(words string) string {
	if words != "" && strings.ContainsRune("aeiouAEIOU", rune(words[0])) {
		return "an"
	}
	return "a"
}

func joinAnd(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
