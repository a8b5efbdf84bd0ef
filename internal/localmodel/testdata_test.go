package localmodel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/menus"
)

// testdataDir returns the shared recordings, from VOICEORDER_TESTDATA or the
// shared/testdata folder beside the repository, or skips the test.
func testdataDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("VOICEORDER_TESTDATA"); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared", "testdata")
			if _, err := os.Stat(shared); err != nil {
				t.Skipf("test data not found at %s; set VOICEORDER_TESTDATA", shared)
			}
			return shared
		}
		if filepath.Dir(dir) == dir {
			t.Skip("repository root not found; set VOICEORDER_TESTDATA")
		}
	}
}

// readClip returns a WAV file's samples at 16 kHz mono.
func readClip(t testing.TB, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open clip: %v", err)
	}
	defer f.Close()
	w, err := audio.ReadWAV(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	samples := w.Mono()
	if w.SampleRate != SampleRate {
		r, err := audio.NewResampler(w.SampleRate, SampleRate)
		if err != nil {
			t.Fatalf("resampler: %v", err)
		}
		samples = r.Flush(r.Process(nil, samples))
	}
	return samples
}

// clip is one labelled recording of clips.json.
type clip struct {
	File    string            `json:"file"`
	Intent  string            `json:"intent"`
	Slots   map[string]string `json:"slots"`
	HeardAs *string           `json:"heard_as"`
}

func loadClips(t testing.TB) (string, []clip) {
	t.Helper()
	dir := filepath.Join(testdataDir(t), "audio", "coffee-orders")
	b, err := os.ReadFile(filepath.Join(dir, "clips.json"))
	if err != nil {
		t.Skipf("clips.json: %v", err)
	}
	var doc struct {
		Clips []clip `json:"clips"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse clips.json: %v", err)
	}
	return dir, doc.Clips
}

func testCatalog(t testing.TB) *menu.Catalog {
	t.Helper()
	cat, err := menu.Parse(menus.DefaultName, menus.Default)
	if err != nil {
		t.Fatalf("parse default menu: %v", err)
	}
	return cat
}

var (
	dictOnce sync.Once
	dictFull *Dictionary
	dictErr  error
)

// fullDictionary loads the CMU dictionary once per test binary, or skips.
func fullDictionary(t testing.TB) *Dictionary {
	t.Helper()
	dictOnce.Do(func() { dictFull, dictErr = LoadDictionary(DefaultDictPath) })
	if dictErr != nil {
		t.Skipf("pocketsphinx dictionary: %v", dictErr)
	}
	return dictFull
}

// newTestRecognizer returns a recognizer for the shipped menu, closed when the
// test ends.
func newTestRecognizer(t testing.TB) (*Recognizer, Grammar) {
	t.Helper()
	dict := fullDictionary(t)
	g := BuildGrammar(testCatalog(t), dict)
	r, err := NewRecognizer(RecognizerConfig{Dictionary: dict.Subset(g.Words), Grammar: g.JSGF})
	if err != nil {
		t.Fatalf("new recognizer: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, g
}
