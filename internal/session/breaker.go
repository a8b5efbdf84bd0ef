package session

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrBreakerOpen is returned by Breaker.Acquire while the breaker stops dials after
// repeated or fatal failures.
var ErrBreakerOpen = errors.New("model dials paused after repeated failures")

// Breaker defaults.
const (
	DefaultBreakerThreshold = 5
	DefaultBreakerCoolDown  = 30 * time.Second
	// DefaultConfirmAfter is how long a new model connection must stay up before its
	// dial counts as a success: a server that accepts the handshake and then closes at
	// once fails this way.
	DefaultConfirmAfter = 2 * time.Second
)

// BreakerConfig configures a Breaker. Zero fields take the defaults.
type BreakerConfig struct {
	// Threshold is the number of consecutive failed dials, across all calls, that
	// opens the breaker. Default DefaultBreakerThreshold.
	Threshold int
	// CoolDown is how long an open breaker rejects dials. Default
	// DefaultBreakerCoolDown.
	CoolDown time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Breaker is the process-wide circuit breaker of model dials. It is shared by every
// conversation, so that a provider that rejects the key or closes every new connection
// sees a handful of dials instead of a storm of reconnects.
//
// Until a connection is confirmed (it stayed up for the confirmation period), the
// breaker lets at most Threshold minus the consecutive failures dials run at once;
// the others wait for an outcome. After a confirmed connection, dials run freely. A
// fatal failure (realtime.IsFatal) or Threshold consecutive failures open the breaker
// for CoolDown; then one probe dial is let through, and its failure opens it again.
// It is safe for concurrent use.
//
// NOTE: while healthy the breaker does not bound concurrent dials, so when a working
// provider starts failing, the dials already in flight all go out before the first
// failure limits the rest.
type Breaker struct {
	threshold int
	coolDown  time.Duration
	now       func() time.Time

	mu        sync.Mutex
	failures  int // consecutive failures since the last confirmed connection
	healthy   bool
	probes    int       // unconfirmed dials admitted while not healthy
	openUntil time.Time // zero when closed
	changed   chan struct{}
	opened    int // times the breaker opened, for tests and logs
}

// NewBreaker returns a closed breaker that has yet to see a confirmed connection.
func NewBreaker(cfg BreakerConfig) *Breaker {
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultBreakerThreshold
	}
	if cfg.CoolDown <= 0 {
		cfg.CoolDown = DefaultBreakerCoolDown
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Breaker{threshold: cfg.Threshold, coolDown: cfg.CoolDown, now: cfg.Now, changed: make(chan struct{})}
}

// Ticket is the permission for one dial. Exactly one of Succeed, Fail or Release must
// be called for it; later calls do nothing. A nil *Ticket is valid and does nothing,
// for conversations without a breaker.
type Ticket struct {
	b     *Breaker
	probe bool
	once  sync.Once
}

// Acquire waits until a dial may start and returns its ticket. It returns
// ErrBreakerOpen at once while the breaker is open, and ctx's cause when ctx ends
// first. A nil Breaker admits every dial.
func (b *Breaker) Acquire(ctx context.Context) (*Ticket, error) {
	if b == nil {
		return nil, nil
	}
	for {
		b.mu.Lock()
		if b.isOpenLocked() {
			b.mu.Unlock()
			return nil, ErrBreakerOpen
		}
		if b.healthy {
			b.mu.Unlock()
			return &Ticket{b: b}, nil
		}
		if b.probes < b.threshold-b.failures {
			b.probes++
			b.mu.Unlock()
			return &Ticket{b: b, probe: true}, nil
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// Open reports whether the breaker rejects dials now.
func (b *Breaker) Open() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.isOpenLocked()
}

// isOpenLocked reports whether the breaker is open. Once the cool-down ends it lets
// one probe through: the failure count stays one short of the threshold.
func (b *Breaker) isOpenLocked() bool {
	if b.openUntil.IsZero() {
		return false
	}
	if b.now().Before(b.openUntil) {
		return true
	}
	b.openUntil = time.Time{}
	b.failures = b.threshold - 1
	b.broadcastLocked()
	return false
}

// Succeed records a connection that stayed up for the confirmation period.
func (t *Ticket) Succeed() {
	if t == nil {
		return
	}
	t.once.Do(func() {
		b := t.b
		b.mu.Lock()
		defer b.mu.Unlock()
		t.releaseLocked()
		b.failures = 0
		b.healthy = true
		b.broadcastLocked()
	})
}

// Fail records a dial that failed or a connection that ended before it was
// confirmed. A fatal failure opens the breaker at once.
func (t *Ticket) Fail(fatal bool) {
	if t == nil {
		return
	}
	t.once.Do(func() {
		b := t.b
		b.mu.Lock()
		defer b.mu.Unlock()
		t.releaseLocked()
		b.healthy = false
		b.failures++
		if fatal || b.failures >= b.threshold {
			b.openUntil = b.now().Add(b.coolDown)
			b.failures = 0
			b.opened++
		}
		b.broadcastLocked()
	})
}

// Trip opens the breaker at once, as after a fatal error on a connection that was
// already confirmed: new dials would fail the same way.
func (b *Breaker) Trip() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.healthy = false
	b.failures = 0
	b.openUntil = b.now().Add(b.coolDown)
	b.opened++
	b.broadcastLocked()
}

// Release gives the ticket back without an outcome, as when the call ended before the
// connection could be confirmed.
func (t *Ticket) Release() {
	if t == nil {
		return
	}
	t.once.Do(func() {
		t.b.mu.Lock()
		defer t.b.mu.Unlock()
		t.releaseLocked()
		t.b.broadcastLocked()
	})
}

func (t *Ticket) releaseLocked() {
	if t.probe {
		t.b.probes--
	}
}

// broadcastLocked wakes every Acquire waiting for a change.
func (b *Breaker) broadcastLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// Opened returns how many times the breaker has opened.
func (b *Breaker) Opened() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opened
}
