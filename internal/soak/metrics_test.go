package soak

import (
	"strings"
	"testing"
	"time"
)

func TestParseSnapshot(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Snapshot
	}{
		{
			name: "all figures, sessions summed over transports",
			text: `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 57
# TYPE go_memstats_heap_inuse_bytes gauge
go_memstats_heap_inuse_bytes 8.388608e+06
# TYPE process_open_fds gauge
process_open_fds 23
# TYPE voiceorder_sessions_active gauge
voiceorder_sessions_active{transport="browser"} 2
voiceorder_sessions_active{transport="twilio"} 3
# TYPE voiceorder_sessions_ended_total counter
voiceorder_sessions_ended_total{reason="hangup",transport="browser"} 10
voiceorder_sessions_ended_total{reason="hangup",transport="twilio"} 5
voiceorder_sessions_ended_total{reason="error",transport="twilio"} 1
# TYPE voiceorder_audio_frames_dropped_total counter
voiceorder_audio_frames_dropped_total{reason="queue_full"} 4
`,
			want: Snapshot{
				Goroutines:     Gauge{57, true},
				HeapInuseBytes: Gauge{8 << 20, true},
				OpenFDs:        Gauge{23, true},
				ActiveSessions: Gauge{5, true},
				EndedSessions:  map[string]float64{"hangup": 15, "error": 1},
			},
		},
		{
			name: "untyped and missing metrics",
			text: "go_goroutines 12\n",
			want: Snapshot{Goroutines: Gauge{12, true}},
		},
		{
			name: "empty",
			text: "",
			want: Snapshot{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSnapshot(strings.NewReader(tt.text))
			if err != nil {
				t.Fatalf("ParseSnapshot: %v", err)
			}
			if got.Goroutines != tt.want.Goroutines || got.HeapInuseBytes != tt.want.HeapInuseBytes ||
				got.OpenFDs != tt.want.OpenFDs || got.ActiveSessions != tt.want.ActiveSessions {
				t.Errorf("ParseSnapshot = %+v, want %+v", got, tt.want)
			}
			if len(got.EndedSessions) != len(tt.want.EndedSessions) {
				t.Errorf("ended sessions = %v, want %v", got.EndedSessions, tt.want.EndedSessions)
			}
			for reason, n := range tt.want.EndedSessions {
				if got.EndedSessions[reason] != n {
					t.Errorf("ended sessions %s = %g, want %g", reason, got.EndedSessions[reason], n)
				}
			}
		})
	}
}

func TestParseSnapshotRejectsGarbage(t *testing.T) {
	if _, err := ParseSnapshot(strings.NewReader("go_goroutines twelve\n")); err == nil {
		t.Error("ParseSnapshot of an invalid value succeeded, want an error")
	}
}

func FuzzParseSnapshot(f *testing.F) {
	f.Add("go_goroutines 12\n")
	f.Add("# TYPE voiceorder_sessions_active gauge\nvoiceorder_sessions_active{transport=\"browser\"} 1\n")
	f.Add("voiceorder_sessions_ended_total{reason=\"x\"} 1e3\n")
	f.Fuzz(func(t *testing.T, text string) {
		// Any input either parses or returns an error; it never panics.
		_, _ = ParseSnapshot(strings.NewReader(text))
	})
}

func TestPercentile(t *testing.T) {
	s := newSampleSet(1)
	for i := 1; i <= 100; i++ {
		s.add(time.Duration(i) * time.Millisecond)
	}
	d := s.distribution()
	want := Distribution{Count: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if d != want {
		t.Errorf("distribution = %+v, want %+v", d, want)
	}
}

func TestSampleSetIsBounded(t *testing.T) {
	s := newSampleSet(1)
	for i := range 3 * maxSamples {
		s.add(time.Duration(i))
	}
	if len(s.samples) != maxSamples {
		t.Errorf("kept %d samples, want %d", len(s.samples), maxSamples)
	}
	if d := s.distribution(); d.Count != 3*maxSamples || d.Max != time.Duration(3*maxSamples-1) {
		t.Errorf("count %d, max %v; want %d, %v", d.Count, d.Max, 3*maxSamples, time.Duration(3*maxSamples-1))
	}
}

func TestEvaluateMargins(t *testing.T) {
	before := Snapshot{Goroutines: Gauge{100, true}, HeapInuseBytes: Gauge{100 << 20, true}, OpenFDs: Gauge{10, true}, ActiveSessions: Gauge{0, true}}
	tests := []struct {
		name    string
		margins Margins
		after   Snapshot
		want    map[string]CheckResult
	}{
		{
			name:    "goroutine percent beats count",
			margins: Margins{Goroutines: 5, GoroutinePercent: 10, HeapPercent: 25, OpenFDs: 5},
			after:   Snapshot{Goroutines: Gauge{109, true}, HeapInuseBytes: Gauge{120 << 20, true}, OpenFDs: Gauge{15, true}, ActiveSessions: Gauge{0, true}},
			want:    map[string]CheckResult{"goroutines": Pass, "heap in use": Pass, "open fds": Pass, "active sessions": Pass},
		},
		{
			name:    "each beyond its margin",
			margins: Margins{Goroutines: 5, HeapPercent: 10, OpenFDs: 0},
			after:   Snapshot{Goroutines: Gauge{106, true}, HeapInuseBytes: Gauge{111 << 20, true}, OpenFDs: Gauge{11, true}, ActiveSessions: Gauge{1, true}},
			want:    map[string]CheckResult{"goroutines": Fail, "heap in use": Fail, "open fds": Fail, "active sessions": Fail},
		},
		{
			name:    "heap floor in bytes",
			margins: Margins{HeapPercent: 1, HeapBytes: 8 << 20},
			after:   Snapshot{Goroutines: Gauge{100, true}, HeapInuseBytes: Gauge{107 << 20, true}, OpenFDs: Gauge{10, true}},
			want:    map[string]CheckResult{"goroutines": Pass, "heap in use": Pass, "open fds": Pass, "active sessions": Skip},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range evaluate(before, tt.after, tt.margins) {
				if c.Result != tt.want[c.Name] {
					t.Errorf("%s: %s (diff %g, allowed %g), want %s", c.Name, c.Result, c.Diff(), c.Allowed, tt.want[c.Name])
				}
			}
		})
	}
}
