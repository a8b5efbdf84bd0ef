package monitor

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sampler tests run in a synctest bubble: time is simulated, so sleeping one
// interval makes Run take exactly one sample, and synctest.Wait returns once
// it has.

const testInterval = 5 * time.Second

// fakeProcess supplies the readings of a Sampler. Every heap reading counts
// one completed garbage collection unless gcFrozen is set.
type fakeProcess struct {
	mu         sync.Mutex
	goroutines int
	fds        int
	heapLive   uint64
	sessions   int
	gcCycles   uint64
	gcFrozen   bool
}

// set changes the readings under the lock.
func (p *fakeProcess) set(goroutines, fds, sessions int, heapLive uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.goroutines, p.fds, p.sessions, p.heapLive = goroutines, fds, sessions, heapLive
}

func (p *fakeProcess) freezeGC(frozen bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gcFrozen = frozen
}

func (p *fakeProcess) probe() Probe {
	return Probe{
		Goroutines: func() int {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.goroutines
		},
		OpenFDs: func() int {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.fds
		},
		Heap: func() HeapStats {
			p.mu.Lock()
			defer p.mu.Unlock()
			if !p.gcFrozen {
				p.gcCycles++
			}
			return HeapStats{InuseBytes: p.heapLive * 2, LiveBytes: p.heapLive, GCCycles: p.gcCycles}
		},
	}
}

func (p *fakeProcess) activeSessions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions
}

// harness runs a Sampler over a fakeProcess inside a synctest bubble.
type harness struct {
	t       *testing.T
	sampler *Sampler
	proc    *fakeProcess
	logs    *logRecorder
	reg     *prometheus.Registry
	cancel  context.CancelFunc
	done    chan error
}

// Idle figures of the fake gateway, and what one conversation adds.
const (
	idleGoroutines       = 40
	idleFDs              = 12
	idleHeap             = 24 << 20
	goroutinesPerSession = 8
	fdsPerSession        = 2
)

// healthy sets readings of a gateway without leaks serving sessions.
func (h *harness) healthy(sessions int) {
	h.proc.set(idleGoroutines+goroutinesPerSession*sessions, idleFDs+fdsPerSession*sessions, sessions, idleHeap)
}

// startHarness starts Run with cfg, completed with fast test defaults:
// warm-up 1, baselines of 2 samples and alerts after 1 sample over the limit.
// The process starts healthy and idle; Run takes its first sample before
// startHarness returns.
func startHarness(t *testing.T, cfg Config) *harness {
	h := &harness{t: t, proc: &fakeProcess{}, logs: newLogRecorder(), reg: NewRegistry(), done: make(chan error, 1)}
	h.healthy(0)
	setDefault(&cfg.Warmup, 1)
	setDefault(&cfg.BaselineSamples, 2)
	setDefault(&cfg.Sustain, 1)
	cfg.Interval = testInterval
	cfg.Probe = h.proc.probe()
	cfg.Sessions = h.proc.activeSessions
	cfg.Logger = h.logs.logger()
	cfg.Metrics = NewMetrics(h.reg)
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatalf("NewSampler: %v", err)
	}
	h.sampler = s

	ctx, cancel := context.WithCancel(t.Context())
	h.cancel = cancel
	go func() { h.done <- s.Run(ctx) }()
	synctest.Wait()
	t.Cleanup(h.stop)
	return h
}

// tick lets Run take n more samples.
func (h *harness) tick(n int) {
	for range n {
		time.Sleep(testInterval)
		synctest.Wait()
	}
}

// warmUp takes enough healthy samples that the baselines are ready: idle
// ones, and per-session ones too when sessions > 0. The heap baseline needs
// the most idle samples, because it waits for two collections.
func (h *harness) warmUp(sessions int) {
	h.t.Helper()
	h.tick(3)
	if sessions > 0 {
		h.healthy(sessions)
		h.tick(2)
	}
	for _, b := range h.sampler.Status().Baselines {
		perSession := b.Kind == GoroutinesPerSession || b.Kind == FDsPerSession
		if !b.Ready && (sessions > 0 || !perSession) {
			h.t.Fatalf("baseline %s not ready after warm-up: %+v", b.Kind, b)
		}
	}
}

func (h *harness) stop() {
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("Run returned %v, want nil", err)
	}
}

func (h *harness) alertCount(kind AlertKind) float64 {
	h.t.Helper()
	v, _ := metricValue(h.t, h.reg, "voiceorder_leak_alerts_total", map[string]string{"kind": string(kind)})
	return v
}

func (h *harness) activeAlert(kind AlertKind) (Alert, bool) {
	for _, a := range h.sampler.Status().Alerts {
		if a.Kind == kind {
			return a, true
		}
	}
	return Alert{}, false
}

func TestSamplerFlatReadingsNoAlert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, Config{})
		h.warmUp(4)
		for _, sessions := range []int{1, 10, 30, 0, 0, 0, 5, 50, 0, 0} {
			h.healthy(sessions)
			h.tick(3)
		}
		if alerts := h.sampler.Status().Alerts; len(alerts) != 0 {
			t.Errorf("active alerts = %+v, want none", alerts)
		}
		if logs := h.logs.find("leak alert"); len(logs) != 0 {
			t.Errorf("logged %d leak alerts, want none", len(logs))
		}
		for _, kind := range alertKinds {
			if got := h.alertCount(kind); got != 0 {
				t.Errorf("leak_alerts_total{kind=%s} = %v, want 0", kind, got)
			}
		}
	})
}

func TestSamplerGoroutinesPerSessionGrowth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, Config{})
		h.warmUp(4)

		// 12 goroutines per session where 8 is the baseline: growth of 50 %,
		// which is the margin itself, so not over it.
		h.proc.set(idleGoroutines+12*10, idleFDs+fdsPerSession*10, 10, idleHeap)
		h.tick(1)
		if _, ok := h.activeAlert(GoroutinesPerSession); ok {
			t.Fatalf("alert at exactly the margin, want none")
		}

		h.proc.set(idleGoroutines+13*10, idleFDs+fdsPerSession*10, 10, idleHeap)
		h.tick(1)
		a, ok := h.activeAlert(GoroutinesPerSession)
		if !ok {
			t.Fatalf("no goroutines_per_session alert at 13 per session against a baseline of 8")
		}
		if a.Current != 13 || a.Baseline != 8 || a.Limit != 12 || a.Sessions != 10 || a.Margin != 0.5 {
			t.Errorf("alert = %+v, want current 13, baseline 8, limit 12, sessions 10, margin 0.5", a)
		}
		if got := h.alertCount(GoroutinesPerSession); got != 1 {
			t.Errorf("leak_alerts_total{kind=goroutines_per_session} = %v, want 1", got)
		}
		logs := h.logs.find("leak alert")
		if len(logs) != 1 {
			t.Fatalf("logged %d leak alerts, want 1", len(logs))
		}
		got := attrs(logs[0])
		if got["kind"].String() != string(GoroutinesPerSession) || got["current"].Float64() != 13 ||
			got["baseline"].Float64() != 8 || got["sessions"].Int64() != 10 {
			t.Errorf("log attributes = %v, want kind, current 13, baseline 8, sessions 10", got)
		}
		if _, ok := h.activeAlert(FDsPerSession); ok {
			t.Errorf("fds_per_session alert with flat descriptors")
		}
	})
}

func TestSamplerFloor(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		kind      AlertKind
		sessions  int
		leak      func(h *harness)
		wantAlert bool
	}{
		{
			name: "goroutines tripled at one session", kind: GoroutinesPerSession, sessions: 1,
			leak: func(h *harness) { h.proc.set(idleGoroutines+24, idleFDs+fdsPerSession, 1, idleHeap) },
		},
		{
			name: "goroutines tripled at three sessions", kind: GoroutinesPerSession, sessions: 3, wantAlert: true,
			leak: func(h *harness) { h.proc.set(idleGoroutines+24*3, idleFDs+fdsPerSession*3, 3, idleHeap) },
		},
		{
			name: "descriptors quadrupled at one session", kind: FDsPerSession, sessions: 1,
			leak: func(h *harness) { h.proc.set(idleGoroutines+goroutinesPerSession, idleFDs+8, 1, idleHeap) },
		},
		{
			name: "descriptors quadrupled at two sessions", kind: FDsPerSession, sessions: 2, wantAlert: true,
			leak: func(h *harness) { h.proc.set(idleGoroutines+goroutinesPerSession*2, idleFDs+16, 2, idleHeap) },
		},
		{
			// A margin of 10 % leaves the floor of 20 as the binding limit.
			name: "idle goroutines up 19", kind: GoroutinesIdle, cfg: Config{GoroutineMargin: 0.1},
			leak: func(h *harness) { h.proc.set(idleGoroutines+19, idleFDs, 0, idleHeap) },
		},
		{
			name: "idle goroutines up 21", kind: GoroutinesIdle, cfg: Config{GoroutineMargin: 0.1}, wantAlert: true,
			leak: func(h *harness) { h.proc.set(idleGoroutines+21, idleFDs, 0, idleHeap) },
		},
		{
			name: "idle descriptors doubled but up 10", kind: FDsIdle,
			leak: func(h *harness) { h.proc.set(idleGoroutines, 2*idleFDs-2, 0, idleHeap) },
		},
		{
			name: "idle descriptors up 11", kind: FDsIdle, wantAlert: true,
			leak: func(h *harness) { h.proc.set(idleGoroutines, idleFDs+11, 0, idleHeap) },
		},
		{
			name: "idle heap up 60 % but 14 MiB", kind: HeapIdle,
			leak: func(h *harness) { h.proc.set(idleGoroutines, idleFDs, 0, idleHeap+14<<20) },
		},
		{
			name: "idle heap up 17 MiB", kind: HeapIdle, wantAlert: true,
			leak: func(h *harness) { h.proc.set(idleGoroutines, idleFDs, 0, idleHeap+17<<20) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := startHarness(t, tt.cfg)
				h.warmUp(tt.sessions)
				tt.leak(h)
				h.tick(3)
				_, got := h.activeAlert(tt.kind)
				if got != tt.wantAlert {
					t.Errorf("alert %s active = %v, want %v; status %+v", tt.kind, got, tt.wantAlert, h.sampler.Status())
				}
			})
		})
	}
}

func TestSamplerHeapIdleAlert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, Config{})
		h.warmUp(2)

		// Sessions end while their objects are still live for the last
		// collection: no alert until two collections have completed.
		h.proc.freezeGC(true)
		h.proc.set(idleGoroutines, idleFDs, 0, 3*idleHeap)
		h.tick(5)
		if _, ok := h.activeAlert(HeapIdle); ok {
			t.Fatalf("heap_idle alert before any garbage collection completed at zero sessions")
		}

		h.proc.freezeGC(false)
		h.tick(2)
		a, ok := h.activeAlert(HeapIdle)
		if !ok {
			t.Fatalf("no heap_idle alert with the live heap at three times its baseline")
		}
		if a.Current != 3*idleHeap || a.Baseline != idleHeap {
			t.Errorf("alert = %+v, want current %d, baseline %d", a, 3*idleHeap, idleHeap)
		}
		if got := h.alertCount(HeapIdle); got != 1 {
			t.Errorf("leak_alerts_total{kind=heap_idle} = %v, want 1", got)
		}
	})
}

func TestSamplerCooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, Config{Cooldown: time.Minute})
		h.warmUp(0)

		h.proc.set(idleGoroutines+100, idleFDs, 0, idleHeap) // 140 against 40
		h.tick(1)
		if got := h.alertCount(GoroutinesIdle); got != 1 {
			t.Fatalf("after first growth: alerts = %v, want 1", got)
		}

		h.tick(3) // the same figure within the cooldown
		if got := h.alertCount(GoroutinesIdle); got != 1 {
			t.Errorf("same figure within cooldown: alerts = %v, want 1", got)
		}

		h.proc.set(200, idleFDs, 0, idleHeap) // up 43 %, less than the margin over 140
		h.tick(1)
		if got := h.alertCount(GoroutinesIdle); got != 1 {
			t.Errorf("growth under the margin within cooldown: alerts = %v, want 1", got)
		}

		h.proc.set(211, idleFDs, 0, idleHeap) // over 140 × 1.5
		h.tick(1)
		if got := h.alertCount(GoroutinesIdle); got != 2 {
			t.Errorf("further growth past the margin within cooldown: alerts = %v, want 2", got)
		}

		// The figure stays; the next alert comes once the cooldown has passed.
		h.tick(11)
		if got := h.alertCount(GoroutinesIdle); got != 2 {
			t.Errorf("55 s into a 1 min cooldown: alerts = %v, want 2", got)
		}
		h.tick(1)
		if got := h.alertCount(GoroutinesIdle); got != 3 {
			t.Errorf("cooldown passed with the figure still over the limit: alerts = %v, want 3", got)
		}
		if logs := h.logs.find("leak alert"); len(logs) != 3 {
			t.Errorf("logged %d leak alerts, want 3", len(logs))
		}
	})
}

func TestSamplerRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, Config{})
		h.warmUp(5)

		h.proc.set(idleGoroutines+20*5, idleFDs+fdsPerSession*5, 5, idleHeap)
		h.tick(1)
		a, ok := h.activeAlert(GoroutinesPerSession)
		if !ok {
			t.Fatalf("no alert at 20 goroutines per session against 8")
		}

		h.healthy(5)
		h.tick(1)
		if _, ok := h.activeAlert(GoroutinesPerSession); ok {
			t.Errorf("alert still active after the figure returned to its baseline")
		}
		logs := h.logs.find("leak alert recovered")
		if len(logs) != 1 {
			t.Fatalf("logged %d recoveries, want 1", len(logs))
		}
		got := attrs(logs[0])
		if got["kind"].String() != string(GoroutinesPerSession) || got["duration"].Duration() != testInterval {
			t.Errorf("recovery attributes = %v, want kind goroutines_per_session, duration %s", got, testInterval)
		}
		if !a.Since.Before(time.Now()) {
			t.Errorf("alert since %v, want before now %v", a.Since, time.Now())
		}
	})
}

func TestSamplerSustain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, Config{Sustain: 3})
		h.warmUp(0)

		// Goroutines of a burst of hang-ups still exiting: two samples high.
		h.proc.set(idleGoroutines+200, idleFDs, 0, idleHeap)
		h.tick(2)
		h.healthy(0)
		h.tick(1)
		if got := h.alertCount(GoroutinesIdle); got != 0 {
			t.Errorf("two samples over the limit with sustain 3: alerts = %v, want 0", got)
		}

		h.proc.set(idleGoroutines+200, idleFDs, 0, idleHeap)
		h.tick(3)
		if got := h.alertCount(GoroutinesIdle); got != 1 {
			t.Errorf("three samples over the limit with sustain 3: alerts = %v, want 1", got)
		}
		if logs := h.logs.find("leak alert recovered"); len(logs) != 0 {
			t.Errorf("logged %d recoveries of alerts that never fired, want 0", len(logs))
		}
	})
}

func TestSamplerWarmupAndBaselines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, Config{Warmup: 3, BaselineSamples: 3})
		// Start-up is busier than steady idle; warm-up ignores it.
		h.proc.set(500, 100, 0, 5*idleHeap)
		h.tick(2)
		if st := h.sampler.Status(); st.Warm || st.Samples != 3 {
			t.Errorf("after 3 samples: warm %v, samples %d; want not warm, 3", st.Warm, st.Samples)
		}

		h.proc.set(38, 11, 0, idleHeap)
		h.tick(1)
		h.healthy(0)
		h.tick(2)
		h.healthy(2)
		h.tick(3)

		want := map[AlertKind]Baseline{
			GoroutinesIdle:       {Kind: GoroutinesIdle, Value: idleGoroutines, Samples: 3, Ready: true},
			FDsIdle:              {Kind: FDsIdle, Value: idleFDs, Samples: 3, Ready: true},
			GoroutinesPerSession: {Kind: GoroutinesPerSession, Value: goroutinesPerSession, Samples: 3, Ready: true, Offset: idleGoroutines},
			FDsPerSession:        {Kind: FDsPerSession, Value: fdsPerSession, Samples: 3, Ready: true, Offset: idleFDs},
		}
		st := h.sampler.Status()
		if !st.Warm {
			t.Errorf("status not warm after %d samples", st.Samples)
		}
		for _, b := range st.Baselines {
			w, ok := want[b.Kind]
			if ok && b != w {
				t.Errorf("baseline %s = %+v, want %+v", b.Kind, b, w)
			}
		}
		if st.Last == nil || st.Last.Sessions != 2 || st.Last.Goroutines != idleGoroutines+2*goroutinesPerSession {
			t.Errorf("last sample = %+v, want 2 sessions and %d goroutines", st.Last, idleGoroutines+2*goroutinesPerSession)
		}
	})
}

func TestSamplerHistoryBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, Config{History: 4})
		h.tick(9)
		samples := h.sampler.Samples()
		if len(samples) != 4 {
			t.Fatalf("kept %d samples, want 4", len(samples))
		}
		for i := 1; i < len(samples); i++ {
			if got := samples[i].At.Sub(samples[i-1].At); got != testInterval {
				t.Errorf("samples %d and %d are %s apart, want %s oldest first", i-1, i, got, testInterval)
			}
		}
		if last := h.sampler.Status().Last; last == nil || !last.At.Equal(samples[3].At) {
			t.Errorf("Status().Last = %+v, want the newest sample %v", last, samples[3].At)
		}
	})
}

func TestSamplerRunStopsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := NewSampler(Config{Probe: (&fakeProcess{}).probe(), Logger: newLogRecorder().logger(),
			WebhookURL: "http://127.0.0.1:1/alerts"})
		if err != nil {
			t.Fatalf("NewSampler: %v", err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait()

		if err := s.Run(ctx); err == nil || !strings.Contains(err.Error(), "already running") {
			t.Errorf("second Run = %v, want an already running error", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
		// synctest.Test fails if the ticker goroutine or the webhook sender
		// outlived Run.
	})
}

func TestSamplerRunRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := NewSampler(Config{Probe: (&fakeProcess{}).probe(), Logger: newLogRecorder().logger()})
		if err != nil {
			t.Fatalf("NewSampler: %v", err)
		}
		for round := range 2 {
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			time.Sleep(DefaultInterval)
			synctest.Wait()
			cancel()
			if err := <-done; err != nil {
				t.Errorf("round %d: Run = %v, want nil", round, err)
			}
		}
		if got := s.Status().Samples; got != 4 {
			t.Errorf("samples after two runs of one interval = %d, want 4", got)
		}
	})
}

func TestNewSamplerRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"negative interval", Config{Interval: -time.Second}},
		{"negative warmup", Config{Warmup: -1}},
		{"negative margin", Config{HeapMargin: -0.1}},
		{"negative floor", Config{FDFloor: -1}},
		{"negative cooldown", Config{Cooldown: -time.Minute}},
		{"webhook without scheme", Config{WebhookURL: "hooks.example/secret-token"}},
		{"webhook with ftp scheme", Config{WebhookURL: "ftp://hooks.example/secret-token"}},
		{"webhook without host", Config{WebhookURL: "https:///secret-token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSampler(tt.cfg)
			if err == nil {
				t.Fatalf("NewSampler: got nil error, want one")
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error %q repeats the webhook URL", err)
			}
		})
	}
}

func BenchmarkSample(b *testing.B) {
	s, err := NewSampler(Config{Sessions: func() int { return 3 }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatalf("NewSampler: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Sample()
	}
}
