package session

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/order"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
	"github.com/voiceorder/voiceorder/internal/tools"
	"github.com/voiceorder/voiceorder/menus"
)

// memoryCaller is a Caller on channels: the test plays the phone.
type memoryCaller struct {
	in    chan Inbound
	heard chan []byte
}

func (c *memoryCaller) Formats() (in, out audio.Format) {
	f := audio.Format{Encoding: audio.Mulaw, Rate: 8000}
	return f, f
}

func (c *memoryCaller) Receive(ctx context.Context) (Inbound, error) {
	select {
	case in, ok := <-c.in:
		if !ok {
			return Inbound{}, ErrHangup
		}
		return in, nil
	case <-ctx.Done():
		return Inbound{}, context.Cause(ctx)
	}
}

func (c *memoryCaller) SendAudio(ctx context.Context, chunk []byte) error {
	select {
	case c.heard <- append([]byte(nil), chunk...):
	default: // the test reads what it needs; the rest is not kept
	}
	return nil
}

func (c *memoryCaller) EndAudio(context.Context) error       { return nil }
func (c *memoryCaller) ClearAudio(context.Context) error     { return nil }
func (c *memoryCaller) Notify(context.Context, Notice) error { return nil }

// slowOrders makes every Create take delay, as a database under load would.
type slowOrders struct {
	order.Store
	delay time.Duration
}

func (s slowOrders) Create(ctx context.Context, o order.Order) (order.Order, bool, error) {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return order.Order{}, false, ctx.Err()
	}
	return s.Store.Create(ctx, o)
}

// TestSlowToolKeepsCallAlive runs a submit_order that takes 8 s: caller audio keeps
// reaching the model, model audio keeps reaching the caller, keepalive pings go on,
// and the result arrives with the call still up.
func TestSlowToolKeepsCallAlive(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 8 s; skipped with -short")
	}
	const toolDelay = 8 * time.Second
	cat, err := menu.Parse(menus.DefaultName, menus.Default)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store, err := order.OpenSQLite(ctx, filepath.Join(t.TempDir(), "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	carts := cart.NewMemoryStore(cart.MemoryConfig{})
	defer carts.Close()

	type during struct {
		appends int
		pings   int
		output  string
	}
	result := make(chan during, 1)
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		if _, err := realtimetest.ReplyToSessionUpdate(ctx, c); err != nil {
			return
		}
		realtimetest.SendFunctionCall(ctx, c, realtimetest.FunctionCall{ResponseID: "r1", ItemID: "f1", CallID: "c1",
			Name: "add_to_order", Arguments: `{"item_id":"latte","size":"small"}`})
		if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientConversationItemCreate); err != nil {
			return
		}
		realtimetest.SendFunctionCall(ctx, c, realtimetest.FunctionCall{ResponseID: "r2", ItemID: "f2", CallID: "c2",
			Name: "submit_order", Arguments: `{}`})
		// While the order is being stored the model keeps talking and listening.
		realtimetest.SendAudioResponse(ctx, c, realtimetest.AudioResponse{ResponseID: "r3", ItemID: "m3",
			Chunks: [][]byte{make([]byte, 800)}, Transcript: "One moment please."})
		var d during
		for {
			ev, err := c.Read(ctx)
			if err != nil {
				return
			}
			switch {
			case ev.Type == realtime.ClientInputAudioBufferAppend:
				d.appends++
			case ev.Type == realtime.ClientConversationItemCreate && ev.Item.CallID == "c2":
				d.output = ev.Item.Output
				d.pings = c.Pings()
				result <- d
				<-ctx.Done()
				return
			}
		}
	})

	caller := &memoryCaller{in: make(chan Inbound), heard: make(chan []byte, 64)}
	s := New(Config{
		ID: "slow-tool", Transport: "twilio", RestaurantID: cat.Restaurant.ID, Caller: caller, Catalog: cat,
		Model: Model{
			Dial: func(ctx context.Context) (*realtime.Conn, error) {
				return realtime.Dial(ctx, realtime.DialConfig{URL: model.URL()})
			},
			PCMRates:  []int{24000},
			Keepalive: time.Second,
		},
		Tools:  tools.NewExecutor(tools.Env{Catalog: cat, Carts: carts, Orders: slowOrders{store, toolDelay}}),
		Limits: Limits{IdleTimeout: 3 * time.Second},
		Logger: slog.New(slog.DiscardHandler),
	})

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.Run(gctx) })
	speaking, stopSpeaking := context.WithCancel(gctx)
	g.Go(func() error { // the caller talks, one 20 ms frame at a time
		defer close(caller.in)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		frame := make([]byte, 160)
		for {
			select {
			case <-speaking.Done():
				return nil
			case <-tick.C:
				select {
				case caller.in <- Inbound{Kind: InboundAudio, Audio: frame}:
				case <-speaking.Done():
					return nil
				}
			}
		}
	})

	start := time.Now()
	var d during
	select {
	case d = <-result:
	case <-ctx.Done():
		t.Fatal("submit_order's result never reached the model")
	}
	elapsed := time.Since(start)
	var heard int
	for len(caller.heard) > 0 {
		heard += len(<-caller.heard)
	}
	stopSpeaking()
	if err := g.Wait(); err != nil {
		t.Errorf("Run = %v, want a normal hang-up", err)
	}

	var res tools.Result
	if err := json.Unmarshal([]byte(d.output), &res); err != nil || !res.Success {
		t.Errorf("submit_order output = %s, want success", d.output)
	}
	if elapsed < toolDelay {
		t.Errorf("result after %v, want the tool's full %v", elapsed, toolDelay)
	}
	if min := int(toolDelay / (40 * time.Millisecond)); d.appends < min {
		t.Errorf("model received %d audio appends during the tool, want at least %d", d.appends, min)
	}
	if heard == 0 {
		t.Error("the model's audio did not reach the caller while the tool ran")
	}
	if d.pings < 4 {
		t.Errorf("%d keepalive pings during the call, want at least 4", d.pings)
	}
}
