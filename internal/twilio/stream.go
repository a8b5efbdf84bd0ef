package twilio

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"
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
	c := &Caller{ws: ws, log: h.Logger, framer: audio.NewFramer(FrameSize), conn: ctx}
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

// Caller adapts a Media Streams socket to session.Caller. Outbound audio is re-framed
// into whole 160-byte frames; the last partial frame of a response is padded with
// μ-law silence.
type Caller struct {
	ws        *websocket.Conn
	log       *slog.Logger
	streamSID string
	buf       []byte
	// conn is the connection's context, used for reads; see session.SocketCloser.
	conn   context.Context
	closer *session.SocketCloser

	mu      sync.Mutex // guards framer and marks; held across a response's frames
	framer  *audio.Framer
	marks   int
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

// Receive returns the next media, mark or dtmf event and ErrHangup on stop.
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
			c.buf, err = base64.StdEncoding.AppendDecode(c.buf[:0], []byte(m.Media.Payload))
			if err != nil {
				c.log.Warn("dropped media with a payload that is not base64", "err", err)
				continue
			}
			return session.Inbound{Kind: session.InboundAudio, Audio: c.buf}, nil
		case EventMark:
			if m.Mark != nil {
				return session.Inbound{Kind: session.InboundMark, Mark: m.Mark.Name}, nil
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

// SendAudio sends every whole frame of chunk and keeps the remainder for the next call.
func (c *Caller) SendAudio(ctx context.Context, chunk []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for frame := range c.framer.Frames(chunk) {
		if err := c.sendMedia(ctx, frame); err != nil {
			return err
		}
	}
	return nil
}

// EndAudio pads and sends the last partial frame, then a mark that Twilio echoes once
// the response has played.
func (c *Caller) EndAudio(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if last := c.framer.Flush(audio.MulawSilence); last != nil {
		if err := c.sendMedia(ctx, last); err != nil {
			return err
		}
	}
	c.marks++
	return c.send(ctx, Message{Event: EventMark, StreamSID: c.streamSID, Mark: &Mark{Name: "response-" + strconv.Itoa(c.marks)}})
}

// ClearAudio drops the partial frame and asks Twilio to drop what it has buffered.
func (c *Caller) ClearAudio(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.framer.Reset()
	return c.send(ctx, Message{Event: EventClear, StreamSID: c.streamSID})
}

// Notify does nothing: a phone has no channel for conversation events.
func (c *Caller) Notify(context.Context, session.Notice) error { return nil }

func (c *Caller) sendMedia(ctx context.Context, frame []byte) error {
	c.payload = base64.StdEncoding.AppendEncode(c.payload[:0], frame)
	return c.send(ctx, Message{Event: EventMedia, StreamSID: c.streamSID, Media: &Media{Payload: string(c.payload)}})
}

func (c *Caller) send(ctx context.Context, m Message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Event, err)
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return session.CallerGone(c.ws.Write(ctx, websocket.MessageText, data))
}
