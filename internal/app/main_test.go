package app_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/voiceorder/voiceorder/internal/app"
	"github.com/voiceorder/voiceorder/internal/config"
	"github.com/voiceorder/voiceorder/internal/twilio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testLogger writes the gateway's log to the test log, so a failure shows what happened.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// gateway is a running App on loopback, stopped and waited for at test cleanup.
type gateway struct {
	*app.App
	dataDir string
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// stop shuts the gateway down as a signal would and returns Run's result.
func (g *gateway) stop() error {
	if g.stopped {
		return nil
	}
	g.stopped = true
	g.cancel()
	return <-g.done
}

// startGateway runs the gateway against the Realtime endpoint at realtimeURL.
func startGateway(t *testing.T, realtimeURL string) *gateway {
	t.Helper()
	return startGatewayConfig(t, gatewayConfig(t, realtimeURL))
}

// gatewayConfig is the configuration of a test gateway on loopback with its own data
// directory and no admin listener.
func gatewayConfig(t *testing.T, realtimeURL string) config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminAddr = ""
	cfg.RealtimeURL = realtimeURL
	return cfg
}

func startGatewayConfig(t *testing.T, cfg config.Config) *gateway {
	t.Helper()
	return startGatewayLogger(t, cfg, testLogger(t))
}

// quietLogger keeps errors only, for tests that run thousands of conversations,
// many ending in warnings by design: the test log holds every line in memory until
// the test ends.
func quietLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
}

func startGatewayLogger(t *testing.T, cfg config.Config, log *slog.Logger) *gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	g := &gateway{App: a, dataDir: cfg.DataDir, cancel: cancel, done: make(chan error, 1)}
	go func() { g.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		if err := g.stop(); err != nil {
			t.Errorf("Run returned %v, want nil after a clean shutdown", err)
		}
	})
	return g
}

func (g *gateway) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(g.URL(), "http") + path
}

// testdataDir returns the shared recordings folder, or skips the test.
func testdataDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VOICEORDER_TESTDATA")
	if dir == "" {
		root, err := filepath.Abs("../..")
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "..", "shared", "testdata")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real test inputs not found at %s (set VOICEORDER_TESTDATA): %v", dir, err)
	}
	return dir
}

// phone is a fake Twilio on a real Media Streams socket.
type phone struct {
	t         *testing.T
	ws        *websocket.Conn
	callSID   string
	streamSID string
	mu        sync.Mutex
	seq       int
}

// dialPhone places a call: the webhook, then the media stream it points to.
func dialPhone(ctx context.Context, t *testing.T, g *gateway, callSID string) *phone {
	t.Helper()
	form := url.Values{"CallSid": {callSID}, "AccountSid": {"AC00"}, "From": {"+15550100"}, "To": {"+15550199"}}
	resp, err := http.PostForm(g.URL()+"/voice/incoming", form)
	if err != nil {
		t.Fatalf("webhook: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook status = %d, body %q", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), g.wsURL("/voice/stream")) {
		t.Fatalf("TwiML %q does not connect to %s", body, g.wsURL("/voice/stream"))
	}
	ws, _, err := websocket.Dial(ctx, g.wsURL("/voice/stream"), nil)
	if err != nil {
		t.Fatalf("dial media stream: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &phone{t: t, ws: ws, callSID: callSID, streamSID: "MZ" + callSID}
}

func (p *phone) sendJSON(ctx context.Context, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.ws.Write(ctx, websocket.MessageText, data)
}

func (p *phone) start(ctx context.Context) {
	p.t.Helper()
	msgs := []twilio.Message{
		{Event: twilio.EventConnected, Protocol: "Call", Version: "1.0.0"},
		{Event: twilio.EventStart, StreamSID: p.streamSID, Start: &twilio.Start{
			StreamSID: p.streamSID, CallSID: p.callSID, AccountSID: "AC00", Tracks: []string{"inbound"},
			MediaFormat: twilio.MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1},
		}},
	}
	for _, m := range msgs {
		if err := p.sendJSON(ctx, m); err != nil {
			p.t.Fatalf("send %s: %v", m.Event, err)
		}
	}
}

func (p *phone) sendMedia(ctx context.Context, payload []byte) error {
	p.mu.Lock()
	p.seq++
	ts := p.seq * 20
	p.mu.Unlock()
	return p.sendJSON(ctx, twilio.Message{Event: twilio.EventMedia, StreamSID: p.streamSID, Media: &twilio.Media{
		Track: "inbound", Timestamp: strconv.Itoa(ts), Payload: base64.StdEncoding.EncodeToString(payload),
	}})
}

func (p *phone) stop(ctx context.Context) error {
	return p.sendJSON(ctx, twilio.Message{Event: twilio.EventStop, StreamSID: p.streamSID, Stop: &twilio.StopInfo{CallSID: p.callSID}})
}

// read returns the next message from the gateway.
func (p *phone) read(ctx context.Context) (twilio.Message, error) {
	_, data, err := p.ws.Read(ctx)
	if err != nil {
		return twilio.Message{}, err
	}
	return twilio.Decode(data)
}

// readJSONLines returns the lines of a JSON-lines file.
func readJSONLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) > 0 {
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }
