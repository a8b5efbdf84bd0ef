package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/voiceorder/voiceorder/internal/soak"
)

const soakUsage = `Usage: voiceorder soak -server URL [flags]

Places many calls against a running gateway and checks that it came back to
where it started: goroutines, heap in use, open file descriptors and active
sessions, read from the gateway's /metrics after a garbage collection through
the admin listener. Calls end in a mix of ways: normal (speak, wait for the
reply, hang up), abrupt (drop the connection mid-call), speaking (hang up
when the assistant starts speaking) and dial (drop the connection while the
gateway dials the model).

Run the gateway with -fake-upstream to measure the gateway alone. Progress
goes to standard error and the report to standard output. The command fails
when a figure grew beyond its margin or more calls failed than -max-failures
allows.

Flags:
`

// soakFlags are the flags of the soak command.
type soakFlags struct {
	server          string
	admin           string
	restaurant      string
	calls           int
	warmup          int
	concurrency     int
	duration        time.Duration
	mix             string
	transport       string
	speed           float64
	audio           string
	goroutineMargin string
	heapMargin      float64
	fdMargin        int
	maxFailures     float64
	turnTimeout     time.Duration
	settleTimeout   time.Duration
	json            bool
}

func (f *soakFlags) register(fs *flag.FlagSet) {
	margins := soak.DefaultMargins()
	fs.StringVar(&f.server, "server", "", "gateway base `URL`, such as http://127.0.0.1:8080 (required)")
	fs.StringVar(&f.admin, "admin", "http://127.0.0.1:8081", "admin listener `URL` that runs a garbage collection before each scrape; empty skips the collection")
	fs.StringVar(&f.restaurant, "restaurant", "", "restaurant `id` sent in the browser's session.start; empty uses the gateway's")
	fs.IntVar(&f.calls, "calls", 100, "number of calls to place; 0 with -duration places calls until the duration passes")
	fs.IntVar(&f.warmup, "warmup", 0, "number of calls placed before the first scrape and reported apart, so caches that calls fill up to a bound are full in the baseline")
	fs.IntVar(&f.concurrency, "concurrency", soak.DefaultConcurrency, "maximum number of calls in progress at once")
	fs.DurationVar(&f.duration, "duration", 0, "stop starting calls after this `duration`; without -calls, calls are unlimited until then")
	fs.StringVar(&f.mix, "mix", soak.DefaultMix().String(), "weights of the call endings normal, abrupt, speaking and dial")
	fs.StringVar(&f.transport, "transport", "both", "caller `transport`: browser, twilio or both, used in turn")
	fs.Float64Var(&f.speed, "speed", 1, "pacing `factor` of the caller's audio: 1 is real time; large values make churn")
	fs.StringVar(&f.audio, "audio", "", "WAV `file` the callers speak; empty uses a built-in 1.5 s tone")
	fs.StringVar(&f.goroutineMargin, "goroutine-margin", strconv.Itoa(margins.Goroutines), "allowed growth of goroutines: a `count` such as 5, or a percent such as 10%")
	fs.Float64Var(&f.heapMargin, "heap-margin", margins.HeapPercent, "allowed growth of heap in use, in `percent`")
	fs.IntVar(&f.fdMargin, "fd-margin", margins.OpenFDs, "allowed growth of open file descriptors")
	fs.Float64Var(&f.maxFailures, "max-failures", soak.DefaultMaxFailurePercent, "share of failed calls tolerated, in `percent`; 0 tolerates none")
	fs.DurationVar(&f.turnTimeout, "turn-timeout", soak.DefaultTurnTimeout, "how long a caller waits for the session to start, the greeting or the reply")
	fs.DurationVar(&f.settleTimeout, "settle-timeout", soak.DefaultSettleTimeout, "how long to wait after the calls for the gateway's figures to come back")
	fs.BoolVar(&f.json, "json", false, "print the report as one JSON object instead of a table")
}

func runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), soakUsage)
		fs.PrintDefaults()
	}
	var f soakFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q; soak takes flags only", fs.Args())
	}
	cfg, err := f.config(fs)
	if err != nil {
		fs.Usage()
		return err
	}
	cfg.Progress = stderr

	report, runErr := soak.Run(ctx, cfg)
	if report != nil {
		if err := printSoakReport(stdout, report, f.json); err != nil {
			return errors.Join(runErr, err)
		}
	}
	switch {
	case runErr != nil:
		return fmt.Errorf("soak: %w", runErr)
	case !report.OK():
		return fmt.Errorf("soak failed: %s", strings.Join(report.Problems(), "; "))
	}
	return nil
}

// config builds the soak's configuration from the parsed flags.
func (f *soakFlags) config(fs *flag.FlagSet) (soak.Config, error) {
	if f.server == "" {
		return soak.Config{}, errors.New("missing -server: give the gateway's base URL, such as http://127.0.0.1:8080")
	}
	mix, err := soak.ParseMix(f.mix)
	if err != nil {
		return soak.Config{}, fmt.Errorf("-mix: %w", err)
	}
	transports, err := soak.ParseTransports(f.transport)
	if err != nil {
		return soak.Config{}, fmt.Errorf("-transport: %w", err)
	}
	margins, err := f.margins()
	if err != nil {
		return soak.Config{}, err
	}

	if f.speed <= 0 {
		return soak.Config{}, fmt.Errorf("invalid -speed %g: must be above 0", f.speed)
	}
	if f.maxFailures < 0 || f.maxFailures > 100 {
		return soak.Config{}, fmt.Errorf("invalid -max-failures %g: must be a percent from 0 to 100", f.maxFailures)
	}

	calls := f.calls
	if f.duration > 0 && !flagSet(fs, "calls") {
		calls = 0 // the duration alone limits the soak
	}
	maxFailures := f.maxFailures
	if maxFailures == 0 {
		maxFailures = -1 // Config reads zero as its default
	}

	return soak.Config{
		Server:            strings.TrimSuffix(f.server, "/"),
		AdminURL:          strings.TrimSuffix(f.admin, "/"),
		Restaurant:        f.restaurant,
		Calls:             calls,
		Warmup:            f.warmup,
		Concurrency:       f.concurrency,
		Duration:          f.duration,
		Mix:               mix,
		Transports:        transports,
		Speed:             f.speed,
		CallAudio:         f.audio,
		Margins:           margins,
		MaxFailurePercent: maxFailures,
		TurnTimeout:       f.turnTimeout,
		SettleTimeout:     f.settleTimeout,
	}, nil
}

func (f *soakFlags) margins() (soak.Margins, error) {
	m := soak.DefaultMargins()
	if f.heapMargin < 0 {
		return m, fmt.Errorf("invalid -heap-margin %g: must be a percent of at least 0", f.heapMargin)
	}
	if f.fdMargin < 0 {
		return m, fmt.Errorf("invalid -fd-margin %d: must be at least 0", f.fdMargin)
	}
	m.HeapPercent, m.OpenFDs = f.heapMargin, f.fdMargin

	s := strings.TrimSpace(f.goroutineMargin)
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || v < 0 {
			return m, fmt.Errorf("invalid -goroutine-margin %q: use a count such as 5 or a percent such as 10%%", f.goroutineMargin)
		}
		m.Goroutines, m.GoroutinePercent = 0, v
		return m, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return m, fmt.Errorf("invalid -goroutine-margin %q: use a count such as 5 or a percent such as 10%%", f.goroutineMargin)
	}
	m.Goroutines, m.GoroutinePercent = n, 0
	return m, nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func printSoakReport(w io.Writer, r *soak.Report, asJSON bool) error {
	if !asJSON {
		return r.Table(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*soak.Report
		OK       bool     `json:"ok"`
		Problems []string `json:"problems,omitempty"`
	}{r, r.OK(), r.Problems()})
}
