package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/voiceorder/voiceorder/internal/order"
	"github.com/voiceorder/voiceorder/internal/voicecall"
)

const demoUsage = `Usage: voiceorder demo [flags]

Starts an in-process gateway on the embedded defaults (shipped menu, SQLite orders in
the data directory, local speech engine), places a browser call that orders by voice
with espeak-ng, prints the conversation and the order, and reads the order back from
the database. Settings come from the VOICEORDER_* environment.

Flags:
`

// demoTurns are the demo caller's turns, spoken with espeak-ng.
var demoTurns = []string{
	"I'd like a large latte with oat milk",
	"that's all",
	"yes",
}

// maxOrderBytes bounds the order read back from the gateway.
const maxOrderBytes = 1 << 20

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), demoUsage)
		fs.PrintDefaults()
	}
	speed := fs.Float64("speed", 1, "pacing `factor`: 1 is real time, 10 sends audio ten times as fast")
	timeout := fs.Duration("timeout", voicecall.DefaultTurnTimeout, "how long to wait for each reply, as a `duration`")
	verbose := fs.Bool("v", false, "log at info level (default: warnings only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("demo takes no arguments, got %q", fs.Args())
	}

	log := newCallLogger(stderr, *verbose)
	opts := voicecall.Options{
		Transport:   voicecall.TransportBrowser,
		Speed:       *speed,
		TurnTimeout: *timeout,
		Logger:      log,
		Out:         stdout,
	}
	for _, text := range demoTurns {
		opts.Turns = append(opts.Turns, voicecall.SpeechTurn(text))
	}
	if err := validateCall(opts); err != nil {
		fs.Usage()
		return err
	}

	return withGateway(ctx, "", log, false, func(ctx context.Context, server string) error {
		fmt.Fprintf(stdout, "gateway: %s (in-process, embedded defaults)\n\n", server)
		opts.Server = server
		result, err := voicecall.Call(ctx, opts)
		if result != nil {
			fmt.Fprintln(stdout)
			if perr := voicecall.PrintSummary(stdout, result); perr != nil {
				err = errors.Join(err, perr)
			}
		}
		if err != nil {
			return fmt.Errorf("demo call: %w", err)
		}
		if len(result.Order) == 0 {
			return errors.New("the demo call placed no order")
		}
		return printStoredOrder(ctx, stdout, server, result.Order)
	})
}

// printStoredOrder reads the placed order back through the gateway's API, which
// reads it from the order store, and prints it.
func printStoredOrder(ctx context.Context, w io.Writer, server string, placed json.RawMessage) error {
	var ref struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(placed, &ref); err != nil || ref.ID == "" {
		return fmt.Errorf("the placed order has no id: %s", placed)
	}
	o, err := getOrder(ctx, server, ref.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "stored order (read back from the database):")
	return voicecall.PrintOrder(w, o)
}

func getOrder(ctx context.Context, server, id string) (*order.Order, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := server + "/api/v1/orders/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("read order %s: %w", id, err)
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read order %s: %w", id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOrderBytes))
	if err != nil {
		return nil, fmt.Errorf("read order %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read order %s: %s: %s", u, resp.Status, body)
	}
	var o order.Order
	if err := json.Unmarshal(body, &o); err != nil {
		return nil, fmt.Errorf("read order %s: %w", id, err)
	}
	return &o, nil
}
