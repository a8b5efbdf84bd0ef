package localmodel

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// maxDeltaDuration bounds the audio of one response.output_audio.delta.
const maxDeltaDuration = 100 * time.Millisecond

// activeResponse is the response being spoken; responses with function calls
// end as soon as they are sent and are never active.
type activeResponse struct {
	id     string
	itemID string
	text   string
	cancel context.CancelFunc
	reason string // the cancellation reason, empty unless cancelled
}

// speechJob is one response for the speaker goroutine to voice.
type speechJob struct {
	ctx      context.Context
	response string
	item     string
	text     string
	format   audio.Format
}

// speechDone reports the end of a speech job to the processor.
type speechDone struct {
	response string
	err      error
}

// startResponse creates a response from the policy's reply: function calls, which
// complete at once, or speech, which the speaker voices.
func (p *processor) startResponse(ctx context.Context) {
	p.pendingAuto = false
	reply := p.policy.Respond()
	id := p.c.newID("resp")
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseCreated, Response: &realtime.Response{
		ID: id, Status: realtime.ResponseInProgress, OutputModalities: []string{"audio"}, Output: []realtime.Item{},
	}})
	if len(reply.Calls) > 0 {
		p.sendCalls(ctx, id, reply.Calls)
		return
	}

	item := realtime.Item{ID: p.c.newID("item"), Type: realtime.ItemMessage, Role: realtime.RoleAssistant, Status: realtime.ItemInProgress}
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputItemAdded, ResponseID: id, Item: &item})
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseContentPartAdded, ResponseID: id, ItemID: item.ID,
		Part: &realtime.ContentPart{Type: realtime.ContentOutputAudio}})
	jobCtx, cancel := context.WithCancel(ctx)
	p.active = &activeResponse{id: id, itemID: item.ID, text: reply.Speech, cancel: cancel}
	p.lastItem = item.ID
	select {
	case p.c.jobs <- speechJob{ctx: jobCtx, response: id, item: item.ID, text: reply.Speech, format: p.state.outFormat}:
	case <-ctx.Done():
	}
}

func (p *processor) sendCalls(ctx context.Context, id string, calls []ToolCall) {
	output := make([]realtime.Item, 0, len(calls))
	for i, call := range calls {
		item := realtime.Item{ID: p.c.newID("item"), Type: realtime.ItemFunctionCall, Status: realtime.ItemInProgress,
			CallID: call.CallID, Name: call.Name}
		p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputItemAdded, ResponseID: id, OutputIndex: i, Item: &item})
		p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseFunctionCallArgumentsDone, ResponseID: id,
			ItemID: item.ID, OutputIndex: i, CallID: call.CallID, Name: call.Name, Arguments: call.Arguments})
		item.Status, item.Arguments = realtime.ItemCompleted, call.Arguments
		p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputItemDone, ResponseID: id, OutputIndex: i, Item: &item})
		output = append(output, item)
		p.lastItem = item.ID
	}
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseDone, Response: &realtime.Response{
		ID: id, Status: realtime.ResponseCompleted, OutputModalities: []string{"audio"}, Output: output, Usage: &realtime.Usage{},
	}})
}

// cancelActive stops the spoken response; finishSpeech then reports it cancelled.
func (p *processor) cancelActive(reason string) {
	if p.active == nil || p.active.reason != "" {
		return
	}
	if reason == "" {
		reason = "client_cancelled"
	}
	p.active.reason = reason
	p.active.cancel()
}

// finishSpeech sends the end of a spoken response: the transcript and
// response.done, completed or cancelled.
func (p *processor) finishSpeech(ctx context.Context, done speechDone) {
	r := p.active
	if r == nil || r.id != done.response {
		return
	}
	p.active = nil
	r.cancel()

	status, itemStatus := realtime.ResponseCompleted, realtime.ItemCompleted
	var details *realtime.StatusDetails
	switch {
	case r.reason != "":
		status, itemStatus = realtime.ResponseCancelled, realtime.ItemIncomplete
		details = &realtime.StatusDetails{Type: realtime.ResponseCancelled, Reason: r.reason}
	case done.err != nil:
		p.c.log.Warn("speak response", "response_id", r.id, "err", done.err)
		status, itemStatus = realtime.ResponseFailed, realtime.ItemIncomplete
		details = &realtime.StatusDetails{Type: realtime.ResponseFailed,
			Error: &realtime.ErrorDetail{Type: "server_error", Message: "speech synthesis failed"}}
	}
	part := realtime.ContentPart{Type: realtime.ContentOutputAudio, Transcript: r.text}
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioDone, ResponseID: r.id, ItemID: r.itemID})
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioTranscriptDelta, ResponseID: r.id, ItemID: r.itemID, Delta: r.text})
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioTranscriptDone, ResponseID: r.id, ItemID: r.itemID, Transcript: r.text})
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseContentPartDone, ResponseID: r.id, ItemID: r.itemID, Part: &part})
	item := realtime.Item{ID: r.itemID, Type: realtime.ItemMessage, Role: realtime.RoleAssistant, Status: itemStatus,
		Content: []realtime.ContentPart{part}}
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputItemDone, ResponseID: r.id, Item: &item})
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseDone, Response: &realtime.Response{
		ID: r.id, Status: status, StatusDetails: details, OutputModalities: []string{"audio"},
		Output: []realtime.Item{item}, Usage: &realtime.Usage{},
	}})
	if p.pendingAuto {
		p.startResponse(ctx)
	}
}

// speak voices speech jobs one at a time until ctx ends. Audio goes out in
// deltas of at most maxDeltaDuration as espeak-ng produces it.
func (c *conn) speak(ctx context.Context) error {
	for {
		var job speechJob
		select {
		case <-ctx.Done():
			return nil
		case job = <-c.jobs:
		}
		err := c.voiceJob(job)
		select {
		case c.spoken <- speechDone{response: job.response, err: err}:
		case <-ctx.Done():
			return nil
		}
	}
}

func (c *conn) voiceJob(job speechJob) error {
	maxDelta := job.format.FrameSize(maxDeltaDuration)
	err := c.s.voice.Speak(job.ctx, job.text, job.format, func(b []byte) error {
		for len(b) > 0 {
			n := min(len(b), maxDelta)
			if !c.send(job.ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioDelta, ResponseID: job.response,
				ItemID: job.item, Delta: base64.StdEncoding.EncodeToString(b[:n])}) {
				return context.Cause(job.ctx)
			}
			b = b[n:]
		}
		return nil
	})
	if errors.Is(err, context.Canceled) {
		return nil // a cancelled response is reported by its reason
	}
	return err
}
