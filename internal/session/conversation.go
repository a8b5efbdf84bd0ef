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

// conversation is the running state of a session once the model is connected.
type conversation struct {
	s       *Session
	conn    *realtime.Conn
	formats formats

	toModel   *audio.Converter // caller input → model input
	fromModel *audio.Converter // model output → caller output

	responder *realtime.Responder
	toolCalls chan pendingCall
	turn      toolTurn
	out       *outQueue
	in        *inQueue
	lastAudio atomic.Int64 // unix nanoseconds of the last caller audio, for the idle timeout

	// speechStopped is when the model last detected the end of the caller's speech;
	// zero once the reply's first audio was measured. Only modelLoop uses it.
	speechStopped time.Time

	mu        sync.Mutex
	cancelled map[string]bool // responses whose audio is dropped; bounded by pruneCancelled
}

type pendingCall struct {
	responseID, callID, name, arguments string
}

func newConversation(s *Session, conn *realtime.Conn, f formats) (*conversation, error) {
	toModel, err := audio.NewConverter(f.callerIn, f.modelIn)
	if err != nil {
		return nil, fmt.Errorf("caller audio: %w", err)
	}
	fromModel, err := audio.NewConverter(f.modelOut, f.callerOut)
	if err != nil {
		return nil, fmt.Errorf("model audio: %w", err)
	}
	return &conversation{
		s: s, conn: conn, formats: f,
		responder: realtime.NewResponder(conn.Send),
		toModel:   toModel, fromModel: fromModel,
		toolCalls: make(chan pendingCall, maxQueuedToolCalls),
		out:       newOutQueue(defaultOutQueueBytes),
		in:        newInQueue(defaultInQueueFrames),
		cancelled: make(map[string]bool),
	}, nil
}

func (c *conversation) run(ctx context.Context) error {
	if err := c.configure(ctx); err != nil {
		return err
	}
	c.lastAudio.Store(c.s.cfg.Now().UnixNano())
	loops := []func(context.Context) error{c.callerLoop, c.upstreamLoop, c.modelLoop, c.toolLoop, c.senderLoop}
	if d := c.s.cfg.Model.Keepalive; d > 0 {
		loops = append(loops, func(ctx context.Context) error { return c.conn.Keepalive(ctx, d) })
	}
	if d := c.s.cfg.Limits.IdleTimeout; d > 0 {
		loops = append(loops, func(ctx context.Context) error { return c.idleLoop(ctx, d) })
	}
	return runGroup(ctx, loops...)
}

// configure sends the session configuration and asks for the greeting.
func (c *conversation) configure(ctx context.Context) error {
	sess := sessionConfig(c.s.cfg, c.formats)
	if err := c.conn.Send(ctx, realtime.UpdateSession(sess)); err != nil {
		return fmt.Errorf("configure model session: %w", err)
	}
	return c.requestResponse(ctx)
}

func (c *conversation) requestResponse(ctx context.Context) error {
	return c.responder.RequestResponse(ctx)
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

// upstreamLoop sends queued caller audio to the model.
func (c *conversation) upstreamLoop(ctx context.Context) error {
	for {
		frame, err := c.in.next(ctx)
		if err != nil {
			return err
		}
		if err := c.conn.SendAudio(ctx, frame); err != nil {
			return fmt.Errorf("send audio to model: %w", err)
		}
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
			err = caller.SendAudio(ctx, item.data)
			c.s.tm.FramesSent.Inc()
		case outEnd:
			err = caller.EndAudio(ctx)
		case outClear:
			err = caller.ClearAudio(ctx)
		}
		if err != nil {
			return fmt.Errorf("send audio to caller: %w", err)
		}
	}
}

// modelLoop reads the model's events until the connection ends.
func (c *conversation) modelLoop(ctx context.Context) error {
	var pcm []byte
	for {
		ev, err := c.conn.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			if realtime.CloseStatus(err) == websocket.StatusMessageTooBig {
				// Tell the model why: the close frame carries 1009.
				c.conn.Close()
			}
			return &upstreamError{err}
		}
		if err := c.responder.Observe(ctx, &ev); err != nil {
			return fmt.Errorf("request response: %w", err)
		}
		switch ev.Type {
		case realtime.ServerResponseOutputAudioDelta:
			c.measureReply()
			pcm, err = c.forwardAudio(ev, pcm)
		case realtime.ServerInputAudioBufferSpeechStopped:
			c.speechStopped = c.s.cfg.Now()
		case realtime.ServerResponseDone:
			err = c.responseDone(ctx, ev)
		case realtime.ServerInputAudioBufferSpeechStarted:
			c.interrupted()
		case realtime.ServerResponseOutputAudioTranscriptDone:
			c.transcript(ctx, "assistant", ev.Transcript)
		case realtime.ServerConversationItemInputAudioTranscriptionCompleted:
			c.transcript(ctx, "caller", ev.Transcript)
		case realtime.ServerResponseFunctionCallArgumentsDone:
			err = c.queueToolCall(ctx, ev)
		case realtime.ServerError:
			err = c.modelError(ev)
		}
		if err != nil {
			return err
		}
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

func (c *conversation) forwardAudio(ev realtime.ServerEvent, buf []byte) ([]byte, error) {
	if c.isCancelled(ev.ResponseID) {
		c.s.tm.Dropped(monitor.DropCancelledResponse).Inc()
		return buf, nil
	}
	raw, err := base64.StdEncoding.AppendDecode(buf[:0], []byte(ev.Delta))
	if err != nil {
		c.s.log.Warn("model sent audio that is not base64; dropped", "response_id", ev.ResponseID, "err", err)
		return buf, nil
	}
	if c.out.pushAudio(c.fromModel.Convert(nil, raw)) {
		c.s.tm.Dropped(monitor.DropQueueFull).Inc()
	}
	return raw, nil
}

// responseDone ends a response's audio, or discards it when the response was
// cancelled, and lets the tool loop ask for the next response.
func (c *conversation) responseDone(ctx context.Context, ev realtime.ServerEvent) error {
	if ev.Response == nil {
		return nil
	}
	id := ev.Response.ID
	if ev.Response.Status == "cancelled" || c.isCancelled(id) {
		c.markCancelled(id)
		c.out.clear()
	} else {
		c.out.pushEnd()
	}
	calls := 0
	for _, item := range ev.Response.Output {
		if item.Type == "function_call" {
			calls++
		}
	}
	if c.turn.responseDone(id, calls) {
		return c.requestResponse(ctx)
	}
	return nil
}

// interrupted drops assistant audio the caller has not heard once the caller starts
// speaking; the model cancels its own response when its turn detection interrupts.
func (c *conversation) interrupted() {
	if _, active := c.responder.Active(); active || c.out.busy() {
		c.out.clear()
	}
}

func (c *conversation) transcript(ctx context.Context, role, text string) {
	if text == "" {
		return
	}
	turn := Turn{Role: role, Text: text, At: c.s.cfg.Now()}
	c.s.record.addTurn(turn)
	if err := c.s.cfg.Caller.Notify(ctx, Notice{Kind: NoticeTranscript, Turn: turn}); err != nil {
		c.s.log.Debug("send transcript", "err", err)
	}
}

func (c *conversation) modelError(ev realtime.ServerEvent) error {
	err := ev.Err()
	if realtime.IsFatal(err) {
		c.s.cfg.Metrics.UpstreamFailure(monitor.UpstreamServerError)
		return fmt.Errorf("model: %w", err)
	}
	var rerr *realtime.Error
	if errors.As(err, &rerr) {
		c.s.cfg.Metrics.ModelError(cmp.Or(rerr.Code, rerr.Type))
		c.s.log.Warn("model rejected an event", "code", rerr.Code, "event_id", rerr.EventID, "message", rerr.Message)
	}
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cancelled) >= 16 {
		clear(c.cancelled)
	}
	c.cancelled[responseID] = true
}
