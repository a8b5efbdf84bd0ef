package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// goodbyeWait bounds how long a call waits for its goodbye to be sent and played
// before it ends.
const goodbyeWait = 10 * time.Second

// ErrCompleted ends a phone call whose order was placed, once the caller heard the
// goodbye. It is a normal ending: the transport closes the media stream, which ends
// the call.
var ErrCompleted = fmt.Errorf("call completed: %w", ErrHangup)

// signalFarewell wakes finishLoop once the response after the order has been queued.
func (c *conversation) signalFarewell() {
	select {
	case c.farewell <- struct{}{}:
	default:
	}
}

// finishLoop ends a phone call after the order was placed and the assistant's
// goodbye has played. It waits for the goodbye to leave the queue and for the
// caller's side to confirm it played, at most goodbyeWait in all. A caller who speaks
// over the goodbye keeps the call open until the next completed response.
func (c *conversation) finishLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-c.farewell:
		}
		bargeIns := c.bargeIns.Load()
		err := c.awaitGoodbye(ctx)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if c.bargeIns.Load() != bargeIns {
			continue
		}
		if errors.Is(err, context.DeadlineExceeded) {
			c.s.log.Warn("goodbye not confirmed played; ending the call anyway", "wait", goodbyeWait)
		}
		c.s.log.Info("order placed and goodbye played; ending the call")
		return ErrCompleted
	}
}

func (c *conversation) awaitGoodbye(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, goodbyeWait)
	defer cancel()
	select {
	case <-c.out.pushMarker():
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.player.AwaitPlayed(ctx)
}
