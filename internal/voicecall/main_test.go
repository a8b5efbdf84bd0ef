package voicecall

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/voiceorder/voiceorder/internal/audio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testdataDir returns the shared test data directory: $VOICEORDER_TESTDATA, or
// ../shared/testdata beside the repository root (the directory holding go.mod).
func testdataDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("VOICEORDER_TESTDATA"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "testdata")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// recording returns the path of a coffee-order recording, skipping the test when
// the test data is absent.
func recording(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(testdataDir(t), "audio", "coffee-orders", name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("test recording %s not found (set VOICEORDER_TESTDATA to the shared test data): %v", path, err)
	}
	return path
}

// tone returns d of a sine at freq Hz and rate Hz, at a quarter of full scale.
func tone(rate int, d time.Duration, freq float64) []int16 {
	n := int(int64(rate) * int64(d) / int64(time.Second))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8192 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

// writeToneWAV writes a mono PCM16 WAV of a tone to a file in the test's temp dir.
func writeToneWAV(t testing.TB, name string, rate int, d time.Duration, freq float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := audio.WriteWAV(f, rate, tone(rate, d, freq)); err != nil {
		t.Fatal(err)
	}
	return path
}
