package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/browser"
	"github.com/voiceorder/voiceorder/internal/config"
	"github.com/voiceorder/voiceorder/internal/order"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

// orderingModel scripts a model that, once the caller speaks, adds a latte and submits
// the order, then stays connected.
func orderingModel(ctx context.Context, c *realtimetest.ServerConn) {
	if _, err := realtimetest.ReplyToSessionUpdate(ctx, c); err != nil {
		return
	}
	if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientInputAudioBufferAppend); err != nil {
		return
	}
	steps := []realtimetest.FunctionCall{
		{ResponseID: "resp_1", ItemID: "fc_1", CallID: "call_1", Name: "add_to_order", Arguments: `{"item_id":"latte","size":"small"}`},
		{ResponseID: "resp_2", ItemID: "fc_2", CallID: "call_2", Name: "submit_order", Arguments: `{}`},
	}
	for _, step := range steps {
		if realtimetest.SendFunctionCall(ctx, c, step) != nil {
			return
		}
		if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientResponseCreate); err != nil {
			return
		}
	}
	for {
		if _, err := c.Read(ctx); err != nil {
			return
		}
	}
}

// TestShutdownWithLiveCalls stops the gateway with 20 live calls: half hang up within
// the grace period, the rest are closed with 1001, and every order acknowledged to a
// caller is on disk afterwards.
func TestShutdownWithLiveCalls(t *testing.T) {
	model := realtimetest.NewServer(t, orderingModel)
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminAddr = ""
	cfg.DataDir = t.TempDir()
	cfg.RealtimeURL = model.URL()
	cfg.ShutdownGrace = time.Second
	g := startGatewayConfig(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const calls = 20
	type outcome struct {
		orderID   string
		closeCode websocket.StatusCode
	}
	outcomes := make([]outcome, calls)
	placed := make(chan struct{}, calls)
	hangUp := make(chan struct{})
	var wg sync.WaitGroup
	for i := range calls {
		k := dialKiosk(ctx, t, g)
		k.send(ctx, `{"type":"session.start","format":{"format":"pcm16","rate":24000}}`)
		k.send(ctx, `{"type":"audio","audio":"AAAAAA=="}`)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, data, err := k.ws.Read(ctx)
				if err != nil {
					outcomes[i].closeCode = websocket.CloseStatus(err)
					return
				}
				m := decodeServerMessage(data)
				if m.Type == browser.TypeOrderSubmitted {
					outcomes[i].orderID = m.Order.ID
					placed <- struct{}{}
					if i%2 == 0 { // even callers hang up once their order is placed
						<-hangUp
						k.send(ctx, `{"type":"session.stop"}`)
					}
				}
			}
		}()
	}
	for range calls {
		select {
		case <-placed:
		case <-ctx.Done():
			t.Fatal("not every call placed its order")
		}
	}

	stopped := make(chan error, 1)
	go func() { stopped <- g.stop() }()
	close(hangUp)
	if err := <-stopped; err != nil {
		t.Errorf("Run returned %v, want nil", err)
	}
	wg.Wait()

	store, err := order.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for i, o := range outcomes {
		want := websocket.StatusGoingAway
		if i%2 == 0 {
			want = websocket.StatusNormalClosure
		}
		if o.closeCode != want {
			t.Errorf("call %d closed with %v, want %v", i, o.closeCode, want)
		}
		if _, err := store.Get(ctx, o.orderID); err != nil {
			t.Errorf("call %d: acknowledged order %q not on disk: %v", i, o.orderID, err)
		}
	}
}

func decodeServerMessage(data []byte) browser.ServerMessage {
	var m browser.ServerMessage
	if err := jsonUnmarshal(data, &m); err != nil {
		panic(fmt.Sprintf("gateway sent invalid JSON %q: %v", data, err))
	}
	return m
}
