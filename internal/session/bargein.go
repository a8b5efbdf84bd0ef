package session

import (
	"context"
	"fmt"

	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// interrupted handles the caller starting to speak.
//
// With a Player (the phone), audio the caller has not heard is dropped and the
// caller's side is cleared once; the response is cancelled only if it is still
// active; and every item whose audio was cut is truncated at the position the caller
// heard, never beyond what was sent and not at all when nothing was sent, so that the
// model's record of its answer matches what the caller heard. Deltas of the
// interrupted response that arrive later are dropped.
//
// Without a Player (the browser), queued audio is dropped and the page is told to
// clear; the model's own turn detection cancels its response.
func (c *conversation) interrupted(ctx context.Context, l *link) error {
	activeID, active := l.responder.Active()
	if c.player == nil {
		if active || c.out.busy() {
			c.out.clear()
		}
		return nil
	}

	c.bargeIns.Add(1)
	playing, items := c.stopPlayback()
	if playing {
		c.markCancelled(c.lastResponse)
	}
	if active {
		c.markCancelled(activeID)
		c.respMu.Lock()
		err := l.responder.CancelActive(ctx)
		c.respMu.Unlock()
		if err != nil {
			return fmt.Errorf("cancel response: %w", err)
		}
	}
	for _, it := range items {
		if it.SentMS <= 0 || it.PlayedMS >= it.SentMS || !l.owns(it.ItemID) {
			continue
		}
		if err := l.send(ctx, realtime.Truncate(it.ItemID, 0, it.PlayedMS)); err != nil {
			return fmt.Errorf("truncate interrupted item %s: %w", it.ItemID, err)
		}
		c.s.log.Debug("truncated an interrupted answer", "item_id", it.ItemID, "played_ms", it.PlayedMS, "sent_ms", it.SentMS)
	}
	return nil
}

// stopPlayback drops the assistant audio the caller has not heard: what waits in the
// queue, and with a Player what the caller's side has buffered. It reports whether
// any audio was queued or playing, and returns the playback of the items it cut.
func (c *conversation) stopPlayback() (playing bool, items []ItemPlayback) {
	if c.player == nil {
		c.out.clear() // the page may hold audio of its own, so it always gets the clear
		return true, nil
	}
	// A new generation first, so audio the sender has already taken from the queue
	// is discarded too.
	playing, items = c.player.Interrupt()
	if c.out.busy() {
		playing = true
	}
	if playing {
		if n := c.out.clear(); n > 0 {
			c.s.tm.Dropped(monitor.DropCancelledResponse).Add(float64(n))
		}
	}
	return playing, items
}
