package soak

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a soak. Durations encode in JSON as nanoseconds.
type Report struct {
	Server      string      `json:"server"`
	Transports  []Transport `json:"transports"`
	Mix         string      `json:"mix"`
	Speed       float64     `json:"speed"`
	Concurrency int         `json:"concurrency"`
	// PeakConcurrency is the maximum number of calls in progress at once.
	PeakConcurrency int `json:"peak_concurrency"`
	// Elapsed is the time from the first call's start to the last call's
	// end.
	Elapsed time.Duration `json:"elapsed_ns"`

	// Calls counts the calls of each ending that the mix used.
	Calls []EndingCounts `json:"calls"`
	// Warmup counts the warm-up calls placed before the baseline, all
	// endings together.
	Warmup EndingCounts `json:"warmup"`
	// Failures counts failed calls by reason; OtherFailures counts those
	// whose reason came after the first 20 distinct ones.
	Failures      []FailureCount `json:"failures,omitempty"`
	OtherFailures int            `json:"other_failures,omitempty"`
	// MaxFailurePercent is the share of failed calls that OK tolerates; a
	// negative value tolerates none.
	MaxFailurePercent float64 `json:"max_failure_percent"`

	// Latency is the time from the end of the caller's audio to the first
	// audio of the assistant's reply, in calls that end normally.
	Latency Distribution `json:"reply_latency"`
	// Setup is the time from the start of the connection (the webhook for
	// Twilio) until the gateway reported the session started: the browser's
	// session.started, or for Twilio the first message from the gateway,
	// usually the greeting's audio.
	Setup Distribution `json:"setup"`

	Before Snapshot `json:"before"`
	After  Snapshot `json:"after"`
	// Checks compares Before and After, one check per figure.
	Checks []Check `json:"checks"`
	// EndedSessions is the increase of voiceorder_sessions_ended_total by
	// reason during the soak.
	EndedSessions map[string]float64 `json:"ended_sessions,omitempty"`
	// GarbageCollected is set when the admin listener ran a garbage
	// collection before each scrape.
	GarbageCollected bool `json:"garbage_collected"`

	// Interrupted is set when the soak's context ended before the calls
	// did; there is then no After and no Checks.
	Interrupted bool `json:"interrupted,omitempty"`
	// AfterError is the error of the scrape after the calls, if it failed.
	AfterError string `json:"after_error,omitempty"`
}

// EndingCounts counts the calls of one ending. Calls that the soak's context
// ended count as interrupted, neither completed nor failed.
type EndingCounts struct {
	Ending      Ending `json:"ending"`
	Started     int    `json:"started"`
	Completed   int    `json:"completed"`
	Failed      int    `json:"failed"`
	Interrupted int    `json:"interrupted,omitempty"`
}

// FailureCount is the number of calls that failed for one reason.
type FailureCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// CheckResult is the verdict of one baseline check.
type CheckResult string

// Verdicts of a check. A check is skipped when the gateway does not export
// its metric.
const (
	Pass CheckResult = "PASS"
	Fail CheckResult = "FAIL"
	Skip CheckResult = "SKIP"
)

// Check compares one figure after the calls with its value before them.
type Check struct {
	Name   string  `json:"name"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// Allowed is the largest increase that passes.
	Allowed float64 `json:"allowed"`
	// Margin describes Allowed as configured, such as "+25% (at least 2.0 MiB)".
	Margin string      `json:"margin"`
	Result CheckResult `json:"result"`
	Bytes  bool        `json:"bytes,omitempty"`
}

// Diff returns After minus Before.
func (c Check) Diff() float64 { return c.After - c.Before }

// evaluate checks each figure of after against before and the margins.
func evaluate(before, after Snapshot, m Margins) []Check {
	goroutineAllowance := math.Max(float64(m.Goroutines), before.Goroutines.Value*m.GoroutinePercent/100)
	heapAllowance := math.Max(float64(m.HeapBytes), before.HeapInuseBytes.Value*m.HeapPercent/100)
	return []Check{
		newCheck("goroutines", before.Goroutines, after.Goroutines, goroutineAllowance, goroutineMargin(m), false),
		newCheck("heap in use", before.HeapInuseBytes, after.HeapInuseBytes, heapAllowance, heapMargin(m), true),
		newCheck("open fds", before.OpenFDs, after.OpenFDs, float64(m.OpenFDs), "+"+strconv.Itoa(m.OpenFDs), false),
		newCheck("active sessions", before.ActiveSessions, after.ActiveSessions, 0, "+0", false),
	}
}

func newCheck(name string, before, after Gauge, allowed float64, margin string, bytes bool) Check {
	c := Check{Name: name, Before: before.Value, After: after.Value, Allowed: allowed, Margin: margin, Bytes: bytes}
	switch {
	case !before.Present || !after.Present:
		c.Result = Skip
	case c.Diff() > allowed:
		c.Result = Fail
	default:
		c.Result = Pass
	}
	return c
}

func goroutineMargin(m Margins) string {
	if m.GoroutinePercent > 0 {
		return fmt.Sprintf("+%g%% (at least %d)", m.GoroutinePercent, m.Goroutines)
	}
	return "+" + strconv.Itoa(m.Goroutines)
}

func heapMargin(m Margins) string {
	return fmt.Sprintf("+%g%% (at least %s)", m.HeapPercent, formatBytes(float64(m.HeapBytes)))
}

func allPass(checks []Check) bool {
	for _, c := range checks {
		if c.Result == Fail {
			return false
		}
	}
	return true
}

// report builds the report of the calls so far.
func (r *runner) report(before Snapshot) *Report {
	rep := &Report{
		Server:            r.cfg.Server,
		Transports:        r.cfg.Transports,
		Mix:               r.cfg.Mix.String(),
		Speed:             r.cfg.Speed,
		Concurrency:       r.cfg.Concurrency,
		Elapsed:           time.Since(r.start),
		MaxFailurePercent: r.cfg.MaxFailurePercent,
		Before:            before,
		GarbageCollected:  r.admin != nil,
	}

	t := r.tally
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range Endings {
		if r.cfg.Mix[e] == 0 && t.started[e] == 0 {
			continue
		}
		rep.Calls = append(rep.Calls, EndingCounts{
			Ending: e, Started: t.started[e], Completed: t.completed[e], Failed: t.failed[e], Interrupted: t.interrupted[e],
		})
	}

	for reason, n := range t.reasons {
		rep.Failures = append(rep.Failures, FailureCount{Reason: reason, Count: n})
	}
	slices.SortFunc(rep.Failures, func(a, b FailureCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Reason, b.Reason))
	})
	rep.OtherFailures = t.otherFailures
	rep.Latency = t.latency.distribution()
	rep.Setup = t.setup.distribution()
	rep.Warmup = r.warmup.totals()
	rep.PeakConcurrency = t.peak
	return rep
}

// fillEnded sets EndedSessions from the counters of two scrapes.
func (rep *Report) fillEnded(before, after Snapshot) {
	if after.EndedSessions == nil {
		return
	}
	rep.EndedSessions = map[string]float64{}
	for reason, n := range after.EndedSessions {
		if d := n - before.EndedSessions[reason]; d != 0 {
			rep.EndedSessions[reason] = d
		}
	}
}

// Totals returns the counts of all endings together.
func (rep *Report) Totals() EndingCounts {
	var total EndingCounts
	for _, c := range rep.Calls {
		total.Started += c.Started
		total.Completed += c.Completed
		total.Failed += c.Failed
		total.Interrupted += c.Interrupted
	}
	return total
}

// FailedPercent returns the failed calls in percent of the calls that
// finished, completed or failed.
func (rep *Report) FailedPercent() float64 {
	total := rep.Totals()
	finished := total.Completed + total.Failed
	if finished == 0 {
		return 0
	}
	return 100 * float64(total.Failed) / float64(finished)
}

// failuresTolerated reports whether the failed calls stay within
// MaxFailurePercent.
func (rep *Report) failuresTolerated() bool {
	if rep.MaxFailurePercent < 0 {
		return rep.Totals().Failed == 0
	}
	return rep.FailedPercent() <= rep.MaxFailurePercent
}

// OK reports whether the soak passed: it was not interrupted, at least one
// call finished, failed calls stay within MaxFailurePercent, the final
// scrape succeeded and no baseline check failed. Skipped checks do not fail
// the soak.
func (rep *Report) OK() bool {
	total := rep.Totals()
	return !rep.Interrupted && rep.AfterError == "" && len(rep.Checks) > 0 &&
		total.Completed+total.Failed > 0 && rep.failuresTolerated() && allPass(rep.Checks)
}

// Problems lists why OK is false, one short sentence each.
func (rep *Report) Problems() []string {
	var problems []string
	total := rep.Totals()
	if rep.Interrupted {
		problems = append(problems, "the soak was interrupted")
	}
	if total.Completed+total.Failed == 0 {
		problems = append(problems, "no call finished")
	}
	if !rep.failuresTolerated() {
		problems = append(problems, fmt.Sprintf("%d of %d calls failed (%.1f%%), more than the %g%% tolerated",
			total.Failed, total.Completed+total.Failed, rep.FailedPercent(), max(rep.MaxFailurePercent, 0)))
	}
	if rep.AfterError != "" {
		problems = append(problems, "the scrape after the calls failed: "+rep.AfterError)
	}
	for _, c := range rep.Checks {
		if c.Result == Fail {
			problems = append(problems, fmt.Sprintf("%s grew by %s, more than the margin %s",
				c.Name, formatFigure(c.Diff(), c.Bytes, true), c.Margin))
		}
	}
	return problems
}

// Table prints the report as aligned text.
func (rep *Report) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	p := &printer{w: tw}

	total := rep.Totals()
	p.linef("soak of %s: %d calls in %v (transports %s, mix %s, speed %g, concurrency %d, peak %d)\n",
		rep.Server, total.Started, rep.Elapsed.Round(time.Millisecond), joinTransports(rep.Transports), rep.Mix, rep.Speed,
		rep.Concurrency, rep.PeakConcurrency)
	p.linef("\n")
	p.linef("ending\tstarted\tcompleted\tfailed\tinterrupted\t\n")
	for _, c := range append(slices.Clone(rep.Calls), EndingCounts{Ending: "total", Started: total.Started,
		Completed: total.Completed, Failed: total.Failed, Interrupted: total.Interrupted}) {
		p.linef("%s\t%d\t%d\t%d\t%d\t\n", c.Ending, c.Started, c.Completed, c.Failed, c.Interrupted)
	}
	p.flush()
	if rep.Warmup.Started > 0 {
		p.linef("warm-up before the baseline: %d calls, %d failed (not counted above)\n", rep.Warmup.Started, rep.Warmup.Failed)
	}
	p.linef("failed: %.1f%% of finished calls (tolerated: %s)\n", rep.FailedPercent(), rep.toleratedText())
	for _, f := range rep.Failures {
		p.linef("  %5d  %s\n", f.Count, f.Reason)
	}
	if rep.OtherFailures > 0 {
		p.linef("  %5d  other reasons\n", rep.OtherFailures)
	}

	p.linef("\n")
	p.linef("reply latency (end of caller audio to first reply audio): %s\n", formatDistribution(rep.Latency))
	p.linef("setup (connect to session started): %s\n", formatDistribution(rep.Setup))

	p.linef("\n")
	rep.printChecks(p)
	if len(rep.EndedSessions) > 0 {
		var parts []string
		for _, reason := range slices.Sorted(maps.Keys(rep.EndedSessions)) {
			parts = append(parts, fmt.Sprintf("%s %g", reason, rep.EndedSessions[reason]))
		}
		p.linef("sessions ended during the soak, by reason: %s\n", strings.Join(parts, ", "))
	}
	p.linef("\n")
	if rep.OK() {
		p.linef("result: PASS\n")
	} else {
		p.linef("result: FAIL: %s\n", strings.Join(rep.Problems(), "; "))
	}
	p.flush()
	return p.err
}

func (rep *Report) printChecks(p *printer) {
	switch {
	case rep.Interrupted:
		p.linef("baseline: not checked, the soak was interrupted\n")
		return
	case rep.AfterError != "":
		p.linef("baseline: not checked: %s\n", rep.AfterError)
		return
	}
	if !rep.GarbageCollected {
		p.linef("baseline (no admin URL, so no garbage collection before the scrapes):\n")
	}
	p.linef("figure\tbefore\tafter\tdiff\tmargin\tresult\t\n")
	for _, c := range rep.Checks {
		if c.Result == Skip {
			p.linef("%s\t-\t-\t-\t%s\t%s\t\n", c.Name, c.Margin, c.Result)
			continue
		}
		p.linef("%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Name, formatFigure(c.Before, c.Bytes, false),
			formatFigure(c.After, c.Bytes, false), formatFigure(c.Diff(), c.Bytes, true), c.Margin, c.Result)
	}
	p.flush()
}

func (rep *Report) toleratedText() string {
	if rep.MaxFailurePercent < 0 {
		return "none"
	}
	return fmt.Sprintf("%g%%", rep.MaxFailurePercent)
}

// printer writes to a tabwriter and keeps the first error.
type printer struct {
	w   *tabwriter.Writer
	err error
}

func (p *printer) linef(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// flush ends a table, so that the lines after it are not aligned with it.
func (p *printer) flush() {
	if p.err == nil {
		p.err = p.w.Flush()
	}
}

func formatDistribution(d Distribution) string {
	if d.Count == 0 {
		return "no measurements"
	}
	ms := func(v time.Duration) string { return v.Round(100 * time.Microsecond).String() }
	return fmt.Sprintf("n=%d p50 %s p90 %s p99 %s max %s", d.Count, ms(d.P50), ms(d.P90), ms(d.P99), ms(d.Max))
}

func formatFigure(v float64, bytes, signed bool) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if bytes {
		s = formatBytes(v)
	}
	if signed && v > 0 {
		s = "+" + s
	}
	return s
}

func formatGauge(g Gauge, bytes bool) string {
	if !g.Present {
		return "-"
	}
	return formatFigure(g.Value, bytes, false)
}

func joinTransports(ts []Transport) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = string(t)
	}
	return strings.Join(parts, " and ")
}
