package session

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/order"
)

// Bounds of one conversation's record: a call that goes on longer keeps its newest
// entries and counts what it dropped.
const (
	maxTurns     = 200
	maxToolCalls = 200
)

// Turn is one spoken turn of the conversation.
type Turn struct {
	Role string    `json:"role"` // "caller" or "assistant"
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// ToolCall is one tool the model called and what it returned.
type ToolCall struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Success   bool            `json:"success"`
	Result    json.RawMessage `json:"result"`
	Duration  time.Duration   `json:"duration_ns"`
	At        time.Time       `json:"at"`
}

// Record is what an operator can read about a conversation while it runs and for a
// while after: its turns, tool calls, cart and order. It is bounded in size.
type Record struct {
	mu sync.Mutex
	r  RecordView
}

// RecordView is a copy of a Record's content.
type RecordView struct {
	ID           string     `json:"id"`
	Transport    string     `json:"transport"`
	RestaurantID string     `json:"restaurant_id"`
	CallSID      string     `json:"call_sid,omitempty"`
	StartedAt    time.Time  `json:"started_at"`
	EndedAt      *time.Time `json:"ended_at,omitempty"`
	EndReason    string     `json:"end_reason,omitempty"`
	Turns        []Turn     `json:"turns"`
	ToolCalls    []ToolCall `json:"tool_calls"`
	// ReplyLatenciesMS holds, per reply, the milliseconds from the model detecting the
	// end of the caller's speech to the reply's first audio, newest last.
	ReplyLatenciesMS []float64    `json:"reply_latencies_ms"`
	DroppedTurns     int          `json:"dropped_turns,omitempty"`
	DroppedCalls     int          `json:"dropped_tool_calls,omitempty"`
	Cart             *cart.Cart   `json:"cart"`
	Order            *order.Order `json:"order"`
}

func newRecord(id, transport, restaurantID, callSID string, now time.Time) *Record {
	return &Record{r: RecordView{
		ID: id, Transport: transport, RestaurantID: restaurantID, CallSID: callSID,
		StartedAt: now, Turns: []Turn{}, ToolCalls: []ToolCall{},
	}}
}

func (r *Record) addTurn(t Turn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.r.Turns) == maxTurns {
		r.r.Turns = append(r.r.Turns[:0], r.r.Turns[1:]...)
		r.r.DroppedTurns++
	}
	r.r.Turns = append(r.r.Turns, t)
}

func (r *Record) addToolCall(c ToolCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.r.ToolCalls) == maxToolCalls {
		r.r.ToolCalls = append(r.r.ToolCalls[:0], r.r.ToolCalls[1:]...)
		r.r.DroppedCalls++
	}
	r.r.ToolCalls = append(r.r.ToolCalls, c)
}

func (r *Record) addReplyLatency(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.r.ReplyLatenciesMS) == maxTurns {
		r.r.ReplyLatenciesMS = append(r.r.ReplyLatenciesMS[:0], r.r.ReplyLatenciesMS[1:]...)
	}
	r.r.ReplyLatenciesMS = append(r.r.ReplyLatenciesMS, float64(d.Microseconds())/1000)
}

func (r *Record) setCart(c *cart.Cart) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.Cart = c
}

func (r *Record) setOrder(o *order.Order) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.Order = o
}

func (r *Record) end(at time.Time, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.EndedAt = &at
	r.r.EndReason = reason
}

// View returns a copy of the record.
func (r *Record) View() RecordView {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.r
	v.Turns = append([]Turn(nil), r.r.Turns...)
	v.ToolCalls = append([]ToolCall(nil), r.r.ToolCalls...)
	v.ReplyLatenciesMS = append([]float64(nil), r.r.ReplyLatenciesMS...)
	return v
}
