package voicecall

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// browserPath is the gateway's browser voice WebSocket.
const browserPath = "/voice-stream"

// browserRate is the PCM16 rate the caller asks for in both directions.
const browserRate = 16000

// Browser protocol event types used by the caller.
const (
	browserSessionStart   = "session.start"
	browserSessionStarted = "session.started"
	browserSessionStop    = "session.stop"
	browserAudio          = "audio"
	browserAudioDone      = "audio.done"
	browserAudioClear     = "audio.clear"
	browserTranscript     = "transcript"
	browserToolCalled     = "tool.called"
	browserCartUpdated    = "cart.updated"
	browserOrderSubmitted = "order.submitted"
	browserError          = "error"
)

// browserFormat is the audio format in session.start and session.started.
type browserFormat struct {
	Format string `json:"format"`
	Rate   int    `json:"rate"`
}

// browserClientMessage is one message the caller sends.
type browserClientMessage struct {
	Type   string         `json:"type"`
	Format *browserFormat `json:"format,omitempty"`
	Audio  string         `json:"audio,omitempty"`
}

// browserServerMessage is one message from the gateway. Cart, order and tool stay
// raw JSON, because the caller reports them as the gateway sent them.
type browserServerMessage struct {
	Type      string          `json:"type"`
	SessionID string          `json:"session_id"`
	Format    *browserFormat  `json:"format"`
	Audio     string          `json:"audio"`
	Role      string          `json:"role"`
	Text      string          `json:"text"`
	Final     bool            `json:"final"`
	Cart      json.RawMessage `json:"cart"`
	Order     json.RawMessage `json:"order"`
	Tool      *ToolCall       `json:"tool"`
	Code      string          `json:"code"`
	Message   string          `json:"message"`
}

// browserCall is one call over the browser voice WebSocket.
type browserCall struct {
	o         *Options
	conn      *websocket.Conn
	tr        *tracker
	sink      *audioSink
	sessionID string
	hangingUp atomic.Bool

	// Owned by the reader until it returns.
	result Result
	pcm    []byte
}

func callBrowser(ctx context.Context, o *Options, client *http.Client) (*Result, error) {
	format := audio.Format{Encoding: audio.PCM16, Rate: browserRate}
	utterances, err := prepareTurns(ctx, o.Turns, format)
	if err != nil {
		return nil, err
	}
	sink, err := createAudioSink(o.SaveAudio, browserRate)
	if err != nil {
		return nil, err
	}
	conn, err := dialBrowser(ctx, o.Server, client)
	if err != nil {
		return nil, errors.Join(err, sink.close())
	}
	defer conn.CloseNow()

	b := &browserCall{o: o, conn: conn, tr: newTracker(o, true), sink: sink}
	if err := b.start(ctx); err != nil {
		return nil, errors.Join(err, sink.close())
	}
	o.Logger.Info("call connected", "transport", TransportBrowser, "session_id", b.sessionID)

	s := newSpeaker(o, b.tr, format, b.sendAudio)
	err = b.run(ctx, s, utterances)
	err = errors.Join(err, sink.close())
	b.result.Latencies = s.latencies
	b.result.CallID = b.sessionID
	return &b.result, err
}

func dialBrowser(ctx context.Context, server string, client *http.Client) (*websocket.Conn, error) {
	u, err := webSocketURL(server, browserPath)
	if err != nil {
		return nil, err
	}
	dialCtx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(dialCtx, u, &websocket.DialOptions{HTTPClient: client}) // Dial owns the response body
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	conn.SetReadLimit(maxMessageBytes)
	return conn, nil
}

// start sends session.start and waits for session.started.
func (b *browserCall) start(ctx context.Context) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	want := browserFormat{Format: "pcm16", Rate: browserRate}
	if err := b.write(ctx, browserClientMessage{Type: browserSessionStart, Format: &want}); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	for {
		m, err := b.read(ctx)
		switch {
		case parent.Err() != nil:
			return context.Cause(parent)
		case ctx.Err() != nil:
			return fmt.Errorf("start session: no session.started from the gateway within %s", dialTimeout)
		case err != nil:
			return fmt.Errorf("start session: %w", readEnd(ctx, err, false))
		}
		switch m.Type {
		case browserSessionStarted:
			if m.Format != nil && *m.Format != want {
				return fmt.Errorf("start session: the gateway chose %s at %d Hz, want %s at %d Hz", m.Format.Format, m.Format.Rate, want.Format, want.Rate)
			}
			b.sessionID = m.SessionID
			return nil
		case browserError:
			return fmt.Errorf("start session: the gateway rejected it: %s (%s)", m.Message, m.Code)
		}
	}
}

// run reads events and speaks in one errgroup, then hangs up.
func (b *browserCall) run(ctx context.Context, s *speaker, utterances []utterance) error {
	g, gctx := errgroup.WithContext(ctx)
	closed := make(chan struct{})
	// The reader's error says why the gateway ended the call; the speaker, woken by
	// closed, would only report that it ended, and may return first.
	var readErr error
	g.Go(func() error {
		defer close(closed)
		readErr = b.readLoop(gctx)
		return readErr
	})
	g.Go(func() error {
		err := s.converse(gctx, utterances, closed)
		b.hangUp(gctx, closed)
		return err
	})
	err := g.Wait()
	if readErr != nil {
		return readErr
	}
	return err
}

// hangUp sends session.stop, waits for the gateway to close the socket and closes it
// from this side if the gateway does not. A failure here is only logged: the
// conversation is over either way, and the gateway treats a dropped socket as a hang-up.
func (b *browserCall) hangUp(ctx context.Context, closed <-chan struct{}) {
	b.hangingUp.Store(true)
	select {
	case <-closed:
		return
	default:
	}
	if ctx.Err() != nil {
		return // the reader's cancelled Read has closed the socket
	}
	if err := b.write(ctx, browserClientMessage{Type: browserSessionStop}); err != nil {
		b.o.Logger.Debug("send session.stop", "err", err)
	} else if waitClosed(ctx, closed) {
		return
	}
	if err := b.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		b.o.Logger.Debug("close browser socket", "err", err)
	}
}

func (b *browserCall) sendAudio(ctx context.Context, frame []byte) error {
	return b.write(ctx, browserClientMessage{Type: browserAudio, Audio: base64.StdEncoding.EncodeToString(frame)})
}

func (b *browserCall) write(ctx context.Context, m browserClientMessage) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.Type, err)
	}
	return writeMessage(ctx, b.conn, data)
}

// read returns the next message, skipping binary and malformed ones.
func (b *browserCall) read(ctx context.Context) (browserServerMessage, error) {
	for {
		typ, data, err := b.conn.Read(ctx)
		if err != nil {
			return browserServerMessage{}, err
		}
		var m browserServerMessage
		if typ != websocket.MessageText {
			b.o.Logger.Warn("skipped a binary message from the gateway", "bytes", len(data))
			continue
		}
		if err := json.Unmarshal(data, &m); err != nil {
			b.o.Logger.Warn("skipped a message from the gateway that is not valid JSON", "err", err, "bytes", len(data))
			continue
		}
		return m, nil
	}
}

// readLoop handles the gateway's events until the socket closes.
func (b *browserCall) readLoop(ctx context.Context) error {
	for {
		m, err := b.read(ctx)
		if err != nil {
			return readEnd(ctx, err, b.hangingUp.Load())
		}
		if err := b.handle(m, time.Now()); err != nil {
			return err
		}
	}
}

func (b *browserCall) handle(m browserServerMessage, now time.Time) error {
	switch m.Type {
	case browserAudio:
		return b.audio(m, now)
	case browserAudioDone:
		b.tr.responseEnd(now)
	case browserAudioClear:
		b.tr.cleared(now)
	case browserTranscript:
		b.transcript(m, now)
	case browserToolCalled:
		if m.Tool != nil {
			b.result.ToolCalls = append(b.result.ToolCalls, *m.Tool)
			printLine(b.o.Out, formatToolCall(*m.Tool))
		}
		b.tr.event(now)
	case browserCartUpdated:
		b.result.Cart = nilIfNull(m.Cart)
		b.tr.event(now)
	case browserOrderSubmitted:
		b.result.Order = nilIfNull(m.Order)
		b.tr.event(now)
	case browserError:
		b.o.Logger.Warn("gateway reported an error", "code", m.Code, "message", m.Message)
		printLine(b.o.Out, fmt.Sprintf("gateway error: %s (%s)", m.Message, m.Code))
		b.tr.event(now)
	default:
		b.o.Logger.Debug("skipped a gateway event", "type", m.Type)
	}
	return nil
}

func (b *browserCall) audio(m browserServerMessage, now time.Time) error {
	var err error
	b.pcm, err = base64.StdEncoding.AppendDecode(b.pcm[:0], []byte(m.Audio))
	if err != nil {
		b.o.Logger.Warn("skipped assistant audio that is not base64", "err", err)
		return nil
	}
	if err := b.sink.writePCM16(b.pcm); err != nil {
		return err
	}
	b.tr.audio(now, pcmDuration(len(b.pcm), browserRate))
	return nil
}

// transcript records a final transcript. Partial ones only restart the quiet period.
func (b *browserCall) transcript(m browserServerMessage, now time.Time) {
	if !m.Final || m.Text == "" {
		b.tr.event(now)
		return
	}
	t := SpokenTurn{Role: m.Role, Text: m.Text}
	b.result.Turns = append(b.result.Turns, t)
	printLine(b.o.Out, formatTurn(t))
	if m.Role == RoleAssistant {
		b.tr.assistantTranscript(now)
		return
	}
	b.tr.event(now)
}

// pcmDuration returns the length of n bytes of PCM16 at rate Hz.
func pcmDuration(n, rate int) time.Duration {
	return time.Duration(int64(n/2) * int64(time.Second) / int64(rate))
}
