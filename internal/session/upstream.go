package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// Defaults of the model connection's lifecycle.
const (
	// DefaultRecycleAfter replaces a model connection before OpenAI's maximum Realtime
	// session duration of 60 minutes ends it.
	DefaultRecycleAfter = 55 * time.Minute
	// DefaultReconnectAttempts bounds the dials a phone call makes to replace dropped
	// connections.
	DefaultReconnectAttempts = 3
	DefaultReconnectBase     = 250 * time.Millisecond
	DefaultReconnectMax      = 4 * time.Second
	// DefaultDialTimeout bounds one dial, the wait for the breaker included.
	DefaultDialTimeout = 15 * time.Second
	// maxQuietWait bounds the wait for a moment between responses before a recycle
	// swaps connections anyway. It stays below the 5 minutes between
	// DefaultRecycleAfter and the provider's limit.
	maxQuietWait = 4 * time.Minute
	// quietPoll is how often the recycle checks for a moment between responses.
	quietPoll = 20 * time.Millisecond
	// apologyWait bounds how long an ending call waits for its apology to play.
	apologyWait = 10 * time.Second
)

// errGiveUp reports that a call stopped trying to reach the model.
var errGiveUp = errors.New("model unreachable")

// ReconnectPolicy is the policy by which a phone call replaces a dropped model
// connection: a close with 1011, an abnormal closure or a read error, but not a close
// this side started. Fatal errors (realtime.IsFatal) and an open breaker end the call
// at once.
type ReconnectPolicy struct {
	// MaxAttempts bounds the dials after the first one, over the whole call. Default
	// DefaultReconnectAttempts.
	MaxAttempts int
	// BaseDelay is the backoff before the first attempt. It doubles per attempt up to
	// MaxDelay, and each delay is drawn between half of it and all of it. Defaults
	// DefaultReconnectBase and DefaultReconnectMax.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// ConfirmAfter is how long a new connection must stay up to count as a successful
	// dial; one that ends sooner counts as a failure. Default DefaultConfirmAfter.
	ConfirmAfter time.Duration
	// DialTimeout bounds one dial, the wait for the breaker included. Default
	// DefaultDialTimeout.
	DialTimeout time.Duration
}

func (p ReconnectPolicy) withDefaults() ReconnectPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultReconnectAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultReconnectBase
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultReconnectMax
	}
	if p.ConfirmAfter <= 0 {
		p.ConfirmAfter = DefaultConfirmAfter
	}
	if p.DialTimeout <= 0 {
		p.DialTimeout = DefaultDialTimeout
	}
	return p
}

// delay returns the jittered backoff before attempt n, counted from 1.
func (p ReconnectPolicy) delay(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	return d/2 + rand.N(d/2+1)
}

// recycleAfter returns the recycle age of a model connection, or zero when off.
func recycleAfter(m Model) time.Duration {
	switch {
	case m.RecycleAfter < 0:
		return 0
	case m.RecycleAfter == 0:
		return DefaultRecycleAfter
	}
	return m.RecycleAfter
}

// linkEnd is a link whose reader ended, and why.
type linkEnd struct {
	link *link
	err  error
}

// superviseModel owns the conversation's model connections. It connects (or takes
// the pre-dialed first link), serves the current link with its reader, replaces a
// link that dropped, and recycles a link that reached its age between responses. It
// returns when ctx ends or the model cannot be reached; every reader and every
// connection it opened has ended by then.
func (c *conversation) superviseModel(ctx context.Context, first predialResult) error {
	ctx, cancel := context.WithCancel(ctx)
	var readers sync.WaitGroup
	var opened []*link
	defer func() {
		cancel()
		readers.Wait()
		for _, l := range opened {
			// No close handshake: it could hold an ended call for seconds on a
			// stalled peer, and the cancelled reads already ended the connections.
			l.conn.CloseNow()
		}
	}()
	ended := make(chan linkEnd, 4)
	serve := func(l *link) {
		opened = append(opened, l)
		readers.Add(1)
		go func() {
			defer readers.Done()
			err := c.serveLink(ctx, l)
			select {
			case ended <- linkEnd{l, err}:
			case <-ctx.Done():
			}
		}()
	}

	cur, err := c.firstLink(ctx, first)
	if err != nil {
		return c.giveUp(ctx, err)
	}
	c.activate(cur)
	serve(cur)
	recycle := newRecycleTimer(recycleAfter(c.s.cfg.Model))
	defer recycle.stop()

	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case e := <-ended:
			if e.link != cur {
				continue // a retired link finished closing
			}
			next, err := c.replaceDropped(ctx, e)
			if err != nil {
				return c.giveUp(ctx, err)
			}
			cur = next
			serve(cur)
			recycle.reset()
		case <-recycle.c():
			next := c.recycle(ctx, cur, recycle)
			if next == nil {
				continue
			}
			old := cur
			cur = next
			serve(cur)
			readers.Add(1)
			go func() {
				defer readers.Done()
				// The old reader still runs and receives the server's close frame.
				if err := old.conn.Close(); err != nil {
					c.s.log.Debug("close retired model connection", "err", err)
				}
			}()
		}
	}
}

// serveLink runs l's reader and keepalive until the connection ends, and reports its
// outcome to the breaker.
func (c *conversation) serveLink(ctx context.Context, l *link) error {
	defer close(l.done)
	l.startConfirm(c.s.cfg.Model.Reconnect.withDefaults().ConfirmAfter)
	loops := []func(context.Context) error{func(ctx context.Context) error { return c.readLink(ctx, l) }}
	if d := c.s.cfg.Model.Keepalive; d > 0 {
		loops = append(loops, func(ctx context.Context) error { return l.conn.Keepalive(ctx, d) })
	}
	err := runGroup(ctx, loops...)
	l.settle(ctx.Err() == nil && !l.retired.Load(), realtime.IsFatal(err))
	return err
}

// activate makes l the link that caller audio, tool outputs and responses go to.
func (c *conversation) activate(l *link) {
	c.respMu.Lock()
	c.setLink(l)
	c.respMu.Unlock()
	c.turn.reset()
	c.callerSpeaking.Store(false)
}

// firstLink returns the pre-dialed link, or dials one, configures it and requests the
// greeting. A failed pre-dial counts as the first dial. A phone call retries a failed
// dial within its reconnect attempts.
func (c *conversation) firstLink(ctx context.Context, pre predialResult) (*link, error) {
	if pre.link != nil {
		return pre.link, nil
	}
	err := pre.err
	if err != nil {
		c.s.log.Warn("pre-dialed model connection failed", "err", err)
	} else {
		l, dialErr := c.openGreeted(ctx)
		if dialErr == nil {
			return l, nil
		}
		err = dialErr
	}
	for c.mayRetry(ctx, err, c.reconnects) {
		c.reconnects++
		if err := c.backoff(ctx, c.reconnects); err != nil {
			return nil, err
		}
		c.s.cfg.Metrics.UpstreamReconnect()
		l, dialErr := c.openGreeted(ctx)
		if dialErr == nil {
			return l, nil
		}
		err = dialErr
	}
	return nil, err
}

// openGreeted opens a link and requests the greeting on it.
func (c *conversation) openGreeted(ctx context.Context) (*link, error) {
	l, err := c.openLink(ctx)
	if err != nil {
		return nil, err
	}
	if err := l.responder.RequestResponse(ctx); err != nil {
		l.settle(true, false)
		l.conn.CloseNow()
		return nil, fmt.Errorf("request greeting: %w", err)
	}
	return l, nil
}

// replaceDropped dials a new link for one that dropped, within the call's reconnect
// attempts, and requests a new response when the drop cut one off.
func (c *conversation) replaceDropped(ctx context.Context, e linkEnd) (*link, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if !c.mayRetry(ctx, e.err, c.reconnects) {
		return nil, e.err
	}
	_, active := e.link.responder.Active()
	resume := active || e.link.creating() || c.turn.open()
	c.s.log.Warn("model connection dropped; reconnecting", "err", e.err, "attempt", c.reconnects+1)
	for {
		c.reconnects++
		if err := c.backoff(ctx, c.reconnects); err != nil {
			return nil, err
		}
		c.s.cfg.Metrics.UpstreamReconnect()
		l, err := c.openLink(ctx)
		if err == nil {
			if err = l.send(ctx, summaryItem(c.summary())); err != nil {
				l.settle(true, false)
				l.conn.CloseNow()
			}
		}
		if err == nil {
			c.activate(l)
			c.s.log.Info("model connection restored", "attempts", c.reconnects)
			if resume && !c.callerSpeaking.Load() {
				// A failed request means the new connection broke too; its reader
				// reports that and the next attempt follows.
				if err := c.requestResponse(ctx, l); err != nil {
					c.s.log.Debug("resume the interrupted answer", "err", err)
				}
			}
			return l, nil
		}
		if !c.mayRetry(ctx, err, c.reconnects) {
			return nil, err
		}
	}
}

// mayRetry reports whether a call may dial again after err, having made attempts
// dials beyond the first.
func (c *conversation) mayRetry(ctx context.Context, err error, attempts int) bool {
	switch {
	case ctx.Err() != nil, c.player == nil:
		return false
	case realtime.IsFatal(err), errors.Is(err, ErrBreakerOpen):
		return false
	}
	return attempts < c.s.cfg.Model.Reconnect.withDefaults().MaxAttempts
}

// backoff waits the jittered delay before attempt n.
func (c *conversation) backoff(ctx context.Context, n int) error {
	t := time.NewTimer(c.s.cfg.Model.Reconnect.withDefaults().delay(n))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// openLink dials the model through the breaker and sends the session configuration.
func (c *conversation) openLink(ctx context.Context) (*link, error) {
	return openLink(ctx, c.s.cfg, c.formats)
}

// openLink dials the model through the breaker and sends the session configuration.
// It is shared by conversations and pre-dials.
func openLink(ctx context.Context, cfg Config, f formats) (*link, error) {
	m := cfg.Model
	ctx, cancel := context.WithTimeout(ctx, m.Reconnect.withDefaults().DialTimeout)
	defer cancel()
	ticket, err := m.Breaker.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("dial model: %w", err)
	}
	conn, err := m.Dial(ctx)
	cfg.Metrics.UpstreamDial(err)
	if err != nil {
		ticket.Fail(realtime.IsFatal(err))
		cfg.Metrics.UpstreamFailure(dialFailure(err))
		return nil, fmt.Errorf("dial model: %w", err)
	}
	l := newLink(conn, ticket, f)
	if err := l.send(ctx, realtime.UpdateSession(sessionConfig(cfg, f))); err != nil {
		l.settle(true, false)
		conn.CloseNow()
		return nil, fmt.Errorf("configure model session: %w", err)
	}
	return l, nil
}

// giveUp ends the conversation after the model could not be reached: the caller gets
// an error notice (a phone caller hears a short apology), and the error ends the call
// as an upstream failure.
func (c *conversation) giveUp(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if realtime.IsFatal(err) {
		c.s.cfg.Model.Breaker.Trip()
	}
	c.stopPlayback()
	c.apologize(ctx)
	return &upstreamError{fmt.Errorf("%w: %w", errGiveUp, err)}
}

// apologize sends the caller the notice that the assistant is unavailable and waits,
// bounded, until a phone caller has heard it.
func (c *conversation) apologize(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, apologyWait)
	defer cancel()
	sent := c.out.pushNotice(Notice{
		Kind: NoticeError, Code: CodeModelUnavailable,
		Message: "The assistant is not available right now. Please try again shortly.",
	})
	select {
	case <-sent:
	case <-ctx.Done():
		return
	}
	if c.player != nil {
		if err := c.player.AwaitPlayed(ctx); err != nil {
			c.s.log.Debug("apology not confirmed played", "err", err)
		}
	}
}
