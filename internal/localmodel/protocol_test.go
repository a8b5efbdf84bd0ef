package localmodel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"encoding/json"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// childProcesses returns the pids of this process's children.
func childProcesses(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	self := os.Getpid()
	var kids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The parent pid is the second field after the parenthesized command.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(self) {
			kids = append(kids, pid)
		}
	}
	return kids
}

// slowVoice returns an espeak-ng wrapper that waits a while before speaking, so
// that a response stays active long enough to be interrupted.
func slowVoice(t *testing.T) func(*Config) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slow-espeak")
	script := "#!/bin/sh\nsleep 3\nexec espeak-ng \"$@\"\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatalf("write wrapper: %v", err)
	}
	return func(c *Config) { c.VoiceBinary = path }
}

func startSession(t *testing.T, ctx context.Context, url string) *realtime.Conn {
	t.Helper()
	c := dialTest(t, url)
	expect(t, ctx, c, realtime.ServerSessionCreated)
	pcm := realtime.AudioFormat{Type: realtime.AudioPCM, Rate: 16000}
	send(t, ctx, c, sessionUpdate(pcm, pcm))
	expect(t, ctx, c, realtime.ServerSessionUpdated)
	return c
}

func expectError(t *testing.T, ctx context.Context, c *realtime.Conn, code string) realtime.ServerEvent {
	t.Helper()
	ev, _ := expect(t, ctx, c, realtime.ServerError)
	if ev.Error == nil || ev.Error.Code != code {
		t.Fatalf("error event %+v, want code %s", ev.Error, code)
	}
	return ev
}

func TestServerMalformedEvents(t *testing.T) {
	_, url := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := startSession(t, ctx, url)

	tests := []struct {
		name, message, code, eventID string
	}{
		{"not JSON", `{"type": "response.create", "event_id": "e1"`, "invalid_event", ""},
		{"unknown type", `{"type": "response.explode", "event_id": "e2"}`, "invalid_event", "e2"},
		{"bad base64", `{"type": "input_audio_buffer.append", "event_id": "e3", "audio": "%%%"}`, "invalid_event", "e3"},
		{"update without session", `{"type": "session.update", "event_id": "e4"}`, "invalid_event", "e4"},
		{"missing tools", `{"type": "session.update", "event_id": "e5", "session": {"type": "realtime", "tools": [{"type": "function", "name": "add_to_order"}]}}`, "invalid_value", "e5"},
		{"bad rate", `{"type": "session.update", "event_id": "e6", "session": {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 44100}}}}}`, "invalid_value", "e6"},
		{"cancel without response", `{"type": "response.cancel", "event_id": "e7"}`, "response_cancel_not_active", "e7"},
		{"empty commit", `{"type": "input_audio_buffer.commit", "event_id": "e8"}`, "input_audio_buffer_commit_empty", "e8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.SendRaw(ctx, []byte(tt.message)); err != nil {
				t.Fatalf("send: %v", err)
			}
			ev := expectError(t, ctx, c, tt.code)
			if ev.Error.EventID != tt.eventID {
				t.Errorf("error event_id %q, want %q", ev.Error.EventID, tt.eventID)
			}
		})
	}
	// The connection still works.
	send(t, ctx, c, realtime.UserText("what are the specials"))
	send(t, ctx, c, realtime.CreateResponse())
	call, _ := expect(t, ctx, c, realtime.ServerResponseFunctionCallArgumentsDone)
	if call.Name != "get_specials" {
		t.Errorf("call %q, want get_specials", call.Name)
	}
}

func TestServerOneActiveResponse(t *testing.T) {
	_, url := testServer(t, slowVoice(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := startSession(t, ctx, url)

	send(t, ctx, c, realtime.CreateResponse())
	created, _ := expect(t, ctx, c, realtime.ServerResponseCreated)
	send(t, ctx, c, realtime.CreateResponse())
	expectError(t, ctx, c, "conversation_already_has_active_response")
	send(t, ctx, c, realtime.CancelResponse(""))
	done, _ := expect(t, ctx, c, realtime.ServerResponseDone)
	if done.Response.ID != created.Response.ID || done.Response.Status != realtime.ResponseCancelled ||
		done.Response.StatusDetails == nil || done.Response.StatusDetails.Reason != "client_cancelled" {
		t.Errorf("response.done %+v, want %s cancelled by the client", done.Response, created.Response.ID)
	}
	// The greeting was cancelled, so the next response.create is accepted.
	send(t, ctx, c, realtime.UserText("yes"))
	send(t, ctx, c, realtime.CreateResponse())
	expect(t, ctx, c, realtime.ServerResponseCreated)
}

func TestServerBargeIn(t *testing.T) {
	_, url := testServer(t, slowVoice(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := startSession(t, ctx, url)
	send(t, ctx, c, realtime.CreateResponse())
	created, _ := expect(t, ctx, c, realtime.ServerResponseCreated)

	dir := filepath.Join(testdataDir(t), "audio", "coffee-orders")
	streamAudio(t, ctx, c, readClip(t, filepath.Join(dir, "0f6ccd6a-b7a7-4e05-aa5e-02f76b0381cb.wav")), decodeFormat)
	expect(t, ctx, c, realtime.ServerInputAudioBufferSpeechStarted)
	done, _ := expect(t, ctx, c, realtime.ServerResponseDone)
	if done.Response.ID != created.Response.ID || done.Response.Status != realtime.ResponseCancelled ||
		done.Response.StatusDetails == nil || done.Response.StatusDetails.Reason != "turn_detected" {
		t.Errorf("response.done %+v, want the greeting cancelled by turn detection", done.Response)
	}
	call, _ := expect(t, ctx, c, realtime.ServerResponseFunctionCallArgumentsDone)
	if call.Name != "add_to_order" || !strings.Contains(call.Arguments, `"item_id":"mocha"`) {
		t.Errorf("call %s %s, want add_to_order of a mocha", call.Name, call.Arguments)
	}
}

func TestServerManualTurns(t *testing.T) {
	_, url := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := dialTest(t, url)
	expect(t, ctx, c, realtime.ServerSessionCreated)
	update := `{"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"},"turn_detection":null},"output":{"format":{"type":"audio/pcmu"}}},"tools":%s}}`
	tools, err := jsonMarshal(toolList())
	if err != nil {
		t.Fatalf("encode tools: %v", err)
	}
	if err := c.SendRaw(ctx, []byte(fmt.Sprintf(update, tools))); err != nil {
		t.Fatalf("send: %v", err)
	}
	updated, _ := expect(t, ctx, c, realtime.ServerSessionUpdated)
	if td := updated.Session.Audio.Input.TurnDetection; td != nil {
		t.Errorf("turn detection %+v, want off", td)
	}

	dir := filepath.Join(testdataDir(t), "audio", "coffee-orders")
	samples := readClip(t, filepath.Join(dir, "16eee89a-932c-47b1-abad-87fdfc757eab.wav"))
	streamAudio(t, ctx, c, samples, phoneFormat)
	send(t, ctx, c, realtime.CommitAudio())
	expect(t, ctx, c, realtime.ServerInputAudioBufferCommitted)
	transcript, before := expect(t, ctx, c, realtime.ServerConversationItemInputAudioTranscriptionCompleted)
	for _, ev := range before {
		if ev.Type == realtime.ServerInputAudioBufferSpeechStarted {
			t.Error("speech_started with turn detection off")
		}
	}
	if !strings.Contains(transcript.Transcript, "americano") {
		t.Errorf("transcript %q, want the americano order", transcript.Transcript)
	}
	send(t, ctx, c, realtime.CreateResponse())
	call, _ := expect(t, ctx, c, realtime.ServerResponseFunctionCallArgumentsDone)
	if call.Name != "add_to_order" {
		t.Fatalf("call %q, want add_to_order", call.Name)
	}
	expect(t, ctx, c, realtime.ServerResponseDone)
	send(t, ctx, c, realtime.FunctionCallOutput(call.CallID, `{"success":true,"data":{"line":{"description":"an americano"}}}`))
	send(t, ctx, c, realtime.CreateResponse())
	delta, _ := expect(t, ctx, c, realtime.ServerResponseOutputAudioDelta)
	if n := len(delta.Delta) * 3 / 4; n > 800+3 {
		t.Errorf("μ-law delta of about %d bytes, want at most 100 ms (800 bytes)", n)
	}
	transcriptDone, _ := expect(t, ctx, c, realtime.ServerResponseOutputAudioTranscriptDone)
	if transcriptDone.Transcript != "Added an americano. Anything else?" {
		t.Errorf("transcript %q", transcriptDone.Transcript)
	}
	send(t, ctx, c, realtime.Truncate(transcriptDone.ItemID, 0, 500))
	truncated, _ := expect(t, ctx, c, realtime.ServerConversationItemTruncated)
	if truncated.ItemID != transcriptDone.ItemID || truncated.AudioEndMS != 500 {
		t.Errorf("truncated %+v, want item %s at 500 ms", truncated, transcriptDone.ItemID)
	}
}

func TestServerShutdownClosesSessions(t *testing.T) {
	s, url := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := startSession(t, ctx, url)
	if s.Sessions() != 1 {
		t.Fatalf("Sessions() = %d, want 1", s.Sessions())
	}
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, err := c.Read(ctx); err != nil {
				readErr <- err
				return
			}
		}
	}()
	s.Close()
	err := <-readErr
	if code := realtime.CloseStatus(err); code != websocket.StatusGoingAway && !errors.Is(err, realtime.ErrClosed) {
		t.Errorf("read after server close = %v (status %d), want close 1001", err, code)
	}
	if s.Sessions() != 0 {
		t.Errorf("Sessions() = %d after Close, want 0", s.Sessions())
	}
	if _, err := realtime.Dial(ctx, realtime.DialConfig{URL: url}); err == nil {
		t.Error("dial after Close succeeded, want a rejection")
	}
}

func TestServerMaxSessions(t *testing.T) {
	_, url := testServer(t, func(c *Config) { c.MaxSessions = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	startSession(t, ctx, url)
	_, err := realtime.Dial(ctx, realtime.DialConfig{URL: url})
	var de *realtime.DialError
	if !errors.As(err, &de) {
		t.Fatalf("second dial = %v, want a DialError", err)
	}
}

func FuzzParseClientEvent(f *testing.F) {
	f.Add([]byte(`{"type":"input_audio_buffer.append","audio":"AAAA"}`))
	f.Add([]byte(`{"type":"session.update","session":{"audio":{"input":{"turn_detection":null}}}}`))
	f.Add([]byte(`{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		item, problem := parseClientEvent(data)
		if problem != "" {
			return
		}
		if !clientEventTypes[item.event.Type] {
			t.Errorf("accepted event type %q", item.event.Type)
		}
		if item.event.Type == realtime.ClientSessionUpdate {
			st := defaultSessionState()
			applySession(&st, item.event.Session, item.raw)
		}
	})
}

var phoneFormat = audio.Format{Encoding: audio.Mulaw, Rate: 8000}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
