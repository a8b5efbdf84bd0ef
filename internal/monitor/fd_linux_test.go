package monitor

import (
	"os"
	"testing"
)

func TestCountOpenFDs(t *testing.T) {
	// Open and close one file first, so that any descriptor the runtime
	// opens on first use (such as the poller's) is already counted.
	warm, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatalf("open %s: %v", os.DevNull, err)
	}
	warm.Close()

	before := CountOpenFDs()
	if before < 3 {
		t.Fatalf("CountOpenFDs = %d, want at least stdin, stdout and stderr", before)
	}
	var files []*os.File
	for range 5 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatalf("open %s: %v", os.DevNull, err)
		}
		files = append(files, f)
	}
	if got := CountOpenFDs(); got != before+5 {
		t.Errorf("with 5 more files open: CountOpenFDs = %d, want %d", got, before+5)
	}
	for _, f := range files {
		f.Close()
	}
	if got := CountOpenFDs(); got != before {
		t.Errorf("after closing them: CountOpenFDs = %d, want %d", got, before)
	}
}

func BenchmarkCountOpenFDs(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		CountOpenFDs()
	}
}
