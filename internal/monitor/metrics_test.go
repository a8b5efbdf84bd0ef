package monitor

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetricsExposition(t *testing.T) {
	reg := NewRegistry()
	m := NewMetrics(reg)
	m.Transport("twilio")
	m.ToolCall("add_to_order", ToolOK, 3*time.Millisecond)
	if err := m.RegisterCartStore(func() float64 { return 7 }, func(string) float64 { return 2 }); err != nil {
		t.Fatalf("RegisterCartStore: %v", err)
	}
	instrumented := m.InstrumentHandler("/healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	instrumented.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))

	rec := httptest.NewRecorder()
	Handler(reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d, want 200", rec.Code)
	}
	body := rec.Body.String()

	names := []string{
		"voiceorder_sessions_active",
		"voiceorder_sessions_ended_total",
		"voiceorder_session_panics_total",
		"voiceorder_audio_frames_received_total",
		"voiceorder_audio_frames_sent_total",
		"voiceorder_audio_frames_dropped_total",
		"voiceorder_upstream_dials_total",
		"voiceorder_upstream_failures_total",
		"voiceorder_upstream_reconnects_total",
		"voiceorder_model_errors_total",
		"voiceorder_tool_calls_total",
		"voiceorder_tool_call_duration_seconds",
		"voiceorder_cart_store_entries",
		"voiceorder_cart_store_evictions_total",
		"voiceorder_orders_stored_total",
		"voiceorder_leak_alerts_total",
		"voiceorder_alert_webhooks_total",
		"voiceorder_http_requests_total",
		"go_goroutines",
		"process_open_fds",
	}
	for _, name := range names {
		if !strings.Contains(body, "# TYPE "+name+" ") {
			t.Errorf("exposition has no metric %s", name)
		}
	}
	for _, series := range []string{
		`voiceorder_cart_store_entries 7`,
		`voiceorder_cart_store_evictions_total{reason="capacity"} 2`,
		`voiceorder_cart_store_evictions_total{reason="expired"} 2`,
		`voiceorder_http_requests_total{code="200",route="/healthz"} 1`,
		`voiceorder_leak_alerts_total{kind="heap_idle"} 0`,
		`voiceorder_audio_frames_dropped_total{reason="stale_mark",transport="twilio"} 0`,
		`voiceorder_tool_call_duration_seconds_bucket{tool="add_to_order",le="0.005"} 1`,
	} {
		if !strings.Contains(body, series+"\n") {
			t.Errorf("exposition has no line %q", series)
		}
	}
}

func TestRegisterCartStoreTwice(t *testing.T) {
	m := NewMetrics(NewRegistry())
	zero := func() float64 { return 0 }
	evictions := func(string) float64 { return 0 }
	if err := m.RegisterCartStore(zero, evictions); err != nil {
		t.Fatalf("first RegisterCartStore: %v", err)
	}
	if err := m.RegisterCartStore(zero, evictions); err == nil {
		t.Errorf("second RegisterCartStore: got nil error, want one")
	}
}

func TestCartStoreEvictionReasons(t *testing.T) {
	reg := NewRegistry()
	m := NewMetrics(reg)
	counts := map[string]float64{"capacity": 3, "expired": 11}
	if err := m.RegisterCartStore(func() float64 { return 0 }, func(r string) float64 { return counts[r] }); err != nil {
		t.Fatalf("RegisterCartStore: %v", err)
	}
	for reason, want := range counts {
		got, ok := metricValue(t, reg, "voiceorder_cart_store_evictions_total", map[string]string{"reason": reason})
		if !ok || got != want {
			t.Errorf("evictions{reason=%q} = %v (found %v), want %v", reason, got, ok, want)
		}
	}
}

func TestTransportSessionCounts(t *testing.T) {
	reg := NewRegistry()
	m := NewMetrics(reg)
	tm := m.Transport("browser")
	if again := m.Transport("browser"); again != tm {
		t.Errorf("Transport(browser) returned a new value on the second call")
	}

	tm.SessionStarted()
	tm.SessionStarted()
	tm.SessionStarted()
	tm.SessionEnded(EndHangup)
	tm.SessionEnded(EndPanic)
	tm.SessionEnded("made_up")
	tm.SessionRejected()
	tm.FramesReceived.Inc()
	tm.FramesSent.Add(2)
	tm.Dropped(DropQueueFull).Inc()
	tm.Dropped(DropReason(200)).Inc()

	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{"active after three starts and three ends", "voiceorder_sessions_active", map[string]string{"transport": "browser"}, 0},
		{"hangup", "voiceorder_sessions_ended_total", map[string]string{"transport": "browser", "reason": "hangup"}, 1},
		{"panic", "voiceorder_sessions_ended_total", map[string]string{"transport": "browser", "reason": "panic"}, 1},
		{"unknown reason", "voiceorder_sessions_ended_total", map[string]string{"transport": "browser", "reason": "other"}, 1},
		{"busy rejected", "voiceorder_sessions_ended_total", map[string]string{"transport": "browser", "reason": "busy_rejected"}, 1},
		{"panics", "voiceorder_session_panics_total", nil, 1},
		{"frames received", "voiceorder_audio_frames_received_total", map[string]string{"transport": "browser"}, 1},
		{"frames sent", "voiceorder_audio_frames_sent_total", map[string]string{"transport": "browser"}, 2},
		{"queue full", "voiceorder_audio_frames_dropped_total", map[string]string{"transport": "browser", "reason": "queue_full"}, 1},
		{"unknown drop reason", "voiceorder_audio_frames_dropped_total", map[string]string{"transport": "browser", "reason": "other"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := metricValue(t, reg, tt.metric, tt.labels)
			if !ok {
				t.Fatalf("no series %s%v", tt.metric, tt.labels)
			}
			if got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}
}

func TestLabelBounds(t *testing.T) {
	reg := NewRegistry()
	m := NewMetrics(reg)
	m.ModelError("session_expired")
	m.ModelError("a_code_nobody_has_seen")
	m.ModelError("")
	m.UpstreamFailure(UpstreamKeepalive)
	m.UpstreamFailure("cosmic_rays")
	for i := range maxTools + 3 {
		m.ToolCall(fmt.Sprintf("tool_%d", i), ToolError, time.Millisecond)
	}
	m.ToolCall("bad\xffname", ToolOK, time.Millisecond)
	for i := range maxTransports + 2 {
		m.Transport(fmt.Sprintf("transport_%d", i)).FramesReceived.Inc()
	}

	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{"known model code", "voiceorder_model_errors_total", map[string]string{"code": "session_expired"}, 1},
		{"unknown and empty model codes", "voiceorder_model_errors_total", map[string]string{"code": "other"}, 2},
		{"known upstream reason", "voiceorder_upstream_failures_total", map[string]string{"reason": "keepalive"}, 1},
		{"unknown upstream reason", "voiceorder_upstream_failures_total", map[string]string{"reason": "other"}, 1},
		{"tool within cap", "voiceorder_tool_calls_total", map[string]string{"tool": "tool_0", "result": "error"}, 1},
		{"tools beyond cap", "voiceorder_tool_calls_total", map[string]string{"tool": "other", "result": "error"}, 3},
		{"tool name not UTF-8", "voiceorder_tool_calls_total", map[string]string{"tool": "other", "result": "ok"}, 1},
		{"transports beyond cap", "voiceorder_audio_frames_received_total", map[string]string{"transport": "other"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := metricValue(t, reg, tt.metric, tt.labels)
			if !ok {
				t.Fatalf("no series %s%v", tt.metric, tt.labels)
			}
			if got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}
	if _, ok := metricValue(t, reg, "voiceorder_model_errors_total", map[string]string{"code": "a_code_nobody_has_seen"}); ok {
		t.Errorf("unknown model code got its own series")
	}
	if _, ok := metricValue(t, reg, "voiceorder_tool_calls_total", map[string]string{"tool": fmt.Sprintf("tool_%d", maxTools)}); ok {
		t.Errorf("tool beyond the cap got its own series")
	}
}

func TestUpstreamDialResults(t *testing.T) {
	reg := NewRegistry()
	m := NewMetrics(reg)
	m.UpstreamDial(nil)
	m.UpstreamDial(nil)
	m.UpstreamDial(io.ErrUnexpectedEOF)
	m.UpstreamReconnect()
	m.OrderStored()

	for result, want := range map[string]float64{"ok": 2, "error": 1} {
		if got, _ := metricValue(t, reg, "voiceorder_upstream_dials_total", map[string]string{"result": result}); got != want {
			t.Errorf("upstream_dials_total{result=%q} = %v, want %v", result, got, want)
		}
	}
	if got, _ := metricValue(t, reg, "voiceorder_upstream_reconnects_total", nil); got != 1 {
		t.Errorf("upstream_reconnects_total = %v, want 1", got)
	}
	if got, _ := metricValue(t, reg, "voiceorder_orders_stored_total", nil); got != 1 {
		t.Errorf("orders_stored_total = %v, want 1", got)
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	tm := m.Transport("twilio")
	tm.SessionStarted()
	tm.FramesReceived.Inc()
	tm.Dropped(DropLateDelta).Inc()
	tm.SessionEnded(EndPanic)
	m.ToolCall("x", ToolOK, time.Second)
	m.ModelError("x")
	m.UpstreamDial(nil)
	m.UpstreamFailure("x")
	m.UpstreamReconnect()
	m.OrderStored()
	m.leakAlert(HeapIdle)
	m.webhookResult(webhookSent)
	if err := m.RegisterCartStore(nil, nil); err != nil {
		t.Errorf("RegisterCartStore on nil Metrics: %v", err)
	}
	h := http.NotFoundHandler()
	if got := m.InstrumentHandler("/", h); got == nil {
		t.Errorf("InstrumentHandler on nil Metrics returned nil")
	}
}

func TestFrameCountersAllocateNothing(t *testing.T) {
	m := NewMetrics(NewRegistry())
	tm := m.Transport("twilio")
	tests := []struct {
		name string
		fn   func()
	}{
		{"received", func() { tm.FramesReceived.Inc() }},
		{"sent", func() { tm.FramesSent.Inc() }},
		{"dropped", func() { tm.Dropped(DropCancelledResponse).Inc() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if allocs := testing.AllocsPerRun(1000, tt.fn); allocs != 0 {
				t.Errorf("allocations per increment = %v, want 0", allocs)
			}
		})
	}
}

func BenchmarkFrameReceived(b *testing.B) {
	tm := NewMetrics(NewRegistry()).Transport("twilio")
	b.ReportAllocs()
	for b.Loop() {
		tm.FramesReceived.Inc()
	}
}

func BenchmarkFrameDropped(b *testing.B) {
	tm := NewMetrics(NewRegistry()).Transport("twilio")
	b.ReportAllocs()
	for b.Loop() {
		tm.Dropped(DropQueueFull).Inc()
	}
}

// BenchmarkFrameReceivedParallel measures the shared counter under
// contention from all cores, as with many live conversations.
func BenchmarkFrameReceivedParallel(b *testing.B) {
	tm := NewMetrics(NewRegistry()).Transport("twilio")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tm.FramesReceived.Inc()
		}
	})
}
