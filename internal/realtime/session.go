package realtime

import (
	"encoding/json"
	"fmt"
)

// SessionTypeRealtime is the session type of a speech-to-speech session.
const SessionTypeRealtime = "realtime"

// Audio format types for AudioFormat.Type.
const (
	// AudioPCM is 16-bit little-endian mono PCM. The hosted API accepts
	// only a rate of 24000 Hz; the offline engine also accepts 16000 Hz.
	AudioPCM = "audio/pcm"
	// AudioPCMU is G.711 μ-law at 8000 Hz, the audio of phone calls.
	AudioPCMU = "audio/pcmu"
	// AudioPCMA is G.711 A-law at 8000 Hz.
	AudioPCMA = "audio/pcma"
)

// PCMRate is the sample rate in Hz of AudioPCM in the hosted API.
const PCMRate = 24000

// Turn detection types for TurnDetection.Type.
const (
	TurnDetectionServerVAD   = "server_vad"
	TurnDetectionSemanticVAD = "semantic_vad"
)

// Session is the configuration a session.update sends, and the state that
// session.created and session.updated report. Zero fields are left out of
// session.update, so the server keeps their current values.
type Session struct {
	// Type is SessionTypeRealtime. UpdateSession sets it when empty.
	Type string `json:"type,omitempty"`
	// ID is set by the server.
	ID               string       `json:"id,omitempty"`
	Model            string       `json:"model,omitempty"`
	Instructions     string       `json:"instructions,omitempty"`
	OutputModalities []string     `json:"output_modalities,omitempty"`
	Audio            *AudioConfig `json:"audio,omitempty"`
	Tools            []Tool       `json:"tools,omitempty"`
	ToolChoice       ToolChoice   `json:"tool_choice,omitzero"`
	MaxOutputTokens  TokenLimit   `json:"max_output_tokens,omitzero"`
	// ExpiresAt is the Unix time in seconds at which the server ends the
	// session; set by the server.
	ExpiresAt int64 `json:"expires_at,omitempty"`
}

// AudioConfig configures the audio in each direction.
type AudioConfig struct {
	Input  *AudioInput  `json:"input,omitempty"`
	Output *AudioOutput `json:"output,omitempty"`
}

// AudioInput configures the caller's audio that the client appends.
type AudioInput struct {
	Format         *AudioFormat    `json:"format,omitempty"`
	Transcription  *Transcription  `json:"transcription,omitempty"`
	NoiseReduction *NoiseReduction `json:"noise_reduction,omitempty"`
	TurnDetection  *TurnDetection  `json:"turn_detection,omitempty"`
}

// AudioOutput configures the assistant's audio.
type AudioOutput struct {
	Format *AudioFormat `json:"format,omitempty"`
	Voice  string       `json:"voice,omitempty"`
	// Speed is a playback speed factor; zero leaves the server's default.
	Speed float64 `json:"speed,omitempty"`
}

// AudioFormat is an audio encoding: AudioPCM with Rate, or AudioPCMU or
// AudioPCMA without.
type AudioFormat struct {
	Type string `json:"type"`
	Rate int    `json:"rate,omitempty"`
}

// Transcription configures the transcription of the caller's audio.
type Transcription struct {
	Model    string `json:"model,omitempty"`
	Language string `json:"language,omitempty"`
	Prompt   string `json:"prompt,omitempty"`
}

// NoiseReduction selects a noise filter for input audio: "near_field" or
// "far_field".
type NoiseReduction struct {
	Type string `json:"type"`
}

// TurnDetection configures voice activity detection on the server.
//
// NOTE: a nil *TurnDetection leaves the server's setting unchanged; this type
// cannot send the null that turns detection off.
type TurnDetection struct {
	Type              string  `json:"type"`
	Threshold         float64 `json:"threshold,omitempty"`
	PrefixPaddingMS   int     `json:"prefix_padding_ms,omitempty"`
	SilenceDurationMS int     `json:"silence_duration_ms,omitempty"`
	IdleTimeoutMS     int     `json:"idle_timeout_ms,omitempty"`
	// Eagerness applies to TurnDetectionSemanticVAD: "low", "medium",
	// "high" or "auto".
	Eagerness string `json:"eagerness,omitempty"`
	// CreateResponse and InterruptResponse are pointers so that false is
	// sent; the server's default for both is true.
	CreateResponse    *bool `json:"create_response,omitempty"`
	InterruptResponse *bool `json:"interrupt_response,omitempty"`
}

// Tool is a function the model may call, in the flat shape of the GA API.
type Tool struct {
	// Type is "function".
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Parameters is a JSON Schema of the function's arguments object.
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

// Tool choice modes for ToolChoice.Mode.
const (
	ToolChoiceAuto     = "auto"
	ToolChoiceNone     = "none"
	ToolChoiceRequired = "required"
)

// ToolChoice is the model's tool selection: a mode, or one named function
// that it must call. On the wire it is a string or {"type":"function",
// "name":...}. The zero value is left out of the encoded event.
type ToolChoice struct {
	// Mode is ToolChoiceAuto, ToolChoiceNone or ToolChoiceRequired.
	Mode string
	// Function names the function the model must call. It takes
	// precedence over Mode.
	Function string
}

type toolChoiceObject struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

// MarshalJSON encodes the choice as a mode string or a function object.
func (c ToolChoice) MarshalJSON() ([]byte, error) {
	if c.Function != "" {
		return json.Marshal(toolChoiceObject{Type: "function", Name: c.Function})
	}
	return json.Marshal(c.Mode)
}

// UnmarshalJSON decodes a mode string or a tool object. An object of a type
// other than "function" sets Mode to that type.
func (c *ToolChoice) UnmarshalJSON(b []byte) error {
	*c = ToolChoice{}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &c.Mode)
	}
	var obj toolChoiceObject
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("tool_choice: %w", err)
	}
	if obj.Type == "function" {
		c.Function = obj.Name
	} else {
		c.Mode = obj.Type
	}
	return nil
}

// TokenLimit is a max_output_tokens value: a number of tokens, or
// TokenLimitInf for the model's maximum. Zero is unset and left out of the
// encoded event.
type TokenLimit int

// TokenLimitInf is the limit "inf".
const TokenLimitInf TokenLimit = -1

// MarshalJSON encodes TokenLimitInf as "inf" and other limits as numbers.
func (l TokenLimit) MarshalJSON() ([]byte, error) {
	if l == TokenLimitInf {
		return []byte(`"inf"`), nil
	}
	return json.Marshal(int(l))
}

// UnmarshalJSON decodes a number, "inf" or null (unset).
func (l *TokenLimit) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"inf"`:
		*l = TokenLimitInf
		return nil
	case "null":
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("max_output_tokens: %w", err)
	}
	*l = TokenLimit(n)
	return nil
}
