package monitor

import (
	"runtime"
	"runtime/metrics"
)

// Probe reads the runtime figures a Sampler records. Nil fields read the
// running process; tests replace them with fakes.
type Probe struct {
	// Goroutines returns the number of goroutines. Default runtime.NumGoroutine.
	Goroutines func() int
	// Heap returns the heap figures. Default ReadHeap.
	Heap func() HeapStats
	// OpenFDs returns the number of open file descriptors, or -1 when the
	// platform cannot tell. Default CountOpenFDs.
	OpenFDs func() int
}

func (p Probe) withDefaults() Probe {
	if p.Goroutines == nil {
		p.Goroutines = runtime.NumGoroutine
	}
	if p.Heap == nil {
		p.Heap = ReadHeap
	}
	if p.OpenFDs == nil {
		p.OpenFDs = CountOpenFDs
	}
	return p
}

// HeapStats are heap figures from runtime/metrics.
type HeapStats struct {
	// InuseBytes is the memory of heap objects, live or dead but not yet
	// swept (/memory/classes/heap/objects:bytes). It swings with the garbage
	// collector's pacing.
	InuseBytes uint64
	// LiveBytes is the memory of heap objects that the last completed garbage
	// collection marked live (/gc/heap/live:bytes). It changes only when a
	// collection completes, and is the figure leak alerts use.
	LiveBytes uint64
	// GCCycles counts completed garbage collections (/gc/cycles/total:gc-cycles).
	GCCycles uint64
}

var heapMetricNames = [...]string{
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/live:bytes",
	"/gc/cycles/total:gc-cycles",
}

// ReadHeap reads HeapStats of the running process. Unlike
// runtime.ReadMemStats it does not stop the world. A figure the runtime does
// not support reads as zero.
func ReadHeap() HeapStats {
	samples := make([]metrics.Sample, len(heapMetricNames))
	for i, name := range heapMetricNames {
		samples[i].Name = name
	}
	metrics.Read(samples)
	return HeapStats{
		InuseBytes: uint64Value(samples[0]),
		LiveBytes:  uint64Value(samples[1]),
		GCCycles:   uint64Value(samples[2]),
	}
}

func uint64Value(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
