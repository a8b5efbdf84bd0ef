package soak

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// maxSamples bounds the durations a sampleSet keeps. Beyond it, reservoir
// sampling keeps a uniform sample, so percentiles stay estimates of the
// whole run while memory stays fixed.
const maxSamples = 10000

// sampleSet collects durations for percentiles. It is not safe for
// concurrent use; tally guards it.
type sampleSet struct {
	count   int
	max     time.Duration
	samples []time.Duration
	rng     *rand.Rand
}

func newSampleSet(seed uint64) *sampleSet {
	return &sampleSet{rng: rand.New(rand.NewPCG(seed, seed))}
}

func (s *sampleSet) add(d time.Duration) {
	s.count++
	s.max = max(s.max, d)
	if len(s.samples) < maxSamples {
		s.samples = append(s.samples, d)
		return
	}
	if i := s.rng.IntN(s.count); i < maxSamples {
		s.samples[i] = d
	}
}

// Distribution summarizes durations measured on the caller's side. Its
// percentiles are nearest-rank; beyond 10000 measurements they are
// estimated from a uniform sample, while Count and Max stay exact.
type Distribution struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

func (s *sampleSet) distribution() Distribution {
	if s.count == 0 {
		return Distribution{}
	}
	sorted := slices.Clone(s.samples)
	slices.Sort(sorted)
	return Distribution{
		Count: s.count,
		P50:   percentile(sorted, 50),
		P90:   percentile(sorted, 90),
		P99:   percentile(sorted, 99),
		Max:   s.max,
	}
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	return sorted[max(rank, 1)-1]
}

// maxFailureReasons bounds the distinct failure reasons a tally keeps;
// later new reasons are counted under otherFailures.
const maxFailureReasons = 20

// callResult is the outcome of one call.
type callResult struct {
	ending    Ending
	transport Transport
	// err is the reason the call failed, and nil when it went as its ending
	// intends.
	err error
	// interrupted is set when the run's context ended the call.
	interrupted bool
	setup       time.Duration // zero when not measured
	latency     time.Duration
	hasLatency  bool
}

// tally aggregates call results. Its methods are safe for concurrent use.
type tally struct {
	mu            sync.Mutex
	started       map[Ending]int
	completed     map[Ending]int
	failed        map[Ending]int
	interrupted   map[Ending]int
	reasons       map[string]int
	otherFailures int
	setup         *sampleSet
	latency       *sampleSet
	inProgress    int
	peak          int // maximum number of calls in progress at once
}

func newTally() *tally {
	return &tally{
		started:     map[Ending]int{},
		completed:   map[Ending]int{},
		failed:      map[Ending]int{},
		interrupted: map[Ending]int{},
		reasons:     map[string]int{},
		setup:       newSampleSet(1),
		latency:     newSampleSet(2),
	}
}

func (t *tally) start(e Ending) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.started[e]++
	t.inProgress++
	t.peak = max(t.peak, t.inProgress)
}

func (t *tally) record(r callResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inProgress--
	if r.setup > 0 {
		t.setup.add(r.setup)
	}
	if r.hasLatency {
		t.latency.add(r.latency)
	}
	switch {
	case r.interrupted:
		t.interrupted[r.ending]++
	case r.err != nil:
		t.failed[r.ending]++
		reason := string(r.transport) + " " + string(r.ending) + ": " + r.err.Error()
		if _, ok := t.reasons[reason]; ok || len(t.reasons) < maxFailureReasons {
			t.reasons[reason]++
		} else {
			t.otherFailures++
		}
	default:
		t.completed[r.ending]++
	}
}

// totals returns the counts of all endings together.
func (t *tally) totals() EndingCounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := EndingCounts{Ending: "total"}
	for _, e := range Endings {
		c.Started += t.started[e]
		c.Completed += t.completed[e]
		c.Failed += t.failed[e]
		c.Interrupted += t.interrupted[e]
	}
	return c
}

// progress returns the calls started, completed and failed so far.
func (t *tally) progress() (started, completed, failed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range Endings {
		started += t.started[e]
		completed += t.completed[e]
		failed += t.failed[e]
	}
	return started, completed, failed
}
