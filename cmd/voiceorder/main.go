// Command voiceorder is a voice-ordering gateway for restaurants.
//
// Usage:
//
//	voiceorder serve [flags]     run the gateway
//	voiceorder call [flags] ...  place a call against a gateway, as a caller
//	voiceorder demo              start an in-process gateway and place an order by voice
//	voiceorder soak -server URL  churn calls against a gateway and check it returns to baseline
//	voiceorder version           print the version
//
// Run a subcommand with -h for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/app"
	"github.com/voiceorder/voiceorder/internal/config"
)

const usage = `voiceorder is a voice-ordering gateway for restaurants.

Usage:
  voiceorder serve [flags]       run the gateway (embedded defaults: shipped menu, SQLite, local engine)
  voiceorder call [flags] [FILE.wav ...]
                                 place a call as a caller, against -server or an in-process gateway
  voiceorder demo [flags]        start an in-process gateway and place a spoken order end to end
  voiceorder soak -server URL    drive many calls against a running gateway and check it returns to baseline
  voiceorder version             print the version

Run "voiceorder COMMAND -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "voiceorder:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stderr)
	case "call":
		return runCall(ctx, rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "soak":
		return runSoak(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "voiceorder", version())
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := config.Load(fs, args, config.EnvLookup)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	return runWithSignals(ctx, a, log)
}

// runWithSignals runs the gateway until ctx ends (the first SIGTERM or SIGINT), and
// makes a further signal during the shutdown close every conversation at once.
func runWithSignals(ctx context.Context, a *app.App, log *slog.Logger) error {
	more := make(chan os.Signal, 1)
	g, gctx := errgroup.WithContext(context.Background())
	runDone := make(chan struct{})
	g.Go(func() error {
		defer close(runDone)
		return a.Run(ctx)
	})
	g.Go(func() error {
		select {
		case <-ctx.Done():
		case <-runDone:
			return nil
		}
		signal.Notify(more, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(more)
		select {
		case <-more:
			log.Warn("second signal: closing every conversation now")
			a.Force()
		case <-runDone:
		case <-gctx.Done():
		}
		return nil
	})
	return g.Wait()
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}
