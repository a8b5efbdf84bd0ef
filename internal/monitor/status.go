package monitor

import (
	"encoding/json"
	"net/http"
)

// Status is the state of a Sampler, for the readiness detail and the
// monitoring debug endpoint. It marshals to JSON.
type Status struct {
	// Last is the latest sample; nil before the first.
	Last *Sample `json:"last,omitempty"`
	// Samples counts the samples taken since the sampler was made.
	Samples int `json:"samples"`
	// Warm is set once the Warmup samples have been taken.
	Warm      bool       `json:"warm"`
	Baselines []Baseline `json:"baselines"`
	// Alerts are the active alerts, empty when there are none.
	Alerts []Alert `json:"alerts"`
	// Webhook is nil when no webhook URL is configured.
	Webhook *WebhookStatus `json:"webhook,omitempty"`
	// History holds the recent samples, oldest first, when requested.
	History []Sample `json:"history,omitempty"`
}

// Status returns the sampler's state. Alerts do not change readiness by
// themselves; the caller decides what an active alert means.
func (s *Sampler) Status() Status {
	s.mu.Lock()
	st := Status{Samples: s.taken, Warm: s.taken > s.cfg.Warmup}
	if last, ok := s.history.last(); ok {
		st.Last = &last
	}
	st.Baselines, st.Alerts = s.detector.status()
	s.mu.Unlock()

	if s.webhook != nil {
		ws := s.webhook.snapshot()
		st.Webhook = &ws
	}
	return st
}

// StatusHandler returns a handler that serves Status as JSON to GET and
// HEAD requests. With the query parameter history=1 the response also holds
// the recent samples. Mount it on the admin listener only.
func (s *Sampler) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed; use GET", http.StatusMethodNotAllowed)
			return
		}
		st := s.Status()
		if r.URL.Query().Get("history") == "1" {
			st.History = s.Samples()
		}
		writeJSON(w, st)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// An encoding error here means the client went away; there is no one
	// left to tell.
	_ = enc.Encode(v)
}
