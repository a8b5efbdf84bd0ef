package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRunHonoursMix(t *testing.T) {
	g := newFakeGateway(t)
	cfg := g.config()
	cfg.Calls = 18 // two rounds of the default mix, whose weights sum to 9
	cfg.Mix = DefaultMix()

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[Ending]int{EndNormal: 8, EndAbrupt: 4, EndSpeaking: 4, EndDial: 2}
	for _, c := range rep.Calls {
		if c.Started != want[c.Ending] || c.Completed != want[c.Ending] || c.Failed != 0 {
			t.Errorf("%s calls: started %d, completed %d, failed %d; want %d, %d, 0",
				c.Ending, c.Started, c.Completed, c.Failed, want[c.Ending], want[c.Ending])
		}
	}
	endings, transports, gcs := g.snapshot()
	for e, n := range want {
		if endings[e] != n {
			t.Errorf("gateway saw %d %s endings, want %d (all: %v)", endings[e], e, n, endings)
		}
	}
	if transports[TransportBrowser] != 9 || transports[TransportTwilio] != 9 {
		t.Errorf("gateway saw transports %v, want 9 browser and 9 twilio", transports)
	}
	if gcs < 2 {
		t.Errorf("admin saw %d garbage collections, want at least 2 (before and after)", gcs)
	}
	if rep.Latency.Count != 8 {
		t.Errorf("latency measurements = %d, want 8 (one per normal call)", rep.Latency.Count)
	}
	if rep.Setup.Count != 16 {
		t.Errorf("setup measurements = %d, want 16 (every call but the dial drops)", rep.Setup.Count)
	}
	if !rep.OK() {
		t.Errorf("OK() = false, want true; problems: %v", rep.Problems())
	}
	if len(rep.Failures) != 0 {
		t.Errorf("failures = %v, want none", rep.Failures)
	}
}

func TestRunRespectsConcurrency(t *testing.T) {
	g := newFakeGateway(t)
	cfg := g.config()
	cfg.Calls = 12
	cfg.Concurrency = 3
	cfg.Mix = Mix{EndNormal: 1}

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The gateway's own count lags the caller's, because a server handler
	// ends after the caller has closed its socket, so the bound is checked
	// where it is enforced.
	if rep.PeakConcurrency < 1 || rep.PeakConcurrency > 3 {
		t.Errorf("peak concurrency = %d, want 1 to 3", rep.PeakConcurrency)
	}
	if got := rep.Totals().Completed; got != 12 {
		t.Errorf("completed calls = %d, want 12", got)
	}
}

func TestRunBaselineChecks(t *testing.T) {
	tests := []struct {
		name      string
		after     func(m fakeFigures) fakeFigures
		failCheck string // empty when every check passes
	}{
		{name: "back to baseline", after: func(m fakeFigures) fakeFigures { m.goroutines += 3; return m }},
		{name: "goroutines grow", after: func(m fakeFigures) fakeFigures { m.goroutines += 50; return m }, failCheck: "goroutines"},
		{name: "heap grows", after: func(m fakeFigures) fakeFigures { m.heap *= 2; return m }, failCheck: "heap in use"},
		{name: "fds grow", after: func(m fakeFigures) fakeFigures { m.fds += 20; return m }, failCheck: "open fds"},
		{name: "a session stays active", after: func(m fakeFigures) fakeFigures { m.active = 1; return m }, failCheck: "active sessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGateway(t)
			g.after = tt.after
			cfg := g.config()
			cfg.Calls = 3
			// The figures never come back in the failing cases; a short
			// settle keeps the test short.
			cfg.SettleTimeout = timeoutScale / 2

			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			for _, c := range rep.Checks {
				want := Pass
				if c.Name == tt.failCheck {
					want = Fail
				}
				if c.Result != want {
					t.Errorf("check %s = %s (before %g, after %g, allowed +%g), want %s", c.Name, c.Result, c.Before, c.After, c.Allowed, want)
				}
			}
			if got, want := rep.OK(), tt.failCheck == ""; got != want {
				t.Errorf("OK() = %v, want %v; problems: %v", got, want, rep.Problems())
			}
			if tt.failCheck != "" && !strings.Contains(strings.Join(rep.Problems(), "; "), tt.failCheck) {
				t.Errorf("problems %q do not name %s", rep.Problems(), tt.failCheck)
			}
		})
	}
}

func TestRunCountsFailedCalls(t *testing.T) {
	g := newFakeGateway(t)
	g.silentReplies = true
	cfg := g.config()
	cfg.Calls = 4
	cfg.Mix = Mix{EndNormal: 1}
	cfg.TurnTimeout = timeoutScale / 2

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := rep.Totals().Failed; got != 4 {
		t.Errorf("failed calls = %d, want 4", got)
	}
	if len(rep.Failures) == 0 || !strings.Contains(rep.Failures[0].Reason, "no reply within") {
		t.Errorf("failures = %v, want reason \"no reply within …\"", rep.Failures)
	}
	if rep.OK() {
		t.Error("OK() = true with every call failed, want false")
	}
}

func TestRunWarmup(t *testing.T) {
	g := newFakeGateway(t)
	cfg := g.config()
	cfg.Warmup = 9
	cfg.Calls = 9

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Warmup.Started != 9 || rep.Warmup.Completed != 9 {
		t.Errorf("warm-up calls: started %d, completed %d; want 9, 9", rep.Warmup.Started, rep.Warmup.Completed)
	}
	if got := rep.Totals().Started; got != 9 {
		t.Errorf("counted calls = %d, want 9 (the warm-up apart)", got)
	}
	endings, _, _ := g.snapshot()
	seen := 0
	for _, n := range endings {
		seen += n
	}
	if seen != 18 {
		t.Errorf("gateway saw %d calls, want 18", seen)
	}
	if !rep.OK() {
		t.Errorf("OK() = false, want true; problems: %v", rep.Problems())
	}
}

func TestRunStopsAfterDuration(t *testing.T) {
	g := newFakeGateway(t)
	cfg := g.config()
	cfg.Calls = 0
	cfg.Duration = timeoutScale / 4
	cfg.Concurrency = 2
	cfg.Mix = Mix{EndDial: 1}

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	total := rep.Totals()
	if total.Started == 0 || total.Completed != total.Started {
		t.Errorf("calls started %d, completed %d; want some, all completed", total.Started, total.Completed)
	}
}

func TestRunInterrupted(t *testing.T) {
	g := newFakeGateway(t)
	g.silentReplies = true // calls wait for a reply until the context ends
	cfg := g.config()
	cfg.Calls = 4
	cfg.Mix = Mix{EndNormal: 1}
	cfg.TurnTimeout = 10 * timeoutScale

	var progress bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cfg.ProgressInterval = timeoutScale / 10
	// Cancel once a progress line shows every call in progress.
	cfg.Progress = writerFunc(func(p []byte) (int, error) {
		if bytes.Contains(p, []byte("sessions 4 ")) {
			cancel()
		}
		return progress.Write(p)
	})
	rep, err := Run(ctx, cfg)
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	if rep == nil || !rep.Interrupted {
		t.Fatalf("report = %+v, want one marked interrupted", rep)
	}
	if got := rep.Totals().Interrupted; got != 4 {
		t.Errorf("interrupted calls = %d, want 4", got)
	}
	if rep.OK() {
		t.Error("OK() = true for an interrupted soak, want false")
	}
	if !strings.Contains(progress.String(), "sessions 4") {
		t.Errorf("progress %q does not show the 4 active sessions", progress.String())
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestReportTableAndJSON(t *testing.T) {
	g := newFakeGateway(t)
	cfg := g.config()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var out bytes.Buffer
	if err := rep.Table(&out); err != nil {
		t.Fatalf("Table: %v", err)
	}
	text := out.String()
	for _, want := range []string{"normal", "abrupt", "speaking", "dial", "total", "goroutines", "heap in use",
		"open fds", "active sessions", "reply latency", "p99", "result: PASS", "hangup"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}

	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatalf("encode report: %v", err)
	}
	var decoded Report
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("decode report: %v", err)
	}
	if decoded.Before.Goroutines != rep.Before.Goroutines || decoded.Totals() != rep.Totals() {
		t.Errorf("report after a JSON round trip differs: %+v, want %+v", decoded, rep)
	}
}

func TestRunRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no server", Config{Calls: 1}, "server URL"},
		{"websocket scheme", Config{Server: "ws://127.0.0.1:1", Calls: 1}, "http://host:port"},
		{"no limit", Config{Server: "http://127.0.0.1:1"}, "number of calls or a duration"},
		{"empty mix", Config{Server: "http://127.0.0.1:1", Calls: 1, Mix: Mix{EndNormal: 0}}, "every weight is zero"},
		{"unknown transport", Config{Server: "http://127.0.0.1:1", Calls: 1, Transports: []Transport{"sip"}}, "invalid transport"},
		{"missing audio", Config{Server: "http://127.0.0.1:1", Calls: 1, CallAudio: "/nonexistent.wav"}, "open call audio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
