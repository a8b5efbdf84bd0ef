package voicecall

import (
	"encoding/json"
	"math"
	"time"
)

// Roles of a SpokenTurn.
const (
	RoleCaller    = "caller"
	RoleAssistant = "assistant"
)

// Result is the outcome of one call, as the gateway reported it.
type Result struct {
	// CallID names the call at the gateway: the session id for the browser, the
	// CallSid for Twilio. GET /api/v1/calls/{CallID} returns its record.
	CallID string `json:"call_id"`
	// Turns are the transcripts of what was said, in order. The caller's text is the
	// model's transcription of the audio, not the text given to espeak-ng.
	Turns []SpokenTurn `json:"turns"`
	// ToolCalls are the tools the model called, in order.
	ToolCalls []ToolCall `json:"tool_calls"`
	// Cart is the JSON of the last cart the gateway reported, or nil.
	Cart json.RawMessage `json:"cart"`
	// Order is the JSON of the placed order, or nil when none was placed.
	Order json.RawMessage `json:"order"`
	// Latencies holds, for each caller turn, the wall-clock time from sending the last
	// frame of the caller's audio to receiving the reply's first audio. It includes
	// the model's end-of-speech detection, which waits for silence, and does not
	// shrink with Speed. It is 0 when the reply began before the audio was all sent,
	// as with a recording that ends in a long pause. In JSON it is latencies_ms, in
	// milliseconds.
	Latencies []time.Duration `json:"-"`
}

// SpokenTurn is one transcript line.
type SpokenTurn struct {
	Role string `json:"role"` // RoleCaller or RoleAssistant
	Text string `json:"text"`
}

// ToolCall is one tool the model called and the result it got.
type ToolCall struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Success   bool            `json:"success"`
	Result    json.RawMessage `json:"result"`
}

// resultJSON is Result's wire shape.
type resultJSON struct {
	CallID      string          `json:"call_id"`
	Turns       []SpokenTurn    `json:"turns"`
	ToolCalls   []ToolCall      `json:"tool_calls"`
	Cart        json.RawMessage `json:"cart"`
	Order       json.RawMessage `json:"order"`
	LatenciesMS []float64       `json:"latencies_ms"`
}

// MarshalJSON encodes the result with empty lists as [], a missing cart or order as
// null and latencies in milliseconds rounded to 0.1 ms.
func (r Result) MarshalJSON() ([]byte, error) {
	out := resultJSON{
		CallID:      r.CallID,
		Turns:       r.Turns,
		ToolCalls:   r.ToolCalls,
		Cart:        nullIfEmpty(r.Cart),
		Order:       nullIfEmpty(r.Order),
		LatenciesMS: make([]float64, 0, len(r.Latencies)),
	}
	if out.Turns == nil {
		out.Turns = []SpokenTurn{}
	}
	if out.ToolCalls == nil {
		out.ToolCalls = []ToolCall{}
	}
	for _, d := range r.Latencies {
		out.LatenciesMS = append(out.LatenciesMS, math.Round(float64(d)/float64(time.Millisecond)*10)/10)
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (r *Result) UnmarshalJSON(data []byte) error {
	var in resultJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*r = Result{CallID: in.CallID, Turns: in.Turns, ToolCalls: in.ToolCalls, Cart: nilIfNull(in.Cart), Order: nilIfNull(in.Order)}
	for _, ms := range in.LatenciesMS {
		r.Latencies = append(r.Latencies, time.Duration(ms*float64(time.Millisecond)))
	}
	return nil
}

func nullIfEmpty(m json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return json.RawMessage("null")
	}
	return m
}

// nilIfNull turns a JSON null, which the gateway sends for "no cart", into nil.
func nilIfNull(m json.RawMessage) json.RawMessage {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	return m
}
