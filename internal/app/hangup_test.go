package app_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

// TestHangupClosesUpstream checks that however the caller leaves, the model connection
// is closed within a second; goleak in TestMain checks that no goroutine remains.
func TestHangupClosesUpstream(t *testing.T) {
	tests := []struct {
		name   string
		hangup func(ctx context.Context, p *phone) error
	}{
		{"stop message", func(ctx context.Context, p *phone) error { return p.stop(ctx) }},
		{"close without stop", func(ctx context.Context, p *phone) error {
			return p.ws.Close(websocket.StatusNormalClosure, "")
		}},
		{"dropped connection", func(ctx context.Context, p *phone) error { return p.ws.CloseNow() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			speaking := make(chan struct{})
			closed := make(chan time.Time, 1)
			model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
				if _, err := realtimetest.ReplyToSessionUpdate(ctx, c); err != nil {
					return
				}
				if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientInputAudioBufferAppend); err != nil {
					return
				}
				close(speaking)
				for {
					if _, err := c.Read(ctx); err != nil {
						closed <- time.Now()
						return
					}
				}
			})
			g := startGateway(t, model.URL())

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			p := dialPhone(ctx, t, g, "CAhangup")
			p.start(ctx)
			if err := p.sendMedia(ctx, bytes.Repeat([]byte{0xFF}, 160)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-speaking:
			case <-ctx.Done():
				t.Fatal("audio never reached the model")
			}

			hungUp := time.Now()
			if err := tt.hangup(ctx, p); err != nil {
				t.Fatalf("hang up: %v", err)
			}
			select {
			case at := <-closed:
				if d := at.Sub(hungUp); d > time.Second {
					t.Errorf("model connection closed %v after the hang-up, want within 1s", d)
				}
			case <-ctx.Done():
				t.Fatal("model connection still open after the caller hung up")
			}
		})
	}
}
