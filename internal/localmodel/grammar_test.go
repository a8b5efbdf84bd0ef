package localmodel

import (
	"strings"
	"testing"

	"github.com/voiceorder/voiceorder/internal/menu"
)

func TestGrammarFromShippedMenu(t *testing.T) {
	r, g := newTestRecognizer(t)
	if len(g.SkippedItems) != 0 {
		t.Errorf("skipped items %v, want every item of the shipped menu speakable", g.SkippedItems)
	}
	for _, want := range []string{"public <utterance>", "<lead_in>", "<done>", "<remove>", "americano", "oat milk", "that's all"} {
		if !strings.Contains(g.JSGF, want) {
			t.Errorf("grammar lacks %q", want)
		}
	}
	for _, w := range g.Words {
		if !r.HasWord(w) {
			t.Errorf("grammar word %q is not in the decoder's dictionary", w)
		}
	}
	if r.HasWord("zebra") {
		t.Error("decoder knows \"zebra\", want only the grammar's words")
	}
}

func TestGrammarSkipsUnknownWords(t *testing.T) {
	cat, err := menu.Parse("test.yaml", []byte(`
restaurant: {id: t, name: T, time_zone: UTC, currency: USD, tax_rate: 0, hours: [{days: [mon], open: "08:00", close: "17:00"}]}
categories: [{id: c, name: C}]
items:
  - {id: latte, name: Latte, category: c, price: 100, aliases: [xqzzy latte]}
  - {id: gizmo, name: Xqzzy, category: c, price: 100}
`))
	if err != nil {
		t.Fatalf("parse menu: %v", err)
	}
	g := BuildGrammar(cat, fullDictionary(t))
	if len(g.SkippedItems) != 1 || g.SkippedItems[0] != "gizmo" {
		t.Errorf("skipped items = %v, want [gizmo]", g.SkippedItems)
	}
	if strings.Contains(g.JSGF, "xqzzy") {
		t.Error("grammar contains the unknown word xqzzy")
	}
	if !strings.Contains(g.JSGF, "latte") {
		t.Error("grammar lacks latte")
	}
	r, err := NewRecognizer(RecognizerConfig{Dictionary: fullDictionary(t).Subset(g.Words), Grammar: g.JSGF})
	if err != nil {
		t.Fatalf("pocketsphinx rejected the grammar: %v", err)
	}
	r.Close()
	r.Close() // Close is idempotent
	if _, err := r.Decode(make([]int16, 100)); err == nil {
		t.Error("Decode after Close succeeded, want an error")
	}
}

func TestRecognizerRejectsBadGrammar(t *testing.T) {
	dict := fullDictionary(t).Subset([]string{"latte"})
	if _, err := NewRecognizer(RecognizerConfig{Dictionary: dict, Grammar: "#JSGF V1.0;\ngrammar x;\npublic <a> = latte"}); err == nil {
		t.Error("NewRecognizer accepted a grammar without its final semicolon")
	}
	if _, err := NewRecognizer(RecognizerConfig{Dictionary: dict, Grammar: "#JSGF V1.0;\ngrammar x;\npublic <a> = mocha;"}); err == nil {
		t.Error("NewRecognizer accepted a grammar word missing from the dictionary")
	}
	if _, err := NewRecognizer(RecognizerConfig{ModelDir: t.TempDir(), Dictionary: dict, Grammar: "x"}); err == nil {
		t.Error("NewRecognizer accepted an empty model directory")
	}
}

func TestPlural(t *testing.T) {
	tests := []struct{ in, want string }{
		{"latte", "lattes"},
		{"breakfast sandwich", "breakfast sandwiches"},
		{"blueberry muffin", "blueberry muffins"},
		{"berry", "berries"},
		{"day", "days"},
		{"glass", "glasses"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := plural(tt.in); got != tt.want {
				t.Errorf("plural(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDictionary(t *testing.T) {
	d, err := ParseDictionary(strings.NewReader(";;; comment\nlatte L AA T EY\ncafe K AH F EY\ncafe(2) K AE F EY\n\n"))
	if err != nil {
		t.Fatalf("ParseDictionary: %v", err)
	}
	if got := d.Pronunciations("cafe"); len(got) != 2 || got[1] != "K AE F EY" {
		t.Errorf("cafe pronunciations = %v, want two in file order", got)
	}
	if d.Len() != 2 || !d.Has("latte") || d.Has("mocha") {
		t.Errorf("dictionary words = %v, want cafe and latte", d.Words())
	}
	if _, err := ParseDictionary(strings.NewReader("latte\n")); err == nil {
		t.Error("ParseDictionary accepted a word without phones")
	}
}

func FuzzParseDictionary(f *testing.F) {
	f.Add("latte L AA T EY\ncafe(2) K AE F EY\n")
	f.Add(";;; x\n\n(2) A\n")
	f.Fuzz(func(t *testing.T, text string) {
		d, err := ParseDictionary(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, w := range d.Words() {
			if len(d.Pronunciations(w)) == 0 {
				t.Errorf("word %q without pronunciations", w)
			}
		}
	})
}
