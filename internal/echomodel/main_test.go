package echomodel

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"math"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// eventTimeout bounds each wait for a server event.
const eventTimeout = 5 * time.Second

// startServer serves a Server with cfg on a loopback listener until the test
// ends, and returns the URL to dial.
func startServer(t *testing.T, cfg Config) (string, *Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
	})
	return "ws://" + ln.Addr().String() + Path, srv
}

// client is a test's connection to the echo model.
type client struct {
	t    *testing.T
	conn *realtime.Conn
}

func dial(t *testing.T, url string) *client {
	t.Helper()
	conn, err := realtime.Dial(context.Background(), realtime.DialConfig{URL: url, Model: "echo"})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &client{t: t, conn: conn}
	c.expect(realtime.ServerSessionCreated)
	return c
}

func (c *client) send(ev realtime.ClientEvent) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	if err := c.conn.Send(ctx, ev); err != nil {
		c.t.Fatalf("send %s: %v", ev.Type, err)
	}
}

func (c *client) read() realtime.ServerEvent {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	ev, err := c.conn.Read(ctx)
	if err != nil {
		c.t.Fatalf("read event: %v", err)
	}
	return ev
}

// expect reads events until one of type typ and returns it.
func (c *client) expect(typ string) realtime.ServerEvent {
	c.t.Helper()
	for {
		ev := c.read()
		if ev.Type == typ {
			return ev
		}
		if ev.Type == realtime.ServerError && typ != realtime.ServerError {
			c.t.Fatalf("got error event %+v while waiting for %s", *ev.Error, typ)
		}
	}
}

// configure sends a session.update with the formats and waits for
// session.updated.
func (c *client) configure(in, out realtime.AudioFormat) realtime.ServerEvent {
	c.t.Helper()
	c.send(realtime.UpdateSession(realtime.Session{Audio: &realtime.AudioConfig{
		Input:  &realtime.AudioInput{Format: &in},
		Output: &realtime.AudioOutput{Format: &out},
	}}))
	return c.expect(realtime.ServerSessionUpdated)
}

// collected is one response as the client saw it.
type collected struct {
	id     string
	itemID string
	audio  []byte
	deltas []int // sizes of the audio deltas
	done   *realtime.Response
	text   string
}

// collectResponse reads from response.created to response.done.
func (c *client) collectResponse() collected {
	c.t.Helper()
	created := c.expect(realtime.ServerResponseCreated)
	r := collected{id: created.Response.ID}
	for {
		ev := c.read()
		switch ev.Type {
		case realtime.ServerResponseOutputItemAdded:
			r.itemID = ev.Item.ID
		case realtime.ServerResponseOutputAudioDelta:
			b, err := base64.StdEncoding.DecodeString(ev.Delta)
			if err != nil {
				c.t.Fatalf("delta is not base64: %v", err)
			}
			r.audio = append(r.audio, b...)
			r.deltas = append(r.deltas, len(b))
		case realtime.ServerResponseOutputAudioTranscriptDone:
			r.text = ev.Transcript
		case realtime.ServerResponseDone:
			r.done = ev.Response
			return r
		case realtime.ServerError:
			c.t.Fatalf("got error event %+v during a response", *ev.Error)
		}
	}
}

// speakTurn appends 20 ms frames: toneFrames of a tone, then silentFrames of
// digital silence.
func (c *client) speakTurn(f audio.Format, toneFrames, silentFrames int) {
	c.t.Helper()
	frame := f.FrameSize(20 * time.Millisecond)
	for i := range toneFrames {
		c.send(realtime.AppendAudio(toneFrame(f, i, frame)))
	}
	for range silentFrames {
		c.send(realtime.AppendAudio(silenceFrame(f, frame)))
	}
}

func toneFrame(f audio.Format, index, size int) []byte {
	n := size
	if f.Encoding == audio.PCM16 {
		n = size / 2
	}
	samples := make([]int16, n)
	for i := range samples {
		t := float64(index*n+i) / float64(f.Rate)
		samples[i] = int16(8000 * math.Sin(2*math.Pi*300*t))
	}
	if f.Encoding == audio.Mulaw {
		return audio.EncodeMulaw(nil, samples)
	}
	return audio.PCM16ToBytes(nil, samples)
}

func silenceFrame(f audio.Format, size int) []byte {
	b := make([]byte, size)
	if f.Encoding == audio.Mulaw {
		for i := range b {
			b[i] = audio.MulawSilence
		}
	}
	return b
}

var (
	wirePCMU  = realtime.AudioFormat{Type: realtime.AudioPCMU}
	wirePCM16 = realtime.AudioFormat{Type: realtime.AudioPCM, Rate: 16000}
	wirePCM24 = realtime.AudioFormat{Type: realtime.AudioPCM, Rate: 24000}
	mulaw8k   = audio.Format{Encoding: audio.Mulaw, Rate: 8000}
	pcm16k    = audio.Format{Encoding: audio.PCM16, Rate: 16000}
	pcm24k    = audio.Format{Encoding: audio.PCM16, Rate: 24000}
)

// isClosed reports whether err ends a connection that the server closed.
func isClosed(err error) bool {
	return errors.Is(err, realtime.ErrClosed) || errors.Is(err, net.ErrClosed)
}
