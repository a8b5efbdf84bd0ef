package session

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/tools"
)

// queueToolCall hands a function call of link l to the tool loop without blocking
// the reader.
func (c *conversation) queueToolCall(ctx context.Context, l *link, ev realtime.ServerEvent) error {
	call := pendingCall{link: l, responseID: ev.ResponseID, callID: ev.CallID, name: ev.Name, arguments: ev.Arguments}
	c.turn.callQueued(call.responseID)
	select {
	case c.toolCalls <- call:
		return nil
	default:
		c.s.log.Warn("too many tool calls queued; answering with an error", "tool", call.name)
		res := tools.Result{Error: "too many tool calls at once; call one tool at a time"}
		return c.finishToolCall(ctx, call, res.JSON())
	}
}

// toolLoop runs the model's tool calls one at a time, in the order the model made them,
// so that mutations of the cart happen in conversation order.
func (c *conversation) toolLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case call := <-c.toolCalls:
			if err := c.runTool(ctx, call); err != nil {
				return err
			}
		}
	}
}

func (c *conversation) runTool(ctx context.Context, call pendingCall) error {
	cfg := c.s.cfg
	start := cfg.Now()
	outcome := cfg.Tools.Run(ctx, tools.Call{
		SessionID: cfg.ID, CartKey: cfg.ID,
		Name: call.name, Arguments: call.arguments,
	})
	output := outcome.Result.JSON()
	tc := ToolCall{
		Name: call.name, Arguments: rawJSON(call.arguments), Success: outcome.Result.Success,
		Result: json.RawMessage(output), Duration: cfg.Now().Sub(start), At: start,
	}
	c.s.record.addToolCall(tc)
	result := monitor.ToolOK
	if !tc.Success {
		result = monitor.ToolError
	}
	cfg.Metrics.ToolCall(call.name, result, tc.Duration)
	c.s.log.Debug("tool called", "tool", call.name, "success", tc.Success, "duration", tc.Duration)
	c.notify(ctx, Notice{Kind: NoticeTool, Tool: &tc})
	if outcome.Cart != nil {
		c.s.record.setCart(outcome.Cart)
		c.notify(ctx, Notice{Kind: NoticeCart, Cart: outcome.Cart})
	}
	if outcome.Order != nil {
		c.orderPlaced.Store(true)
		cfg.Metrics.OrderStored()
		c.s.record.setOrder(outcome.Order)
		c.s.log.Info("order placed", "order_id", outcome.Order.ID, "order_number", outcome.Order.Number, "total", outcome.Order.Total)
		c.notify(ctx, Notice{Kind: NoticeOrder, Order: outcome.Order})
	}
	return c.finishToolCall(ctx, call, output)
}

// finishToolCall sends a tool's output and, once every call of the response has its
// output and the response is done, requests the next response through the link's
// sequencer. The model gets a response also after a failed tool, so it can tell the
// caller. The output of a call made on a connection that has since been replaced is
// dropped: the new connection does not know the call, and its summary carries the cart.
//
// The call is counted done before its output is sent, and both happen under respMu:
// a response.done that the model sends once it has the output then completes the
// turn in the reader, and the reader's response.create waits for respMu, so it never
// overtakes the output.
func (c *conversation) finishToolCall(ctx context.Context, call pendingCall, output string) error {
	c.respMu.Lock()
	defer c.respMu.Unlock()
	complete := c.turn.callDone(call.responseID)
	if !c.isCurrent(call.link) {
		c.s.log.Debug("dropped the output of a tool called on a replaced model connection", "tool", call.name)
		return nil
	}
	if err := call.link.send(ctx, realtime.FunctionCallOutput(call.callID, output)); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("send tool output: %w", err)
		}
		// The link's reader sees the broken connection and replaces it or ends the
		// conversation; the summary of the next connection carries the cart.
		c.s.log.Warn("tool output lost with its model connection", "tool", call.name, "err", err)
		return nil
	}
	if complete {
		return call.link.responder.RequestResponse(ctx)
	}
	return nil
}

func (c *conversation) notify(ctx context.Context, n Notice) {
	if err := c.s.cfg.Caller.Notify(ctx, n); err != nil {
		c.s.log.Debug("send notice", "err", err)
	}
}

func rawJSON(s string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// toolTurn decides when the tool calls of a response are complete: the response is done
// (so the number of calls is known) and every call has its output. Only then may the
// next response.create go out, or the model would answer without all results.
type toolTurn struct {
	mu    sync.Mutex
	turns map[string]*turnState
}

type turnState struct {
	queued, done int
	expected     int // -1 until response.done
}

// maxOpenTurns bounds responses with tool calls in flight; the model has one response
// at a time, so more than a few means the bookkeeping lost track and is reset.
const maxOpenTurns = 8

func (t *toolTurn) state(responseID string) *turnState {
	if t.turns == nil {
		t.turns = make(map[string]*turnState)
	}
	st, ok := t.turns[responseID]
	if !ok {
		if len(t.turns) >= maxOpenTurns {
			clear(t.turns)
		}
		st = &turnState{expected: -1}
		t.turns[responseID] = st
	}
	return st
}

func (t *toolTurn) callQueued(responseID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.state(responseID).queued++
}

// callDone records one output and reports whether the turn is now complete.
func (t *toolTurn) callDone(responseID string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(responseID)
	st.done++
	return t.completeLocked(responseID, st)
}

// responseDone records how many calls the response made and reports whether the turn
// is complete.
func (t *toolTurn) responseDone(responseID string, calls int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if calls == 0 {
		delete(t.turns, responseID)
		return false
	}
	st := t.state(responseID)
	st.expected = max(calls, st.queued)
	return t.completeLocked(responseID, st)
}

// open reports whether any response has tool calls without outputs.
func (t *toolTurn) open() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.turns) > 0
}

// reset drops every open turn, when the connection they belong to is replaced.
func (t *toolTurn) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.turns)
}

func (t *toolTurn) completeLocked(responseID string, st *turnState) bool {
	if st.expected < 0 || st.done < st.expected {
		return false
	}
	delete(t.turns, responseID)
	return true
}
