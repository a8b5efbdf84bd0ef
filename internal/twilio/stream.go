package twilio

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/session"
)

const (
	// startTimeout bounds the wait for the start message after the upgrade.
	startTimeout = 10 * time.Second
	// maxMessageBytes bounds one Media Streams message; Twilio sends 20 ms frames.
	maxMessageBytes = 256 << 10
	// writeTimeout bounds one write to Twilio.
	writeTimeout = 10 * time.Second
)

// mulaw8k is the only format Media Streams carries.
var mulaw8k = audio.Format{Encoding: audio.Mulaw, Rate: 8000}

// StreamHandler serves the Media Streams WebSocket that the TwiML connects to.
type StreamHandler struct {
	Starter *session.Starter
	// Metrics counts dropped frames and stale marks; nil counts nothing.
	Metrics *monitor.Metrics
	// Apology is spoken to a caller when the speech model cannot be reached; nil
	// ends such a call without a word.
	Apology *Apology
	Logger  *slog.Logger
}

func (h *StreamHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Twilio does not send an Origin header, so the origin check has nothing to do.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		h.Logger.Debug("media stream upgrade failed", "err", err)
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(maxMessageBytes)

	ctx := r.Context()
	c := &Caller{
		ws: ws, log: h.Logger, conn: ctx, apology: h.Apology,
		tm: h.Metrics.Transport("twilio"), play: newPlayback(time.Now),
	}
	c.closer = session.NewSocketCloser(func(code int, reason string) { ws.Close(websocket.StatusCode(code), reason) })
	start, err := c.awaitStart(ctx)
	if err != nil {
		h.Logger.Warn("media stream ended before start", "err", err)
		return
	}
	c.log = h.Logger.With("call_sid", start.CallSID, "stream_sid", start.StreamSID)

	err = h.Starter.Run(ctx, session.Params{Transport: "twilio", CallSID: start.CallSID, Caller: c})
	c.closer.Finish(err)
}

// Caller adapts a Media Streams socket to session.Caller and session.Player.
//
// Outbound audio is re-framed into whole 160-byte frames, paced at no more than twice
// real time, and followed every 300 ms and at the end of each response by a mark whose
// name carries the playback generation, the assistant item and a sequence number.
// Twilio echoes a mark once the audio before it has played, which tells the position
// the caller heard. A barge-in starts a new generation and sends one clear; marks of
// older generations are dropped when they are echoed. The last partial frame of an
// answer is padded with μ-law silence.
//
// Inbound audio is returned as Twilio sends it, with gaps in media.timestamp filled
// with μ-law silence, at most a second per gap.
type Caller struct {
	ws        *websocket.Conn
	log       *slog.Logger
	streamSID string
	buf       []byte
	gaps      gapFiller
	// conn is the connection's context, used for reads; see session.SocketCloser.
	conn    context.Context
	closer  *session.SocketCloser
	tm      *monitor.TransportMetrics
	apology *Apology
	play    *playback

	// Used by the one goroutine that sends audio.
	frames   []outFrame
	frameBuf []byte

	wmu     sync.Mutex // serializes writes and guards payload
	payload []byte
}

// awaitStart reads until the start message, skipping connected.
func (c *Caller) awaitStart(ctx context.Context) (*Start, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		m, err := c.read(ctx)
		if err != nil {
			return nil, err
		}
		switch m.Event {
		case EventConnected:
			continue
		case EventStart:
			if m.Start == nil {
				return nil, errors.New("start message without start details")
			}
			c.streamSID = m.Start.StreamSID
			if c.streamSID == "" {
				c.streamSID = m.StreamSID
			}
			return m.Start, nil
		case EventStop:
			return nil, session.ErrHangup
		}
	}
}

func (c *Caller) read(ctx context.Context) (Message, error) {
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return Message{}, hangup(err)
		}
		m, err := Decode(data)
		if err != nil {
			// A malformed frame is dropped; it never ends the call.
			c.log.Warn("dropped a malformed media stream message", "err", err, "bytes", len(data))
			continue
		}
		return m, nil
	}
}

func hangup(err error) error {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return session.ErrHangup
	case -1:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("%w: %v", session.ErrHangup, err)
	}
	return fmt.Errorf("read media stream: %w", err)
}

// Formats returns 8 kHz μ-law in both directions.
func (c *Caller) Formats() (in, out audio.Format) { return mulaw8k, mulaw8k }

// Receive returns the next media or dtmf event and ErrHangup on stop. Mark echoes
// update the playback position and are not returned.
func (c *Caller) Receive(ctx context.Context) (session.Inbound, error) {
	c.closer.Watch(ctx)
	for {
		m, err := c.read(c.conn)
		if err != nil {
			return session.Inbound{}, err
		}
		switch m.Event {
		case EventMedia:
			if m.Media == nil {
				continue
			}
			if in, ok := c.media(m.Media); ok {
				return in, nil
			}
		case EventMark:
			if m.Mark != nil && !c.play.ack(m.Mark.Name) {
				c.tm.Dropped(monitor.DropStaleMark).Inc()
			}
		case EventDTMF:
			if m.DTMF != nil {
				return session.Inbound{Kind: session.InboundDTMF, Digit: m.DTMF.Digit}, nil
			}
		case EventStop:
			return session.Inbound{}, session.ErrHangup
		}
	}
}

// media decodes one media message, after the silence that fills a gap before it.
func (c *Caller) media(m *Media) (session.Inbound, bool) {
	n := base64.StdEncoding.DecodedLen(len(m.Payload))
	c.buf = c.gaps.fill(c.buf[:0], m.Timestamp, n)
	gap := len(c.buf)
	var err error
	c.buf, err = base64.StdEncoding.AppendDecode(c.buf, []byte(m.Payload))
	if err != nil {
		c.log.Warn("dropped media with a payload that is not base64", "err", err)
		return session.Inbound{}, false
	}
	if gap > 0 {
		c.log.Debug("filled a gap in the caller's audio", "gap_ms", gap/bytesPerMS, "timestamp", m.Timestamp)
	}
	return session.Inbound{Kind: session.InboundAudio, Audio: c.buf}, true
}

// SendAudio sends chunk as audio of no particular item; see PlayAudio.
func (c *Caller) SendAudio(ctx context.Context, chunk []byte) error {
	return c.PlayAudio(ctx, c.play.generation(), "", chunk)
}

// EndAudio ends the current audio; see EndResponse.
func (c *Caller) EndAudio(ctx context.Context) error {
	return c.EndResponse(ctx, c.play.generation())
}

// Generation returns the current playback generation.
func (c *Caller) Generation() uint64 { return c.play.generation() }

// PlayAudio sends every whole frame of chunk, paced, with a mark after every 300 ms of
// audio, and keeps the remainder for the next call. It returns early, dropping the
// rest, once gen is no longer the current generation.
func (c *Caller) PlayAudio(ctx context.Context, gen uint64, item string, chunk []byte) error {
	if c.play.generation() != gen {
		c.tm.Dropped(monitor.DropCancelledResponse).Inc()
		return nil
	}
	c.frames, c.frameBuf = c.play.frame(gen, item, chunk, c.frames[:0], c.frameBuf[:0])
	return c.sendFrames(ctx, gen)
}

// EndResponse pads and sends the last partial frame of gen, then a mark that Twilio
// echoes once the response has played.
func (c *Caller) EndResponse(ctx context.Context, gen uint64) error {
	c.frames, c.frameBuf = c.play.flush(gen, c.frames[:0], c.frameBuf[:0])
	if err := c.sendFrames(ctx, gen); err != nil {
		return err
	}
	if name := c.play.endMark(gen); name != "" {
		return c.sendMark(ctx, name)
	}
	return nil
}

// sendFrames paces and sends c.frames while gen stays current.
func (c *Caller) sendFrames(ctx context.Context, gen uint64) error {
	var tick *time.Ticker
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	for i, f := range c.frames {
		for wait := c.play.paceWait(); wait > 0; wait = c.play.paceWait() {
			if tick == nil {
				tick = time.NewTicker(frameDuration / 2)
			}
			select {
			case <-tick.C:
			case <-c.play.wake:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if c.play.generation() != gen {
				c.tm.Dropped(monitor.DropCancelledResponse).Add(float64(len(c.frames) - i))
				return nil
			}
		}
		ok, clearFirst := c.play.admit(gen)
		if clearFirst {
			if err := c.sendClear(ctx); err != nil {
				return err
			}
		}
		if !ok {
			c.tm.Dropped(monitor.DropCancelledResponse).Add(float64(len(c.frames) - i))
			return nil
		}
		if err := c.sendMedia(ctx, f.data); err != nil {
			return err
		}
		if name := c.play.sentFrame(gen, f); name != "" {
			if err := c.sendMark(ctx, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// ClearAudio sends the clear that Interrupt left pending, unless audio of the new
// generation has already sent it. Otherwise it sends nothing, so one barge-in sends
// one clear. Call Interrupt first, because ClearAudio alone discards nothing.
func (c *Caller) ClearAudio(ctx context.Context) error {
	if !c.play.takeClear() {
		return nil
	}
	return c.sendClear(ctx)
}

// Interrupt starts a new playback generation; see session.Player.
func (c *Caller) Interrupt() (playing bool, items []session.ItemPlayback) {
	return c.play.interrupt()
}

// Playing reports whether audio was sent that Twilio has not confirmed played.
func (c *Caller) Playing() bool { return c.play.playing() }

// AwaitPlayed blocks until Twilio confirmed all audio sent as played, or ctx ends.
func (c *Caller) AwaitPlayed(ctx context.Context) error {
	for {
		done, changed := c.play.settled()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Notify speaks the apology for a notice that the model is unavailable, after any
// audio still queued. A phone has no channel for other conversation events. The
// session sends it from its audio sender, like all audio.
func (c *Caller) Notify(ctx context.Context, n session.Notice) error {
	if n.Kind != session.NoticeError || n.Code != session.CodeModelUnavailable || c.apology == nil {
		return nil
	}
	clip := c.apology.Audio(ctx)
	if len(clip) == 0 {
		return nil
	}
	gen := c.play.generation()
	if err := c.PlayAudio(ctx, gen, "apology", clip); err != nil {
		return err
	}
	return c.EndResponse(ctx, gen)
}

func (c *Caller) sendClear(ctx context.Context) error {
	return c.send(ctx, Message{Event: EventClear, StreamSID: c.streamSID})
}

func (c *Caller) sendMark(ctx context.Context, name string) error {
	return c.send(ctx, Message{Event: EventMark, StreamSID: c.streamSID, Mark: &Mark{Name: name}})
}

func (c *Caller) sendMedia(ctx context.Context, frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.payload = base64.StdEncoding.AppendEncode(c.payload[:0], frame)
	return c.sendLocked(ctx, Message{Event: EventMedia, StreamSID: c.streamSID, Media: &Media{Payload: string(c.payload)}})
}

func (c *Caller) send(ctx context.Context, m Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.sendLocked(ctx, m)
}

// sendLocked writes one message. The write is bounded by writeTimeout on the
// connection's context, not by ctx: a write cancelled through its context drops the
// connection without a close frame, and the conversation's context ends exactly when
// the closer is about to send one.
func (c *Caller) sendLocked(_ context.Context, m Message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Event, err)
	}
	ctx, cancel := context.WithTimeout(c.conn, writeTimeout)
	defer cancel()
	return session.CallerGone(c.ws.Write(ctx, websocket.MessageText, data))
}
