package realtime_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// specExample is one line of the file of examples from the API reference.
type specExample struct {
	Schema    string          `json:"schema"`
	Direction string          `json:"direction"`
	Example   json.RawMessage `json:"example"`
}

func specExamples(t *testing.T, direction string) map[string][]byte {
	t.Helper()
	examples := make(map[string][]byte)
	for i, line := range protocolLines(t, "realtime-ga-spec-examples.jsonl") {
		var ex specExample
		if err := json.Unmarshal(line, &ex); err != nil {
			t.Fatalf("spec example line %d: %v", i+1, err)
		}
		if ex.Direction == direction {
			examples[ex.Schema] = ex.Example
		}
	}
	return examples
}

func TestServerEventsDecode(t *testing.T) {
	events := make(map[string][]byte)
	for i, line := range protocolLines(t, "realtime-ga-server-events.jsonl") {
		events[fmt.Sprintf("recorded line %d", i+1)] = line
	}
	for schema, example := range specExamples(t, "server") {
		events[schema] = example
	}
	for name, data := range events {
		t.Run(name, func(t *testing.T) {
			var ev realtime.ServerEvent
			if err := json.Unmarshal(data, &ev); err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			if ev.Type == "" {
				t.Errorf("decoded event has no type: %s", data)
			}
			if _, err := json.Marshal(ev); err != nil {
				t.Errorf("encode decoded %s event: %v", ev.Type, err)
			}
		})
	}
}

func TestServerEventFields(t *testing.T) {
	examples := specExamples(t, "server")
	decode := func(t *testing.T, schema string) realtime.ServerEvent {
		t.Helper()
		var ev realtime.ServerEvent
		if err := json.Unmarshal(examples[schema], &ev); err != nil {
			t.Fatalf("decode %s: %v", schema, err)
		}
		return ev
	}

	t.Run("session created", func(t *testing.T) {
		ev := decode(t, "RealtimeServerEventSessionCreated")
		s := ev.Session
		if s == nil || s.ID != "sess_C9G5QPteg4UIbotdKLoYQ" || s.MaxOutputTokens != realtime.TokenLimitInf || s.ExpiresAt != 1756324625 {
			t.Fatalf("session = %+v, want id sess_C9G5QPteg4UIbotdKLoYQ, max_output_tokens inf, expires_at 1756324625", s)
		}
		td := s.Audio.Input.TurnDetection
		if td.Type != realtime.TurnDetectionServerVAD || td.SilenceDurationMS != 200 || td.CreateResponse == nil || !*td.CreateResponse {
			t.Errorf("turn detection = %+v, want server_vad, 200 ms silence, create_response true", td)
		}
		if got := s.Audio.Output.Format; *got != (realtime.AudioFormat{Type: realtime.AudioPCM, Rate: realtime.PCMRate}) {
			t.Errorf("output format = %+v, want audio/pcm at 24000", got)
		}
		if s.ToolChoice.Mode != realtime.ToolChoiceAuto {
			t.Errorf("tool choice = %+v, want auto", s.ToolChoice)
		}
	})
	t.Run("response done", func(t *testing.T) {
		ev := decode(t, "RealtimeServerEventResponseDone")
		r := ev.Response
		if r == nil || r.Status != realtime.ResponseCompleted || r.Usage == nil || r.Usage.TotalTokens != 253 {
			t.Fatalf("response = %+v, want completed with 253 total tokens", r)
		}
		if got := r.Usage.InputTokenDetails.CachedTokensDetails.TextTokens; got != 64 {
			t.Errorf("cached text tokens = %d, want 64", got)
		}
		if len(r.Output) != 1 || r.Output[0].Content[0].Type != realtime.ContentOutputAudio {
			t.Errorf("output = %+v, want one output_audio message", r.Output)
		}
	})
	t.Run("function call arguments done", func(t *testing.T) {
		ev := decode(t, "RealtimeServerEventResponseFunctionCallArgumentsDone")
		if ev.CallID != "call_001" || ev.Name != "get_weather" || ev.Arguments != `{"location": "San Francisco"}` {
			t.Errorf("event = %+v, want call_001 get_weather with its arguments", ev)
		}
	})
	t.Run("error", func(t *testing.T) {
		ev := decode(t, "RealtimeServerEventError")
		var serverErr *realtime.Error
		if !errors.As(ev.Err(), &serverErr) || serverErr.Code != "invalid_event" || serverErr.EventID != "event_567" {
			t.Errorf("Err() = %v, want *Error with code invalid_event for event_567", ev.Err())
		}
	})
	t.Run("rate limits", func(t *testing.T) {
		ev := decode(t, "RealtimeServerEventRateLimitsUpdated")
		want := []realtime.RateLimit{
			{Name: "requests", Limit: 1000, Remaining: 999, ResetSeconds: 60},
			{Name: "tokens", Limit: 50000, Remaining: 49950, ResetSeconds: 60},
		}
		if !reflect.DeepEqual(ev.RateLimits, want) {
			t.Errorf("rate limits = %+v, want %+v", ev.RateLimits, want)
		}
	})
	t.Run("speech started", func(t *testing.T) {
		ev := decode(t, "RealtimeServerEventInputAudioBufferSpeechStarted")
		if ev.AudioStartMS != 1000 || ev.ItemID != "msg_003" {
			t.Errorf("event = %+v, want audio_start_ms 1000 for msg_003", ev)
		}
	})
}

// unmodeledClientFields lists the paths of client event fields that
// ClientEvent does not model, by event type. transcription_session.update is
// a transcription-only session of the older shape that this project does not
// use.
var unmodeledClientFields = map[string][]string{
	"transcription_session.update": {
		"session.include",
		"session.input_audio_format",
		"session.input_audio_noise_reduction",
		"session.input_audio_transcription",
		"session.turn_detection",
	},
}

func TestClientEventsRoundTrip(t *testing.T) {
	events := make(map[string][]byte)
	for i, line := range protocolLines(t, "realtime-ga-client-events.jsonl") {
		events[fmt.Sprintf("recorded line %d", i+1)] = line
	}
	for schema, example := range specExamples(t, "client") {
		events[schema] = example
	}
	for name, data := range events {
		t.Run(name, func(t *testing.T) {
			var ev realtime.ClientEvent
			if err := json.Unmarshal(data, &ev); err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			encoded, err := json.Marshal(ev)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			diffs := jsonDiff(t, data, encoded)
			for _, path := range unmodeledClientFields[ev.Type] {
				if _, ok := diffs[path]; !ok {
					t.Errorf("%s event: listed unmodeled field %s round-trips; remove it from the list", ev.Type, path)
				}
				delete(diffs, path)
			}
			for _, d := range sortedValues(diffs) {
				t.Errorf("%s event: %s", ev.Type, d)
			}
		})
	}
}

// jsonDiff returns the differences between two encoded values, keyed by the
// path of the differing member.
func jsonDiff(t *testing.T, want, got []byte) map[string]string {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("decode %s: %v", want, err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	diffs := make(map[string]string)
	collectDiffs("", w, g, diffs)
	return diffs
}

func collectDiffs(path string, want, got any, diffs map[string]string) {
	wantObj, okWant := want.(map[string]any)
	gotObj, okGot := got.(map[string]any)
	if okWant && okGot {
		for k := range wantObj {
			collectDiffs(joinPath(path, k), wantObj[k], gotObj[k], diffs)
		}
		for k := range gotObj {
			if _, ok := wantObj[k]; !ok {
				diffs[joinPath(path, k)] = fmt.Sprintf("%s: got %v, want no member", joinPath(path, k), gotObj[k])
			}
		}
		return
	}
	wantArr, okWant := want.([]any)
	gotArr, okGot := got.([]any)
	if okWant && okGot && len(wantArr) == len(gotArr) {
		for i := range wantArr {
			collectDiffs(fmt.Sprintf("%s[%d]", path, i), wantArr[i], gotArr[i], diffs)
		}
		return
	}
	if !reflect.DeepEqual(want, got) {
		diffs[path] = fmt.Sprintf("%s: got %v, want %v", path, got, want)
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedValues(m map[string]string) []string {
	values := make([]string, 0, len(m))
	for _, v := range m {
		values = append(values, v)
	}
	sort.Strings(values)
	return values
}

func TestConstructorsEncode(t *testing.T) {
	params := json.RawMessage(`{"type":"object","properties":{}}`)
	tests := []struct {
		name string
		ev   realtime.ClientEvent
		want string
	}{
		{"truncate at zero", realtime.Truncate("item_1", 0, 0),
			`{"type":"conversation.item.truncate","item_id":"item_1","content_index":0,"audio_end_ms":0}`},
		{"truncate", realtime.Truncate("item_1", 1, 1500),
			`{"type":"conversation.item.truncate","item_id":"item_1","content_index":1,"audio_end_ms":1500}`},
		{"function call output", realtime.FunctionCallOutput("call_1", `{"success":true}`),
			`{"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"call_1","output":"{\"success\":true}"}}`},
		{"create response", realtime.CreateResponse(), `{"type":"response.create"}`},
		{"cancel response", realtime.CancelResponse("resp_1"), `{"type":"response.cancel","response_id":"resp_1"}`},
		{"cancel in progress", realtime.CancelResponse(""), `{"type":"response.cancel"}`},
		{"append audio", realtime.AppendAudio([]byte{0, 1, 2}), `{"type":"input_audio_buffer.append","audio":"AAEC"}`},
		{"append base64 audio", realtime.AppendAudioBase64("AAEC"), `{"type":"input_audio_buffer.append","audio":"AAEC"}`},
		{"commit", realtime.CommitAudio(), `{"type":"input_audio_buffer.commit"}`},
		{"clear", realtime.ClearAudio(), `{"type":"input_audio_buffer.clear"}`},
		{"user text", realtime.UserText("a latte"),
			`{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"a latte"}]}}`},
		{"update session", realtime.UpdateSession(realtime.Session{
			Instructions: "Take the order.",
			Audio: &realtime.AudioConfig{
				Input: &realtime.AudioInput{
					Format:        &realtime.AudioFormat{Type: realtime.AudioPCMU},
					TurnDetection: &realtime.TurnDetection{Type: realtime.TurnDetectionServerVAD, CreateResponse: new(false)},
				},
				Output: &realtime.AudioOutput{Format: &realtime.AudioFormat{Type: realtime.AudioPCM, Rate: 24000}, Voice: "marin"},
			},
			Tools:           []realtime.Tool{{Type: "function", Name: "get_specials", Parameters: params}},
			ToolChoice:      realtime.ToolChoice{Mode: realtime.ToolChoiceAuto},
			MaxOutputTokens: realtime.TokenLimitInf,
		}), `{"type":"session.update","session":{"type":"realtime","instructions":"Take the order.",
			"audio":{"input":{"format":{"type":"audio/pcmu"},"turn_detection":{"type":"server_vad","create_response":false}},
			"output":{"format":{"type":"audio/pcm","rate":24000},"voice":"marin"}},
			"tools":[{"type":"function","name":"get_specials","parameters":{"type":"object","properties":{}}}],
			"tool_choice":"auto","max_output_tokens":"inf"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			for _, d := range sortedValues(jsonDiff(t, []byte(tt.want), got)) {
				t.Errorf("%s", d)
			}
		})
	}
}

func TestServerEventKeepsRequiredZeroFields(t *testing.T) {
	tests := []struct {
		name string
		ev   realtime.ServerEvent
		want string
	}{
		{"audio delta", realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioDelta, ResponseID: "r", ItemID: "i", Delta: "AAAA"},
			`{"type":"response.output_audio.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"AAAA"}`},
		{"audio delta at index 1", realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioDelta, OutputIndex: 1, ContentIndex: 2, Delta: "AAAA"},
			`{"type":"response.output_audio.delta","output_index":1,"content_index":2,"delta":"AAAA"}`},
		{"empty transcript", realtime.ServerEvent{Type: realtime.ServerConversationItemInputAudioTranscriptionCompleted, ItemID: "i"},
			`{"type":"conversation.item.input_audio_transcription.completed","item_id":"i","content_index":0,"transcript":""}`},
		{"speech started at zero", realtime.ServerEvent{Type: realtime.ServerInputAudioBufferSpeechStarted, ItemID: "i"},
			`{"type":"input_audio_buffer.speech_started","item_id":"i","audio_start_ms":0}`},
		{"truncated", realtime.ServerEvent{Type: realtime.ServerConversationItemTruncated, ItemID: "i", AudioEndMS: 300},
			`{"type":"conversation.item.truncated","item_id":"i","content_index":0,"audio_end_ms":300}`},
		{"function call done", realtime.ServerEvent{Type: realtime.ServerResponseFunctionCallArgumentsDone, CallID: "c", Arguments: "{}"},
			`{"type":"response.function_call_arguments.done","output_index":0,"call_id":"c","arguments":"{}"}`},
		{"response done leaves zeros out", realtime.ServerEvent{Type: realtime.ServerResponseDone, Response: &realtime.Response{ID: "r"}},
			`{"type":"response.done","response":{"id":"r"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			for _, d := range sortedValues(jsonDiff(t, []byte(tt.want), got)) {
				t.Errorf("%s", d)
			}
		})
	}
}

func TestToolChoiceJSON(t *testing.T) {
	tests := []struct {
		name   string
		choice realtime.ToolChoice
		json   string
	}{
		{"mode", realtime.ToolChoice{Mode: realtime.ToolChoiceRequired}, `"required"`},
		{"function", realtime.ToolChoice{Function: "submit_order"}, `{"type":"function","name":"submit_order"}`},
		{"other tool type", realtime.ToolChoice{Mode: "mcp"}, `"mcp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.choice)
			if err != nil || string(got) != tt.json {
				t.Errorf("Marshal(%+v) = %s, %v; want %s", tt.choice, got, err, tt.json)
			}
			var decoded realtime.ToolChoice
			if err := json.Unmarshal([]byte(tt.json), &decoded); err != nil || decoded != tt.choice {
				t.Errorf("Unmarshal(%s) = %+v, %v; want %+v", tt.json, decoded, err, tt.choice)
			}
		})
	}
	var decoded realtime.ToolChoice
	if err := json.Unmarshal([]byte(`{"type":"mcp","server_label":"x"}`), &decoded); err != nil || decoded.Mode != "mcp" {
		t.Errorf("Unmarshal of an mcp choice = %+v, %v; want mode mcp", decoded, err)
	}
}

func TestTokenLimitJSON(t *testing.T) {
	tests := []struct {
		name  string
		limit realtime.TokenLimit
		json  string
	}{
		{"count", 100, `100`},
		{"inf", realtime.TokenLimitInf, `"inf"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.limit)
			if err != nil || string(got) != tt.json {
				t.Errorf("Marshal(%d) = %s, %v; want %s", tt.limit, got, err, tt.json)
			}
			var decoded realtime.TokenLimit
			if err := json.Unmarshal([]byte(tt.json), &decoded); err != nil || decoded != tt.limit {
				t.Errorf("Unmarshal(%s) = %d, %v; want %d", tt.json, decoded, err, tt.limit)
			}
		})
	}
	var decoded realtime.TokenLimit
	if err := json.Unmarshal([]byte(`"many"`), &decoded); err == nil {
		t.Errorf("Unmarshal(\"many\") = %d, nil; want an error", decoded)
	}
}

func TestResponseErr(t *testing.T) {
	var ev realtime.ServerEvent
	data := `{"type":"response.done","response":{"id":"r","status":"failed","status_details":{"type":"failed",
		"error":{"type":"insufficient_quota","code":"insufficient_quota","message":"You exceeded your current quota."}}}}`
	if err := json.Unmarshal([]byte(strings.ReplaceAll(data, "\n", "")), &ev); err != nil {
		t.Fatalf("decode: %v", err)
	}
	err := ev.Response.Err()
	if !realtime.IsFatal(err) {
		t.Errorf("IsFatal(%v) = false, want true", err)
	}
	if ev.Err() != nil {
		t.Errorf("ServerEvent.Err() of response.done = %v, want nil", ev.Err())
	}
}
