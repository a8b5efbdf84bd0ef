package monitor

import "github.com/prometheus/client_golang/prometheus"

// Reasons a conversation ends: the reason label of sessions_ended_total.
// Any other reason is counted as "other".
const (
	EndHangup       = "hangup"
	EndShutdown     = "shutdown"
	EndUpstream     = "upstream_closed"
	EndIdleTimeout  = "idle_timeout"
	EndMaxDuration  = "max_duration"
	EndError        = "error"
	EndPanic        = "panic"
	EndBusyRejected = "busy_rejected"
	// EndCompleted is a phone call the gateway ended after the goodbye played.
	EndCompleted = "completed"
)

var endReasons = []string{EndHangup, EndCompleted, EndShutdown, EndUpstream, EndIdleTimeout, EndMaxDuration, EndError, EndPanic, EndBusyRejected, otherLabel}

// DropReason is the cause of a dropped audio frame: the reason label of
// audio_frames_dropped_total.
type DropReason uint8

// Reasons an audio frame is dropped.
const (
	// DropQueueFull is the oldest frame of a full queue, dropped to make room.
	DropQueueFull DropReason = iota
	// DropCancelledResponse is model audio of a response that was cancelled
	// or cleared by barge-in.
	DropCancelledResponse
	// DropStaleMark is a playback mark of audio that was already cleared.
	DropStaleMark
	// DropLateDelta is model audio that arrived after its response ended.
	DropLateDelta
	// DropOther is any other reason.
	DropOther

	dropReasonCount = iota
)

var dropReasonNames = [dropReasonCount]string{"queue_full", "cancelled_response", "stale_mark", "late_delta", otherLabel}

// String returns the label value of r; values out of range are "other".
func (r DropReason) String() string {
	if r >= dropReasonCount {
		return otherLabel
	}
	return dropReasonNames[r]
}

// TransportMetrics are the collectors of one caller transport, bound to its
// label once, so that counting a frame costs one atomic add and allocates
// nothing. Get it with Metrics.Transport once per conversation or once at
// start-up, not per frame. It is safe for concurrent use.
type TransportMetrics struct {
	// FramesReceived counts audio frames received from callers.
	FramesReceived prometheus.Counter
	// FramesSent counts audio frames sent to callers.
	FramesSent prometheus.Counter

	active  prometheus.Gauge
	ended   map[string]prometheus.Counter // read-only after construction
	dropped [dropReasonCount]prometheus.Counter
	panics  prometheus.Counter
}

// Transport returns the collectors of the caller transport name ("twilio",
// "browser"), the same value on every call with that name. The first 8
// distinct names get their own series and later names share "other".
func (m *Metrics) Transport(name string) *TransportMetrics {
	if m == nil {
		return discardTransport()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.transports[name]; ok {
		return t
	}
	label := name
	if len(m.transports) >= maxTransports || !validLabel(name) {
		label = otherLabel
		if t, ok := m.transports[label]; ok {
			return t
		}
	}
	t := &TransportMetrics{
		FramesReceived: m.framesReceived.WithLabelValues(label),
		FramesSent:     m.framesSent.WithLabelValues(label),
		active:         m.sessionsActive.WithLabelValues(label),
		ended:          make(map[string]prometheus.Counter, len(endReasons)),
		panics:         m.sessionPanics,
	}
	for _, reason := range endReasons {
		t.ended[reason] = m.sessionsEnded.WithLabelValues(label, reason)
	}
	for r := range DropReason(dropReasonCount) {
		t.dropped[r] = m.framesDropped.WithLabelValues(label, r.String())
	}
	m.transports[label] = t
	return t
}

// discardTransport returns collectors registered nowhere, for a nil Metrics.
func discardTransport() *TransportMetrics {
	counter := func() prometheus.Counter { return prometheus.NewCounter(prometheus.CounterOpts{Name: "discard"}) }
	t := &TransportMetrics{
		FramesReceived: counter(),
		FramesSent:     counter(),
		active:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "discard"}),
		ended:          make(map[string]prometheus.Counter, len(endReasons)),
		panics:         counter(),
	}
	for _, reason := range endReasons {
		t.ended[reason] = counter()
	}
	for r := range t.dropped {
		t.dropped[r] = counter()
	}
	return t
}

// Dropped returns the counter of frames dropped for reason. Keep the
// returned counter, or call Dropped per frame: both allocate nothing.
func (t *TransportMetrics) Dropped(reason DropReason) prometheus.Counter {
	if reason >= dropReasonCount {
		reason = DropOther
	}
	return t.dropped[reason]
}

// SessionStarted counts a conversation as active. The caller must call
// SessionEnded once for every SessionStarted, or sessions_active drifts.
func (t *TransportMetrics) SessionStarted() {
	t.active.Inc()
}

// SessionEnded counts a conversation that SessionStarted counted as ended
// for reason, one of the End constants; other values count as "other". The
// reason EndPanic also counts session_panics_total.
func (t *TransportMetrics) SessionEnded(reason string) {
	t.active.Dec()
	t.countEnd(reason)
	if reason == EndPanic {
		t.panics.Inc()
	}
}

// SessionRejected counts a conversation refused before it started because
// the gateway was at its maximum (reason busy_rejected). It does not change
// sessions_active.
func (t *TransportMetrics) SessionRejected() {
	t.countEnd(EndBusyRejected)
}

func (t *TransportMetrics) countEnd(reason string) {
	c, ok := t.ended[reason]
	if !ok {
		c = t.ended[otherLabel]
	}
	c.Inc()
}
