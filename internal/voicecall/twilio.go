package voicecall

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// twilioRate is the sample rate of Media Streams audio, 8-bit μ-law in both
// directions.
const twilioRate = 8000

// Media Streams event names.
const (
	twilioConnected = "connected"
	twilioStart     = "start"
	twilioMedia     = "media"
	twilioMark      = "mark"
	twilioClear     = "clear"
	twilioStop      = "stop"
)

// twilioMessage is one Media Streams message in either direction, with the fields
// Twilio sends; only those of its Event are set.
type twilioMessage struct {
	Event          string           `json:"event"`
	SequenceNumber string           `json:"sequenceNumber,omitempty"`
	StreamSID      string           `json:"streamSid,omitempty"`
	Protocol       string           `json:"protocol,omitempty"`
	Version        string           `json:"version,omitempty"`
	Start          *twilioStartInfo `json:"start,omitempty"`
	Media          *twilioMediaInfo `json:"media,omitempty"`
	Mark           *twilioMarkInfo  `json:"mark,omitempty"`
	Stop           *twilioStopInfo  `json:"stop,omitempty"`
}

type twilioStartInfo struct {
	StreamSID        string            `json:"streamSid"`
	AccountSID       string            `json:"accountSid"`
	CallSID          string            `json:"callSid"`
	Tracks           []string          `json:"tracks"`
	CustomParameters map[string]string `json:"customParameters"`
	MediaFormat      twilioMediaFormat `json:"mediaFormat"`
}

type twilioMediaFormat struct {
	Encoding   string `json:"encoding"`
	SampleRate int    `json:"sampleRate"`
	Channels   int    `json:"channels"`
}

type twilioMediaInfo struct {
	Track     string `json:"track,omitempty"`
	Chunk     string `json:"chunk,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
	Payload   string `json:"payload"`
}

type twilioMarkInfo struct {
	Name string `json:"name"`
}

type twilioStopInfo struct {
	AccountSID string `json:"accountSid"`
	CallSID    string `json:"callSid"`
}

// twilioIDs are the identifiers Twilio would assign to one call.
type twilioIDs struct {
	account, call, stream string
}

func newTwilioIDs() twilioIDs {
	return twilioIDs{account: "AC" + randomHex(16), call: "CA" + randomHex(16), stream: "MZ" + randomHex(16)}
}

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b)
}

// twilioCall is one call over the Twilio webhook and Media Streams, with this side
// acting as Twilio.
type twilioCall struct {
	o         *Options
	ids       twilioIDs
	conn      *websocket.Conn
	tr        *tracker
	sink      *audioSink
	marks     *marker
	startedAt time.Time
	hangingUp atomic.Bool

	// writeMu makes numbering and sending one step, so sequence numbers go out in
	// order although the speaker and the marker both send.
	writeMu  sync.Mutex
	sequence int64

	// Owned by the speaker.
	chunk   int64
	payload []byte

	// Owned by the reader.
	mulaw []byte
}

func callTwilio(ctx context.Context, o *Options, client *http.Client) (*Result, error) {
	format := audio.Format{Encoding: audio.Mulaw, Rate: twilioRate}
	utterances, err := prepareTurns(ctx, o.Turns, format)
	if err != nil {
		return nil, err
	}
	sink, err := createAudioSink(o.SaveAudio, twilioRate)
	if err != nil {
		return nil, err
	}
	t := &twilioCall{o: o, ids: newTwilioIDs(), tr: newTracker(o, false), sink: sink}
	conn, params, err := t.connect(ctx, client)
	if err != nil {
		return nil, errors.Join(err, sink.close())
	}
	defer conn.CloseNow()
	t.conn = conn
	t.marks = newMarker(t.echoMark, o.Logger)
	if err := t.start(ctx, params); err != nil {
		return nil, errors.Join(err, sink.close())
	}
	o.Logger.Info("call connected", "transport", TransportTwilio, "call_sid", t.ids.call)

	s := newSpeaker(o, t.tr, format, t.sendMedia)
	err = errors.Join(t.run(ctx, s, utterances), sink.close())
	result := &Result{Latencies: s.latencies, CallID: t.ids.call}
	if ctx.Err() != nil {
		return result, err
	}
	rec, rerr := fetchRecord(ctx, client, o.Server, t.ids.call, o.Logger)
	if rerr != nil {
		return result, errors.Join(err, rerr)
	}
	rec.fill(result)
	rec.print(o.Out)
	return result, err
}

// connect places the call through the webhook and dials the stream its TwiML names.
func (t *twilioCall) connect(ctx context.Context, client *http.Client) (*websocket.Conn, map[string]string, error) {
	stream, err := postIncomingCall(ctx, client, t.o.Server, t.ids)
	if err != nil {
		return nil, nil, err
	}
	u, err := streamDialURL(t.o.Server, stream.URL)
	if err != nil {
		return nil, nil, err
	}
	dialCtx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(dialCtx, u, &websocket.DialOptions{HTTPClient: client}) // Dial owns the response body
	if err != nil {
		return nil, nil, fmt.Errorf("dial media stream %s: %w", u, err)
	}
	conn.SetReadLimit(maxMessageBytes)
	return conn, stream.parameters(), nil
}

// start sends connected and start as Twilio does when the stream opens.
func (t *twilioCall) start(ctx context.Context, params map[string]string) error {
	if err := t.write(ctx, twilioMessage{Event: twilioConnected, Protocol: "Call", Version: "1.0.0"}); err != nil {
		return fmt.Errorf("start media stream: %w", err)
	}
	t.startedAt = time.Now()
	err := t.write(ctx, twilioMessage{
		Event:     twilioStart,
		StreamSID: t.ids.stream,
		Start: &twilioStartInfo{
			StreamSID:        t.ids.stream,
			AccountSID:       t.ids.account,
			CallSID:          t.ids.call,
			Tracks:           []string{"inbound"},
			CustomParameters: params,
			MediaFormat:      twilioMediaFormat{Encoding: "audio/x-mulaw", SampleRate: twilioRate, Channels: 1},
		},
	})
	if err != nil {
		return fmt.Errorf("start media stream: %w", err)
	}
	return nil
}

// run reads events, echoes marks and speaks in one errgroup, then hangs up.
func (t *twilioCall) run(ctx context.Context, s *speaker, utterances []utterance) error {
	g, gctx := errgroup.WithContext(ctx)
	closed := make(chan struct{})
	// The reader's error says why the gateway ended the call; the speaker, woken by
	// closed, would only report that it ended, and may return first.
	var readErr error
	g.Go(func() error {
		defer close(closed)
		readErr = t.readLoop(gctx)
		return readErr
	})
	g.Go(func() error { return t.marks.run(gctx, closed) })
	g.Go(func() error {
		err := s.converse(gctx, utterances, closed)
		t.hangUp(gctx, closed)
		return err
	})
	err := g.Wait()
	if readErr != nil {
		return readErr
	}
	return err
}

// hangUp sends stop, as Twilio does when the caller hangs up, waits for the gateway
// to close the socket and closes it from this side if the gateway does not. A
// failure here is only logged: the conversation is over either way.
func (t *twilioCall) hangUp(ctx context.Context, closed <-chan struct{}) {
	t.hangingUp.Store(true)
	select {
	case <-closed:
		return
	default:
	}
	if ctx.Err() != nil {
		return // the reader's cancelled Read has closed the socket
	}
	stop := twilioMessage{
		Event:     twilioStop,
		StreamSID: t.ids.stream,
		Stop:      &twilioStopInfo{AccountSID: t.ids.account, CallSID: t.ids.call},
	}
	if err := t.write(ctx, stop); err != nil {
		t.o.Logger.Debug("send stop", "err", err)
	} else if waitClosed(ctx, closed) {
		return
	}
	if err := t.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.o.Logger.Debug("close media stream", "err", err)
	}
}

// sendMedia sends one 20 ms frame with Twilio's numbering: chunk counts media
// messages from 1 and timestamp is the stream time in milliseconds, which runs at
// Speed times the wall clock.
func (t *twilioCall) sendMedia(ctx context.Context, frame []byte) error {
	t.chunk++
	streamTime := time.Duration(float64(time.Since(t.startedAt)) * t.o.Speed)
	t.payload = base64.StdEncoding.AppendEncode(t.payload[:0], frame)
	return t.write(ctx, twilioMessage{
		Event:     twilioMedia,
		StreamSID: t.ids.stream,
		Media: &twilioMediaInfo{
			Track:     "inbound",
			Chunk:     strconv.FormatInt(t.chunk, 10),
			Timestamp: strconv.FormatInt(streamTime.Milliseconds(), 10),
			Payload:   string(t.payload),
		},
	})
}

// echoMark sends the named mark back, which means the audio before it has played.
func (t *twilioCall) echoMark(ctx context.Context, name string) error {
	if t.hangingUp.Load() {
		return nil
	}
	err := t.write(ctx, twilioMessage{
		Event:     twilioMark,
		StreamSID: t.ids.stream,
		Mark:      &twilioMarkInfo{Name: name},
	})
	if err != nil {
		return err
	}
	t.tr.markEchoed()
	return nil
}

// write numbers and sends one message. Every message but connected carries the
// next sequence number.
func (t *twilioCall) write(ctx context.Context, m twilioMessage) error {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	if m.Event != twilioConnected {
		t.sequence++
		m.SequenceNumber = strconv.FormatInt(t.sequence, 10)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.Event, err)
	}
	return writeMessage(ctx, t.conn, data)
}

// readLoop handles the gateway's messages until the socket closes.
func (t *twilioCall) readLoop(ctx context.Context) error {
	for {
		typ, data, err := t.conn.Read(ctx)
		if err != nil {
			return readEnd(ctx, err, t.hangingUp.Load())
		}
		if typ != websocket.MessageText {
			t.o.Logger.Warn("skipped a binary message from the gateway", "bytes", len(data))
			continue
		}
		var m twilioMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.o.Logger.Warn("skipped a message from the gateway that is not valid JSON", "err", err, "bytes", len(data))
			continue
		}
		if err := t.handle(ctx, m, time.Now()); err != nil {
			return err
		}
	}
}

func (t *twilioCall) handle(ctx context.Context, m twilioMessage, now time.Time) error {
	switch m.Event {
	case twilioMedia:
		if m.Media == nil {
			return nil
		}
		return t.media(m.Media, now)
	case twilioMark:
		if m.Mark == nil {
			return nil
		}
		t.tr.markReceived()
		playedAt := t.tr.responseEnd(now)
		return t.marks.add(ctx, m.Mark.Name, playedAt)
	case twilioClear:
		t.tr.cleared(now)
		return t.marks.clear(ctx)
	default:
		t.o.Logger.Debug("skipped a media stream event", "event", m.Event)
	}
	return nil
}

func (t *twilioCall) media(m *twilioMediaInfo, now time.Time) error {
	var err error
	t.mulaw, err = base64.StdEncoding.AppendDecode(t.mulaw[:0], []byte(m.Payload))
	if err != nil {
		t.o.Logger.Warn("skipped assistant audio that is not base64", "err", err)
		return nil
	}
	if err := t.sink.writeMulaw(t.mulaw); err != nil {
		return err
	}
	t.tr.audio(now, time.Duration(int64(len(t.mulaw))*int64(time.Second)/twilioRate))
	return nil
}
