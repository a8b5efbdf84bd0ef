package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// sentEvents records the events a Responder sends.
type sentEvents struct {
	mu     sync.Mutex
	events []realtime.ClientEvent
}

func (s *sentEvents) send(_ context.Context, ev realtime.ClientEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	return nil
}

// take returns the events sent since the last call, as "type" or
// "type:response_id".
func (s *sentEvents) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, ev := range s.events {
		name := ev.Type
		if ev.ResponseID != "" {
			name += ":" + ev.ResponseID
		}
		out = append(out, name)
	}
	s.events = nil
	return out
}

func (s *sentEvents) lastEventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return ""
	}
	return s.events[len(s.events)-1].EventID
}

// responderStep is one action on a Responder and the events it must send.
type responderStep struct {
	do   string // "request", "cancel", "created <id>", "done", "reject <code>", "error <event id>"
	want []string
}

func (step responderStep) run(ctx context.Context, t *testing.T, r *realtime.Responder, sent *sentEvents, lastCreate string) error {
	t.Helper()
	var verb, arg string
	fmt.Sscan(step.do, &verb, &arg)
	switch verb {
	case "request":
		return r.RequestResponse(ctx)
	case "cancel":
		return r.CancelActive(ctx)
	case "created":
		return r.Observe(ctx, &realtime.ServerEvent{Type: realtime.ServerResponseCreated, Response: &realtime.Response{ID: arg}})
	case "done":
		return r.Observe(ctx, &realtime.ServerEvent{Type: realtime.ServerResponseDone, Response: &realtime.Response{ID: arg}})
	case "reject":
		return r.Observe(ctx, &realtime.ServerEvent{Type: realtime.ServerError, Error: &realtime.ErrorDetail{Code: arg, EventID: lastCreate}})
	case "error":
		return r.Observe(ctx, &realtime.ServerEvent{Type: realtime.ServerError, Error: &realtime.ErrorDetail{Code: "invalid_value", EventID: arg}})
	}
	t.Fatalf("unknown step %q", step.do)
	return nil
}

func TestResponder(t *testing.T) {
	const create, active = realtime.ClientResponseCreate, "conversation_already_has_active_response"
	tests := []struct {
		name  string
		steps []responderStep
	}{
		{"request when idle creates", []responderStep{
			{"request", []string{create}},
		}},
		{"request while active waits for done", []responderStep{
			{"created r1", nil},
			{"request", nil},
			{"done r1", []string{create}},
			{"created r2", nil},
			{"done r2", nil},
		}},
		{"requests while active create once", []responderStep{
			{"created r1", nil},
			{"request", nil},
			{"request", nil},
			{"request", nil},
			{"done r1", []string{create}},
			{"request", nil},
			{"created r2", nil},
			{"done r2", []string{create}},
			{"created r3", nil},
			{"done r3", nil},
		}},
		{"request while create pending waits", []responderStep{
			{"request", []string{create}},
			{"request", nil},
			{"created r1", nil},
			{"done r1", []string{create}},
		}},
		{"server response wins the race", []responderStep{
			{"request", []string{create}},
			{"created server1", nil},
			{"reject " + active, nil},
			{"done server1", []string{create}},
			{"created r2", nil},
			{"done r2", nil},
		}},
		{"rejection after done creates at once", []responderStep{
			{"request", []string{create}},
			{"reject " + active, []string{create}},
		}},
		{"other rejection drops the create", []responderStep{
			{"request", []string{create}},
			{"reject invalid_value", nil},
			{"request", []string{create}},
		}},
		{"error of another event is ignored", []responderStep{
			{"request", []string{create}},
			{"error event_other", nil},
			{"request", nil},
		}},
		{"cancel when idle sends nothing", []responderStep{
			{"cancel", nil},
		}},
		{"cancel while create pending sends nothing", []responderStep{
			{"request", []string{create}},
			{"cancel", nil},
		}},
		{"cancel active once", []responderStep{
			{"created r1", nil},
			{"cancel", []string{realtime.ClientResponseCancel + ":r1"}},
			{"cancel", nil},
			{"done r1", nil},
			{"cancel", nil},
		}},
		{"cancel then deferred create", []responderStep{
			{"created r1", nil},
			{"request", nil},
			{"cancel", []string{realtime.ClientResponseCancel + ":r1"}},
			{"done r1", []string{create}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			sent := &sentEvents{}
			r := realtime.NewResponder(sent.send)
			lastCreate := ""
			for i, step := range tt.steps {
				if err := step.run(ctx, t, r, sent, lastCreate); err != nil {
					t.Fatalf("step %d %q: %v", i, step.do, err)
				}
				if id := sent.lastEventID(); id != "" {
					lastCreate = id
				}
				if got := sent.take(); !slices.Equal(got, step.want) {
					t.Fatalf("step %d %q sent %v, want %v", i, step.do, got, step.want)
				}
			}
		})
	}
}

func TestResponderActive(t *testing.T) {
	ctx := t.Context()
	r := realtime.NewResponder((&sentEvents{}).send)
	if id, ok := r.Active(); ok {
		t.Fatalf("Active() = %q, true before any response; want false", id)
	}
	if err := r.Observe(ctx, &realtime.ServerEvent{Type: realtime.ServerResponseCreated, Response: &realtime.Response{ID: "r1"}}); err != nil {
		t.Fatal(err)
	}
	if id, ok := r.Active(); !ok || id != "r1" {
		t.Errorf("Active() = %q, %v after response.created; want r1, true", id, ok)
	}
	if err := r.Observe(ctx, &realtime.ServerEvent{Type: realtime.ServerResponseDone, Response: &realtime.Response{ID: "r1"}}); err != nil {
		t.Fatal(err)
	}
	if id, ok := r.Active(); ok {
		t.Errorf("Active() = %q, true after response.done; want false", id)
	}
}

func TestResponderSendError(t *testing.T) {
	ctx := t.Context()
	errBroken := errors.New("broken pipe")
	fail := true
	sent := &sentEvents{}
	r := realtime.NewResponder(func(ctx context.Context, ev realtime.ClientEvent) error {
		if fail {
			return errBroken
		}
		return sent.send(ctx, ev)
	})
	if err := r.RequestResponse(ctx); !errors.Is(err, errBroken) {
		t.Fatalf("RequestResponse() = %v, want %v", err, errBroken)
	}
	fail = false
	if err := r.RequestResponse(ctx); err != nil {
		t.Fatalf("RequestResponse() after a failed send: %v", err)
	}
	if got := sent.take(); !slices.Equal(got, []string{realtime.ClientResponseCreate}) {
		t.Errorf("after a failed send, a new request sent %v; want one create", got)
	}
}

// TestResponderConcurrentRequests runs the race of a session: tool results
// become ready in several goroutines while a response that the server
// started is active, and the reader observes its end.
func TestResponderConcurrentRequests(t *testing.T) {
	ctx := t.Context()
	for round := range 100 {
		sent := &sentEvents{}
		r := realtime.NewResponder(sent.send)
		if err := r.Observe(ctx, &realtime.ServerEvent{Type: realtime.ServerResponseCreated, Response: &realtime.Response{ID: "server"}}); err != nil {
			t.Fatal(err)
		}

		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if err := r.RequestResponse(ctx); err != nil {
					t.Errorf("RequestResponse: %v", err)
				}
			})
		}
		wg.Wait()
		if got := sent.take(); len(got) != 0 {
			t.Fatalf("round %d: sent %v while a response was active; want nothing", round, got)
		}

		// The reader observes the end while more results arrive.
		wg.Go(func() {
			if err := r.Observe(ctx, &realtime.ServerEvent{Type: realtime.ServerResponseDone, Response: &realtime.Response{ID: "server"}}); err != nil {
				t.Errorf("Observe: %v", err)
			}
		})
		for range 4 {
			wg.Go(func() {
				if err := r.RequestResponse(ctx); err != nil {
					t.Errorf("RequestResponse: %v", err)
				}
			})
		}
		wg.Wait()
		if got := sent.take(); !slices.Equal(got, []string{realtime.ClientResponseCreate}) {
			t.Fatalf("round %d: after one response.done sent %v; want one create", round, got)
		}
	}
}
