package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metric names the soak reads from the gateway's /metrics.
const (
	MetricGoroutines     = "go_goroutines"
	MetricHeapInuse      = "go_memstats_heap_inuse_bytes"
	MetricOpenFDs        = "process_open_fds"
	MetricSessionsActive = "voiceorder_sessions_active"
	MetricSessionsEnded  = "voiceorder_sessions_ended_total"
)

const (
	metricsPath = "/metrics"
	gcPath      = "/debug/gc"
	// requestTimeout bounds one metric or admin request.
	requestTimeout = 10 * time.Second
	// maxMetricsBytes bounds the /metrics response that is read.
	maxMetricsBytes = 16 << 20
	// acceptText requests the Prometheus text format, which the parser reads.
	acceptText = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
)

// Gauge is one figure from a scrape. Present is false when the gateway does
// not export the metric; it then encodes as JSON null.
type Gauge struct {
	Value   float64
	Present bool
}

// MarshalJSON encodes the value, or null when it is not present.
func (g Gauge) MarshalJSON() ([]byte, error) {
	if !g.Present {
		return []byte("null"), nil
	}
	return json.Marshal(g.Value)
}

// UnmarshalJSON decodes a number, or null as not present.
func (g *Gauge) UnmarshalJSON(b []byte) error {
	*g = Gauge{}
	if string(b) == "null" {
		return nil
	}
	if err := json.Unmarshal(b, &g.Value); err != nil {
		return err
	}
	g.Present = true
	return nil
}

// Snapshot is the figures of one scrape of the gateway's /metrics.
type Snapshot struct {
	Time           time.Time `json:"time"`
	Goroutines     Gauge     `json:"goroutines"`
	HeapInuseBytes Gauge     `json:"heap_inuse_bytes"`
	OpenFDs        Gauge     `json:"open_fds"`
	// ActiveSessions is voiceorder_sessions_active summed over transports.
	ActiveSessions Gauge `json:"active_sessions"`
	// EndedSessions is voiceorder_sessions_ended_total by reason, summed
	// over transports.
	EndedSessions map[string]float64 `json:"ended_sessions,omitempty"`
}

// ParseSnapshot reads the figures from metrics in the Prometheus text
// format. Metrics it does not use are ignored; missing ones are not
// present in the snapshot.
func ParseSnapshot(r io.Reader) (Snapshot, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return Snapshot{}, fmt.Errorf("parse metrics: %w", err)
	}
	snap := Snapshot{
		Goroutines:     sum(families[MetricGoroutines]),
		HeapInuseBytes: sum(families[MetricHeapInuse]),
		OpenFDs:        sum(families[MetricOpenFDs]),
		ActiveSessions: sum(families[MetricSessionsActive]),
	}
	if ended := families[MetricSessionsEnded]; ended != nil {
		snap.EndedSessions = map[string]float64{}
		for _, m := range ended.GetMetric() {
			snap.EndedSessions[label(m, "reason")] += value(m)
		}
	}
	return snap, nil
}

// sum adds the values of every series of a family.
func sum(f *dto.MetricFamily) Gauge {
	if f == nil || len(f.GetMetric()) == 0 {
		return Gauge{}
	}
	var g Gauge
	for _, m := range f.GetMetric() {
		g.Value += value(m)
	}
	g.Present = true
	return g
}

// value returns the value of a gauge, counter or untyped series, and 0 for
// other types, which the soak does not read.
func value(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// scrape reads the gateway's /metrics.
func (r *runner) scrape(ctx context.Context) (Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	u := *r.server
	u.Path = metricsPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Snapshot{}, fmt.Errorf("scrape metrics: %w", err)
	}
	req.Header.Set("Accept", acceptText)
	resp, err := r.client.Do(req)
	if err != nil {
		return Snapshot{}, fmt.Errorf("scrape metrics: %w", err)
	}
	body, err := readAndClose(resp.Body, maxMetricsBytes)
	if err != nil {
		return Snapshot{}, fmt.Errorf("scrape metrics: read %s: %w", u.String(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return Snapshot{}, fmt.Errorf("scrape metrics: %s returned HTTP %d: %s", u.String(), resp.StatusCode, firstLine(body))
	}
	snap, err := ParseSnapshot(bytes.NewReader(body))
	if err != nil {
		return Snapshot{}, fmt.Errorf("scrape metrics from %s (Content-Type %q): %w", u.String(), resp.Header.Get("Content-Type"), err)
	}
	snap.Time = time.Now()
	return snap, nil
}

// collectGarbage requests a garbage collection from the admin listener. It
// does nothing without an admin URL.
func (r *runner) collectGarbage(ctx context.Context) error {
	if r.admin == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	u := *r.admin
	u.Path = gcPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return fmt.Errorf("request garbage collection: %w", err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("request garbage collection: %w", err)
	}
	body, err := readAndClose(resp.Body, 64<<10)
	if err != nil {
		return fmt.Errorf("request garbage collection: read %s: %w", u.String(), err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("request garbage collection: %s returned HTTP %d: %s", u.String(), resp.StatusCode, firstLine(body))
	}
	return nil
}

// formatBytes returns n bytes in binary units, such as "12.3 MiB".
func formatBytes(n float64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return sign + strconv.FormatFloat(n, 'f', 0, 64) + " B"
	}
	return sign + strconv.FormatFloat(n, 'f', 1, 64) + " " + units[i]
}
