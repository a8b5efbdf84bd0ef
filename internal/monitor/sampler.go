package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultInterval        = 5 * time.Second
	DefaultWarmup          = 3
	DefaultBaselineSamples = 6
	DefaultSustain         = 3
	DefaultMargin          = 0.5
	DefaultGoroutineFloor  = 20
	DefaultFDFloor         = 10
	DefaultHeapFloor       = 16 << 20
	DefaultCooldown        = 15 * time.Minute
	DefaultWebhookTimeout  = 10 * time.Second
	DefaultHistory         = 720
)

// Config configures a Sampler. Zero fields take their defaults.
type Config struct {
	// Interval is the time between samples. Default 5 s.
	Interval time.Duration
	// Warmup is the number of samples at start that set no baseline and raise
	// no alert, while the process finishes starting. Default 3.
	Warmup int
	// BaselineSamples is the number of samples that set each baseline. The
	// baseline is their maximum, so one quiet sample does not make a normal
	// load look like growth. Default 6.
	BaselineSamples int
	// Sustain is the number of consecutive samples over a limit before an
	// alert fires, so that goroutines still exiting after a burst of
	// hang-ups do not alert. Default 3.
	Sustain int

	// GoroutineMargin, FDMargin and HeapMargin are the growth over a baseline
	// that is tolerated, as a fraction: 0.5 allows 50 %. Default 0.5 each.
	GoroutineMargin float64
	FDMargin        float64
	HeapMargin      float64
	// GoroutineFloor, FDFloor and HeapFloor are the absolute growth, summed
	// over the whole process, below which no alert fires however large the
	// ratio, so noise on a quiet gateway does not alert. Defaults 20
	// goroutines, 10 file descriptors and 16 MiB (HeapFloor is in bytes).
	GoroutineFloor float64
	FDFloor        float64
	HeapFloor      float64

	// Sessions returns the number of live conversations; the app passes the
	// session registry's count. Default: always 0, which watches only the
	// idle figures.
	Sessions func() int
	// Probe reads the runtime figures; zero fields read the running process.
	Probe Probe

	// Cooldown limits alerts to one per kind per Cooldown, unless the figure
	// grew again by the margin over the value of the last alert. It applies
	// to the log, the counter and the webhook alike. Default 15 min.
	Cooldown time.Duration
	// WebhookURL receives a JSON POST for every alert; empty sends none. It
	// may contain a secret, so it is never logged.
	WebhookURL string
	// WebhookTimeout bounds one webhook request. Default 10 s.
	WebhookTimeout time.Duration
	// HTTPClient sends webhook requests. Default a client with the default
	// transport.
	HTTPClient *http.Client

	// History is the number of recent samples kept for Samples. Default 720,
	// one hour at the default interval.
	History int
	// Metrics counts alerts and webhook results; nil counts nothing.
	Metrics *Metrics
	// Logger receives alerts, recoveries and webhook failures. Default
	// slog.Default().
	Logger *slog.Logger
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// NewTicker returns the ticker that paces Run. Default wraps time.NewTicker.
	NewTicker func(time.Duration) Ticker
}

// Ticker delivers ticks on C until stopped, like time.Ticker.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

type timeTicker struct{ t *time.Ticker }

func (t timeTicker) C() <-chan time.Time { return t.t.C }
func (t timeTicker) Stop()               { t.t.Stop() }

func newTimeTicker(d time.Duration) Ticker { return timeTicker{time.NewTicker(d)} }

func (c Config) withDefaults() Config {
	setDefault(&c.Interval, DefaultInterval)
	setDefault(&c.Warmup, DefaultWarmup)
	setDefault(&c.BaselineSamples, DefaultBaselineSamples)
	setDefault(&c.Sustain, DefaultSustain)
	setDefault(&c.GoroutineMargin, DefaultMargin)
	setDefault(&c.FDMargin, DefaultMargin)
	setDefault(&c.HeapMargin, DefaultMargin)
	setDefault(&c.GoroutineFloor, DefaultGoroutineFloor)
	setDefault(&c.FDFloor, DefaultFDFloor)
	setDefault(&c.HeapFloor, DefaultHeapFloor)
	setDefault(&c.Cooldown, DefaultCooldown)
	setDefault(&c.WebhookTimeout, DefaultWebhookTimeout)
	setDefault(&c.History, DefaultHistory)
	if c.Sessions == nil {
		c.Sessions = func() int { return 0 }
	}
	c.Probe = c.Probe.withDefaults()
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewTicker == nil {
		c.NewTicker = newTimeTicker
	}
	return c
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

func (c Config) validate() error {
	switch {
	case c.Interval < 0:
		return fmt.Errorf("monitor config: interval must be positive (got %s)", c.Interval)
	case c.Warmup < 0, c.BaselineSamples < 0, c.Sustain < 0, c.History < 0:
		return errors.New("monitor config: warmup, baseline samples, sustain and history must not be negative")
	case c.GoroutineMargin < 0, c.FDMargin < 0, c.HeapMargin < 0:
		return errors.New("monitor config: margins must not be negative")
	case c.GoroutineFloor < 0, c.FDFloor < 0, c.HeapFloor < 0:
		return errors.New("monitor config: floors must not be negative")
	case c.Cooldown < 0, c.WebhookTimeout < 0:
		return errors.New("monitor config: cooldown and webhook timeout must not be negative")
	}
	if c.WebhookURL == "" {
		return nil
	}
	u, err := url.Parse(c.WebhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may hold a secret, so the message does not repeat it.
		return errors.New("monitor config: webhook URL must be an absolute http or https URL")
	}
	return nil
}

// Sample is one reading of the process.
type Sample struct {
	At         time.Time `json:"at"`
	Goroutines int       `json:"goroutines"`
	// HeapInuseBytes and HeapLiveBytes are HeapStats.InuseBytes and LiveBytes.
	HeapInuseBytes uint64 `json:"heap_inuse_bytes"`
	HeapLiveBytes  uint64 `json:"heap_live_bytes"`
	GCCycles       uint64 `json:"gc_cycles"`
	// OpenFDs is -1 when the platform cannot count file descriptors.
	OpenFDs  int `json:"open_fds"`
	Sessions int `json:"sessions"`
}

// Sampler records goroutines, heap, open file descriptors and live
// conversations at a fixed interval, and raises an alert when a figure grows
// past its baseline by more than the configured margin and floor. See
// AlertKind for what is compared. It is safe for concurrent use.
type Sampler struct {
	cfg     Config
	log     *slog.Logger
	webhook *webhook // nil without a webhook URL

	mu       sync.Mutex
	taken    int // samples since the sampler was made
	history  ring
	detector detector
	running  bool
}

// NewSampler returns a sampler for cfg. It starts nothing; the owner runs
// Run. It returns an error for an invalid configuration.
func NewSampler(cfg Config) (*Sampler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Sampler{
		cfg:      cfg,
		log:      cfg.Logger,
		history:  newRing(cfg.History),
		detector: newDetector(cfg),
	}
	if cfg.WebhookURL != "" {
		s.webhook = newWebhook(cfg)
	}
	return s, nil
}

// Run samples once at once and then every interval until ctx ends, and
// delivers webhook alerts meanwhile. It returns nil when ctx ends, after the
// ticker is stopped and the webhook sender has exited; alerts still queued
// then are not sent. It returns an error if Run is already running.
func (s *Sampler) Run(ctx context.Context) error {
	if err := s.start(); err != nil {
		return err
	}
	defer s.stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	if s.webhook != nil {
		wg.Go(func() { s.webhook.run(ctx) })
	}

	ticker := s.cfg.NewTicker(s.cfg.Interval)
	defer ticker.Stop()
	s.Sample()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
			s.Sample()
		}
	}
}

func (s *Sampler) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return errors.New("monitor: sampler is already running")
	}
	s.running = true
	return nil
}

func (s *Sampler) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = false
}

// Sample takes one sample now, records it, checks it for alerts and reports
// them, and returns it. Run calls it every interval. An extra call counts
// toward baselines and Sustain like a scheduled one, so handlers such as
// /readyz should read Status instead. A webhook alert is queued for Run to
// send, so Sample does not wait for the network.
func (s *Sampler) Sample() Sample {
	s.mu.Lock()
	sample := s.read()
	s.taken++
	s.history.add(sample)
	events := s.detector.observe(sample)
	s.mu.Unlock()

	for _, ev := range events {
		s.report(ev)
	}
	return sample
}

func (s *Sampler) read() Sample {
	heap := s.cfg.Probe.Heap()
	return Sample{
		At:             s.cfg.Now(),
		Goroutines:     s.cfg.Probe.Goroutines(),
		HeapInuseBytes: heap.InuseBytes,
		HeapLiveBytes:  heap.LiveBytes,
		GCCycles:       heap.GCCycles,
		OpenFDs:        s.cfg.Probe.OpenFDs(),
		Sessions:       s.cfg.Sessions(),
	}
}

func (s *Sampler) report(ev event) {
	a := ev.alert
	if ev.recovered {
		s.log.Info("leak alert recovered", "kind", a.Kind, "current", a.Current, "baseline", a.Baseline,
			"limit", a.Limit, "sessions", a.Sessions, "duration", ev.sample.At.Sub(a.Since))
		return
	}
	s.log.Warn("leak alert", "kind", a.Kind, "current", a.Current, "baseline", a.Baseline, "limit", a.Limit,
		"margin", a.Margin, "sessions", a.Sessions, "goroutines", ev.sample.Goroutines,
		"open_fds", ev.sample.OpenFDs, "heap_live_bytes", ev.sample.HeapLiveBytes)
	s.cfg.Metrics.leakAlert(a.Kind)
	if s.webhook != nil {
		s.webhook.enqueue(newPayload(a, ev.sample))
	}
}

// Samples returns the recent samples, oldest first, at most Config.History.
func (s *Sampler) Samples() []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.history.slice()
}

// ring keeps the last len(buf) samples.
type ring struct {
	buf  []Sample
	next int
	full bool
}

func newRing(size int) ring { return ring{buf: make([]Sample, size)} }

func (r *ring) add(s Sample) {
	if len(r.buf) == 0 {
		return
	}
	r.buf[r.next] = s
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

func (r *ring) last() (Sample, bool) {
	switch {
	case r.next > 0:
		return r.buf[r.next-1], true
	case r.full:
		return r.buf[len(r.buf)-1], true
	default:
		return Sample{}, false
	}
}

func (r *ring) slice() []Sample {
	if !r.full {
		return append([]Sample(nil), r.buf[:r.next]...)
	}
	out := make([]Sample, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}
