package realtime

// Item types for Item.Type.
const (
	ItemMessage            = "message"
	ItemFunctionCall       = "function_call"
	ItemFunctionCallOutput = "function_call_output"
)

// Item statuses for Item.Status.
const (
	ItemInProgress = "in_progress"
	ItemCompleted  = "completed"
	ItemIncomplete = "incomplete"
)

// Roles for Item.Role.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleSystem    = "system"
)

// Content part types for ContentPart.Type.
const (
	ContentInputText   = "input_text"
	ContentInputAudio  = "input_audio"
	ContentOutputText  = "output_text"
	ContentOutputAudio = "output_audio"
	ContentText        = "text"
)

// Item is a conversation item: a message, a function call or a function
// call's output.
type Item struct {
	ID string `json:"id,omitempty"`
	// Type is ItemMessage, ItemFunctionCall or ItemFunctionCallOutput.
	Type string `json:"type"`
	// Status is ItemInProgress, ItemCompleted or ItemIncomplete; set by
	// the server.
	Status string `json:"status,omitempty"`

	// Role and Content apply to messages.
	Role    string        `json:"role,omitempty"`
	Content []ContentPart `json:"content,omitempty"`

	// CallID links a function call to its output. Name and Arguments apply
	// to function calls, Output to function call outputs.
	CallID    string `json:"call_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
	Output    string `json:"output,omitempty"`
}

// ContentPart is one part of a message's content.
type ContentPart struct {
	Type       string `json:"type"`
	Text       string `json:"text,omitempty"`
	Transcript string `json:"transcript,omitempty"`
	// Audio is base64-encoded audio.
	Audio string `json:"audio,omitempty"`
}

// Response statuses for Response.Status.
const (
	ResponseInProgress = "in_progress"
	ResponseCompleted  = "completed"
	ResponseCancelled  = "cancelled"
	ResponseFailed     = "failed"
	ResponseIncomplete = "incomplete"
)

// Response is a model response as response.created and response.done report
// it.
type Response struct {
	ID               string            `json:"id,omitempty"`
	Status           string            `json:"status,omitempty"`
	StatusDetails    *StatusDetails    `json:"status_details,omitempty"`
	Output           []Item            `json:"output,omitempty"`
	ConversationID   string            `json:"conversation_id,omitempty"`
	OutputModalities []string          `json:"output_modalities,omitempty"`
	MaxOutputTokens  TokenLimit        `json:"max_output_tokens,omitzero"`
	Audio            *AudioConfig      `json:"audio,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	// Usage is set in response.done.
	Usage *Usage `json:"usage,omitempty"`
}

// Err returns the error of a failed response as an *Error, and nil when the
// response did not fail or carries no error.
func (r *Response) Err() error {
	if r.StatusDetails == nil || r.StatusDetails.Error == nil {
		return nil
	}
	err := Error(*r.StatusDetails.Error)
	return &err
}

// StatusDetails explains a response status other than completed.
type StatusDetails struct {
	// Type repeats the status, such as "cancelled" or "failed".
	Type string `json:"type,omitempty"`
	// Reason is, for example, "turn_detected", "client_cancelled",
	// "max_output_tokens" or "content_filter".
	Reason string       `json:"reason,omitempty"`
	Error  *ErrorDetail `json:"error,omitempty"`
}

// ResponseParams are the optional parameters of response.create. The zero
// value creates a response from the conversation with the session's
// configuration.
type ResponseParams struct {
	Instructions string `json:"instructions,omitempty"`
	// Conversation is "auto" (the default) or "none", which creates a
	// response outside the conversation.
	Conversation     string            `json:"conversation,omitempty"`
	OutputModalities []string          `json:"output_modalities,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	Input            []Item            `json:"input,omitempty"`
	Tools            []Tool            `json:"tools,omitempty"`
	ToolChoice       ToolChoice        `json:"tool_choice,omitzero"`
	MaxOutputTokens  TokenLimit        `json:"max_output_tokens,omitzero"`
	Audio            *AudioConfig      `json:"audio,omitempty"`
}

// Usage counts the tokens of a response or a transcription.
type Usage struct {
	// Type is "tokens" in transcription usage and empty in response usage.
	Type               string        `json:"type,omitempty"`
	TotalTokens        int           `json:"total_tokens"`
	InputTokens        int           `json:"input_tokens"`
	OutputTokens       int           `json:"output_tokens"`
	InputTokenDetails  *TokenDetails `json:"input_token_details,omitempty"`
	OutputTokenDetails *TokenDetails `json:"output_token_details,omitempty"`
}

// TokenDetails splits a token count by modality.
type TokenDetails struct {
	TextTokens          int           `json:"text_tokens"`
	AudioTokens         int           `json:"audio_tokens"`
	ImageTokens         int           `json:"image_tokens,omitempty"`
	CachedTokens        int           `json:"cached_tokens,omitempty"`
	CachedTokensDetails *TokenDetails `json:"cached_tokens_details,omitempty"`
}

// RateLimit is one limit that rate_limits.updated reports.
type RateLimit struct {
	// Name is "requests" or "tokens".
	Name         string  `json:"name"`
	Limit        int     `json:"limit"`
	Remaining    int     `json:"remaining"`
	ResetSeconds float64 `json:"reset_seconds"`
}
