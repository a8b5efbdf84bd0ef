package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/app"
	"github.com/voiceorder/voiceorder/internal/config"
	"github.com/voiceorder/voiceorder/internal/voicecall"
)

const callUsage = `Usage: voiceorder call [flags] [FILE.wav ...]

Places one call against a voiceorder gateway as a caller: each WAV file, then each
-say text (spoken with espeak-ng), is one turn, said after the assistant's previous
turn has ended. Without -server, an in-process gateway runs on the embedded defaults,
configured from the VOICEORDER_* environment. Flags go before the files.

Flags:
`

// callFlags are the flags of the call command.
type callFlags struct {
	server    string
	says      stringList
	transport string
	speed     float64
	json      bool
	saveAudio string
	timeout   time.Duration
	verbose   bool
}

func (f *callFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.server, "server", "", "gateway base `URL`, such as http://127.0.0.1:8080; empty starts an in-process gateway")
	fs.Var(&f.says, "say", "`text` to speak with espeak-ng after the files; repeat for more turns")
	fs.StringVar(&f.transport, "transport", voicecall.TransportBrowser, "caller `transport`: browser or twilio")
	fs.Float64Var(&f.speed, "speed", 1, "pacing `factor`: 1 is real time, 10 sends audio ten times as fast")
	fs.BoolVar(&f.json, "json", false, "print the result as one JSON object instead of lines")
	fs.StringVar(&f.saveAudio, "save-audio", "", "WAV `file` that receives the assistant's audio")
	fs.DurationVar(&f.timeout, "timeout", voicecall.DefaultTurnTimeout, "how long to wait for each reply, as a `duration`")
	fs.BoolVar(&f.verbose, "v", false, "log at info level (default: warnings only)")
}

// stringList is a flag that can be repeated.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ", ") }

func (s *stringList) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("must not be empty")
	}
	*s = append(*s, v)
	return nil
}

func runCall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), callUsage)
		fs.PrintDefaults()
	}
	var f callFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}

	log := newCallLogger(stderr, f.verbose)
	opts := voicecall.Options{
		Server:      f.server,
		Transport:   f.transport,
		Speed:       f.speed,
		SaveAudio:   f.saveAudio,
		TurnTimeout: f.timeout,
		Logger:      log,
	}
	for _, path := range fs.Args() {
		opts.Turns = append(opts.Turns, voicecall.FileTurn(path))
	}
	for _, text := range f.says {
		opts.Turns = append(opts.Turns, voicecall.SpeechTurn(text))
	}
	if !f.json {
		opts.Out = stdout
	}
	if err := validateCall(opts); err != nil {
		fs.Usage()
		return err
	}
	for _, path := range fs.Args() {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("turn file: %w", err)
		}
	}

	return withGateway(ctx, f.server, log, true, func(ctx context.Context, url string) error {
		opts.Server = url
		result, err := voicecall.Call(ctx, opts)
		if result != nil {
			if perr := printResult(stdout, result, f.json); perr != nil {
				return errors.Join(err, perr)
			}
		}
		return err
	})
}

// validateCall checks the options before an in-process gateway starts. The server
// is checked only when one was given. A speed of 0, which Options takes as the
// default, is rejected here because on the command line it is a mistake.
func validateCall(opts voicecall.Options) error {
	if opts.Server == "" {
		opts.Server = "http://127.0.0.1:0"
	}
	if opts.Speed == 0 {
		return errors.New("-speed: 0 is out of range; use a number above 0, such as 1 for real time")
	}
	return opts.Validate()
}

func printResult(w io.Writer, r *voicecall.Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintln(w)
	if err := voicecall.PrintSummary(w, r); err != nil {
		return err
	}
	if len(r.Latencies) > 0 {
		parts := make([]string, len(r.Latencies))
		for i, d := range r.Latencies {
			parts[i] = d.Round(time.Millisecond).String()
		}
		_, err := fmt.Fprintf(w, "reply latency per turn (end of speech to first reply audio): %s\n", strings.Join(parts, ", "))
		return err
	}
	return nil
}

func newCallLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// withGateway runs fn against server, or, when server is empty, against an
// in-process gateway on the embedded defaults that it starts first and stops, and
// waits for, after fn returns. With scratch set and no VOICEORDER_DATA_DIR, the
// in-process gateway keeps its orders in a temporary directory removed afterwards, so
// it never shares a database with a gateway the user runs.
func withGateway(ctx context.Context, server string, log *slog.Logger, scratch bool, fn func(ctx context.Context, url string) error) error {
	if server != "" {
		return fn(ctx, server)
	}
	cfg, err := config.Load(flag.NewFlagSet("gateway", flag.ContinueOnError), nil, config.EnvLookup)
	if err != nil {
		return fmt.Errorf("in-process gateway: %w", err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminAddr = "" // an in-process gateway needs no admin listener
	if _, set := os.LookupEnv("VOICEORDER_DATA_DIR"); scratch && !set {
		dir, err := os.MkdirTemp("", "voiceorder-call-")
		if err != nil {
			return fmt.Errorf("in-process gateway: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}

	g, gctx := errgroup.WithContext(ctx)
	appCtx, stopApp := context.WithCancel(gctx)
	defer stopApp()
	a, err := app.New(appCtx, cfg, log)
	if err != nil {
		return fmt.Errorf("start the in-process gateway: %w", err)
	}
	g.Go(func() error { return a.Run(appCtx) })
	g.Go(func() error {
		defer stopApp()
		return fn(gctx, a.URL())
	})
	return g.Wait()
}
