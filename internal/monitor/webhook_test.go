package monitor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// manualTicker ticks only when the test sends on c.
type manualTicker struct{ c chan time.Time }

func (t manualTicker) C() <-chan time.Time { return t.c }
func (manualTicker) Stop()                 {}

// webhookHarness runs a Sampler with a real webhook receiver on loopback
// and a ticker the test drives. Readings come from a fakeProcess.
type webhookHarness struct {
	sampler *Sampler
	proc    *fakeProcess
	logs    *logRecorder
	ticks   chan time.Time
	url     string
}

// startWebhookHarness starts a receiver with handler and a running Sampler
// whose idle baselines are ready.
func startWebhookHarness(t *testing.T, handler http.HandlerFunc, timeout time.Duration) *webhookHarness {
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	h := &webhookHarness{proc: &fakeProcess{}, logs: newLogRecorder(), ticks: make(chan time.Time), url: srv.URL + "/hooks/secret-token"}
	h.proc.set(idleGoroutines, idleFDs, 0, idleHeap)
	s, err := NewSampler(Config{
		Warmup: 1, BaselineSamples: 1, Sustain: 1,
		Probe: h.proc.probe(), Sessions: h.proc.activeSessions, Logger: h.logs.logger(),
		WebhookURL: h.url, WebhookTimeout: timeout, HTTPClient: srv.Client(),
		NewTicker: func(time.Duration) Ticker { return manualTicker{h.ticks} },
	})
	if err != nil {
		t.Fatalf("NewSampler: %v", err)
	}
	h.sampler = s
	for range 3 {
		s.Sample()
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
	return h
}

func TestWebhookDeliversJSON(t *testing.T) {
	received := make(chan map[string]any, 1)
	contentType := make(chan string, 1)
	h := startWebhookHarness(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("decode webhook body: %v", err)
		}
		contentType <- r.Header.Get("Content-Type")
		received <- body
		io.WriteString(w, "ok")
	}, DefaultWebhookTimeout)

	h.proc.set(idleGoroutines+100, idleFDs, 0, idleHeap)
	h.sampler.Sample()

	body := <-received
	if got := <-contentType; got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	want := map[string]any{
		"kind":       "goroutines_idle",
		"current":    float64(idleGoroutines + 100),
		"baseline":   float64(idleGoroutines),
		"margin":     0.5,
		"sessions":   float64(0),
		"goroutines": float64(idleGoroutines + 100),
		"open_fds":   float64(idleFDs),
		"service":    "voiceorder",
	}
	for key, v := range want {
		if body[key] != v {
			t.Errorf("body[%q] = %v, want %v", key, body[key], v)
		}
	}
	for _, key := range []string{"heap_inuse_bytes", "heap_live_bytes", "limit", "at"} {
		if _, ok := body[key]; !ok {
			t.Errorf("body has no %q", key)
		}
	}
	if at, _ := body["at"].(string); at == "" {
		t.Errorf("body[at] = %v, want an RFC 3339 time", body["at"])
	}
}

func TestWebhookFailureDoesNotBlockSampling(t *testing.T) {
	const (
		hang = iota
		accept
	)
	var mode atomic.Int32
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	h := startWebhookHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if mode.Load() == hang {
			entered <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		io.WriteString(w, "ok")
	}, 200*time.Millisecond)
	t.Cleanup(func() { close(release) })

	failed := h.logs.next("alert webhook failed; further failures are summarized on recovery")
	h.proc.set(idleGoroutines+100, idleFDs, 0, idleHeap)
	h.sampler.Sample()
	<-entered

	// The receiver hangs; the sampling loop still takes every tick. A send
	// on the unbuffered tick channel completes only when Run receives it.
	before := h.sampler.Status().Samples
	for range 3 {
		h.ticks <- time.Now()
	}
	<-failed
	if got := h.sampler.Status().Samples; got < before+2 {
		t.Errorf("samples while the webhook hung: %d, want at least %d", got-before, 2)
	}

	st := h.sampler.Status().Webhook
	if st == nil || !st.Failing || st.Failed != 1 || st.Sent != 0 {
		t.Fatalf("webhook status = %+v, want failing with 1 failure", st)
	}
	if strings.Contains(st.LastError, "secret-token") {
		t.Errorf("last error %q contains the webhook URL", st.LastError)
	}
	for _, r := range h.logs.find("alert webhook failed; further failures are summarized on recovery") {
		if strings.Contains(attrs(r)["err"].String(), "secret-token") {
			t.Errorf("logged error %q contains the webhook URL", attrs(r)["err"])
		}
	}

	mode.Store(accept)
	recovered := h.logs.next("alert webhook recovered")
	h.proc.set(idleGoroutines+100, idleFDs+50, 0, idleHeap)
	h.sampler.Sample()
	<-recovered

	logs := h.logs.find("alert webhook recovered")
	if len(logs) != 1 || attrs(logs[0])["failures"].Int64() != 1 {
		t.Errorf("recovery logs = %v, want one with failures=1", logs)
	}
	if st := h.sampler.Status().Webhook; st.Failing || st.Sent != 1 || st.Failed != 1 {
		t.Errorf("webhook status after recovery = %+v, want 1 sent, 1 failed, not failing", st)
	}
}

func TestWebhookErrorStatusFails(t *testing.T) {
	h := startWebhookHarness(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "receiver broken", http.StatusInternalServerError)
	}, DefaultWebhookTimeout)

	failed := h.logs.next("alert webhook failed; further failures are summarized on recovery")
	h.proc.set(idleGoroutines+100, idleFDs, 0, idleHeap)
	h.sampler.Sample()
	<-failed

	st := h.sampler.Status().Webhook
	if st.Failed != 1 || !strings.Contains(st.LastError, "HTTP 500") {
		t.Errorf("webhook status = %+v, want 1 failure mentioning HTTP 500", st)
	}
}

func TestWebhookQueueDropsOldest(t *testing.T) {
	reg := NewRegistry()
	w := newWebhook(Config{WebhookURL: "http://127.0.0.1:1/", Metrics: NewMetrics(reg)}.withDefaults())
	for i := range webhookQueueSize + 4 {
		w.enqueue(Payload{Sessions: i})
	}

	if got := w.snapshot().Dropped; got != 4 {
		t.Errorf("dropped = %d, want 4", got)
	}
	if got, _ := metricValue(t, reg, "voiceorder_alert_webhooks_total", map[string]string{"result": "dropped"}); got != 4 {
		t.Errorf("alert_webhooks_total{result=dropped} = %v, want 4", got)
	}
	if got := len(w.queue); got != webhookQueueSize {
		t.Errorf("queued = %d, want %d", got, webhookQueueSize)
	}
	if first := <-w.queue; first.Sessions != 4 {
		t.Errorf("oldest queued payload is number %d, want 4", first.Sessions)
	}
}
