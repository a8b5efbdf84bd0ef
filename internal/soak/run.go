package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// settlePoll is the pause between two scrapes while Run waits for the
// gateway's figures to come back after the calls.
const settlePoll = 200 * time.Millisecond

// errCallTimeout is the cause of a call that ran past Config.CallTimeout.
var errCallTimeout = errors.New("call exceeded its time limit")

// runner is the state of one Run.
type runner struct {
	cfg    Config
	server *url.URL
	admin  *url.URL // nil without an admin URL
	client *http.Client
	clips  map[Transport]*clip
	tally  *tally
	warmup *tally // the warm-up calls, kept apart from tally
	start  time.Time
}

// Run places the calls of cfg against the gateway and returns the report.
// It scrapes the gateway's metrics before the calls, after a garbage
// collection through the admin URL, and again after them, once the gateway's
// sessions have ended and its figures are back within the margins or
// cfg.SettleTimeout has passed.
//
// Run returns an error, and no report, when cfg is invalid, the call audio
// cannot be read or the first scrape fails. When ctx ends during the calls,
// it returns the report so far, marked interrupted, with ctx's error. A
// failed final scrape returns the report with the error. Failed calls and
// figures beyond their margins are not errors: Report.OK reports them.
//
// Every goroutine Run starts has ended when it returns, and every socket it
// opened is closed.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil {
		defer r.client.CloseIdleConnections()
	}

	if err := r.warmUp(ctx); err != nil {
		return nil, err
	}
	before, err := r.baseline(ctx)
	if err != nil {
		return nil, fmt.Errorf("before the calls: %w", err)
	}
	r.start = time.Now()
	r.placeCalls(ctx, r.cfg.Calls, r.cfg.Duration, r.tally, r.cfg.Progress)
	report := r.report(before)
	if err := ctx.Err(); err != nil {
		report.Interrupted = true
		return report, err
	}

	after, checks, err := r.settle(ctx, before)
	report.After, report.Checks = after, checks
	if err != nil {
		report.AfterError = err.Error()
		return report, fmt.Errorf("after the calls: %w", err)
	}
	report.fillEnded(before, after)
	return report, nil
}

// warmUp places the warm-up calls, which the report counts apart, and waits
// for the gateway's sessions to end, so the baseline holds the bounded caches
// that calls fill.
func (r *runner) warmUp(ctx context.Context) error {
	if r.cfg.Warmup == 0 {
		return nil
	}
	r.start = time.Now()
	r.placeCalls(ctx, r.cfg.Warmup, 0, r.warmup, nil)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.SettleTimeout)
	defer cancel()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var scrapeErr error
	for {
		select {
		case <-ctx.Done():
			if scrapeErr != nil {
				return fmt.Errorf("warm-up: %w", scrapeErr)
			}
			return fmt.Errorf("warm-up: the gateway's sessions did not end within %v", r.cfg.SettleTimeout)
		case <-timer.C:
		}
		snap, err := r.scrape(ctx)
		if err == nil && snap.ActiveSessions.Value <= 0 {
			return nil
		}
		if ctx.Err() == nil {
			scrapeErr = err
		}
		timer.Reset(settlePoll)
	}
}

func newRunner(cfg Config) (*runner, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, client: cfg.HTTPClient, tally: newTally(), warmup: newTally()}
	if r.server, err = url.Parse(cfg.Server); err != nil {
		return nil, fmt.Errorf("invalid server URL: %w", err)
	}
	if cfg.AdminURL != "" {
		if r.admin, err = url.Parse(cfg.AdminURL); err != nil {
			return nil, fmt.Errorf("invalid admin URL: %w", err)
		}
	}
	if r.clips, err = loadClips(cfg.CallAudio); err != nil {
		return nil, err
	}
	if r.client == nil {
		r.client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: cfg.Concurrency,
			IdleConnTimeout:     30 * time.Second,
		}}
	}
	return r, nil
}

// baseline collects garbage and scrapes. The idle connections of the client
// are closed first, so that the gateway serves no more of them than the
// scrape's own, both before and after the calls.
func (r *runner) baseline(ctx context.Context) (Snapshot, error) {
	r.client.CloseIdleConnections()
	if err := r.collectGarbage(ctx); err != nil {
		return Snapshot{}, err
	}
	return r.scrape(ctx)
}

// placeCalls starts calls with bounded concurrency until calls have started
// or duration has passed since r.start (zero means no limit), or ctx ends,
// and waits for all of them. It records their outcomes in t and prints a
// progress line to progress, when set, every ProgressInterval.
func (r *runner) placeCalls(ctx context.Context, calls int, duration time.Duration, t *tally, progress io.Writer) {
	progressCtx, stopProgress := context.WithCancel(ctx)
	var printer sync.WaitGroup
	if progress != nil {
		printer.Go(func() { r.printProgress(progressCtx, progress) })
	}
	defer printer.Wait()
	defer stopProgress()

	var g errgroup.Group
	g.SetLimit(r.cfg.Concurrency)
	sched := newSchedule(r.cfg.Mix)
	for n := 0; calls == 0 || n < calls; n++ {
		if ctx.Err() != nil || (duration > 0 && time.Since(r.start) >= duration) {
			break
		}
		ending := sched.next()
		transport := r.cfg.Transports[n%len(r.cfg.Transports)]
		// Go waits for a free slot; calls end within CallTimeout, so it does
		// not wait forever.
		g.Go(func() error {
			t.start(ending)
			t.record(r.call(ctx, ending, transport))
			return nil // a failed call is counted, and the others go on
		})
	}
	_ = g.Wait() // the calls return nil
}

// call places one call and returns its outcome.
func (r *runner) call(parent context.Context, ending Ending, transport Transport) callResult {
	res := callResult{ending: ending, transport: transport}
	ctx, cancel := context.WithTimeoutCause(parent, r.cfg.CallTimeout, errCallTimeout)
	defer cancel()

	dialStart := time.Now()
	leg, err := r.dial(ctx, transport)
	if err != nil {
		res.err, res.interrupted = err, parent.Err() != nil
		return res
	}
	st := newCallState()
	var reader sync.WaitGroup
	if ending != EndDial {
		reader.Go(func() { leg.read(ctx, st) })
	}
	s := &script{
		leg:      leg,
		st:       st,
		clip:     r.clips[transport],
		interval: time.Duration(float64(frameDuration) / r.cfg.Speed),
		timeout:  r.cfg.TurnTimeout,
	}
	err = s.run(ctx, ending, dialStart, &res)
	// Closing the socket ends the reader, whatever the script left it doing.
	leg.closeNow()
	reader.Wait()
	res.err, res.interrupted = err, err != nil && parent.Err() != nil
	return res
}

func (r *runner) dial(ctx context.Context, t Transport) (leg, error) {
	if t == TransportTwilio {
		return dialTwilio(ctx, r.client, r.server)
	}
	return dialBrowser(ctx, r.client, r.server, r.cfg.Restaurant)
}

// printProgress prints a line to w every ProgressInterval until ctx ends.
func (r *runner) printProgress(ctx context.Context, w io.Writer) {
	ticker := time.NewTicker(r.cfg.ProgressInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		started, completed, failed := r.tally.progress()
		line := fmt.Sprintf("[%6s] calls: %d started, %d completed, %d failed",
			time.Since(r.start).Round(time.Second), started, completed, failed)
		snap, err := r.scrape(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			line += " | metrics unavailable: " + err.Error()
		default:
			line += fmt.Sprintf(" | sessions %s | goroutines %s | heap in use %s | open fds %s",
				formatGauge(snap.ActiveSessions, false), formatGauge(snap.Goroutines, false),
				formatGauge(snap.HeapInuseBytes, true), formatGauge(snap.OpenFDs, false))
		}
		// A failed progress write must not stop the soak.
		_, _ = fmt.Fprintln(w, line)
	}
}

// settle waits for the gateway's sessions to end and its figures to come back
// within the margins, scraping after a garbage collection every settlePoll,
// and returns the last scrape and its checks. It stops at SettleTimeout and
// returns what it saw then.
func (r *runner) settle(ctx context.Context, before Snapshot) (Snapshot, []Check, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, r.cfg.SettleTimeout, errors.New("settle timeout passed"))
	defer cancel()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var (
		last    Snapshot
		checks  []Check
		lastErr error
		scraped bool
	)
	for {
		select {
		case <-ctx.Done():
			switch {
			case scraped:
				return last, checks, nil
			case lastErr != nil:
				return Snapshot{}, nil, fmt.Errorf("no scrape succeeded within %v: %w", r.cfg.SettleTimeout, lastErr)
			default:
				return Snapshot{}, nil, fmt.Errorf("no scrape succeeded: %w", context.Cause(ctx))
			}
		case <-timer.C:
		}
		snap, err := r.baseline(ctx)
		if err != nil {
			if ctx.Err() == nil {
				lastErr = err
			}
			timer.Reset(settlePoll)
			continue
		}
		last, checks, scraped = snap, evaluate(before, snap, r.cfg.Margins), true
		if allPass(checks) {
			return last, checks, nil
		}
		timer.Reset(settlePoll)
	}
}
