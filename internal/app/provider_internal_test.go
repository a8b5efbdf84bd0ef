package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/config"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

// countingTransport counts the requests that go through one transport.
type countingTransport struct {
	next  http.RoundTripper
	count atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.count.Add(1)
	return c.next.RoundTrip(r)
}

// TestModelDialsShareOneClient dials the model 200 times in parallel, as 200 calls
// would, and checks that every dial went through the app's one provider client, so no
// code path builds a client, and a connection pool, of its own.
func TestModelDialsShareOneClient(t *testing.T) {
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) { <-ctx.Done() })
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminAddr = ""
	cfg.DataDir = t.TempDir()
	cfg.RealtimeURL = model.URL()
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	counter := &countingTransport{next: a.provider.Transport}
	a.provider.Transport = counter

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	const dials = 200
	for range dials {
		g.Go(func() error {
			conn, err := a.model.Dial(gctx)
			if err != nil {
				return err
			}
			return conn.CloseNow()
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("dial: %v", err)
	}
	if got := counter.count.Load(); got != dials {
		t.Errorf("%d of %d dials went through the provider client", got, dials)
	}
	if got := model.Dials(); got != dials {
		t.Errorf("model saw %d dials, want %d", got, dials)
	}
}
