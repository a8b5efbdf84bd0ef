package localmodel

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// DefaultModelDir and DefaultDictPath are where Debian's pocketsphinx-en-us package
// installs the US English acoustic model and the CMU pronouncing dictionary.
const (
	DefaultModelDir = "/usr/share/pocketsphinx/model/en-us/en-us"
	DefaultDictPath = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
)

// maxDictLine bounds one line of a dictionary file; CMU dictionary lines are under
// 100 bytes.
const maxDictLine = 4096

// Dictionary maps lowercase words to their pronunciations as space-separated phone
// strings, in the CMU dictionary format ("latte L AA T EY", alternatives as
// "word(2) ..."). It is immutable after loading and safe for concurrent use.
type Dictionary struct {
	prons map[string][]string
}

// LoadDictionary reads a CMU-format pronouncing dictionary file.
func LoadDictionary(path string) (*Dictionary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open dictionary: %w", err)
	}
	defer f.Close()
	d, err := ParseDictionary(f)
	if err != nil {
		return nil, fmt.Errorf("read dictionary %s: %w", path, err)
	}
	return d, nil
}

// ParseDictionary reads dictionary lines of the form "word PH ON ES". Alternative
// pronunciations ("word(2) ...") are kept in file order after the first. Blank lines
// and lines starting with ";;;" are skipped; a word without phones is an error.
func ParseDictionary(r io.Reader) (*Dictionary, error) {
	d := &Dictionary{prons: make(map[string][]string)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxDictLine)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, ";;;") {
			continue
		}
		word, phones, ok := strings.Cut(text, " ")
		phones = strings.Join(strings.Fields(phones), " ")
		if !ok || phones == "" {
			return nil, fmt.Errorf("line %d: word %q has no phones", line, word)
		}
		word = strings.ToLower(baseWord(word))
		d.prons[word] = append(d.prons[word], phones)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return d, nil
}

// baseWord strips an alternative-pronunciation suffix: "cafe(2)" becomes "cafe".
func baseWord(w string) string {
	if i := strings.IndexByte(w, '('); i > 0 && strings.HasSuffix(w, ")") {
		return w[:i]
	}
	return w
}

// Has reports whether the dictionary lists the word.
func (d *Dictionary) Has(word string) bool {
	_, ok := d.prons[word]
	return ok
}

// Pronunciations returns the word's phone strings, first the main one.
func (d *Dictionary) Pronunciations(word string) []string {
	return d.prons[word]
}

// Len returns the number of distinct words.
func (d *Dictionary) Len() int { return len(d.prons) }

// Words returns the words in sorted order.
func (d *Dictionary) Words() []string {
	words := make([]string, 0, len(d.prons))
	for w := range d.prons {
		words = append(words, w)
	}
	slices.Sort(words)
	return words
}

// Subset returns a dictionary with only the listed words that d has. A decoder loaded
// with the subset of a grammar's words takes far less memory than one loaded with
// the whole 134,000-word CMU dictionary.
func (d *Dictionary) Subset(words []string) *Dictionary {
	s := &Dictionary{prons: make(map[string][]string, len(words))}
	for _, w := range words {
		if p, ok := d.prons[w]; ok {
			s.prons[w] = p
		}
	}
	return s
}
