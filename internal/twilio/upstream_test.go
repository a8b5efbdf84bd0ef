package twilio_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
	"github.com/voiceorder/voiceorder/internal/session"
)

// TestPhoneReconnectsAfterServerError drops the model connection with close 1011 in
// the middle of a call. The gateway dials again, sends the session configuration
// with the tools and a summary that names the cart, and the conversation goes on
// with the cart intact.
func TestPhoneReconnectsAfterServerError(t *testing.T) {
	var conns atomic.Int32
	h := newHarness(t, harnessConfig{}, func(ctx context.Context, c *realtimetest.ServerConn) {
		var wg sync.WaitGroup
		defer wg.Wait()
		s := newModelScript(ctx, c, &wg)
		switch conns.Add(1) {
		case 1:
			scriptBeforeDrop(t, s, c)
		case 2:
			scriptAfterDrop(t, s)
		default:
			t.Errorf("dial %d, want 2 in all", conns.Load())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := h.call(ctx, "CAdrop", false)
	p.speakAsync(ctx, 300*time.Millisecond, 0x7F)

	const after = 0x44 // the byte of the answer on the new connection
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool {
		return len(p.payloads) > 0 && p.payloads[len(p.payloads)-1][0] == after
	}) {
		t.Fatal("the answer after the reconnect never reached the caller")
	}
	p.hangUp(ctx)
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return p.ended != nil }) {
		t.Fatal("the call did not end after the hang-up")
	}
	if got := h.model.Dials(); got != 2 {
		t.Errorf("model dials = %d, want 2", got)
	}
}

func scriptBeforeDrop(t *testing.T, s *modelScript, c *realtimetest.ServerConn) {
	if _, ok := s.configure(); !ok {
		return
	}
	if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
		return
	}
	s.speakResponse("resp_0", "item_0", 100, 100, 0x10)
	if _, ok := s.expect(realtime.ClientInputAudioBufferAppend); !ok {
		return
	}
	s.send(functionCall("resp_1", "call_1", "add_to_order", addLatte)...)
	s.send(functionDone("resp_1", "call_1", "add_to_order", addLatte))
	if out, ok := s.expect(realtime.ClientConversationItemCreate); !ok || !toolSucceeded(t, out) {
		return
	}
	if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
		return
	}
	s.speakResponse("resp_2", "item_2", 100, 100, 0x20)
	c.Close(websocket.StatusInternalError, "server error")
}

func scriptAfterDrop(t *testing.T, s *modelScript) {
	update, ok := s.configure()
	if !ok {
		return
	}
	if len(update.Session.Tools) == 0 {
		t.Error("session.update after the reconnect carries no tools")
	}
	summary, ok := s.expect(realtime.ClientConversationItemCreate)
	if !ok {
		return
	}
	if it := summary.Item; it == nil || it.Role != realtime.RoleSystem || len(it.Content) == 0 ||
		!strings.Contains(it.Content[0].Text, "latte") {
		t.Errorf("summary after the reconnect = %+v, want a system message that names the latte", summary.Item)
	}
	s.send(functionCall("resp_3", "call_3", "get_current_order", `{}`)...)
	s.send(functionDone("resp_3", "call_3", "get_current_order", `{}`))
	out, ok := s.expect(realtime.ClientConversationItemCreate)
	if !ok {
		return
	}
	if !toolSucceeded(t, out) || !strings.Contains(out.Item.Output, "latte") {
		t.Errorf("get_current_order after the reconnect = %s, want the cart with the latte", out.Item.Output)
	}
	if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
		return
	}
	s.speakResponse("resp_4", "item_4", 300, 100, 0x44)
	s.rest()
}

// quotaBody is the error body the OpenAI API sends with HTTP 429 when the account has
// no quota left.
const quotaBody = `{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","code":"insufficient_quota"}}`

// TestPhoneQuotaErrorApologizesOnce rejects every dial with insufficient_quota. The
// call dials once (when the webhook arrives), hears a short apology, and ends.
func TestPhoneQuotaErrorApologizesOnce(t *testing.T) {
	h := newHarness(t, harnessConfig{predial: true, apology: true}, func(ctx context.Context, c *realtimetest.ServerConn) {
		t.Error("a rejected handshake ran the handler")
	})
	h.model.RejectHandshakes(http.StatusTooManyRequests, quotaBody)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := h.call(ctx, "CAquota", true)

	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return p.ended != nil }) {
		t.Fatal("the call did not end")
	}
	if got := h.model.Dials(); got != 1 {
		t.Errorf("model dials = %d, want 1", got)
	}
	if !h.breaker.Open() {
		t.Error("breaker closed after a fatal error, want open")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if code := websocket.CloseStatus(p.ended); code != websocket.StatusInternalError {
		t.Errorf("call ended with %v, want close 1011", p.ended)
	}
	if len(p.playAt) == 0 {
		t.Log("no apology heard: espeak-ng is not available here")
		return
	}
	played := p.playAt[len(p.playAt)-1].Add(20 * time.Millisecond)
	t.Logf("apology of %v", time.Duration(len(p.playAt))*20*time.Millisecond)
	if p.endedAt.Before(played) {
		t.Errorf("call ended %v before the apology finished playing", played.Sub(p.endedAt))
	}
}

// TestPhoneBreakerBoundsDialStorm has the model accept every connection and close it
// 50 ms later, for 100 calls at once. The breaker keeps the dials within one call's
// attempts plus its threshold, and every call ends.
func TestPhoneBreakerBoundsDialStorm(t *testing.T) {
	const calls = 100
	breaker := session.BreakerConfig{Threshold: 5, CoolDown: time.Minute}
	reconnect := session.ReconnectPolicy{MaxAttempts: 3, BaseDelay: 20 * time.Millisecond}
	h := newHarness(t, harnessConfig{predial: true, breaker: breaker, reconnect: reconnect, quiet: true},
		func(ctx context.Context, c *realtimetest.ServerConn) {
			delay(ctx, 50*time.Millisecond)
			c.Close(websocket.StatusInternalError, "overloaded")
		})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	start := time.Now()
	var g errgroup.Group
	for i := range calls {
		g.Go(func() error {
			p := h.call(ctx, fmt.Sprintf("CAstorm%03d", i), true)
			if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return p.ended != nil }) {
				return fmt.Errorf("call %d did not end", i)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	dials := h.model.Dials()
	t.Logf("%d calls ended in %v after %d dials", calls, time.Since(start).Round(time.Millisecond), dials)
	if limit := reconnect.MaxAttempts + breaker.Threshold; dials > limit {
		t.Errorf("model dials = %d, want at most %d (attempts per call plus the breaker's threshold)", dials, limit)
	}
	if !h.breaker.Open() {
		t.Error("breaker closed after the storm, want open")
	}
}

// TestPhoneRecyclesBeforeMaxDuration runs a 2.5 s call against a model whose
// sessions last at most 1 s (60 min and 150 s scaled down), with the recycle age at
// 55/60 of it. The gateway replaces the connection twice between responses, caller
// audio never pauses for more than a second, and each old connection is closed
// normally by the gateway before the model's limit.
func TestPhoneRecyclesBeforeMaxDuration(t *testing.T) {
	const maxSession = time.Second
	type connRecord struct {
		opened, ended time.Time
		code          websocket.StatusCode
		appends       []time.Time
		summary       bool
		expired       bool
	}
	var mu sync.Mutex
	var records []*connRecord
	h := newHarness(t, harnessConfig{recycleAfter: maxSession * 55 / 60}, func(ctx context.Context, c *realtimetest.ServerConn) {
		rec := &connRecord{opened: time.Now()}
		mu.Lock()
		records = append(records, rec)
		first := len(records) == 1
		mu.Unlock()
		limit := time.AfterFunc(maxSession, func() {
			mu.Lock()
			rec.expired = true
			mu.Unlock()
			c.CloseNow() // the provider's maximum session duration
		})
		defer limit.Stop()

		if _, err := realtimetest.ReplyToSessionUpdate(ctx, c); err != nil {
			return
		}
		for {
			ev, err := c.Read(ctx)
			if err != nil {
				mu.Lock()
				rec.ended, rec.code = time.Now(), websocket.CloseStatus(err)
				mu.Unlock()
				return
			}
			switch {
			case ev.Type == realtime.ClientInputAudioBufferAppend:
				mu.Lock()
				rec.appends = append(rec.appends, time.Now())
				mu.Unlock()
			case ev.Type == realtime.ClientResponseCreate && first:
				realtimetest.SendAudioResponse(ctx, c, realtimetest.AudioResponse{
					ResponseID: "resp_0", ItemID: "item_0", Chunks: [][]byte{make([]byte, 800)}, Transcript: "hello",
				})
			case ev.Type == realtime.ClientConversationItemCreate && ev.Item != nil && ev.Item.Role == realtime.RoleSystem:
				mu.Lock()
				rec.summary = true
				mu.Unlock()
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := h.call(ctx, "CArecycle", false)
	p.speak(ctx, 2500*time.Millisecond, 0x7F)
	p.hangUp(ctx)
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return p.ended != nil }) {
		t.Fatal("the call did not end after the hang-up")
	}
	h.model.Close() // waits for every handler, so the records are complete

	mu.Lock()
	defer mu.Unlock()
	if len(records) != 3 {
		t.Fatalf("model connections = %d, want 3 (two recycles)", len(records))
	}
	var appends []time.Time
	for i, rec := range records {
		appends = append(appends, rec.appends...)
		if rec.expired {
			t.Errorf("connection %d reached the model's maximum session duration", i+1)
		}
		if i > 0 && !rec.summary {
			t.Errorf("connection %d got no summary of the conversation", i+1)
		}
		if i < 2 && rec.code != websocket.StatusNormalClosure {
			t.Errorf("old connection %d ended with %v, want a normal close by the gateway", i+1, rec.code)
		}
		t.Logf("connection %d: %v, %d audio events", i+1, rec.ended.Sub(rec.opened).Round(time.Millisecond), len(rec.appends))
	}
	slices.SortFunc(appends, func(a, b time.Time) int { return a.Compare(b) })
	var gap time.Duration
	for i := 1; i < len(appends); i++ {
		gap = max(gap, appends[i].Sub(appends[i-1]))
	}
	t.Logf("longest pause in caller audio reaching the model: %v", gap)
	if gap > time.Second {
		t.Errorf("caller audio paused for %v across a recycle, want at most 1 s", gap)
	}
	if len(appends) < 120 {
		t.Errorf("model received %d of 125 audio frames", len(appends))
	}
}
