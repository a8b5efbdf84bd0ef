package session

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// maxQueuedToolCalls bounds tool calls waiting to run; the model issues a handful per
// response, so a full queue means the model misbehaves and the call is answered with
// an error instead of queued.
const maxQueuedToolCalls = 32

// outQueueSeconds bounds assistant audio waiting for the caller, in seconds of the
// caller's output format. The model sends audio faster than real time, so the queue
// absorbs a whole response. Beyond the bound the oldest audio is dropped and counted.
const outQueueSeconds = 30

// conversation is the running state of a session: the caller's loops, and the model
// connection they talk through, which it replaces when it drops or ages out.
type conversation struct {
	s       *Session
	formats formats
	// player is the caller's playback tracking, nil for callers without it (the
	// browser). Only a call with a player reconnects a dropped model connection,
	// because a phone caller cannot redial the way a web page can.
	player Player

	toModel   *audio.Converter // caller input → model input
	fromModel *audio.Converter // model output → caller output

	toolCalls chan pendingCall
	turn      toolTurn
	out       *outQueue
	in        *inQueue
	lastAudio atomic.Int64 // unix nanoseconds of the last caller audio, for the idle timeout

	// respMu serializes every call into a link's responder with the recycle's check
	// for a quiet moment, so no response.create reaches a link being retired.
	respMu sync.Mutex

	linkMu  sync.Mutex
	current *link
	// linkChanged is closed and replaced when current changes.
	linkChanged chan struct{}

	// reconnects counts the dials made after the first one; only superviseModel
	// uses it.
	reconnects int

	// callerSpeaking is set between speech_started and speech_stopped.
	callerSpeaking atomic.Bool
	// bargeIns counts interruptions, so the ending after an order can tell whether
	// the caller spoke over the goodbye.
	bargeIns atomic.Int64
	// orderPlaced is set once submit_order stored an order.
	orderPlaced atomic.Bool
	// farewell receives a token when a spoken response completed after the order was
	// placed: the goodbye.
	farewell chan struct{}

	// eventMu serializes event handling, because the readers of an old and a new
	// link overlap for a moment during a recycle.
	eventMu sync.Mutex
	// speechStopped is when the model last detected the end of the caller's speech;
	// zero once the reply's first audio was measured. lastResponse is the response
	// whose audio was forwarded last. Guarded by eventMu.
	speechStopped time.Time
	lastResponse  string

	mu        sync.Mutex
	cancelled map[string]bool // responses whose audio is dropped; bounded by markCancelled
}

type pendingCall struct {
	link                                *link
	responseID, callID, name, arguments string
}

func newConversation(s *Session, f formats) (*conversation, error) {
	toModel, err := audio.NewConverter(f.callerIn, f.modelIn)
	if err != nil {
		return nil, fmt.Errorf("caller audio: %w", err)
	}
	fromModel, err := audio.NewConverter(f.modelOut, f.callerOut)
	if err != nil {
		return nil, fmt.Errorf("model audio: %w", err)
	}
	player, _ := s.cfg.Caller.(Player)
	return &conversation{
		s: s, formats: f, player: player,
		toModel: toModel, fromModel: fromModel,
		toolCalls:   make(chan pendingCall, maxQueuedToolCalls),
		out:         newOutQueue(outQueueBytes(f.callerOut)),
		in:          newInQueue(defaultInQueueFrames),
		linkChanged: make(chan struct{}),
		farewell:    make(chan struct{}, 1),
		cancelled:   make(map[string]bool),
	}, nil
}

func outQueueBytes(f audio.Format) int {
	if n := f.FrameSize(time.Second) * outQueueSeconds; n > 0 {
		return n
	}
	return defaultOutQueueBytes
}

// run runs the conversation's loops until one ends it. first is the outcome of a
// dial made ahead of the call, if any; without one the model loop dials.
func (c *conversation) run(ctx context.Context, first predialResult) error {
	c.lastAudio.Store(c.s.cfg.Now().UnixNano())
	loops := []func(context.Context) error{
		c.callerLoop, c.upstreamLoop, c.toolLoop, c.senderLoop,
		func(ctx context.Context) error { return c.superviseModel(ctx, first) },
	}
	if d := c.s.cfg.Limits.IdleTimeout; d > 0 {
		loops = append(loops, func(ctx context.Context) error { return c.idleLoop(ctx, d) })
	}
	if c.player != nil {
		loops = append(loops, c.finishLoop)
	}
	return runGroup(ctx, loops...)
}

// link returns the current model connection, nil before the first one is up.
func (c *conversation) link() (*link, <-chan struct{}) {
	c.linkMu.Lock()
	defer c.linkMu.Unlock()
	return c.current, c.linkChanged
}

// setLink makes l the current model connection. Callers hold respMu.
func (c *conversation) setLink(l *link) {
	c.linkMu.Lock()
	defer c.linkMu.Unlock()
	c.current = l
	close(c.linkChanged)
	c.linkChanged = make(chan struct{})
}

func (c *conversation) isCurrent(l *link) bool {
	cur, _ := c.link()
	return cur == l
}

// requestResponse requests a response from l through its sequencer, unless l stopped
// being the current connection.
func (c *conversation) requestResponse(ctx context.Context, l *link) error {
	c.respMu.Lock()
	defer c.respMu.Unlock()
	if !c.isCurrent(l) {
		return nil
	}
	return l.responder.RequestResponse(ctx)
}

// callerLoop reads the caller until they hang up. Audio goes through a bounded queue
// to upstreamLoop, so a slow model connection never stops the gateway from reading the
// caller's hang-up. On a hang-up the audio already received still goes to the model:
// upstreamLoop sends it and then ends the conversation.
func (c *conversation) callerLoop(ctx context.Context) error {
	for {
		in, err := c.s.cfg.Caller.Receive(ctx)
		if errors.Is(err, ErrHangup) {
			c.in.close(err)
			return nil
		}
		if err != nil {
			return err
		}
		switch in.Kind {
		case InboundAudio:
			c.s.tm.FramesReceived.Inc()
			c.lastAudio.Store(c.s.cfg.Now().UnixNano())
			if converted := c.toModel.Convert(nil, in.Audio); len(converted) > 0 && c.in.push(converted) {
				c.s.tm.Dropped(monitor.DropQueueFull).Inc()
			}
		case InboundDTMF:
			c.s.log.Debug("caller pressed a key", "digit", in.Digit)
		}
	}
}

// upstreamLoop sends queued caller audio to the current model connection. While the
// connection is being replaced, audio waits in the bounded input queue; a frame whose
// send failed is lost, because its connection is gone.
func (c *conversation) upstreamLoop(ctx context.Context) error {
	for {
		frame, err := c.in.next(ctx)
		if err != nil {
			return err
		}
		l, changed := c.link()
		for l == nil {
			if l, changed, err = c.awaitLink(ctx, changed); err != nil {
				return err
			}
		}
		if err := l.conn.SendAudio(ctx, frame); err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			// The link's reader sees the same failure and replaces the link, or ends
			// the conversation.
			c.s.tm.Dropped(monitor.DropOther).Inc()
			if _, _, err := c.awaitLink(ctx, changed); err != nil {
				return err
			}
		}
	}
}

// awaitLink waits until the current link changes.
func (c *conversation) awaitLink(ctx context.Context, changed <-chan struct{}) (*link, <-chan struct{}, error) {
	select {
	case <-changed:
		l, next := c.link()
		return l, next, nil
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	}
}

// idleLoop ends the conversation when no caller audio arrived for the idle timeout.
func (c *conversation) idleLoop(ctx context.Context, timeout time.Duration) error {
	tick := time.NewTicker(min(timeout/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
			last := time.Unix(0, c.lastAudio.Load())
			if c.s.cfg.Now().Sub(last) >= timeout {
				return ErrIdle
			}
		}
	}
}

// senderLoop writes queued assistant audio to the caller. It is the only writer of
// audio, so a slow caller never blocks the model's reader: the queue drops instead.
func (c *conversation) senderLoop(ctx context.Context) error {
	caller := c.s.cfg.Caller
	for {
		item, err := c.out.next(ctx)
		if err != nil {
			return err
		}
		switch item.kind {
		case outAudio:
			if c.player != nil {
				err = c.player.PlayAudio(ctx, item.gen, item.item, item.data)
			} else {
				err = caller.SendAudio(ctx, item.data)
			}
			c.s.tm.FramesSent.Inc()
		case outEnd:
			if c.player != nil {
				err = c.player.EndResponse(ctx, item.gen)
			} else {
				err = caller.EndAudio(ctx)
			}
		case outClear:
			err = caller.ClearAudio(ctx)
		case outMarker:
			if item.notice != nil {
				c.notify(ctx, *item.notice)
			}
			close(item.done)
		}
		if err != nil {
			return fmt.Errorf("send audio to caller: %w", err)
		}
	}
}

// readLink reads l's events until the connection ends, and returns why it ended.
func (c *conversation) readLink(ctx context.Context, l *link) error {
	var pcm []byte
	for {
		ev, err := l.conn.Read(ctx)
		if errors.Is(err, realtime.ErrMalformedEvent) {
			c.s.log.Warn("model sent a malformed event; skipped", "err", err)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			if realtime.CloseStatus(err) == websocket.StatusMessageTooBig {
				// Tell the model why: the close frame carries 1009.
				l.conn.Close()
			}
			return &upstreamError{err}
		}
		l.observe(&ev)
		c.respMu.Lock()
		err = l.responder.Observe(ctx, &ev)
		c.respMu.Unlock()
		if err != nil {
			return fmt.Errorf("request response: %w", err)
		}
		c.eventMu.Lock()
		if l.retired.Load() {
			c.readRetired(ctx, ev)
		} else {
			pcm, err = c.handleEvent(ctx, l, ev, pcm)
		}
		c.eventMu.Unlock()
		if err != nil {
			return err
		}
	}
}

// handleEvent acts on one event of the current link. pcm is a reused decode buffer.
func (c *conversation) handleEvent(ctx context.Context, l *link, ev realtime.ServerEvent, pcm []byte) ([]byte, error) {
	var err error
	switch ev.Type {
	case realtime.ServerResponseOutputAudioDelta:
		c.measureReply()
		pcm = c.forwardAudio(ev, pcm)
	case realtime.ServerInputAudioBufferSpeechStarted:
		c.callerSpeaking.Store(true)
		err = c.interrupted(ctx, l)
	case realtime.ServerInputAudioBufferSpeechStopped:
		c.callerSpeaking.Store(false)
		c.speechStopped = c.s.cfg.Now()
	case realtime.ServerResponseDone:
		err = c.responseDone(ctx, l, ev)
	case realtime.ServerResponseOutputAudioTranscriptDone:
		c.transcript(ctx, "assistant", ev.Transcript)
	case realtime.ServerConversationItemInputAudioTranscriptionCompleted:
		c.transcript(ctx, "caller", ev.Transcript)
	case realtime.ServerResponseFunctionCallArgumentsDone:
		err = c.queueToolCall(ctx, l, ev)
	case realtime.ServerError:
		err = c.modelError(l, ev)
	}
	return pcm, err
}

// readRetired handles an event of a link the conversation has moved away from. Only
// the caller's transcripts are kept, because responses and tool calls belong to the
// old connection.
func (c *conversation) readRetired(ctx context.Context, ev realtime.ServerEvent) {
	if ev.Type == realtime.ServerConversationItemInputAudioTranscriptionCompleted {
		c.transcript(ctx, "caller", ev.Transcript)
	}
}

// measureReply records the time from the end of the caller's speech, as the model
// detected it, to the first audio of the reply.
func (c *conversation) measureReply() {
	if c.speechStopped.IsZero() {
		return
	}
	c.s.record.addReplyLatency(c.s.cfg.Now().Sub(c.speechStopped))
	c.speechStopped = time.Time{}
}

// forwardAudio queues a delta's audio for the caller. Audio of a response the caller
// interrupted is dropped and counted as late.
func (c *conversation) forwardAudio(ev realtime.ServerEvent, buf []byte) []byte {
	if c.isCancelled(ev.ResponseID) {
		c.s.tm.Dropped(monitor.DropLateDelta).Inc()
		return buf
	}
	raw, err := base64.StdEncoding.AppendDecode(buf[:0], []byte(ev.Delta))
	if err != nil {
		c.s.log.Warn("model sent audio that is not base64; dropped", "response_id", ev.ResponseID, "err", err)
		return buf
	}
	c.lastResponse = ev.ResponseID
	converted := c.fromModel.Convert(nil, raw)
	var dropped bool
	if c.player != nil {
		dropped = c.out.pushItemAudio(converted, ev.ItemID, c.player.Generation())
	} else {
		dropped = c.out.pushAudio(converted)
	}
	if dropped {
		c.s.tm.Dropped(monitor.DropQueueFull).Inc()
	}
	return raw
}

// responseDone ends a response's audio, or discards it when the response was
// cancelled, and lets the tool loop ask for the next response.
func (c *conversation) responseDone(ctx context.Context, l *link, ev realtime.ServerEvent) error {
	resp := ev.Response
	if resp == nil {
		return nil
	}
	if err := resp.Err(); err != nil && realtime.IsFatal(err) {
		return fmt.Errorf("response failed: %w", err)
	}
	id := resp.ID
	spoke := false
	calls := 0
	for _, item := range resp.Output {
		switch item.Type {
		case realtime.ItemFunctionCall:
			calls++
		case realtime.ItemMessage:
			spoke = true
		}
	}
	switch {
	case c.isCancelled(id):
		// The barge-in that cancelled it already dropped its audio.
	case resp.Status == realtime.ResponseCancelled:
		c.markCancelled(id)
		c.stopPlayback()
	default:
		c.endResponseAudio()
		if spoke && calls == 0 && resp.Status == realtime.ResponseCompleted && c.orderPlaced.Load() {
			c.signalFarewell()
		}
	}
	if c.turn.responseDone(id, calls) {
		return c.requestResponse(ctx, l)
	}
	return nil
}

func (c *conversation) endResponseAudio() {
	if c.player != nil {
		c.out.pushResponseEnd(c.player.Generation())
		return
	}
	c.out.pushEnd()
}

func (c *conversation) transcript(ctx context.Context, role, text string) {
	if text == "" {
		return
	}
	turn := Turn{Role: role, Text: text, At: c.s.cfg.Now()}
	c.s.record.addTurn(turn)
	c.notify(ctx, Notice{Kind: NoticeTranscript, Turn: turn})
}

// modelError logs and counts an error event, naming the client event that caused it
// when the event carries its id. Only a fatal error (key, quota, billing) ends the
// conversation.
func (c *conversation) modelError(l *link, ev realtime.ServerEvent) error {
	err := ev.Err()
	if realtime.IsFatal(err) {
		c.s.cfg.Metrics.UpstreamFailure(monitor.UpstreamServerError)
		return fmt.Errorf("model: %w", err)
	}
	var rerr *realtime.Error
	if !errors.As(err, &rerr) {
		return nil
	}
	c.s.cfg.Metrics.ModelError(cmp.Or(rerr.Code, rerr.Type))
	cause, _ := l.sentType(rerr.EventID)
	c.s.log.Warn("model rejected an event", "code", rerr.Code, "event_id", rerr.EventID, "event_type", cause, "message", rerr.Message)
	return nil
}

func (c *conversation) isCancelled(responseID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cancelled[responseID]
}

// markCancelled remembers a cancelled response so its late deltas are dropped. Only
// the most recent few matter, so the set is reset when it grows.
func (c *conversation) markCancelled(responseID string) {
	if responseID == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cancelled) >= 16 {
		clear(c.cancelled)
	}
	c.cancelled[responseID] = true
}
