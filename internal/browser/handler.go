package browser

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/session"
)

const (
	// startTimeout bounds the wait for session.start after the upgrade.
	startTimeout = 10 * time.Second
	// maxMessageBytes bounds one browser message: a second of 24 kHz audio in base64
	// is 64 KiB, so 1 MiB leaves room without letting one message pin memory.
	maxMessageBytes = 1 << 20
	// writeTimeout bounds one write to the browser; a page that stops reading ends
	// its own conversation instead of holding it forever.
	writeTimeout = 10 * time.Second
)

// Handler serves the browser voice WebSocket.
type Handler struct {
	Starter      *session.Starter
	RestaurantID string
	// Busy, when set and true, makes the handler close new sockets with 1013 (try
	// again later) before reading anything.
	Busy   func() bool
	Logger *slog.Logger
	// OriginPatterns lists the hosts allowed to open the socket from a page on another
	// origin; empty allows same-origin pages only.
	OriginPatterns []string
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.OriginPatterns})
	if err != nil {
		h.Logger.Debug("browser upgrade failed", "err", err)
		return
	}
	defer ws.CloseNow()
	if h.Busy != nil && h.Busy() {
		ws.Close(websocket.StatusTryAgainLater, "too many conversations; try again later")
		return
	}
	ws.SetReadLimit(maxMessageBytes)

	ctx := r.Context()
	c := &caller{ws: ws, log: h.Logger, conn: ctx}
	c.closer = session.NewSocketCloser(func(code int, reason string) { ws.Close(websocket.StatusCode(code), reason) })
	start, err := c.readStart(ctx, h.RestaurantID)
	if err != nil {
		var pe *protocolError
		if errors.As(err, &pe) {
			c.sendError(ctx, pe.code, pe.message)
			ws.Close(websocket.StatusPolicyViolation, pe.code)
		}
		return
	}
	c.format = audio.Format{Encoding: audio.PCM16, Rate: start.Rate}

	err = h.Starter.Run(ctx, session.Params{
		Transport: "browser",
		Caller:    c,
		Ready: func(id string) {
			c.write(ctx, ServerMessage{Type: TypeSessionStarted, SessionID: id, Restaurant: h.RestaurantID, Format: &start})
		},
	})
	c.closer.Finish(err)
}

type protocolError struct{ code, message string }

func (e *protocolError) Error() string { return e.code + ": " + e.message }

// caller adapts the browser socket to session.Caller.
type caller struct {
	ws     *websocket.Conn
	log    *slog.Logger
	format audio.Format
	buf    []byte
	// conn is the connection's context, used for reads; see session.SocketCloser.
	conn   context.Context
	closer *session.SocketCloser
}

func (c *caller) readStart(ctx context.Context, restaurantID string) (AudioFormat, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	msg, err := c.read(ctx)
	if err != nil {
		return AudioFormat{}, err
	}
	if msg.Type != TypeSessionStart {
		return AudioFormat{}, &protocolError{"session_not_started", fmt.Sprintf("the first message must be session.start, got %q", msg.Type)}
	}
	if msg.Restaurant != "" && msg.Restaurant != restaurantID {
		return AudioFormat{}, &protocolError{"unknown_restaurant", fmt.Sprintf("unknown restaurant %q; this gateway serves %q", msg.Restaurant, restaurantID)}
	}
	f := AudioFormat{Format: FormatPCM16, Rate: 16000}
	if msg.Format != nil {
		f = *msg.Format
	}
	if f.Format != FormatPCM16 || (f.Rate != 16000 && f.Rate != 24000) {
		return AudioFormat{}, &protocolError{"unsupported_format", fmt.Sprintf("unsupported audio format %s at %d Hz; use pcm16 at 16000 or 24000 Hz", f.Format, f.Rate)}
	}
	return f, nil
}

func (c *caller) read(ctx context.Context) (ClientMessage, error) {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return ClientMessage{}, err
	}
	var msg ClientMessage
	if typ != websocket.MessageText {
		return msg, &protocolError{"invalid_message", "send JSON text messages, not binary"}
	}
	if err := json.Unmarshal(data, &msg); err != nil {
		return msg, &protocolError{"invalid_message", "message is not valid JSON: " + err.Error()}
	}
	return msg, nil
}

func (c *caller) Formats() (in, out audio.Format) { return c.format, c.format }

// Receive returns the next audio chunk. A malformed message is answered with an error
// event and skipped: it never ends the conversation.
func (c *caller) Receive(ctx context.Context) (session.Inbound, error) {
	c.closer.Watch(ctx)
	for {
		msg, err := c.read(c.conn)
		var pe *protocolError
		switch {
		case errors.As(err, &pe):
			c.sendError(ctx, pe.code, pe.message)
			continue
		case err != nil:
			return session.Inbound{}, hangup(err)
		}
		switch msg.Type {
		case TypeAudio:
			c.buf, err = base64.StdEncoding.AppendDecode(c.buf[:0], []byte(msg.Audio))
			if err != nil || len(c.buf)%2 != 0 {
				c.sendError(ctx, "invalid_audio", "audio must be base64 of little-endian PCM16 samples")
				continue
			}
			return session.Inbound{Kind: session.InboundAudio, Audio: c.buf}, nil
		case TypeSessionStop:
			return session.Inbound{}, session.ErrHangup
		default:
			c.sendError(ctx, "unknown_event", fmt.Sprintf("unknown event type %q; send audio or session.stop", msg.Type))
		}
	}
}

// hangup turns a normal close or a dropped connection into session.ErrHangup.
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
	return fmt.Errorf("read browser message: %w", err)
}

func (c *caller) SendAudio(ctx context.Context, chunk []byte) error {
	return c.write(ctx, ServerMessage{Type: TypeAudio, Audio: base64.StdEncoding.EncodeToString(chunk)})
}

func (c *caller) EndAudio(ctx context.Context) error {
	return c.write(ctx, ServerMessage{Type: TypeAudioDone})
}

func (c *caller) ClearAudio(ctx context.Context) error {
	return c.write(ctx, ServerMessage{Type: TypeAudioClear})
}

func (c *caller) Notify(ctx context.Context, n session.Notice) error {
	switch n.Kind {
	case session.NoticeTranscript:
		return c.write(ctx, ServerMessage{Type: TypeTranscript, Role: n.Turn.Role, Text: n.Turn.Text, Final: true})
	case session.NoticeCart:
		return c.write(ctx, ServerMessage{Type: TypeCartUpdated, Cart: n.Cart})
	case session.NoticeOrder:
		return c.write(ctx, ServerMessage{Type: TypeOrderSubmitted, Order: n.Order})
	case session.NoticeTool:
		return c.write(ctx, ServerMessage{Type: TypeToolCalled, Tool: n.Tool})
	case session.NoticeError:
		return c.write(ctx, ServerMessage{Type: TypeError, Code: n.Code, Message: n.Message})
	}
	return nil
}

func (c *caller) sendError(ctx context.Context, code, message string) {
	if err := c.write(ctx, ServerMessage{Type: TypeError, Code: code, Message: message}); err != nil {
		c.log.Debug("send error event", "err", err)
	}
}

// write sends one event. coder/websocket serializes concurrent writers. The write is
// bounded by writeTimeout on the connection's context, not by ctx: a write cancelled
// through its context drops the connection without a close frame, and the
// conversation's context ends exactly when the closer is about to send one.
func (c *caller) write(_ context.Context, m ServerMessage) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", m.Type, err)
	}
	ctx, cancel := context.WithTimeout(c.conn, writeTimeout)
	defer cancel()
	return session.CallerGone(c.ws.Write(ctx, websocket.MessageText, data))
}
