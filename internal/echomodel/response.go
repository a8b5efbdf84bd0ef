package echomodel

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// Transcripts of the two kinds of response.
const (
	greetingTranscript = "hello"
	echoTranscript     = "(echo)"
)

// deltaDuration is the audio in one response.output_audio.delta.
const deltaDuration = 100 * time.Millisecond

// Error codes the hosted API uses for the two rule violations modelled here.
const (
	errActiveResponse    = "conversation_already_has_active_response"
	errCancelNotActive   = "response_cancel_not_active"
	cancelReasonClient   = "client_cancelled"
	cancelReasonTurnOver = "turn_detected"
)

// response is one assistant response. The reader creates it; the speaker
// plays it. cancelled and cancelReason are guarded by conn.mu.
type response struct {
	id, itemID string
	format     audio.Format
	audio      []byte
	transcript string

	ctx    context.Context // ends when the response is cancelled
	cancel context.CancelFunc

	cancelled    bool
	cancelReason string
}

func (c *conn) newResponse(ctx context.Context, pcm []byte, transcript string) *response {
	r := &response{
		id:         c.newID("resp"),
		itemID:     c.newID("item"),
		format:     c.session.output,
		audio:      pcm,
		transcript: transcript,
	}
	r.ctx, r.cancel = context.WithCancel(ctx)
	return r
}

// createResponse handles response.create: it plays the echo of a committed
// turn that has not been answered, or else the greeting. It is rejected
// while another response is active.
func (c *conn) createResponse(ctx context.Context, ev *realtime.ClientEvent) error {
	c.mu.Lock()
	if c.active != nil {
		c.mu.Unlock()
		return c.sendError(ctx, ev.EventID, errActiveResponse, "",
			"Conversation already has an active response in progress: "+c.activeID()+". Wait until the response is finished before creating a new one.")
	}
	pcm, transcript := c.pendingEchoLocked()
	c.mu.Unlock()

	if pcm == nil {
		pcm, transcript = greeting(c.session.output, c.cfg.GreetingLength), greetingTranscript
	}
	c.startOrDefer(ctx, c.newResponse(ctx, pcm, transcript))
	return nil
}

// activeID returns the active response's id for a message; the caller holds
// c.mu.
func (c *conn) activeID() string {
	if c.active == nil {
		return ""
	}
	return c.active.id
}

// setPendingEcho keeps the echo of a turn that no response answered for the
// next response.create, replacing an older one.
func (c *conn) setPendingEcho(pcm []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = pcm
}

// pendingEchoLocked takes the pending echo and its transcript; the caller
// holds c.mu.
func (c *conn) pendingEchoLocked() ([]byte, string) {
	pcm := c.pending
	c.pending = nil
	if pcm == nil {
		return nil, ""
	}
	return pcm, echoTranscript
}

// startOrDefer hands r to the speaker, or keeps it until the active response
// is done, replacing a response kept before.
func (c *conn) startOrDefer(ctx context.Context, r *response) {
	c.mu.Lock()
	if c.active != nil {
		if c.deferred != nil {
			c.deferred.cancel()
		}
		c.deferred = r
		c.mu.Unlock()
		return
	}
	c.active = r
	c.mu.Unlock()
	// The speaker has taken every earlier job, because each was active until
	// it finished, so this send does not wait.
	select {
	case c.jobs <- r:
	case <-ctx.Done():
	}
}

// cancelResponse handles response.cancel.
func (c *conn) cancelResponse(ctx context.Context, ev *realtime.ClientEvent) error {
	c.mu.Lock()
	active := c.active
	if active == nil || (ev.ResponseID != "" && ev.ResponseID != active.id) {
		c.mu.Unlock()
		return c.sendError(ctx, ev.EventID, errCancelNotActive, "", "Cancellation failed: no active response found.")
	}
	c.cancelLocked(active, cancelReasonClient)
	c.mu.Unlock()
	return nil
}

// cancelActive cancels the active response, if any, for reason, and drops
// the deferred one, which the caller has not heard either.
func (c *conn) cancelActive(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active != nil {
		c.cancelLocked(c.active, reason)
	}
	if c.deferred != nil {
		c.deferred.cancel()
		c.deferred = nil
	}
}

func (c *conn) cancelLocked(r *response, reason string) {
	if r.cancelled {
		return
	}
	r.cancelled, r.cancelReason = true, reason
	r.cancel()
}

// cancelAll releases the responses' contexts when the connection ends.
func (c *conn) cancelAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range []*response{c.active, c.deferred} {
		if r != nil {
			r.cancel()
		}
	}
	c.active, c.deferred = nil, nil
}

// speak plays the responses handed to it, one at a time, until ctx ends.
func (c *conn) speak(ctx context.Context) error {
	for {
		var r *response
		select {
		case <-ctx.Done():
			return nil
		case r = <-c.jobs:
		}
		for r != nil {
			var err error
			if r, err = c.play(ctx, r); err != nil {
				return err
			}
		}
	}
}

// play sends one response: its start, its audio in 100 ms deltas after the
// configured delay, and its end. A cancelled response stops sending audio and
// ends with status cancelled. It returns the deferred response that became
// active when r finished, if any. An error means the connection is ending.
func (c *conn) play(ctx context.Context, r *response) (*response, error) {
	item := realtime.Item{ID: r.itemID, Type: realtime.ItemMessage, Role: realtime.RoleAssistant, Status: realtime.ItemInProgress}
	audioConfig := &realtime.AudioConfig{Output: &realtime.AudioOutput{Format: wireFormat(r.format)}}
	start := []realtime.ServerEvent{
		{Type: realtime.ServerResponseCreated, Response: &realtime.Response{ID: r.id, Status: realtime.ResponseInProgress, Audio: audioConfig}},
		{Type: realtime.ServerResponseOutputItemAdded, ResponseID: r.id, Item: &item},
		{Type: realtime.ServerResponseContentPartAdded, ResponseID: r.id, ItemID: r.itemID, Part: &realtime.ContentPart{Type: realtime.ContentOutputAudio}},
	}
	if err := c.sendAll(ctx, start); err != nil {
		return nil, err
	}
	c.addItem(r.itemID)

	if err := c.wait(ctx, r.ctx, c.cfg.ResponseDelay); err != nil {
		return nil, err
	}
	if err := c.sendAudio(ctx, r); err != nil {
		return nil, err
	}
	cancelled, reason, next := c.settle(r)
	return next, c.sendAll(ctx, endEvents(r, item, audioConfig, cancelled, reason))
}

// settle ends r's turn as the active response and makes the deferred
// response, if any, active in its place. It runs before response.done is
// queued, so a client that sends response.create after reading response.done
// finds no active response unless a deferred one has started.
func (c *conn) settle(r *response) (cancelled bool, reason string, next *response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.cancel()
	if c.active == r {
		c.active, c.deferred = c.deferred, nil
		next = c.active
	}
	return r.cancelled, r.cancelReason, next
}

// sendAudio sends r's audio in deltas until it is all sent or r is
// cancelled.
func (c *conn) sendAudio(ctx context.Context, r *response) error {
	step := r.format.FrameSize(deltaDuration)
	bytesPerSec := r.format.FrameSize(time.Second)
	for off := 0; off < len(r.audio) && r.ctx.Err() == nil; off += step {
		if off > 0 {
			if err := c.wait(ctx, r.ctx, c.cfg.DeltaInterval); err != nil {
				return err
			}
			if r.ctx.Err() != nil {
				return nil
			}
		}
		end := min(off+step, len(r.audio))
		err := c.send(ctx, realtime.ServerEvent{
			Type: realtime.ServerResponseOutputAudioDelta, ResponseID: r.id, ItemID: r.itemID,
			Delta: base64.StdEncoding.EncodeToString(r.audio[off:end]),
		})
		if err != nil {
			return err
		}
		c.addItemAudio(r.itemID, end*1000/bytesPerSec)
	}
	return nil
}

// endEvents returns the events that end r: those of a completed response,
// or, when cancelled, the incomplete item and status cancelled with reason.
func endEvents(r *response, item realtime.Item, audioConfig *realtime.AudioConfig, cancelled bool, reason string) []realtime.ServerEvent {
	done := &realtime.Response{ID: r.id, Status: realtime.ResponseCompleted, Audio: audioConfig, Usage: &realtime.Usage{}}
	if cancelled {
		item.Status = realtime.ItemIncomplete
		done.Status = realtime.ResponseCancelled
		done.StatusDetails = &realtime.StatusDetails{Type: realtime.ResponseCancelled, Reason: reason}
		done.Output = []realtime.Item{item}
		return []realtime.ServerEvent{
			{Type: realtime.ServerResponseOutputItemDone, ResponseID: r.id, Item: &item},
			{Type: realtime.ServerResponseDone, Response: done},
		}
	}
	item.Status = realtime.ItemCompleted
	item.Content = []realtime.ContentPart{{Type: realtime.ContentOutputAudio, Transcript: r.transcript}}
	done.Output = []realtime.Item{item}
	return []realtime.ServerEvent{
		{Type: realtime.ServerResponseOutputAudioDone, ResponseID: r.id, ItemID: r.itemID},
		{Type: realtime.ServerResponseOutputAudioTranscriptDelta, ResponseID: r.id, ItemID: r.itemID, Delta: r.transcript},
		{Type: realtime.ServerResponseOutputAudioTranscriptDone, ResponseID: r.id, ItemID: r.itemID, Transcript: r.transcript},
		{Type: realtime.ServerResponseContentPartDone, ResponseID: r.id, ItemID: r.itemID, Part: &item.Content[0]},
		{Type: realtime.ServerResponseOutputItemDone, ResponseID: r.id, Item: &item},
		{Type: realtime.ServerResponseDone, Response: done},
	}
}

func (c *conn) sendAll(ctx context.Context, events []realtime.ServerEvent) error {
	for _, ev := range events {
		if err := c.send(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// wait pauses for d, or less when r ends; it returns an error only when ctx,
// the connection's, ends.
func (c *conn) wait(ctx, r context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-r.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// greeting returns a tone of length d in format f.
func greeting(f audio.Format, d time.Duration) []byte {
	const (
		frequency = 440.0
		amplitude = 3000.0
	)
	n := int(int64(f.Rate) * int64(d) / int64(time.Second))
	samples := make([]int16, n)
	for i := range samples {
		samples[i] = int16(amplitude * math.Sin(2*math.Pi*frequency*float64(i)/float64(f.Rate)))
	}
	if f.Encoding == audio.Mulaw {
		return audio.EncodeMulaw(nil, samples)
	}
	return audio.PCM16ToBytes(nil, samples)
}

// recentItems keeps the audio length sent for the last few assistant items,
// which conversation.item.truncate may name.
type recentItems struct {
	ids  [8]string
	ms   [8]int
	next int
}

func (c *conn) addItem(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.items.next % len(c.items.ids)
	c.items.ids[i], c.items.ms[i] = id, 0
	c.items.next++
}

func (c *conn) addItemAudio(id string, ms int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, have := range c.items.ids {
		if have == id {
			c.items.ms[i] = ms
		}
	}
}

// itemAudio returns the milliseconds of audio sent for item id, and whether
// the item is known.
func (c *conn) itemAudio(id string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, have := range c.items.ids {
		if have == id && id != "" {
			return c.items.ms[i], true
		}
	}
	return 0, false
}

// truncate handles conversation.item.truncate of an assistant item, at most
// at the audio sent for it.
func (c *conn) truncate(ctx context.Context, ev *realtime.ClientEvent) error {
	sent, ok := c.itemAudio(ev.ItemID)
	switch {
	case !ok:
		return c.sendError(ctx, ev.EventID, "invalid_value", "item_id",
			fmt.Sprintf("Invalid value: no assistant item with id %q.", ev.ItemID))
	case ev.ContentIndex != 0:
		return c.sendError(ctx, ev.EventID, "invalid_value", "content_index",
			fmt.Sprintf("Invalid value: content index %d; the item has one content part.", ev.ContentIndex))
	case ev.AudioEndMS < 0 || ev.AudioEndMS > sent:
		return c.sendError(ctx, ev.EventID, "invalid_value", "audio_end_ms",
			fmt.Sprintf("Invalid value: audio_end_ms %d is outside the %d ms of audio sent.", ev.AudioEndMS, sent))
	}
	return c.send(ctx, realtime.ServerEvent{
		Type: realtime.ServerConversationItemTruncated, ItemID: ev.ItemID, ContentIndex: ev.ContentIndex, AudioEndMS: ev.AudioEndMS,
	})
}
