package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

// churnEnding is how one churned conversation ends.
type churnEnding int

const (
	endNormal      churnEnding = iota // the caller sends session.stop
	endAbrupt                         // the caller drops the TCP connection
	endDialFailure                    // the model refuses the handshake
	endUpstream                       // the model drops the connection mid-response
)

func (e churnEnding) String() string {
	return [...]string{"normal close", "abrupt close", "upstream dial failure", "upstream close mid-response"}[e]
}

// resources is what a leak would grow.
type resources struct {
	goroutines int
	fds        int
	heapLive   uint64
}

func (r resources) String() string {
	return fmt.Sprintf("%d goroutines, %d open fds, %d bytes live heap", r.goroutines, r.fds, r.heapLive)
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open descriptors here: %v", err)
	}
	return len(entries)
}

func measure(t *testing.T) resources {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return resources{goroutines: runtime.NumGoroutine(), fds: openFDs(t), heapLive: s[0].Value.Uint64()}
}

// settle waits, bounded, until every conversation has ended and the goroutine count
// has come down to want: goroutines of ended conversations exit just after their
// sockets close.
func settle(t *testing.T, g *gateway, want int) {
	t.Helper()
	eventually(10*time.Second, func() bool { return g.Sessions() == 0 && runtime.NumGoroutine() <= want })
}

// eventually checks cond every 10 ms until it holds or the limit passes, for
// conditions with no event to wait on, such as the server closing a descriptor after
// its peer left. The caller asserts the condition afterwards.
func eventually(limit time.Duration, cond func() bool) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// churnModel answers every connection, and for the upstream-close ending starts a
// response and drops the connection in the middle of it.
func churnModel(dropMidResponse *atomic.Bool) realtimetest.Handler {
	return func(ctx context.Context, c *realtimetest.ServerConn) {
		if _, err := realtimetest.ReplyToSessionUpdate(ctx, c); err != nil {
			return
		}
		if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientInputAudioBufferAppend); err != nil {
			return
		}
		if dropMidResponse.Load() {
			c.Send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseCreated, Response: &realtime.Response{ID: "resp_1", Status: realtime.ResponseInProgress}})
			c.Send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioDelta, ResponseID: "resp_1", ItemID: "item_1", Delta: "AAAAAAAA"})
			c.CloseNow()
			return
		}
		for {
			if _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}
}

// churnOnce runs one conversation over the browser socket to the given ending.
func churnOnce(ctx context.Context, g *gateway, ending churnEnding) error {
	ws, _, err := websocket.Dial(ctx, g.wsURL("/voice-stream"), nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"session.start","format":{"format":"pcm16","rate":24000}}`)); err != nil {
		return err
	}
	if ending != endDialFailure {
		if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"audio","audio":"AAAAAA=="}`)); err != nil {
			return err
		}
	}
	switch ending {
	case endNormal:
		if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"session.stop"}`)); err != nil {
			return err
		}
	case endAbrupt:
		return ws.CloseNow()
	}
	// Read until the gateway ends the conversation.
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			if websocket.CloseStatus(err) == -1 && ctx.Err() != nil {
				return fmt.Errorf("%v: conversation did not end: %w", ending, err)
			}
			return nil
		}
	}
}

// TestChurnReturnsToBaseline opens and closes 10 000 conversations, a quarter each
// ending normally, abruptly, by an upstream dial failure and by an upstream close in
// the middle of a response, and checks that goroutines and open descriptors return to
// their baseline and the live heap to within 1 %.
func TestChurnReturnsToBaseline(t *testing.T) {
	cycles := 10_000
	if testing.Short() {
		cycles = 1000
	}
	var dropMidResponse atomic.Bool
	model := realtimetest.NewServer(t, churnModel(&dropMidResponse))
	cfg := gatewayConfig(t, model.URL())
	cfg.MaxSessions = 1000
	// The dial-failure phase opens the upstream breaker; a short cool-down lets the
	// next phase dial again at once.
	cfg.UpstreamCoolDown = time.Millisecond
	g := startGatewayLogger(t, cfg, quietLogger(t))

	run := func(n int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		for _, ending := range []churnEnding{endNormal, endAbrupt, endDialFailure, endUpstream} {
			if ending == endDialFailure {
				model.RejectHandshakes(http.StatusServiceUnavailable, `{"error":{"type":"server_error","code":"unavailable","message":"try later"}}`)
			}
			dropMidResponse.Store(ending == endUpstream)
			eg, ectx := errgroup.WithContext(ctx)
			eg.SetLimit(8)
			for range n / 4 {
				eg.Go(func() error { return churnOnce(ectx, g, ending) })
			}
			if err := eg.Wait(); err != nil {
				t.Fatalf("%v: %v", ending, err)
			}
			model.RejectHandshakes(0, "")
		}
	}

	// A warm-up fills what is meant to fill once: the ring of the last 1000 call
	// records, connection pools and the runtime's own caches. It runs 1000 calls of
	// each ending, so the ring then holds the same kind of records as after the
	// measured run, which also ends with the upstream-close phase.
	run(4000)
	settle(t, g, 0)
	before := measure(t)

	start := time.Now()
	run(cycles)
	settle(t, g, before.goroutines)
	after := measure(t)
	t.Logf("%d conversations in %v; before: %v; after: %v", cycles, time.Since(start).Round(time.Millisecond), before, after)

	if after.goroutines > before.goroutines {
		t.Errorf("goroutines grew from %d to %d", before.goroutines, after.goroutines)
	}
	if after.fds > before.fds {
		t.Errorf("open descriptors grew from %d to %d", before.fds, after.fds)
	}
	if limit := before.heapLive + before.heapLive/100; after.heapLive > limit {
		t.Errorf("live heap grew from %d to %d bytes, more than 1 %%", before.heapLive, after.heapLive)
	}
	if g.Sessions() != 0 {
		t.Errorf("%d conversations still live", g.Sessions())
	}
}
