package session

import (
	"context"
	"errors"
	"time"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// recycleTimer fires when the current link reaches its recycle age. With an age of
// zero it never fires.
type recycleTimer struct {
	after    time.Duration
	t        *time.Timer
	failures int // failed recycles of the current link
}

func newRecycleTimer(after time.Duration) *recycleTimer {
	r := &recycleTimer{after: after}
	if after > 0 {
		r.t = time.NewTimer(after)
	}
	return r
}

func (r *recycleTimer) c() <-chan time.Time {
	if r.t == nil {
		return nil
	}
	return r.t.C
}

// reset starts the age of a new link.
func (r *recycleTimer) reset() {
	r.failures = 0
	if r.t != nil {
		r.t.Reset(r.after)
	}
}

func (r *recycleTimer) retryIn(d time.Duration) {
	if r.t != nil {
		r.t.Reset(d)
	}
}

func (r *recycleTimer) stop() {
	if r.t != nil {
		r.t.Stop()
	}
}

// recycle replaces cur, which reached its recycle age, without an audible gap: it
// dials and configures the next link while cur still serves, waits for a moment
// between responses, sends the next link a summary of the conversation and swaps.
// Caller audio goes to the next link from the swap on. It returns the next link, now
// current, or nil when the recycle failed. A failed recycle is retried a few times.
// After that the provider's own limit ends cur, and the reconnect path takes over.
func (c *conversation) recycle(ctx context.Context, cur *link, timer *recycleTimer) *link {
	policy := c.s.cfg.Model.Reconnect.withDefaults()
	c.s.log.Info("replacing the model connection before its maximum duration", "age", time.Since(cur.opened).Round(time.Second))
	next, err := c.openLink(ctx)
	if err == nil {
		if err = c.lockWhenQuiet(ctx, cur); err != nil {
			next.abandon()
		}
	}
	if err == nil {
		err = c.swapLocked(ctx, cur, next)
		c.respMu.Unlock()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		timer.failures++
		retry := timer.failures < policy.MaxAttempts && !errors.Is(err, ErrBreakerOpen) && !realtime.IsFatal(err)
		c.s.log.Warn("replacing the model connection failed", "err", err, "failures", timer.failures, "retry", retry)
		if retry {
			timer.retryIn(policy.delay(timer.failures))
		}
		return nil
	}
	c.turn.reset()
	c.callerSpeaking.Store(false)
	timer.reset()
	return next
}

// swapLocked sends next the summary and makes it current, retiring cur. The caller
// holds respMu.
func (c *conversation) swapLocked(ctx context.Context, cur, next *link) error {
	if err := next.send(ctx, summaryItem(c.summary())); err != nil {
		next.settle(true, false)
		next.conn.CloseNow()
		return err
	}
	cur.retired.Store(true)
	c.setLink(next)
	return nil
}

// lockWhenQuiet waits for a moment between responses on l and returns holding respMu,
// so no response can start on l before the swap. The wait is bounded: after a tenth
// of the recycle age, at most maxQuietWait, or when l drops, it returns anyway.
func (c *conversation) lockWhenQuiet(ctx context.Context, l *link) error {
	bound := min(recycleAfter(c.s.cfg.Model)/10, maxQuietWait)
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	tick := time.NewTicker(quietPoll)
	defer tick.Stop()
	for {
		c.respMu.Lock()
		if c.quietLocked(l) {
			return nil
		}
		c.respMu.Unlock()
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-deadline.C:
			c.respMu.Lock()
			return nil
		case <-l.done:
			c.respMu.Lock()
			return nil
		case <-tick.C:
		}
	}
}

// quietLocked reports whether l is between responses: none active or being created,
// no tool call waiting for its output, and the caller not speaking.
func (c *conversation) quietLocked(l *link) bool {
	_, active := l.responder.Active()
	return !active && !l.creating() && !c.turn.open() && !c.callerSpeaking.Load()
}
