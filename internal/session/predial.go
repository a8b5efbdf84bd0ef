package session

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// Pre-dial defaults.
const (
	// DefaultMaxPredials bounds model connections dialed for calls whose media stream
	// has not arrived yet.
	DefaultMaxPredials = 64
	// DefaultPredialTimeout is how long a pre-dialed connection waits for its media
	// stream before it is closed.
	DefaultPredialTimeout = 15 * time.Second
)

// phoneFormat is the audio of a phone call: 8 kHz μ-law both ways.
var phoneFormat = audio.Format{Encoding: audio.Mulaw, Rate: 8000}

// errPredialsStopped is the cause given to pre-dials when ServePredials returns.
var errPredialsStopped = errors.New("pre-dials stopped")

// predialResult is the outcome of a dial made ahead of a call: a configured link
// that has asked for the greeting, or the dial's error. The zero value means no dial
// was made.
type predialResult struct {
	link *link
	err  error
}

// predialCache holds the model connections dialed for phone calls whose webhook
// arrived but whose media stream has not, keyed by CallSid. It is bounded: beyond its
// maximum no dial starts and the call dials when its stream arrives. Each entry is
// closed when its stream does not arrive within the timeout. The zero value is ready.
type predialCache struct {
	mu       sync.Mutex
	ctx      context.Context // set while serve runs
	wg       sync.WaitGroup
	entries  map[string]*predialEntry
	rejected int // dials not started because the cache was full
}

type predialEntry struct {
	done  chan struct{} // closed when the dial finished
	claim chan struct{} // closed by take
	// Guarded by the cache's mu.
	result   predialResult
	finished bool
	claimed  bool
	dropped  bool // the taker gave up waiting; the dialer closes what it got
}

// serve owns the pre-dial goroutines until ctx ends, then waits for them; every
// connection not taken by then is closed.
func (p *predialCache) serve(ctx context.Context) error {
	p.mu.Lock()
	if p.ctx != nil {
		p.mu.Unlock()
		return errors.New("pre-dials already served")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p.ctx = ctx
	p.mu.Unlock()

	<-ctx.Done()
	p.mu.Lock()
	p.ctx = nil
	p.mu.Unlock()
	cancel(errPredialsStopped)
	p.wg.Wait()
	return nil
}

// start begins a dial for callSID, unless serve is not running, one is already
// running for it or the cache is full. It reports whether a dial started.
func (p *predialCache) start(callSID string, max int, timeout time.Duration, cfg Config) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil || callSID == "" || p.entries[callSID] != nil {
		return false
	}
	if len(p.entries) >= max {
		p.rejected++
		return false
	}
	if p.entries == nil {
		p.entries = make(map[string]*predialEntry)
	}
	e := &predialEntry{done: make(chan struct{}), claim: make(chan struct{})}
	p.entries[callSID] = e
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer cancel()
		p.dial(ctx, callSID, e, cfg)
	}()
	return true
}

// dial opens and configures the link, requests the greeting, and keeps the result
// until the call's stream takes it or ctx ends.
func (p *predialCache) dial(ctx context.Context, callSID string, e *predialEntry, cfg Config) {
	f, _ := negotiate(phoneFormat, phoneFormat, cfg.Model.PCMRates) // never fails
	var r predialResult
	r.link, r.err = openLink(ctx, cfg, f)
	if r.err == nil {
		if r.err = r.link.responder.RequestResponse(ctx); r.err != nil {
			r.link.settle(true, false)
			r.link.conn.CloseNow()
			r.link = nil
		}
	}

	p.mu.Lock()
	e.result, e.finished = r, true
	dropped := e.dropped
	p.mu.Unlock()
	close(e.done)
	if dropped {
		r.abandon()
		return
	}

	select {
	case <-e.claim:
		return // the conversation owns the result now
	case <-ctx.Done():
	}
	p.mu.Lock()
	unclaimed := !e.claimed
	if unclaimed {
		delete(p.entries, callSID)
	}
	p.mu.Unlock()
	if unclaimed {
		cfg.Logger.Info("pre-dialed model connection closed: no media stream arrived", "call_sid", callSID)
		r.abandon()
	}
}

// take returns the pre-dial of callSID, waiting for a dial still running, and removes
// it from the cache. It returns the zero result when there is none, or when the link
// was configured for other formats (and closes that link).
func (p *predialCache) take(ctx context.Context, callSID string, f formats) predialResult {
	if p == nil || callSID == "" {
		return predialResult{}
	}
	p.mu.Lock()
	e := p.entries[callSID]
	if e == nil {
		p.mu.Unlock()
		return predialResult{}
	}
	delete(p.entries, callSID)
	e.claimed = true
	close(e.claim)
	p.mu.Unlock()

	select {
	case <-e.done:
	case <-ctx.Done():
		p.mu.Lock()
		finished := e.finished
		e.dropped = !finished
		p.mu.Unlock()
		if finished {
			e.result.abandon()
		}
		return predialResult{err: context.Cause(ctx)}
	}
	r := e.result
	if r.link != nil && r.link.formats != f {
		r.abandon()
		return predialResult{}
	}
	return r
}

// abandon closes the result's link, if any, and gives its breaker ticket back.
func (r predialResult) abandon() {
	if r.link != nil {
		r.link.abandon()
	}
}

func (p *predialCache) serving() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ctx != nil
}

// size returns the number of pre-dials held and the number turned away as the
// cache was full.
func (p *predialCache) size() (held, rejected int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries), p.rejected
}
