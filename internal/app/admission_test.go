package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/browser"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

// TestBusyGatewayTurnsCallsAway fills the gateway to its session limit: a new browser
// socket is closed with 1013 and the phone webhook answers that the line is busy.
func TestBusyGatewayTurnsCallsAway(t *testing.T) {
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		for {
			if _, err := c.Read(ctx); err != nil {
				return
			}
		}
	})
	cfg := gatewayConfig(t, model.URL())
	cfg.MaxSessions = 1
	g := startGatewayConfig(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	first := dialKiosk(ctx, t, g)
	first.send(ctx, `{"type":"session.start"}`)
	first.readUntil(ctx, browser.TypeSessionStarted)

	second := dialKiosk(ctx, t, g)
	if _, _, err := second.ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
		t.Errorf("browser socket beyond the limit ended with %v, want close 1013", err)
	}

	resp, err := http.PostForm(g.URL()+"/voice/incoming", url.Values{"CallSid": {"CAbusy"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "<Say>") || !strings.Contains(string(body), "busy") || strings.Contains(string(body), "<Stream") {
		t.Errorf("webhook at the limit answered %q, want TwiML that says the line is busy", body)
	}
	first.send(ctx, `{"type":"session.stop"}`)
}

// TestLimitsEndConversations checks the idle timeout, counted on caller audio only, and
// the maximum call duration.
func TestLimitsEndConversations(t *testing.T) {
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		for {
			if _, err := c.Read(ctx); err != nil {
				return
			}
		}
	})
	tests := []struct {
		name   string
		idle   time.Duration
		max    time.Duration
		speak  bool // keep sending audio
		reason string
	}{
		{"idle caller", time.Second, time.Hour, false, "idle"},
		{"long call", time.Minute, 10 * time.Second, true, "maximum call duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gatewayConfig(t, model.URL())
			cfg.IdleTimeout, cfg.MaxCallDuration = tt.idle, tt.max
			g := startGatewayConfig(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			k := dialKiosk(ctx, t, g)
			k.send(ctx, `{"type":"session.start"}`)
			k.readUntil(ctx, browser.TypeSessionStarted)
			started := time.Now()

			speaking, stop := context.WithCancel(ctx)
			defer stop()
			done := make(chan struct{})
			go func() { // the caller talks in 20 ms frames until the call ends
				defer close(done)
				if !tt.speak {
					return
				}
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-speaking.Done():
						return
					case <-tick.C:
						if k.ws.Write(speaking, websocket.MessageText, []byte(`{"type":"audio","audio":"AAAA"}`)) != nil {
							return
						}
					}
				}
			}()
			var err error
			for err == nil {
				_, _, err = k.ws.Read(ctx)
			}
			stop()
			<-done
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Errorf("call ended with %v, want a normal close", err)
			}
			var ce websocket.CloseError
			if errorsAs(err, &ce) && !strings.Contains(ce.Reason, tt.reason) {
				t.Errorf("close reason %q, want it to mention %q", ce.Reason, tt.reason)
			}
			limit := min(tt.idle, tt.max)
			if d := time.Since(started); d < limit-100*time.Millisecond || d > limit+2*time.Second {
				t.Errorf("call ended after %v, want about %v", d, limit)
			}
		})
	}
}
