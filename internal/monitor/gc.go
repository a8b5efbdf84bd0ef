package monitor

import (
	"net/http"
	"runtime"
	"runtime/debug"
)

// GCResult is the response of GCHandler: the process after a forced
// garbage collection.
type GCResult struct {
	HeapInuseBytes uint64 `json:"heap_inuse_bytes"`
	HeapLiveBytes  uint64 `json:"heap_live_bytes"`
	GCCycles       uint64 `json:"gc_cycles"`
	Goroutines     int    `json:"goroutines"`
	// OpenFDs is -1 when the platform cannot count file descriptors.
	OpenFDs int `json:"open_fds"`
}

// GCHandler returns a handler that, on POST, runs a garbage collection,
// returns freed memory to the operating system, and responds with a
// GCResult read afterwards. The soak command calls it before reading the
// metrics after a run, so the figures hold only live objects. It blocks the
// caller for the length of two collections and costs CPU, so mount it on the
// admin listener only.
func GCHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed; use POST", http.StatusMethodNotAllowed)
			return
		}
		runtime.GC()
		// FreeOSMemory collects once more and returns the freed pages.
		debug.FreeOSMemory()
		heap := ReadHeap()
		writeJSON(w, GCResult{
			HeapInuseBytes: heap.InuseBytes,
			HeapLiveBytes:  heap.LiveBytes,
			GCCycles:       heap.GCCycles,
			Goroutines:     runtime.NumGoroutine(),
			OpenFDs:        CountOpenFDs(),
		})
	})
}
