package monitor

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGCHandler(t *testing.T) {
	tests := []struct {
		name   string
		method string
		want   int
	}{
		{"post", http.MethodPost, http.StatusOK},
		{"get", http.MethodGet, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			GCHandler().ServeHTTP(rec, httptest.NewRequest(tt.method, "/debug/gc", nil))
			if rec.Code != tt.want {
				t.Fatalf("%s: status %d, want %d", tt.method, rec.Code, tt.want)
			}
			if tt.want != http.StatusOK {
				return
			}
			var got GCResult
			if err := json.NewDecoder(rec.Body).Decode(&got); err != nil {
				t.Fatalf("decode response: %v", err)
			}
			if got.HeapInuseBytes == 0 || got.HeapLiveBytes == 0 || got.GCCycles < 2 || got.Goroutines < 1 {
				t.Errorf("result = %+v, want non-zero heap, at least 2 collections and 1 goroutine", got)
			}
		})
	}
}

func TestStatusHandler(t *testing.T) {
	s, err := NewSampler(Config{Probe: (&fakeProcess{goroutines: 9, fds: 4}).probe(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("NewSampler: %v", err)
	}
	s.Sample()
	s.Sample()

	tests := []struct {
		name        string
		method      string
		target      string
		wantCode    int
		wantHistory int
	}{
		{"status", http.MethodGet, "/debug/monitor", http.StatusOK, 0},
		{"with history", http.MethodGet, "/debug/monitor?history=1", http.StatusOK, 2},
		{"post", http.MethodPost, "/debug/monitor", http.StatusMethodNotAllowed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.StatusHandler().ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantCode)
			}
			if tt.wantCode != http.StatusOK {
				return
			}
			var got Status
			if err := json.NewDecoder(rec.Body).Decode(&got); err != nil {
				t.Fatalf("decode response: %v", err)
			}
			if got.Samples != 2 || got.Last == nil || got.Last.Goroutines != 9 || got.Last.OpenFDs != 4 {
				t.Errorf("status = %+v, want 2 samples, last with 9 goroutines and 4 descriptors", got)
			}
			if len(got.History) != tt.wantHistory {
				t.Errorf("history has %d samples, want %d", len(got.History), tt.wantHistory)
			}
			if len(got.Baselines) != len(alertKinds) || got.Alerts == nil {
				t.Errorf("baselines %d, alerts %v; want %d baselines and an empty alert list", len(got.Baselines), got.Alerts, len(alertKinds))
			}
		})
	}
}
