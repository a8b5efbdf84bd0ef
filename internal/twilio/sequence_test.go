package twilio_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

const (
	addLatte   = `{"item_id":"latte","size":"large","quantity":1,"modifiers":[{"option":"oat milk"}]}`
	errActive  = "conversation_already_has_active_response"
	confirmHue = 0x33 // the byte the confirmation's audio is made of
)

// functionCall returns the events of a response that calls a function, up to but not
// including its response.done.
func functionCall(responseID, callID, name, args string) []realtime.ServerEvent {
	item := realtime.Item{ID: "fc_" + callID, Type: realtime.ItemFunctionCall, Status: realtime.ItemCompleted, CallID: callID, Name: name, Arguments: args}
	return []realtime.ServerEvent{
		responseCreated(responseID),
		{Type: realtime.ServerResponseFunctionCallArgumentsDone, ResponseID: responseID, ItemID: item.ID, CallID: callID, Name: name, Arguments: args},
		{Type: realtime.ServerResponseOutputItemDone, ResponseID: responseID, Item: &item},
	}
}

func functionDone(responseID, callID, name, args string) realtime.ServerEvent {
	item := realtime.Item{ID: "fc_" + callID, Type: realtime.ItemFunctionCall, Status: realtime.ItemCompleted, CallID: callID, Name: name, Arguments: args}
	return responseDone(responseID, realtime.ResponseCompleted, item)
}

// toolSucceeded reports whether a function_call_output reports success.
func toolSucceeded(t *testing.T, ev realtime.ClientEvent) bool {
	t.Helper()
	var res struct{ Success bool }
	if ev.Item == nil || json.Unmarshal([]byte(ev.Item.Output), &res) != nil {
		t.Errorf("event %s is not a function output: %+v", ev.Type, ev.Item)
		return false
	}
	return res.Success
}

// TestPhoneToolResultWaitsForServerResponse has the server start a response of its
// own while a tool result is on its way. The client's response.create must not
// collide with it: either it waits for response.done, or, when the create crossed
// the server's response.created on the wire and was rejected, it is sent again after
// response.done. Either way the confirmation is spoken, and since the tool placed the
// order, the gateway ends the call once Twilio confirms the goodbye played.
func TestPhoneToolResultWaitsForServerResponse(t *testing.T) {
	tests := []struct {
		name string
		// orderDelay makes submit_order finish after the server's response started,
		// so the gateway holds its create; without it the create crosses the server's
		// response.created and is rejected.
		orderDelay time.Duration
		wantReject bool
	}{
		{"tool result after the server's response started", 300 * time.Millisecond, false},
		{"create crosses the server's response", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rejected := make(chan int, 1)
			h := newHarness(t, harnessConfig{orderDelay: tt.orderDelay}, func(ctx context.Context, c *realtimetest.ServerConn) {
				var wg sync.WaitGroup
				defer wg.Wait()
				s := newModelScript(ctx, c, &wg)
				rejected <- scriptServerResponseDuringTool(t, s, tt.wantReject)
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			p := h.call(ctx, "CAtool", false)
			p.speakAsync(ctx, 200*time.Millisecond, 0x7F)

			if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return p.ended != nil }) {
				t.Fatal("the call did not end after the order was placed and confirmed")
			}
			p.mu.Lock()
			ended, endedAt := p.ended, p.endedAt
			var confirmation int
			var lastEnd time.Time
			for i, frame := range p.payloads {
				if frame[0] == confirmHue {
					confirmation++
					lastEnd = p.playAt[i].Add(20 * time.Millisecond)
				}
			}
			p.mu.Unlock()
			if confirmation < 25 {
				t.Errorf("caller heard %d frames of the confirmation, want its 25", confirmation)
			}
			if code := websocket.CloseStatus(ended); code != websocket.StatusNormalClosure {
				t.Errorf("call ended with %v, want a normal close", ended)
			}
			if endedAt.Before(lastEnd) {
				t.Errorf("call ended %v before the goodbye finished playing", lastEnd.Sub(endedAt))
			}
			if got := <-rejected; got > 0 != tt.wantReject {
				t.Errorf("creates rejected for an active response = %d, want rejected: %v", got, tt.wantReject)
			}
		})
	}
}

// scriptServerResponseDuringTool plays the model: the caller orders a latte, the
// model adds it and submits the order, and the server starts a response of its own
// right after the submit_order response. It rejects a response.create that arrives
// while a response is active, as the Realtime API does, and returns how many it
// rejected.
func scriptServerResponseDuringTool(t *testing.T, s *modelScript, rejectExpected bool) int {
	if _, ok := s.configure(); !ok {
		return 0
	}
	if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
		return 0
	}
	s.speakResponse("resp_0", "item_0", 100, 100, 0x10)
	if _, ok := s.expect(realtime.ClientInputAudioBufferAppend); !ok {
		return 0
	}
	s.send(functionCall("resp_1", "call_1", "add_to_order", addLatte)...)
	s.send(functionDone("resp_1", "call_1", "add_to_order", addLatte))
	if out, ok := s.expect(realtime.ClientConversationItemCreate); !ok || !toolSucceeded(t, out) {
		return 0
	}
	if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
		return 0
	}

	s.send(functionCall("resp_2", "call_2", "submit_order", `{}`)...)
	if rejectExpected {
		// The output is in before response.done, so the gateway requests the next
		// response as soon as it reads response.done, before response.created.
		if out, ok := s.expect(realtime.ClientConversationItemCreate); !ok || !toolSucceeded(t, out) {
			return 0
		}
	}
	s.send(functionDone("resp_2", "call_2", "submit_order", `{}`), responseCreated("resp_3"))

	// resp_3 is active until its response.done; creates in the meantime are rejected.
	rejected := 0
	for {
		ev, ok := <-s.events
		if !ok {
			return rejected
		}
		if ev.Type == realtime.ClientResponseCreate {
			rejected++
			s.send(realtime.ServerEvent{Type: realtime.ServerError, Error: &realtime.ErrorDetail{
				Type: "invalid_request_error", Code: errActive, EventID: ev.EventID,
				Message: "Conversation already has an active response in progress: resp_3.",
			}})
			if rejectExpected {
				break
			}
			t.Errorf("response.create %s arrived while the server's response was active", ev.EventID)
		}
		if ev.Type == realtime.ClientConversationItemCreate && !rejectExpected {
			if !toolSucceeded(t, ev) {
				t.Error("submit_order failed")
			}
			break
		}
	}
	s.send(audioDelta("resp_3", "item_3", 200, 0x20), responseDone("resp_3", realtime.ResponseCompleted, assistantItem("item_3")))

	create, ok := s.expect(realtime.ClientResponseCreate)
	if !ok {
		t.Error("no response.create after the server's response was done")
		return rejected
	}
	if rejectExpected && !strings.HasPrefix(create.EventID, "response_create_") {
		t.Errorf("retried create has event id %q, want the sequencer's", create.EventID)
	}
	s.speakResponse("resp_4", "item_4", 500, 100, confirmHue)
	s.rest()
	return rejected
}
