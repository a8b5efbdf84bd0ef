package voicecall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/order"
)

// Script of a two-turn order shared by the browser and Twilio tests.
var (
	testLine = cart.Line{
		ID: "L1", ItemID: "latte", Name: "Latte", SizeID: "large", SizeName: "Large",
		Modifiers: []cart.Modifier{{GroupID: "milk", OptionID: "oat", Name: "Oat milk", Price: 75}},
		Quantity:  1, UnitPrice: 575, Total: 575,
	}
	testCart  = mustJSON(cart.Cart{Currency: "USD", Lines: []cart.Line{testLine}, Subtotal: 575, Tax: 52, Total: 627})
	testOrder = mustJSON(order.Order{
		ID: "9b2f6c1e-4a8d-4f0e-9c57-3d1e2a6b7c80", Number: "101", Lines: []cart.Line{testLine},
		Subtotal: 575, Tax: 52, Total: 627, Currency: "USD", Status: order.StatusPlaced,
		CreatedAt: time.Date(2025, 5, 1, 12, 0, 9, 0, time.UTC),
	})
	addTool    = ToolCall{Name: "add_to_order", Arguments: json.RawMessage(`{"item_id":"latte","size":"large"}`), Success: true, Result: json.RawMessage(`{"success":true}`)}
	badTool    = ToolCall{Name: "add_to_order", Arguments: json.RawMessage(`{"item_id":"tea"}`), Success: false, Result: json.RawMessage(`{"success":false,"error":"unknown item tea"}`)}
	submitTool = ToolCall{Name: "submit_order", Arguments: json.RawMessage(`{}`), Success: true, Result: json.RawMessage(`{"success":true}`)}

	wantTurns = []SpokenTurn{
		{RoleAssistant, "Hi! What can I get you?"},
		{RoleCaller, "a large latte with oat milk"},
		{RoleAssistant, "One large oat latte. Anything else?"},
		{RoleCaller, "that's all"},
		{RoleAssistant, "Your order number is 101."},
	}
	wantTools = []ToolCall{badTool, addTool, submitTool}
)

// toolOnlyPause is longer than the quiet period at any speed the tests use, so a
// caller that took a tool-only response for the end of the turn would speak early.
const toolOnlyPause = 4 * minQuiet

func mustJSON(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

func newBrowserFake(speech []int) *fakeBrowserGateway {
	transcript := func(role, text string) step {
		return step{event: browserEvent(browserTranscript, map[string]any{"role": role, "text": text, "final": true})}
	}
	tool := func(c ToolCall) step { return step{event: browserEvent(browserToolCalled, map[string]any{"tool": c})} }
	done := step{event: browserEvent(browserAudioDone, nil)}
	return &fakeBrowserGateway{
		speech: speech,
		greeting: []step{
			{audio: 400 * time.Millisecond}, transcript(RoleAssistant, wantTurns[0].Text), done,
		},
		replies: [][]step{
			{
				transcript(RoleCaller, wantTurns[1].Text),
				tool(badTool), tool(addTool),
				{event: browserEvent(browserCartUpdated, map[string]any{"cart": testCart})},
				done, // a response of tool calls only
				{pause: toolOnlyPause},
				{audio: 300 * time.Millisecond}, transcript(RoleAssistant, wantTurns[2].Text), done,
			},
			{
				transcript(RoleCaller, wantTurns[3].Text),
				tool(submitTool),
				{event: browserEvent(browserOrderSubmitted, map[string]any{"order": testOrder})},
				{audio: 200 * time.Millisecond}, done,
				transcript(RoleAssistant, wantTurns[4].Text), // after audio.done
			},
		},
	}
}

// testTurns returns two WAV turns, one that needs resampling and padding.
func testTurns(t *testing.T) []Turn {
	return []Turn{
		FileTurn(writeToneWAV(t, "order.wav", 16000, 310*time.Millisecond, 440)),
		FileTurn(writeToneWAV(t, "done.wav", 8000, 500*time.Millisecond, 660)),
	}
}

// speechFrames returns the frames each turn takes in format f.
func speechFrames(t *testing.T, turns []Turn, f audio.Format) ([]int, []utterance) {
	t.Helper()
	us, err := prepareTurns(context.Background(), turns, f)
	if err != nil {
		t.Fatal(err)
	}
	var frames []int
	for _, u := range us {
		frames = append(frames, u.frames())
	}
	return frames, us
}

// expectedCallerAudio returns every utterance followed by its trailing silence.
func expectedCallerAudio(us []utterance, f audio.Format) []byte {
	var out []byte
	for _, u := range us {
		out = append(out, u.audio...)
		out = append(out, silence(f, silenceFrames*u.frameSize)...)
	}
	return out
}

func checkViolations(t *testing.T, v *violations) {
	t.Helper()
	for _, msg := range v.all() {
		t.Errorf("fake gateway: %s", msg)
	}
}

func checkResult(t *testing.T, got *Result, turns int) {
	t.Helper()
	if !reflect.DeepEqual(got.Turns, wantTurns) {
		t.Errorf("turns = %+v, want %+v", got.Turns, wantTurns)
	}
	if len(got.ToolCalls) != len(wantTools) {
		t.Fatalf("tool calls = %+v, want %d", got.ToolCalls, len(wantTools))
	}
	for i, c := range got.ToolCalls {
		if c.Name != wantTools[i].Name || c.Success != wantTools[i].Success || compactJSON(c.Arguments) != compactJSON(wantTools[i].Arguments) {
			t.Errorf("tool call %d = %s, want %s", i, formatToolCall(c), formatToolCall(wantTools[i]))
		}
	}
	if compactJSON(got.Cart) != compactJSON(testCart) {
		t.Errorf("cart = %s, want %s", got.Cart, testCart)
	}
	if compactJSON(got.Order) != compactJSON(testOrder) {
		t.Errorf("order = %s, want %s", got.Order, testOrder)
	}
	if len(got.Latencies) != turns {
		t.Errorf("latencies = %v, want %d", got.Latencies, turns)
	}
}

func TestBrowserCall(t *testing.T) {
	for _, speed := range []float64{50, maxSpeed} {
		t.Run(fmt.Sprintf("speed %g", speed), func(t *testing.T) {
			turns := testTurns(t)
			format := audio.Format{Encoding: audio.PCM16, Rate: browserRate}
			frames, us := speechFrames(t, turns, format)
			fake := newBrowserFake(frames)
			srv := startFakeBrowser(t, fake)
			var out bytes.Buffer

			got, err := Call(t.Context(), Options{Server: srv.URL, Speed: speed, Turns: turns, Out: &out})
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			checkViolations(t, &fake.violations)
			checkResult(t, got, len(turns))

			fake.mu.Lock()
			defer fake.mu.Unlock()
			if want := (browserFormat{"pcm16", browserRate}); fake.start.Format == nil || *fake.start.Format != want {
				t.Errorf("session.start format = %+v, want %+v", fake.start.Format, want)
			}
			if want := map[int]int{640: len(fake.callerPCM) / 640}; !reflect.DeepEqual(fake.frameSizes, want) {
				t.Errorf("frame sizes = %v, want only 640-byte frames: %v", fake.frameSizes, want)
			}
			if want := expectedCallerAudio(us, format); !bytes.Equal(fake.callerPCM, want) {
				t.Errorf("caller audio: got %d bytes, want %d bytes equal to the turns and their silence", len(fake.callerPCM), len(want))
			}
			if first := audio.PCM16ToBytes(nil, tone(16000, 310*time.Millisecond, 440)); !bytes.HasPrefix(fake.callerPCM, first) {
				t.Error("caller audio does not start with the first WAV's samples unchanged")
			}
			if !fake.stopped {
				t.Error("the caller did not send session.stop")
			}
			for _, line := range []string{
				"assistant: Hi! What can I get you?",
				"caller: a large latte with oat milk",
				`tool: add_to_order {"item_id":"tea"} -> error: unknown item tea`,
				`tool: add_to_order {"item_id":"latte","size":"large"} -> ok`,
			} {
				if !strings.Contains(out.String(), line+"\n") {
					t.Errorf("live output lacks %q:\n%s", line, out.String())
				}
			}
		})
	}
}

func newTwilioFake(speech []int) *fakeTwilioGateway {
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	var turns []recordTurn
	for i, t := range wantTurns {
		turns = append(turns, recordTurn{SpokenTurn: t, At: at.Add(time.Duration(2*i) * time.Second)})
	}
	var calls []recordToolCall
	for i, c := range wantTools {
		// Tool calls fall between the caller's turns and the assistant's replies.
		calls = append(calls, recordToolCall{ToolCall: c, At: at.Add(time.Duration(2+i) * time.Second).Add(time.Millisecond)})
	}
	return &fakeTwilioGateway{
		speech:   speech,
		greeting: []step{{audio: 400 * time.Millisecond}, {mark: "response-1"}},
		replies: [][]step{
			{{mark: "response-2"}, {pause: toolOnlyPause}, {audio: 300 * time.Millisecond}, {mark: "response-3"}},
			{{audio: 100 * time.Millisecond}, {audio: 100 * time.Millisecond}, {mark: "response-4"}},
		},
		record: callRecord{ID: "sess-1", Turns: turns, ToolCalls: calls, Cart: testCart, Order: testOrder},
	}
}

func TestTwilioCall(t *testing.T) {
	for _, speed := range []float64{50, maxSpeed} {
		t.Run(fmt.Sprintf("speed %g", speed), func(t *testing.T) {
			turns := testTurns(t)
			format := audio.Format{Encoding: audio.Mulaw, Rate: twilioRate}
			frames, us := speechFrames(t, turns, format)
			fake := newTwilioFake(frames)
			srv := startFakeTwilio(t, fake)
			var out bytes.Buffer

			got, err := Call(t.Context(), Options{Server: srv.URL, Transport: TransportTwilio, Speed: speed, Turns: turns, Out: &out})
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			checkViolations(t, &fake.violations)
			checkResult(t, got, len(turns))

			fake.mu.Lock()
			defer fake.mu.Unlock()
			if want := map[int]int{160: len(fake.callerMulaw) / 160}; !reflect.DeepEqual(fake.frameSizes, want) {
				t.Errorf("frame sizes = %v, want only 160-byte frames: %v", fake.frameSizes, want)
			}
			if want := expectedCallerAudio(us, format); !bytes.Equal(fake.callerMulaw, want) {
				t.Errorf("caller audio: got %d bytes, want %d bytes equal to the turns and their silence", len(fake.callerMulaw), len(want))
			}
			start := fake.start.Start
			if start == nil {
				t.Fatal("no start message")
			}
			if start.CustomParameters["restaurant"] != "cafe" {
				t.Errorf("start customParameters = %v, want the TwiML's restaurant=cafe", start.CustomParameters)
			}
			if want := (twilioMediaFormat{"audio/x-mulaw", 8000, 1}); start.MediaFormat != want {
				t.Errorf("start mediaFormat = %+v, want %+v", start.MediaFormat, want)
			}
			checkMarkEchoes(t, fake.marks, fake.echoes, speed)
			if fake.recordReads < 2 {
				t.Errorf("call record read %d times, want until ended_at was set (2)", fake.recordReads)
			}
			wantOut := strings.Join([]string{
				"assistant: Hi! What can I get you?",
				"caller: a large latte with oat milk",
				`tool: add_to_order {"item_id":"tea"} -> error: unknown item tea`,
				`tool: add_to_order {"item_id":"latte","size":"large"} -> ok`,
			}, "\n")
			if !strings.HasPrefix(out.String(), wantOut) {
				t.Errorf("output =\n%s\nwant it to start with\n%s", out.String(), wantOut)
			}
		})
	}
}

// checkMarkEchoes checks that every mark was echoed, and no earlier than the audio
// before it takes to play at speed.
func checkMarkEchoes(t *testing.T, marks []sentMark, echoes map[string]time.Time, speed float64) {
	t.Helper()
	if len(marks) != 4 {
		t.Errorf("fake sent %d marks, want 4", len(marks))
	}
	for _, m := range marks {
		echoed, ok := echoes[m.name]
		if !ok {
			t.Errorf("mark %q was not echoed", m.name)
			continue
		}
		if m.audio == 0 {
			continue
		}
		played := time.Duration(float64(m.audio) / speed)
		if got := echoed.Sub(m.firstAudio); got < played {
			t.Errorf("mark %q echoed %s after its audio began, want at least %s of playback", m.name, got, played)
		}
	}
}

func TestCallSavesAudio(t *testing.T) {
	tests := []struct {
		transport string
		rate      int
	}{
		{TransportBrowser, browserRate},
		{TransportTwilio, twilioRate},
	}
	for _, tt := range tests {
		t.Run(tt.transport, func(t *testing.T) {
			turns := testTurns(t)[:1]
			path := filepath.Join(t.TempDir(), "assistant.wav")
			var server string
			var sent func() []int16 // the assistant audio the fake sent
			switch tt.transport {
			case TransportBrowser:
				frames, _ := speechFrames(t, turns, audio.Format{Encoding: audio.PCM16, Rate: browserRate})
				fake := newBrowserFake(frames)
				server = startFakeBrowser(t, fake).URL
				sent = func() []int16 { fake.mu.Lock(); defer fake.mu.Unlock(); return fake.sentPCM }
			case TransportTwilio:
				frames, _ := speechFrames(t, turns, audio.Format{Encoding: audio.Mulaw, Rate: twilioRate})
				fake := newTwilioFake(frames)
				server = startFakeTwilio(t, fake).URL
				sent = func() []int16 { fake.mu.Lock(); defer fake.mu.Unlock(); return audio.DecodeMulaw(nil, fake.sentMulaw) }
			}

			_, err := Call(t.Context(), Options{Server: server, Transport: tt.transport, Speed: 50, Turns: turns, SaveAudio: path})
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := audio.ReadWAV(f)
			if err != nil {
				t.Fatalf("saved audio is not a valid WAV: %v", err)
			}
			if w.SampleRate != tt.rate || w.Channels != 1 {
				t.Errorf("saved audio is %d Hz with %d channels, want %d Hz mono", w.SampleRate, w.Channels, tt.rate)
			}
			if want := sent(); len(want) == 0 || !slices.Equal(w.Samples, want) {
				t.Errorf("saved audio has %d samples, want the %d samples the gateway sent", len(w.Samples), len(want))
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	tests := []struct {
		name   string
		result Result
		want   string
	}{
		{
			name:   "empty",
			result: Result{},
			want:   `{"call_id":"","turns":[],"tool_calls":[],"cart":null,"order":null,"latencies_ms":[]}`,
		},
		{
			name: "order placed",
			result: Result{
				Turns:     []SpokenTurn{{RoleCaller, "a latte"}},
				ToolCalls: []ToolCall{addTool},
				Cart:      testCart,
				Order:     testOrder,
				Latencies: []time.Duration{812345 * time.Microsecond},
			},
			want: `{"call_id":"","turns":[{"role":"caller","text":"a latte"}],` +
				`"tool_calls":[{"name":"add_to_order","arguments":{"item_id":"latte","size":"large"},"success":true,"result":{"success":true}}],` +
				`"cart":` + string(testCart) + `,"order":` + string(testOrder) + `,"latencies_ms":[812.3]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(&tt.result)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("JSON =\n%s\nwant\n%s", got, tt.want)
			}
			var back Result
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("decode: %v", err)
			}
			again, _ := json.Marshal(back)
			if string(again) != tt.want {
				t.Errorf("round trip =\n%s\nwant\n%s", again, tt.want)
			}
		})
	}
}

func TestCallRecording(t *testing.T) {
	path := recording(t, "0f6ccd6a-b7a7-4e05-aa5e-02f76b0381cb.wav") // "make me a small medium roast mocha"
	tests := []struct {
		transport string
		format    audio.Format
	}{
		{TransportBrowser, audio.Format{Encoding: audio.PCM16, Rate: browserRate}},
		{TransportTwilio, audio.Format{Encoding: audio.Mulaw, Rate: twilioRate}},
	}
	for _, tt := range tests {
		t.Run(tt.transport, func(t *testing.T) {
			turns := []Turn{FileTurn(path)}
			frames, us := speechFrames(t, turns, tt.format)
			// 6.8 s of speech is 340 frames of 20 ms.
			if frames[0] != 340 {
				t.Errorf("recording takes %d frames, want 340", frames[0])
			}
			var server string
			var caller func() []byte
			switch tt.transport {
			case TransportBrowser:
				fake := newBrowserFake(frames)
				fake.replies = fake.replies[:1]
				server = startFakeBrowser(t, fake).URL
				caller = func() []byte { fake.mu.Lock(); defer fake.mu.Unlock(); return fake.callerPCM }
				defer checkViolations(t, &fake.violations)
			case TransportTwilio:
				fake := newTwilioFake(frames)
				fake.replies = fake.replies[:1]
				server = startFakeTwilio(t, fake).URL
				caller = func() []byte { fake.mu.Lock(); defer fake.mu.Unlock(); return fake.callerMulaw }
				defer checkViolations(t, &fake.violations)
			}

			got, err := Call(t.Context(), Options{Server: server, Transport: tt.transport, Speed: 50, Turns: turns})
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			if len(got.Latencies) != 1 {
				t.Errorf("latencies = %v, want one", got.Latencies)
			}
			if want := expectedCallerAudio(us, tt.format); !bytes.Equal(caller(), want) {
				t.Errorf("gateway received %d bytes, want the recording's %d bytes and silence", len(caller()), len(want))
			}
		})
	}
}
