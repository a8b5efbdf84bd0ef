package monitor_test

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/voiceorder/voiceorder/internal/monitor"
)

// Example shows how the app wires the package: one registry, one Metrics
// passed to every component, a sampler run as a background loop, and the
// handlers on the admin listener.
func Example() {
	reg := monitor.NewRegistry()
	metrics := monitor.NewMetrics(reg)

	liveSessions := func() int { return 0 } // the session registry's Active
	sampler, err := monitor.NewSampler(monitor.Config{
		Sessions: liveSessions,
		Metrics:  metrics,
		Logger:   slog.Default(),
	})
	if err != nil {
		slog.Error("configure monitor", "err", err)
		return
	}

	admin := http.NewServeMux()
	admin.Handle("GET /metrics", monitor.Handler(reg))
	admin.Handle("GET /debug/monitor", sampler.StatusHandler())
	admin.Handle("POST /debug/gc", monitor.GCHandler())

	// One conversation on the phone transport.
	phone := metrics.Transport("twilio")
	phone.SessionStarted()
	phone.FramesReceived.Inc()
	phone.Dropped(monitor.DropQueueFull).Inc()
	metrics.ToolCall("add_to_order", monitor.ToolOK, 2*time.Millisecond)
	phone.SessionEnded(monitor.EndHangup)

	// The app runs the sampler beside its servers and stops it with ctx.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sampler.Run(ctx); err != nil {
		slog.Error("monitor stopped", "err", err)
	}
}
