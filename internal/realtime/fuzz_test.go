package realtime_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

var fuzzSeeds = []string{
	`{"type":"response.output_audio.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"AAAA"}`,
	`{"type":"response.done","response":{"id":"r","status":"failed","status_details":{"type":"failed","error":{"code":"insufficient_quota"}},"max_output_tokens":"inf","output":[]}}`,
	`{"type":"session.updated","session":{"type":"realtime","tool_choice":{"type":"function","name":"f"},"max_output_tokens":100,"audio":{"input":{"turn_detection":null}}}}`,
	`{"type":"error","error":{"type":"invalid_request_error","code":null,"message":"m","param":null,"event_id":"e"}}`,
	`{"type":"rate_limits.updated","rate_limits":[{"name":"requests","limit":1,"remaining":0,"reset_seconds":0.5}]}`,
	`{"type":"conversation.item.truncate","item_id":"i","content_index":0,"audio_end_ms":0}`,
	`{"type":"x","metadata":{},"content":[]}`,
	`{}`, `[]`, `null`, `"x"`,
}

// FuzzServerEventDecode checks that decoding any input either fails or
// yields an event that encodes, and that decoding the encoding is stable.
func FuzzServerEventDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	recorded, _ := readProtocolLines(f, "realtime-ga-server-events.jsonl")
	for _, line := range recorded {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev realtime.ServerEvent
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		checkStableEncoding(t, ev, func() any { return new(realtime.ServerEvent) })
	})
}

// FuzzClientEventDecode does the same for client events, which the offline
// engine decodes from its clients.
func FuzzClientEventDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	recorded, _ := readProtocolLines(f, "realtime-ga-client-events.jsonl")
	for _, line := range recorded {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev realtime.ClientEvent
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		checkStableEncoding(t, ev, func() any { return new(realtime.ClientEvent) })
	})
}

// checkStableEncoding encodes v, decodes the result into a new value, and
// checks that encoding that value gives the same bytes.
func checkStableEncoding(t *testing.T, v any, newValue func() any) {
	first, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode decoded %+v: %v", v, err)
	}
	again := newValue()
	if err := json.Unmarshal(first, again); err != nil {
		t.Fatalf("decode own encoding %s: %v", first, err)
	}
	second, err := json.Marshal(again)
	if err != nil {
		t.Fatalf("encode %+v: %v", again, err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("encoding is not stable:\n%s\n%s", first, second)
	}
}
