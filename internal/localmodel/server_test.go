package localmodel

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/tools"
)

// testServer runs a Server on a loopback listener until the test ends, and checks
// that Serve returns after its connections have ended.
func testServer(t *testing.T, configure ...func(*Config)) (*Server, string) {
	t.Helper()
	fullDictionary(t)
	if _, err := exec.LookPath(DefaultVoiceBinary); err != nil {
		t.Skipf("espeak-ng not installed: %v", err)
	}
	cfg := Config{Catalog: testCatalog(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range configure {
		f(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Serve(ctx, ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if n := s.Sessions(); n != 0 {
			t.Errorf("%d sessions open after Serve returned, want 0", n)
		}
		if kids := childProcesses(t); len(kids) != 0 {
			t.Errorf("child processes left after Serve returned: %v", kids)
		}
	})
	return s, "ws://" + ln.Addr().String() + RealtimePath
}

func dialTest(t *testing.T, url string) *realtime.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := realtime.Dial(ctx, realtime.DialConfig{URL: url, Model: "voiceorder-local"})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// expect reads events until one of type typ arrives and returns it with the
// events read before it.
func expect(t *testing.T, ctx context.Context, c *realtime.Conn, typ string) (realtime.ServerEvent, []realtime.ServerEvent) {
	t.Helper()
	var before []realtime.ServerEvent
	for {
		ev, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read while waiting for %s (after %v): %v", typ, eventTypes(before), err)
		}
		if ev.Type == typ {
			return ev, before
		}
		if ev.Type == realtime.ServerError && typ != realtime.ServerError {
			t.Fatalf("error event while waiting for %s: %+v", typ, ev.Error)
		}
		before = append(before, ev)
	}
}

func eventTypes(evs []realtime.ServerEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func send(t *testing.T, ctx context.Context, c *realtime.Conn, ev realtime.ClientEvent) {
	t.Helper()
	if err := c.Send(ctx, ev); err != nil {
		t.Fatalf("send %s: %v", ev.Type, err)
	}
}

func toolList() []realtime.Tool {
	defs := tools.Definitions()
	out := make([]realtime.Tool, len(defs))
	for i, d := range defs {
		out[i] = realtime.Tool{Type: "function", Name: d.Name, Description: d.Description, Parameters: d.Parameters}
	}
	return out
}

func sessionUpdate(in, out realtime.AudioFormat) realtime.ClientEvent {
	return realtime.UpdateSession(realtime.Session{
		Instructions: "Take the guest's order.",
		Tools:        toolList(),
		Audio: &realtime.AudioConfig{
			Input:  &realtime.AudioInput{Format: &in, TurnDetection: &realtime.TurnDetection{Type: realtime.TurnDetectionServerVAD}},
			Output: &realtime.AudioOutput{Format: &out},
		},
	})
}

// streamAudio sends samples as 20 ms appends in the given format, followed by a
// second of silence.
func streamAudio(t *testing.T, ctx context.Context, c *realtime.Conn, samples []int16, f audio.Format) {
	t.Helper()
	conv, err := audio.NewConverter(decodeFormat, f)
	if err != nil {
		t.Fatalf("converter: %v", err)
	}
	samples = append(append([]int16(nil), samples...), make([]int16, SampleRate)...)
	frame := SampleRate / 50
	var buf []byte
	for len(samples) > 0 {
		n := min(frame, len(samples))
		buf = conv.Convert(buf[:0], audio.PCM16ToBytes(nil, samples[:n]))
		if err := c.SendAudio(ctx, buf); err != nil {
			t.Fatalf("send audio: %v", err)
		}
		samples = samples[n:]
	}
}

func TestServerOrderFromRecording(t *testing.T) {
	_, url := testServer(t)
	dir := filepath.Join(testdataDir(t), "audio", "coffee-orders")
	// "make me a dark roast twelve ounce americano with sweetener"
	samples := readClip(t, filepath.Join(dir, "2e6bf48b-04c3-4faf-a85d-829a3704fbd6.wav"))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := dialTest(t, url)
	created, _ := expect(t, ctx, c, realtime.ServerSessionCreated)
	if created.Session == nil || created.Session.Model != "voiceorder-local" {
		t.Errorf("session.created session = %+v, want model voiceorder-local", created.Session)
	}
	pcm16k := realtime.AudioFormat{Type: realtime.AudioPCM, Rate: 16000}
	pcm24k := realtime.AudioFormat{Type: realtime.AudioPCM, Rate: 24000}
	send(t, ctx, c, sessionUpdate(pcm16k, pcm24k))
	expect(t, ctx, c, realtime.ServerSessionUpdated)

	streamAudio(t, ctx, c, samples, decodeFormat)
	started, _ := expect(t, ctx, c, realtime.ServerInputAudioBufferSpeechStarted)
	stopped, _ := expect(t, ctx, c, realtime.ServerInputAudioBufferSpeechStopped)
	stoppedAt := time.Now()
	if stopped.AudioEndMS <= started.AudioStartMS || started.ItemID == "" || stopped.ItemID != started.ItemID {
		t.Errorf("speech %d..%d ms items %q/%q, want a range and one item id", started.AudioStartMS, stopped.AudioEndMS, started.ItemID, stopped.ItemID)
	}
	transcript, _ := expect(t, ctx, c, realtime.ServerConversationItemInputAudioTranscriptionCompleted)
	if want := "make me a dark roast twelve ounce americano with sweetener"; transcript.Transcript != want {
		t.Errorf("transcript = %q, want %q", transcript.Transcript, want)
	}
	call, _ := expect(t, ctx, c, realtime.ServerResponseFunctionCallArgumentsDone)
	decodeLatency := time.Since(stoppedAt)
	if call.Name != tools.AddToOrder {
		t.Fatalf("function call %q, want %s", call.Name, tools.AddToOrder)
	}
	var args struct {
		ItemID    string `json:"item_id"`
		Size      string `json:"size"`
		Quantity  int    `json:"quantity"`
		Modifiers []struct {
			Group, Option, Amount string
		} `json:"modifiers"`
	}
	if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
		t.Fatalf("arguments %q: %v", call.Arguments, err)
	}
	if args.ItemID != "americano" || args.Size != "small" || args.Quantity != 1 || len(args.Modifiers) != 2 ||
		args.Modifiers[0].Option != "dark" || args.Modifiers[1].Option != "sweetener" {
		t.Errorf("arguments = %s, want a small americano with dark roast and sweetener", call.Arguments)
	}
	done, _ := expect(t, ctx, c, realtime.ServerResponseDone)
	if done.Response == nil || done.Response.Status != realtime.ResponseCompleted || len(done.Response.Output) != 1 {
		t.Fatalf("response.done = %+v, want completed with one function call", done.Response)
	}

	output := `{"success":true,"data":{"line":{"line_id":"L1","description":"a small americano with dark roast and sweetener"}},"message":"Added a small americano."}`
	send(t, ctx, c, realtime.FunctionCallOutput(call.CallID, output))
	send(t, ctx, c, realtime.CreateResponse())
	requested := time.Now()
	first, _ := expect(t, ctx, c, realtime.ServerResponseOutputAudioDelta)
	audioLatency := time.Since(requested)
	deltas := 1
	var spoken realtime.ServerEvent
	for {
		ev, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if ev.Type == realtime.ServerResponseOutputAudioDelta {
			deltas++
			if raw, err := base64.StdEncoding.DecodeString(ev.Delta); err != nil || len(raw) > 4800 {
				t.Errorf("audio delta of %d bytes (err %v), want at most 100 ms of 24 kHz PCM16", len(raw), err)
			}
		}
		if ev.Type == realtime.ServerResponseOutputAudioTranscriptDone {
			spoken = ev
		}
		if ev.Type == realtime.ServerResponseDone {
			if ev.Response.Status != realtime.ResponseCompleted {
				t.Errorf("response status %q, want completed", ev.Response.Status)
			}
			break
		}
	}
	if want := "Added a small americano with dark roast and sweetener. Anything else?"; spoken.Transcript != want {
		t.Errorf("spoken transcript = %q, want %q", spoken.Transcript, want)
	}
	if first.ResponseID == "" || deltas < 5 {
		t.Errorf("got %d audio deltas, want the reply streamed in several", deltas)
	}
	t.Logf("speech_stopped to function call: %v; response.create to first audio delta: %v; %d deltas",
		decodeLatency.Round(time.Millisecond), audioLatency.Round(time.Millisecond), deltas)
	if err := c.Close(); err != nil && !errors.Is(err, realtime.ErrClosed) {
		t.Errorf("close: %v", err)
	}
}

func TestServerOffMenuAsksAgain(t *testing.T) {
	_, url := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startSession(t, ctx, url)
	path := filepath.Join(testdataDir(t), "audio", "coffee-orders-rhino", "test_out_of_context.wav")
	streamAudio(t, ctx, c, readClip(t, path), decodeFormat)

	expect(t, ctx, c, realtime.ServerInputAudioBufferSpeechStopped)
	stoppedAt := time.Now()
	first, before := expect(t, ctx, c, realtime.ServerResponseOutputAudioDelta)
	latency := time.Since(stoppedAt)
	for _, ev := range before {
		if ev.Type == realtime.ServerResponseFunctionCallArgumentsDone {
			t.Errorf("function call %s %s for off-menu speech, want none", ev.Name, ev.Arguments)
		}
	}
	done, _ := expect(t, ctx, c, realtime.ServerResponseOutputAudioTranscriptDone)
	if done.Transcript != promptNotCaught || done.ResponseID != first.ResponseID {
		t.Errorf("said %q, want %q", done.Transcript, promptNotCaught)
	}
	t.Logf("speech_stopped to first audio delta: %v", latency.Round(time.Millisecond))
}
