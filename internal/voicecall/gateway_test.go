package voicecall

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/app"
	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/config"
	"github.com/voiceorder/voiceorder/internal/order"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

// These tests call the real gateway (package app with its browser and Twilio
// handlers, sessions, tools, cart store and SQLite orders) over loopback. Only the
// speech model is scripted: a fake Realtime server that detects the end of each
// caller utterance by its trailing silence and answers with tool calls and audio.

// modelScript is what the scripted model hears and does for each caller turn.
var modelScript = []struct {
	heard string
	tool  string
	args  string
	reply string
}{
	{"a large latte with oat milk", "add_to_order", `{"item_id":"latte","size":"large","modifiers":[{"group":"milk","option":"oat"}]}`, "One large latte with oat milk. Anything else?"},
	{"that's all", "submit_order", `{}`, "Your order is placed."},
}

const modelGreeting = "Hi! What can I get you?"

// scriptedModel returns the handler of one model connection.
func scriptedModel(t *testing.T) realtimetest.Handler {
	return func(ctx context.Context, c *realtimetest.ServerConn) {
		if err := runModelScript(ctx, c); err != nil && ctx.Err() == nil && !isClosed(err) {
			t.Errorf("scripted model: %v", err)
		}
	}
}

func isClosed(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "closed") || strings.Contains(err.Error(), "EOF"))
}

func runModelScript(ctx context.Context, c *realtimetest.ServerConn) error {
	if err := realtimetest.SendSessionCreated(ctx, c, "sess_model"); err != nil {
		return err
	}
	update, err := realtimetest.ReplyToSessionUpdate(ctx, c)
	if err != nil {
		return err
	}
	in, out := *update.Session.Audio.Input.Format, *update.Session.Audio.Output.Format
	if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientResponseCreate); err != nil {
		return err
	}
	if err := speak(ctx, c, "resp_greeting", out, modelGreeting); err != nil {
		return err
	}

	vad := &silenceDetector{rate: formatRate(in), mulaw: in.Type == realtime.AudioPCMU}
	turn := 0
	for {
		ev, err := c.Read(ctx)
		if err != nil {
			return err
		}
		switch ev.Type {
		case realtime.ClientInputAudioBufferAppend:
			chunk, err := base64.StdEncoding.DecodeString(ev.Audio)
			if err != nil {
				return err
			}
			if !vad.add(chunk) {
				continue
			}
			if turn >= len(modelScript) {
				return fmt.Errorf("caller spoke turn %d, the script has %d", turn+1, len(modelScript))
			}
			if err := hear(ctx, c, turn); err != nil {
				return err
			}
			turn++
		case realtime.ClientResponseCreate:
			// The session asks for a response after running the tool calls.
			s := modelScript[turn-1]
			if err := speak(ctx, c, fmt.Sprintf("resp_%d_reply", turn), out, s.reply); err != nil {
				return err
			}
		}
	}
}

// hear reports the end of a caller utterance, its transcript and the tool call the
// model makes in response.
func hear(ctx context.Context, c *realtimetest.ServerConn, turn int) error {
	s := modelScript[turn]
	item := fmt.Sprintf("item_caller_%d", turn)
	for _, ev := range []realtime.ServerEvent{
		{Type: realtime.ServerInputAudioBufferSpeechStopped, ItemID: item},
		{Type: realtime.ServerInputAudioBufferCommitted, ItemID: item},
		{Type: realtime.ServerConversationItemInputAudioTranscriptionCompleted, ItemID: item, Transcript: s.heard},
	} {
		if err := c.Send(ctx, ev); err != nil {
			return err
		}
	}
	return realtimetest.SendFunctionCall(ctx, c, realtimetest.FunctionCall{
		ResponseID: fmt.Sprintf("resp_%d_tool", turn+1),
		ItemID:     fmt.Sprintf("item_tool_%d", turn+1),
		CallID:     fmt.Sprintf("call_%d", turn+1),
		Name:       s.tool,
		Arguments:  s.args,
	})
}

// speak sends a spoken response of 600 ms of tone in the session's output format.
func speak(ctx context.Context, c *realtimetest.ServerConn, id string, f realtime.AudioFormat, transcript string) error {
	rate := formatRate(f)
	samples := tone(rate, 600*time.Millisecond, 300)
	var chunks [][]byte
	for len(samples) > 0 {
		n := min(rate/10, len(samples))
		if f.Type == realtime.AudioPCMU {
			chunks = append(chunks, audio.EncodeMulaw(nil, samples[:n]))
		} else {
			chunks = append(chunks, audio.PCM16ToBytes(nil, samples[:n]))
		}
		samples = samples[n:]
	}
	return realtimetest.SendAudioResponse(ctx, c, realtimetest.AudioResponse{
		ResponseID: id, ItemID: "item_" + id, Chunks: chunks, Format: f, Transcript: transcript,
	})
}

func formatRate(f realtime.AudioFormat) int {
	if f.Type == realtime.AudioPCMU {
		return 8000
	}
	return f.Rate
}

// silenceDetector stands in for the model's turn detection: an utterance ends after
// speech followed by 400 ms of near silence.
type silenceDetector struct {
	rate    int
	mulaw   bool
	speech  bool
	silence int // samples of silence since the last speech
	samples []int16
}

func (d *silenceDetector) add(chunk []byte) bool {
	if d.mulaw {
		d.samples = audio.DecodeMulaw(d.samples[:0], chunk)
	} else {
		d.samples = audio.PCM16FromBytes(d.samples[:0], chunk)
	}
	if audio.RMS(d.samples) > 200 {
		d.speech = true
		d.silence = 0
		return false
	}
	if !d.speech {
		return false
	}
	d.silence += len(d.samples)
	if d.silence < d.rate*4/10 {
		return false
	}
	d.speech = false
	return true
}

// startGateway runs the real gateway on loopback with the scripted model until the
// test ends.
func startGateway(t *testing.T) string {
	t.Helper()
	model := realtimetest.NewServer(t, scriptedModel(t))
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminAddr = "" // a gateway the developer runs may hold the default admin port
	cfg.DataDir = t.TempDir()
	cfg.RealtimeURL = model.URL()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))

	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("start gateway: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	return a.URL()
}

func TestGatewayOrder(t *testing.T) {
	for _, transport := range []string{TransportBrowser, TransportTwilio} {
		t.Run(transport, func(t *testing.T) {
			server := startGateway(t)
			turns := []Turn{
				FileTurn(writeToneWAV(t, "latte.wav", 16000, 800*time.Millisecond, 440)),
				FileTurn(writeToneWAV(t, "done.wav", 22050, 500*time.Millisecond, 550)),
			}
			var live strings.Builder

			got, err := Call(t.Context(), Options{Server: server, Transport: transport, Speed: 10, Turns: turns, Out: &live})
			if err != nil {
				t.Fatalf("Call: %v", err)
			}

			wantTurns := []SpokenTurn{
				{RoleAssistant, modelGreeting},
				{RoleCaller, modelScript[0].heard},
				{RoleAssistant, modelScript[0].reply},
				{RoleCaller, modelScript[1].heard},
				{RoleAssistant, modelScript[1].reply},
			}
			if fmt.Sprint(got.Turns) != fmt.Sprint(wantTurns) {
				t.Errorf("turns = %v, want %v", got.Turns, wantTurns)
			}
			checkGatewayTools(t, got.ToolCalls)
			if len(got.Latencies) != len(turns) {
				t.Errorf("latencies = %v, want %d", got.Latencies, len(turns))
			}
			if !strings.Contains(live.String(), "tool: add_to_order ") {
				t.Errorf("output lacks the add_to_order line:\n%s", live.String())
			}

			placed := checkGatewayOrder(t, got)
			stored := readOrder(t, server, placed.ID)
			if stored.Number != placed.Number || stored.Total != placed.Total || len(stored.Lines) != 1 {
				t.Errorf("stored order = %+v, want the placed order %+v", stored, placed)
			}
			if err := PrintSummary(io.Discard, got); err != nil {
				t.Errorf("PrintSummary: %v", err)
			}
		})
	}
}

func checkGatewayTools(t *testing.T, calls []ToolCall) {
	t.Helper()
	if len(calls) != len(modelScript) {
		t.Fatalf("tool calls = %v, want %d", calls, len(modelScript))
	}
	for i, c := range calls {
		if c.Name != modelScript[i].tool || !c.Success {
			t.Errorf("tool call %d = %s, want %s to succeed", i, formatToolCall(c), modelScript[i].tool)
		}
	}
}

// checkGatewayOrder checks the order the call reported, and the cart that submitting
// it emptied, and returns the order.
func checkGatewayOrder(t *testing.T, got *Result) order.Order {
	t.Helper()
	var o order.Order
	if err := json.Unmarshal(got.Order, &o); err != nil {
		t.Fatalf("order %s: %v", got.Order, err)
	}
	if o.ID == "" || o.Number == "" || o.Total == 0 {
		t.Errorf("order = %+v, want an id, a number and a total", o)
	}
	if len(o.Lines) != 1 {
		t.Fatalf("order lines = %+v, want one", o.Lines)
	}
	if l := o.Lines[0]; l.ItemID != "latte" || l.SizeID != "large" || len(l.Modifiers) != 1 || l.Modifiers[0].OptionID != "oat" {
		t.Errorf("order line = %+v, want a large latte with oat milk", l)
	}
	var c cart.Cart
	if err := json.Unmarshal(got.Cart, &c); err != nil {
		t.Fatalf("cart %s: %v", got.Cart, err)
	}
	if len(c.Lines) != 0 || c.SubmittedOrderID != o.ID {
		t.Errorf("cart = %+v, want it emptied into order %s", c, o.ID)
	}
	return o
}

func readOrder(t *testing.T, server, id string) order.Order {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, server+"/api/v1/orders/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET order: %s", resp.Status)
	}
	var o order.Order
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return o
}
