package monitor

import (
	"math"
	"time"
)

// AlertKind names a figure the Sampler watches: the kind label of
// leak_alerts_total.
//
// The per-session kinds are checked in samples with live conversations (s > 0):
//
//	ratio = (total − idle) / s
//
// where total is the process's goroutines or open file descriptors. idle is
// the idle baseline of that figure when the per-session baseline began, or 0
// if no idle sample had been taken yet. A zero offset makes the ratio cruder
// but still comparable with itself.
//
// The idle kinds are checked in samples with no conversation: the figure
// itself. heap_idle uses the live heap after garbage collection
// (HeapStats.LiveBytes), and only once two collections have completed since
// the last conversation ended, so the live heap no longer counts objects of
// ended conversations.
//
// Each kind's baseline b is the maximum over its first BaselineSamples
// checked samples after Warmup. A value v is over the limit when
//
//	v > b × (1 + margin)   and   (v − b) × scale > floor
//
// with scale = s for per-session kinds and 1 for idle kinds, so the floor is
// growth summed over the whole process. The limit reported is the smallest
// v that passes both: max(b × (1 + margin), b + floor / scale).
//
// An alert fires after Sustain consecutive checked samples over the limit.
// Within Cooldown of the kind's last alert, another fires only if v is also
// over the limit computed from the value of that last alert instead of b
// (the figure kept growing). The alert clears at the first checked sample
// within the limit. A kind is checked only in samples where it applies, so a
// per-session alert stays active while the gateway is idle.
//
// NOTE: the per-session ratio assumes that every conversation costs about the
// same. A shift in the mix of conversations (phone against browser, offline
// engine against hosted model) moves the ratio too, and only the margin
// absorbs it.
type AlertKind string

// Kinds of alert.
const (
	GoroutinesPerSession AlertKind = "goroutines_per_session"
	FDsPerSession        AlertKind = "fds_per_session"
	HeapIdle             AlertKind = "heap_idle"
	GoroutinesIdle       AlertKind = "goroutines_idle"
	FDsIdle              AlertKind = "fds_idle"
)

var alertKinds = []AlertKind{GoroutinesPerSession, FDsPerSession, HeapIdle, GoroutinesIdle, FDsIdle}

// Alert is an active alert of one kind.
type Alert struct {
	Kind AlertKind `json:"kind"`
	// Current is the figure in the latest checked sample: a ratio per
	// session for per-session kinds, a count or bytes for idle kinds.
	Current  float64 `json:"current"`
	Baseline float64 `json:"baseline"`
	// Limit is the smallest value that is over the limit at Sessions.
	Limit    float64 `json:"limit"`
	Margin   float64 `json:"margin"`
	Sessions int     `json:"sessions"`
	// Since is when the figure went over the limit for Sustain samples.
	Since time.Time `json:"since"`
	// LastFired is when this kind last fired an alert; zero if the cooldown
	// has held back every alert since Since.
	LastFired time.Time `json:"last_fired,omitzero"`
}

// Baseline is the reference value of one kind.
type Baseline struct {
	Kind AlertKind `json:"kind"`
	// Value is the maximum of the samples taken so far.
	Value   float64 `json:"value"`
	Samples int     `json:"samples"`
	// Ready is set once Samples reached Config.BaselineSamples; only then
	// is the kind checked.
	Ready bool `json:"ready"`
	// Offset is the idle figure subtracted before dividing by the sessions,
	// for per-session kinds.
	Offset float64 `json:"offset,omitempty"`
}

// event is an alert that fired or recovered in one sample.
type event struct {
	alert     Alert
	recovered bool
	sample    Sample
}

// watch is the baseline and alert state of one kind.
type watch struct {
	kind          AlertKind
	margin, floor float64

	baseline Baseline
	over     int // consecutive checked samples over the limit

	active    bool
	announced bool // a Warn was logged during this active period
	alert     Alert

	fired      bool
	firedAt    time.Time
	firedValue float64
}

// exceeds reports whether v is over the limit derived from reference.
func (w *watch) exceeds(v, reference, scale float64) bool {
	return v > reference*(1+w.margin) && (v-reference)*scale > w.floor
}

func (w *watch) limit(reference, scale float64) float64 {
	return math.Max(reference*(1+w.margin), reference+w.floor/scale)
}

// detector turns samples into alert events. It is not safe for concurrent
// use; the Sampler serializes calls.
type detector struct {
	warmup, need, sustain int
	cooldown              time.Duration

	samples int
	watches map[AlertKind]*watch

	// idle is set while no conversation is live. idleCycles is the count of
	// completed garbage collections when the idle period began.
	idle       bool
	idleCycles uint64
	// offsetsSet records that the per-session offsets were fixed.
	offsetsSet bool
}

func newDetector(cfg Config) detector {
	d := detector{
		warmup:   cfg.Warmup,
		need:     max(cfg.BaselineSamples, 1),
		sustain:  max(cfg.Sustain, 1),
		cooldown: cfg.Cooldown,
		watches:  make(map[AlertKind]*watch, len(alertKinds)),
	}
	add := func(kind AlertKind, margin, floor float64) {
		d.watches[kind] = &watch{kind: kind, margin: margin, floor: floor, baseline: Baseline{Kind: kind}}
	}
	add(GoroutinesPerSession, cfg.GoroutineMargin, cfg.GoroutineFloor)
	add(FDsPerSession, cfg.FDMargin, cfg.FDFloor)
	add(HeapIdle, cfg.HeapMargin, cfg.HeapFloor)
	add(GoroutinesIdle, cfg.GoroutineMargin, cfg.GoroutineFloor)
	add(FDsIdle, cfg.FDMargin, cfg.FDFloor)
	return d
}

// observe checks one sample and returns the alerts that fired or recovered.
func (d *detector) observe(s Sample) []event {
	d.samples++
	if s.Sessions == 0 && !d.idle {
		d.idle, d.idleCycles = true, s.GCCycles
	}
	if s.Sessions > 0 {
		d.idle = false
	}
	if d.samples <= d.warmup {
		return nil
	}
	if s.Sessions == 0 {
		return d.observeIdle(s)
	}
	return d.observeBusy(s)
}

func (d *detector) observeIdle(s Sample) []event {
	var events []event
	events = d.check(events, GoroutinesIdle, float64(s.Goroutines), 1, s)
	if s.OpenFDs >= 0 {
		events = d.check(events, FDsIdle, float64(s.OpenFDs), 1, s)
	}
	// Collection n+1 may have been marking when the idle period began, so
	// only collection n+2 is sure to see the heap without ended sessions.
	if s.GCCycles >= d.idleCycles+2 {
		events = d.check(events, HeapIdle, float64(s.HeapLiveBytes), 1, s)
	}
	return events
}

func (d *detector) observeBusy(s Sample) []event {
	goroutines, fds := d.watches[GoroutinesPerSession], d.watches[FDsPerSession]
	if !d.offsetsSet {
		d.offsetsSet = true
		goroutines.baseline.Offset = d.watches[GoroutinesIdle].baseline.Value
		fds.baseline.Offset = d.watches[FDsIdle].baseline.Value
	}

	sessions := float64(s.Sessions)
	var events []event
	ratio := (float64(s.Goroutines) - goroutines.baseline.Offset) / sessions
	events = d.check(events, GoroutinesPerSession, ratio, sessions, s)
	if s.OpenFDs >= 0 {
		ratio = (float64(s.OpenFDs) - fds.baseline.Offset) / sessions
		events = d.check(events, FDsPerSession, ratio, sessions, s)
	}
	return events
}

// check feeds v to the baseline of kind until it is ready, then compares v
// with it, and appends the event that results, if any.
func (d *detector) check(events []event, kind AlertKind, v, scale float64, s Sample) []event {
	w := d.watches[kind]
	b := &w.baseline
	if !b.Ready {
		v = math.Max(v, 0)
		if b.Samples == 0 || v > b.Value {
			b.Value = v
		}
		b.Samples++
		b.Ready = b.Samples >= d.need
		return events
	}

	w.alert.Current, w.alert.Sessions = v, s.Sessions
	w.alert.Limit = w.limit(b.Value, scale)
	if !w.exceeds(v, b.Value, scale) {
		w.over = 0
		if !w.active {
			return events
		}
		w.active = false
		if !w.announced {
			return events
		}
		return append(events, event{alert: w.alert, recovered: true, sample: s})
	}

	w.over++
	if w.over < d.sustain {
		return events
	}
	if !w.active {
		w.active, w.announced = true, false
		w.alert = Alert{Kind: kind, Current: v, Baseline: b.Value, Limit: w.alert.Limit, Margin: w.margin,
			Sessions: s.Sessions, Since: s.At}
	}
	if w.fired && s.At.Sub(w.firedAt) < d.cooldown && !w.exceeds(v, w.firedValue, scale) {
		return events
	}
	w.fired, w.firedAt, w.firedValue = true, s.At, v
	w.announced = true
	w.alert.LastFired = s.At
	return append(events, event{alert: w.alert, sample: s})
}

// status returns the baselines of all kinds and the active alerts, in the
// order of alertKinds.
func (d *detector) status() (baselines []Baseline, alerts []Alert) {
	baselines = make([]Baseline, 0, len(alertKinds))
	alerts = []Alert{}
	for _, kind := range alertKinds {
		w := d.watches[kind]
		baselines = append(baselines, w.baseline)
		if w.active {
			alerts = append(alerts, w.alert)
		}
	}
	return baselines, alerts
}
