// Package browser provides the browser voice protocol: a WebSocket at /voice-stream
// over which a kiosk or web page streams PCM16 microphone audio and receives the
// assistant's audio, transcripts, cart updates and the placed order as JSON events.
package browser

import (
	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/order"
	"github.com/voiceorder/voiceorder/internal/session"
)

// Client event types.
const (
	TypeSessionStart = "session.start"
	TypeAudio        = "audio"
	TypeSessionStop  = "session.stop"
)

// Server event types. TypeAudio is used in both directions.
const (
	TypeSessionStarted = "session.started"
	TypeTranscript     = "transcript"
	TypeAudioDone      = "audio.done"
	TypeAudioClear     = "audio.clear"
	TypeCartUpdated    = "cart.updated"
	TypeOrderSubmitted = "order.submitted"
	TypeToolCalled     = "tool.called"
	TypeError          = "error"
)

// Audio formats a browser may choose in session.start.
const FormatPCM16 = "pcm16"

// AudioFormat is the format of audio in both directions: little-endian PCM16 mono.
type AudioFormat struct {
	Format string `json:"format"`
	Rate   int    `json:"rate"`
}

// ClientMessage is one event from the browser. session.start carries Restaurant and
// Format (default pcm16 at 16000 Hz); audio carries base64 Audio in that format.
type ClientMessage struct {
	Type       string       `json:"type"`
	Restaurant string       `json:"restaurant,omitempty"`
	Format     *AudioFormat `json:"format,omitempty"`
	Audio      string       `json:"audio,omitempty"`
}

// ServerMessage is one event to the browser.
type ServerMessage struct {
	Type       string            `json:"type"`
	SessionID  string            `json:"session_id,omitempty"`
	Restaurant string            `json:"restaurant,omitempty"`
	Format     *AudioFormat      `json:"format,omitempty"`
	Audio      string            `json:"audio,omitempty"`
	Role       string            `json:"role,omitempty"`
	Text       string            `json:"text,omitempty"`
	Final      bool              `json:"final,omitempty"`
	Cart       *cart.Cart        `json:"cart,omitempty"`
	Order      *order.Order      `json:"order,omitempty"`
	Tool       *session.ToolCall `json:"tool,omitempty"`
	Code       string            `json:"code,omitempty"`
	Message    string            `json:"message,omitempty"`
}
