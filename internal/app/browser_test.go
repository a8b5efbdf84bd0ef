package app_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/browser"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

type kiosk struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialKiosk(ctx context.Context, t *testing.T, g *gateway) *kiosk {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, g.wsURL("/voice-stream"), nil)
	if err != nil {
		t.Fatalf("dial browser voice socket: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	ws.SetReadLimit(16 << 20)
	return &kiosk{t: t, ws: ws}
}

func (k *kiosk) send(ctx context.Context, raw string) {
	k.t.Helper()
	if err := k.ws.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
		k.t.Fatalf("send %s: %v", raw, err)
	}
}

func (k *kiosk) read(ctx context.Context) browser.ServerMessage {
	k.t.Helper()
	_, data, err := k.ws.Read(ctx)
	if err != nil {
		k.t.Fatalf("read from gateway: %v", err)
	}
	var m browser.ServerMessage
	if err := json.Unmarshal(data, &m); err != nil {
		k.t.Fatalf("gateway sent invalid JSON %q: %v", data, err)
	}
	return m
}

// readUntil returns the first message of type typ, failing on an unexpected error event.
func (k *kiosk) readUntil(ctx context.Context, typ string) browser.ServerMessage {
	k.t.Helper()
	for {
		m := k.read(ctx)
		if m.Type == typ {
			return m
		}
	}
}

func TestBrowserConversation(t *testing.T) {
	pcm := make([]byte, 4800) // 100 ms of 24 kHz PCM16 silence
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		update, err := realtimetest.ReplyToSessionUpdate(ctx, c)
		if err != nil {
			return
		}
		if f := update.Session.Audio.Input.Format; f.Type != realtime.AudioPCM || f.Rate != 24000 {
			t.Errorf("model input format = %+v, want audio/pcm at 24000", f)
		}
		if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientResponseCreate); err != nil {
			return
		}
		realtimetest.SendAudioResponse(ctx, c, realtimetest.AudioResponse{
			ResponseID: "resp_1", ItemID: "item_1", Chunks: [][]byte{pcm}, Transcript: "Hi, what can I get you?",
		})
		<-ctx.Done()
	})
	g := startGateway(t, model.URL())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	k := dialKiosk(ctx, t, g)
	k.send(ctx, `{"type":"session.start","restaurant":"corner-cafe","format":{"format":"pcm16","rate":16000}}`)
	started := k.readUntil(ctx, browser.TypeSessionStarted)
	if started.SessionID == "" {
		t.Error("session.started without a session id")
	}

	// A malformed message gets an error event and the conversation goes on.
	k.send(ctx, `{"type":"audio","audio":"not base64!"}`)
	if m := k.readUntil(ctx, browser.TypeError); m.Code != "invalid_audio" {
		t.Errorf("error code = %q, want invalid_audio", m.Code)
	}
	k.send(ctx, `not json`)
	if m := k.readUntil(ctx, browser.TypeError); m.Code != "invalid_message" {
		t.Errorf("error code = %q, want invalid_message", m.Code)
	}

	var audioBytes int
	for {
		m := k.read(ctx)
		if m.Type == browser.TypeAudio {
			audioBytes += len(m.Audio)
		}
		if m.Type == browser.TypeTranscript {
			if m.Role != "assistant" || m.Text != "Hi, what can I get you?" || !m.Final {
				t.Errorf("transcript = %+v, want the assistant's final greeting", m)
			}
		}
		if m.Type == browser.TypeAudioDone {
			break
		}
	}
	if audioBytes == 0 {
		t.Error("no assistant audio reached the browser")
	}
	k.send(ctx, `{"type":"session.stop"}`)
	if _, _, err := k.ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after session.stop the socket ended with %v, want a normal close", err)
	}
}

func TestBrowserRejectsBadStart(t *testing.T) {
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) { <-ctx.Done() })
	g := startGateway(t, model.URL())
	tests := []struct {
		name  string
		start string
		code  string
	}{
		{"unsupported rate", `{"type":"session.start","format":{"format":"pcm16","rate":44100}}`, "unsupported_format"},
		{"unknown restaurant", `{"type":"session.start","restaurant":"nowhere"}`, "unknown_restaurant"},
		{"audio before start", `{"type":"audio","audio":""}`, "session_not_started"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			k := dialKiosk(ctx, t, g)
			k.send(ctx, tt.start)
			if m := k.readUntil(ctx, browser.TypeError); m.Code != tt.code {
				t.Errorf("error code = %q, want %q (message %q)", m.Code, tt.code, m.Message)
			}
		})
	}
	if n := model.Dials(); n != 0 {
		t.Errorf("model dialed %d times for rejected starts, want 0", n)
	}
}
