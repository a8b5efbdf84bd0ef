package realtimetest

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// ExpectType reads client events until one of type typ arrives and returns
// it, discarding the others. It fails when ctx ends or the connection does.
func ExpectType(ctx context.Context, c *ServerConn, typ string) (realtime.ClientEvent, error) {
	for {
		ev, err := c.Read(ctx)
		if err != nil {
			return realtime.ClientEvent{}, fmt.Errorf("expect %s: %w", typ, err)
		}
		if ev.Type == typ {
			return ev, nil
		}
	}
}

// SendSessionCreated sends the session.created that a server sends first,
// with a session of the given ID.
func SendSessionCreated(ctx context.Context, c *ServerConn, sessionID string) error {
	return c.Send(ctx, realtime.ServerEvent{
		Type:    realtime.ServerSessionCreated,
		Session: &realtime.Session{Type: realtime.SessionTypeRealtime, ID: sessionID},
	})
}

// ReplyToSessionUpdate reads until a session.update arrives and replies
// with a session.updated that echoes its session. It returns the update.
func ReplyToSessionUpdate(ctx context.Context, c *ServerConn) (realtime.ClientEvent, error) {
	update, err := ExpectType(ctx, c, realtime.ClientSessionUpdate)
	if err != nil {
		return realtime.ClientEvent{}, err
	}
	err = c.Send(ctx, realtime.ServerEvent{Type: realtime.ServerSessionUpdated, Session: update.Session})
	return update, err
}

// AudioResponse describes a scripted assistant response that speaks.
type AudioResponse struct {
	ResponseID string
	ItemID     string
	// Chunks are raw audio, sent as one response.output_audio.delta each.
	Chunks [][]byte
	// Format, when set, is reported as the response's output format.
	Format     realtime.AudioFormat
	Transcript string
}

// SendAudioResponse sends a complete spoken response: response.created,
// response.output_item.added, a response.output_audio.delta per chunk,
// response.output_audio.done, response.output_audio_transcript.done,
// response.output_item.done and response.done with status completed.
func SendAudioResponse(ctx context.Context, c *ServerConn, r AudioResponse) error {
	item := realtime.Item{ID: r.ItemID, Type: realtime.ItemMessage, Role: realtime.RoleAssistant, Status: realtime.ItemInProgress}
	done := item
	done.Status = realtime.ItemCompleted
	done.Content = []realtime.ContentPart{{Type: realtime.ContentOutputAudio, Transcript: r.Transcript}}
	var audio *realtime.AudioConfig
	if r.Format.Type != "" {
		audio = &realtime.AudioConfig{Output: &realtime.AudioOutput{Format: &r.Format}}
	}

	events := []realtime.ServerEvent{
		{Type: realtime.ServerResponseCreated, Response: &realtime.Response{ID: r.ResponseID, Status: realtime.ResponseInProgress, Audio: audio}},
		{Type: realtime.ServerResponseOutputItemAdded, ResponseID: r.ResponseID, Item: &item},
	}
	for _, chunk := range r.Chunks {
		events = append(events, realtime.ServerEvent{
			Type:       realtime.ServerResponseOutputAudioDelta,
			ResponseID: r.ResponseID,
			ItemID:     r.ItemID,
			Delta:      base64.StdEncoding.EncodeToString(chunk),
		})
	}
	events = append(events,
		realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioDone, ResponseID: r.ResponseID, ItemID: r.ItemID},
		realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioTranscriptDone, ResponseID: r.ResponseID, ItemID: r.ItemID, Transcript: r.Transcript},
		realtime.ServerEvent{Type: realtime.ServerResponseOutputItemDone, ResponseID: r.ResponseID, Item: &done},
		responseDone(r.ResponseID, done, audio),
	)
	return sendAll(ctx, c, events)
}

// FunctionCall describes a scripted response that calls a function.
type FunctionCall struct {
	ResponseID string
	ItemID     string
	CallID     string
	Name       string
	// Arguments is the JSON object of arguments, encoded.
	Arguments string
}

// SendFunctionCall sends a complete response that calls a function:
// response.created, response.output_item.added,
// response.function_call_arguments.done, response.output_item.done and
// response.done with the function_call item in its output.
func SendFunctionCall(ctx context.Context, c *ServerConn, f FunctionCall) error {
	item := realtime.Item{ID: f.ItemID, Type: realtime.ItemFunctionCall, Status: realtime.ItemInProgress, CallID: f.CallID, Name: f.Name}
	done := item
	done.Status = realtime.ItemCompleted
	done.Arguments = f.Arguments

	return sendAll(ctx, c, []realtime.ServerEvent{
		{Type: realtime.ServerResponseCreated, Response: &realtime.Response{ID: f.ResponseID, Status: realtime.ResponseInProgress}},
		{Type: realtime.ServerResponseOutputItemAdded, ResponseID: f.ResponseID, Item: &item},
		{
			Type:       realtime.ServerResponseFunctionCallArgumentsDone,
			ResponseID: f.ResponseID,
			ItemID:     f.ItemID,
			CallID:     f.CallID,
			Name:       f.Name,
			Arguments:  f.Arguments,
		},
		{Type: realtime.ServerResponseOutputItemDone, ResponseID: f.ResponseID, Item: &done},
		responseDone(f.ResponseID, done, nil),
	})
}

func responseDone(responseID string, output realtime.Item, audio *realtime.AudioConfig) realtime.ServerEvent {
	return realtime.ServerEvent{
		Type: realtime.ServerResponseDone,
		Response: &realtime.Response{
			ID:     responseID,
			Status: realtime.ResponseCompleted,
			Output: []realtime.Item{output},
			Audio:  audio,
			Usage:  &realtime.Usage{},
		},
	}
}

func sendAll(ctx context.Context, c *ServerConn, events []realtime.ServerEvent) error {
	for _, ev := range events {
		if err := c.Send(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}
