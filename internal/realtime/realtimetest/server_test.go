package realtimetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func dial(t *testing.T, srv *realtimetest.Server) *realtime.Conn {
	t.Helper()
	conn, err := realtime.Dial(t.Context(), realtime.DialConfig{URL: srv.URL()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

func TestCloseWaitsForHandlers(t *testing.T) {
	started := make(chan struct{})
	returned := false
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		close(started)
		<-ctx.Done()
		returned = true
	})
	dial(t, srv)
	<-started

	srv.Close()
	if !returned {
		t.Error("Close returned before the handler did")
	}
	srv.Close() // a second call is a no-op
}

func TestCloseEndsHandlerInCloseHandshake(t *testing.T) {
	closing := make(chan struct{})
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		close(closing)
		// The client does not read, so this waits for the library's
		// 5 s handshake timeout unless the server cuts it short.
		c.Close(websocket.StatusNormalClosure, "")
	})
	dial(t, srv)
	<-closing

	start := time.Now()
	srv.Close()
	if elapsed := time.Since(start); elapsed > 4*time.Second {
		t.Errorf("Close took %v, want it to cut the 5 s close handshake short", elapsed)
	}
}

func TestDialAfterClose(t *testing.T) {
	srv := realtimetest.NewServer(t, func(context.Context, *realtimetest.ServerConn) {
		t.Error("handler ran after Close")
	})
	srv.Close()
	conn, err := realtime.Dial(t.Context(), realtime.DialConfig{URL: srv.URL()})
	if err == nil {
		conn.CloseNow()
		t.Fatal("Dial after Close succeeded, want an error")
	}
}

func TestRejectThenAccept(t *testing.T) {
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		if err := realtimetest.SendSessionCreated(ctx, c, "sess_1"); err != nil {
			t.Errorf("send session.created: %v", err)
		}
		c.Read(ctx) // until the client closes
	})
	srv.RejectHandshakes(503, "")
	if _, err := realtime.Dial(t.Context(), realtime.DialConfig{URL: srv.URL()}); err == nil {
		t.Fatal("Dial during rejection succeeded, want an error")
	}
	srv.RejectHandshakes(0, "")
	conn := dial(t, srv)
	ev, err := conn.Read(t.Context())
	if err != nil || ev.Type != realtime.ServerSessionCreated {
		t.Errorf("Read = %+v, %v; want session.created", ev, err)
	}
	if got := srv.Dials(); got != 2 {
		t.Errorf("Dials() = %d, want 2", got)
	}
}
