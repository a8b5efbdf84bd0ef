package voicecall

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"missing server", Options{}, "server: missing"},
		{"server not http", Options{Server: "ws://127.0.0.1:1"}, "server: invalid URL"},
		{"unknown transport", Options{Server: "http://127.0.0.1:1", Transport: "sip"}, `transport: invalid value "sip"`},
		{"negative speed", Options{Server: "http://127.0.0.1:1", Speed: -1}, "speed: -1 is out of range"},
		{"speed too high", Options{Server: "http://127.0.0.1:1", Speed: 5000}, "speed: 5000 is out of range"},
		{"negative timeout", Options{Server: "http://127.0.0.1:1", TurnTimeout: -time.Second}, "turn timeout: -1s is negative"},
		{"turn with file and text", Options{Server: "http://127.0.0.1:1", Turns: []Turn{{File: "a.wav", Text: "hi"}}}, "turn 1: set exactly one"},
		{"empty turn", Options{Server: "http://127.0.0.1:1", Turns: []Turn{{}}}, "turn 1: set exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Call(t.Context(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{Server: "http://127.0.0.1:8080/"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Server != "http://127.0.0.1:8080" {
		t.Errorf("server = %q, want the trailing slash trimmed", o.Server)
	}
	if o.Transport != TransportBrowser {
		t.Errorf("transport = %q, want %q", o.Transport, TransportBrowser)
	}
	if o.Speed != 1 {
		t.Errorf("speed = %g, want 1", o.Speed)
	}
	if o.TurnTimeout != DefaultTurnTimeout {
		t.Errorf("turn timeout = %s, want %s", o.TurnTimeout, DefaultTurnTimeout)
	}
	if o.Logger == nil {
		t.Error("logger is nil, want a discarding logger")
	}
}

// scriptedBrowser serves /voice-stream with a handler that runs after session.start.
func scriptedBrowser(t *testing.T, script func(ctx context.Context, ws *websocket.Conn)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		if _, _, err := ws.Read(r.Context()); err != nil {
			return
		}
		script(r.Context(), ws)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func writeJSON(ctx context.Context, ws *websocket.Conn, v any) {
	data, _ := json.Marshal(v)
	ws.Write(ctx, websocket.MessageText, data)
}

// drain reads until the caller goes away or hangs up, so the caller's writes and
// close succeed.
func drain(ctx context.Context, ws *websocket.Conn) {
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var m browserClientMessage
		if json.Unmarshal(data, &m) == nil && m.Type == browserSessionStop {
			ws.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}

func TestBrowserCallFailures(t *testing.T) {
	started := map[string]any{"type": browserSessionStarted, "session_id": "s"}
	tests := []struct {
		name   string
		script func(ctx context.Context, ws *websocket.Conn)
		want   string
	}{
		{
			name: "start rejected",
			script: func(ctx context.Context, ws *websocket.Conn) {
				writeJSON(ctx, ws, map[string]any{"type": "error", "code": "unknown_restaurant", "message": "unknown restaurant"})
				ws.Close(websocket.StatusPolicyViolation, "unknown_restaurant")
			},
			want: "the gateway rejected it: unknown restaurant (unknown_restaurant)",
		},
		{
			name: "busy",
			script: func(ctx context.Context, ws *websocket.Conn) {
				ws.Close(websocket.StatusTryAgainLater, "too many conversations; try again later")
			},
			want: "status 1013",
		},
		{
			name: "no greeting",
			script: func(ctx context.Context, ws *websocket.Conn) {
				writeJSON(ctx, ws, started)
				drain(ctx, ws)
			},
			want: "wait for the greeting: no reply from the assistant within 200ms",
		},
		{
			name: "internal error mid-call",
			script: func(ctx context.Context, ws *websocket.Conn) {
				writeJSON(ctx, ws, started)
				ws.Close(websocket.StatusInternalError, "conversation ended by an error")
			},
			want: "status 1011 (StatusInternalError): conversation ended by an error",
		},
		{
			name: "normal close before the greeting",
			script: func(ctx context.Context, ws *websocket.Conn) {
				writeJSON(ctx, ws, started)
				ws.Close(websocket.StatusNormalClosure, "")
			},
			want: errConnectionEnded.Error(),
		},
		{
			name: "wrong audio format",
			script: func(ctx context.Context, ws *websocket.Conn) {
				writeJSON(ctx, ws, map[string]any{"type": browserSessionStarted, "format": map[string]any{"format": "pcm16", "rate": 24000}})
				drain(ctx, ws)
			},
			want: "the gateway chose pcm16 at 24000 Hz",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := scriptedBrowser(t, tt.script)
			_, err := Call(t.Context(), Options{Server: server, TurnTimeout: 200 * time.Millisecond})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCallCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	server := scriptedBrowser(t, func(sctx context.Context, ws *websocket.Conn) {
		writeJSON(sctx, ws, map[string]any{"type": browserSessionStarted})
		writeJSON(sctx, ws, map[string]any{"type": browserAudio, "audio": "AAAAAA=="})
		writeJSON(sctx, ws, map[string]any{"type": browserTranscript, "role": "assistant", "text": "Hi!", "final": true})
		writeJSON(sctx, ws, map[string]any{"type": browserAudioDone})
		if _, _, err := ws.Read(sctx); err != nil { // the first frame of the caller's turn
			return
		}
		cancel() // the caller gives up while speaking
		drain(sctx, ws)
	})
	turn := FileTurn(writeToneWAV(t, "long.wav", 16000, 10*time.Second, 440))

	got, err := Call(ctx, Options{Server: server, Turns: []Turn{turn}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if got == nil || len(got.Turns) != 1 {
		t.Errorf("result = %+v, want the greeting gathered before the cancel", got)
	}
}

func TestCallUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens on the port any more
	for _, transport := range []string{TransportBrowser, TransportTwilio} {
		t.Run(transport, func(t *testing.T) {
			_, err := Call(t.Context(), Options{Server: url, Transport: transport})
			if err == nil || !strings.Contains(err.Error(), "connection refused") {
				t.Errorf("error = %v, want connection refused", err)
			}
		})
	}
}

func TestTwilioWebhookFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{
			name: "signature required",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "invalid X-Twilio-Signature", http.StatusForbidden)
			},
			want: "403 Forbidden: invalid X-Twilio-Signature",
		},
		{
			name: "busy",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, all our lines are busy.</Say><Hangup></Hangup></Response>`))
			},
			want: `it said "Sorry, all our lines are busy."`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			_, err := Call(t.Context(), Options{Server: srv.URL, Transport: TransportTwilio})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
