package realtime

import "encoding/json"

// Client event types: the events a client sends.
const (
	ClientSessionUpdate            = "session.update"
	ClientInputAudioBufferAppend   = "input_audio_buffer.append"
	ClientInputAudioBufferCommit   = "input_audio_buffer.commit"
	ClientInputAudioBufferClear    = "input_audio_buffer.clear"
	ClientConversationItemCreate   = "conversation.item.create"
	ClientConversationItemTruncate = "conversation.item.truncate"
	ClientResponseCreate           = "response.create"
	ClientResponseCancel           = "response.cancel"
)

// Server event types: the events a server sends that this project handles.
// Other types exist; callers skip the ones they do not handle.
const (
	ServerSessionCreated                                   = "session.created"
	ServerSessionUpdated                                   = "session.updated"
	ServerInputAudioBufferSpeechStarted                    = "input_audio_buffer.speech_started"
	ServerInputAudioBufferSpeechStopped                    = "input_audio_buffer.speech_stopped"
	ServerInputAudioBufferCommitted                        = "input_audio_buffer.committed"
	ServerConversationItemAdded                            = "conversation.item.added"
	ServerConversationItemDone                             = "conversation.item.done"
	ServerConversationItemInputAudioTranscriptionCompleted = "conversation.item.input_audio_transcription.completed"
	ServerConversationItemTruncated                        = "conversation.item.truncated"
	ServerResponseCreated                                  = "response.created"
	ServerResponseOutputItemAdded                          = "response.output_item.added"
	ServerResponseOutputItemDone                           = "response.output_item.done"
	ServerResponseContentPartAdded                         = "response.content_part.added"
	ServerResponseContentPartDone                          = "response.content_part.done"
	ServerResponseOutputTextDelta                          = "response.output_text.delta"
	ServerResponseOutputTextDone                           = "response.output_text.done"
	ServerResponseOutputAudioDelta                         = "response.output_audio.delta"
	ServerResponseOutputAudioDone                          = "response.output_audio.done"
	ServerResponseOutputAudioTranscriptDelta               = "response.output_audio_transcript.delta"
	ServerResponseOutputAudioTranscriptDone                = "response.output_audio_transcript.done"
	ServerResponseFunctionCallArgumentsDelta               = "response.function_call_arguments.delta"
	ServerResponseFunctionCallArgumentsDone                = "response.function_call_arguments.done"
	ServerResponseDone                                     = "response.done"
	ServerError                                            = "error"
	ServerRateLimitsUpdated                                = "rate_limits.updated"
)

// ClientEvent is any event a client sends. Type selects which of the other
// fields apply; the constructors in this package fill them correctly for
// the events that are easy to get wrong.
type ClientEvent struct {
	Type    string `json:"type"`
	EventID string `json:"event_id,omitempty"`

	// Session is the configuration of session.update.
	Session *Session `json:"session,omitempty"`

	// Audio is the base64-encoded audio of input_audio_buffer.append.
	Audio string `json:"audio,omitempty"`

	// PreviousItemID and Item are the fields of conversation.item.create.
	PreviousItemID string `json:"previous_item_id,omitempty"`
	Item           *Item  `json:"item,omitempty"`

	// ItemID, ContentIndex and AudioEndMS are the fields of
	// conversation.item.truncate, which sends the two numbers even when they
	// are zero.
	ItemID       string `json:"item_id,omitempty"`
	ContentIndex int    `json:"content_index,omitempty"`
	AudioEndMS   int    `json:"audio_end_ms,omitempty"`

	// Response holds the optional parameters of response.create.
	Response *ResponseParams `json:"response,omitempty"`

	// ResponseID names the response that response.cancel cancels. Empty
	// cancels the response in progress.
	ResponseID string `json:"response_id,omitempty"`
}

// ServerEvent is any event a server sends. Type selects which of the other
// fields apply. Decoding accepts event types and fields this struct does not
// model and ignores them.
type ServerEvent struct {
	Type    string `json:"type"`
	EventID string `json:"event_id,omitempty"`

	ResponseID     string `json:"response_id,omitempty"`
	ItemID         string `json:"item_id,omitempty"`
	PreviousItemID string `json:"previous_item_id,omitempty"`
	OutputIndex    int    `json:"output_index,omitempty"`
	ContentIndex   int    `json:"content_index,omitempty"`

	// Delta is base64-encoded audio in response.output_audio.delta and text
	// in the transcript, text and function-argument delta events.
	Delta      string `json:"delta,omitempty"`
	Text       string `json:"text,omitempty"`
	Transcript string `json:"transcript,omitempty"`

	// CallID, Name and Arguments describe a function call; Arguments is a
	// JSON object encoded as a string.
	CallID    string `json:"call_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`

	// AudioStartMS and AudioEndMS are offsets in milliseconds from the start
	// of the input audio buffer (speech events) or of the item's audio
	// (conversation.item.truncated).
	AudioStartMS int `json:"audio_start_ms,omitempty"`
	AudioEndMS   int `json:"audio_end_ms,omitempty"`

	Response   *Response    `json:"response,omitempty"`
	Session    *Session     `json:"session,omitempty"`
	Item       *Item        `json:"item,omitempty"`
	Part       *ContentPart `json:"part,omitempty"`
	Usage      *Usage       `json:"usage,omitempty"`
	Error      *ErrorDetail `json:"error,omitempty"`
	RateLimits []RateLimit  `json:"rate_limits,omitempty"`
}

// Err returns the event's error as an *Error when the event is of type
// error, and nil otherwise.
func (e *ServerEvent) Err() error {
	if e.Type != ServerError {
		return nil
	}
	if e.Error == nil {
		return &Error{Type: "unknown_error", Message: "error event without details"}
	}
	err := Error(*e.Error)
	return &err
}

// MarshalJSON encodes the event, keeping the zero-valued fields that its type
// requires on the wire, such as output_index 0 in an audio delta.
func (e ServerEvent) MarshalJSON() ([]byte, error) {
	type wire ServerEvent // has no MarshalJSON, so this does not recurse
	b, err := json.Marshal(wire(e))
	if err != nil {
		return nil, err
	}
	return appendMissing(b, serverRequired[e.Type], fieldValues{
		outputIndex:  e.OutputIndex,
		contentIndex: e.ContentIndex,
		audioStartMS: e.AudioStartMS,
		audioEndMS:   e.AudioEndMS,
		transcript:   e.Transcript,
	}), nil
}

// MarshalJSON encodes the event, keeping the zero-valued fields that its type
// requires on the wire, such as content_index 0 in a truncate.
func (e ClientEvent) MarshalJSON() ([]byte, error) {
	type wire ClientEvent // has no MarshalJSON, so this does not recurse
	b, err := json.Marshal(wire(e))
	if err != nil {
		return nil, err
	}
	return appendMissing(b, clientRequired[e.Type], fieldValues{
		contentIndex: e.ContentIndex,
		audioEndMS:   e.AudioEndMS,
		audio:        e.Audio,
	}), nil
}
