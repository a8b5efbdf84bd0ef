// Package twilio provides the Twilio side of a phone call: the Media Streams WebSocket
// protocol (events, 20 ms μ-law framing, marks and clear), playback tracking through
// marks with paced output, the TwiML answer to the incoming-call webhook,
// X-Twilio-Signature validation, and a spoken apology synthesized with espeak-ng. It
// does not dial Twilio's REST API, so it ends a call by closing its media stream.
package twilio

import "encoding/json"

// Media Streams event names, inbound (from Twilio) and outbound (to Twilio).
const (
	EventConnected = "connected"
	EventStart     = "start"
	EventMedia     = "media"
	EventMark      = "mark"
	EventDTMF      = "dtmf"
	EventStop      = "stop"
	EventClear     = "clear"
)

// FrameSize is the size of one 20 ms frame of 8 kHz μ-law audio, the unit Twilio plays.
const FrameSize = 160

// Message is one Media Streams JSON message in either direction. Only the fields of
// its Event are set.
type Message struct {
	Event          string    `json:"event"`
	SequenceNumber string    `json:"sequenceNumber,omitempty"`
	StreamSID      string    `json:"streamSid,omitempty"`
	Protocol       string    `json:"protocol,omitempty"`
	Version        string    `json:"version,omitempty"`
	Start          *Start    `json:"start,omitempty"`
	Media          *Media    `json:"media,omitempty"`
	Mark           *Mark     `json:"mark,omitempty"`
	DTMF           *DTMF     `json:"dtmf,omitempty"`
	Stop           *StopInfo `json:"stop,omitempty"`
}

// Start describes the stream at its beginning.
type Start struct {
	StreamSID        string            `json:"streamSid"`
	AccountSID       string            `json:"accountSid"`
	CallSID          string            `json:"callSid"`
	Tracks           []string          `json:"tracks"`
	CustomParameters map[string]string `json:"customParameters"`
	MediaFormat      MediaFormat       `json:"mediaFormat"`
}

// MediaFormat is the audio format of the stream; Twilio sends audio/x-mulaw at 8000 Hz.
type MediaFormat struct {
	Encoding   string `json:"encoding"`
	SampleRate int    `json:"sampleRate"`
	Channels   int    `json:"channels"`
}

// Media carries one chunk of base64 μ-law audio. Timestamp is milliseconds since the
// stream started, as a decimal string.
type Media struct {
	Track     string `json:"track,omitempty"`
	Chunk     string `json:"chunk,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
	Payload   string `json:"payload"`
}

// Mark names a point in the outbound audio; Twilio echoes it once the audio before it
// has played, or at once after a clear.
type Mark struct {
	Name string `json:"name"`
}

// DTMF is a key the caller pressed.
type DTMF struct {
	Track string `json:"track,omitempty"`
	Digit string `json:"digit"`
}

// StopInfo ends the stream.
type StopInfo struct {
	AccountSID string `json:"accountSid"`
	CallSID    string `json:"callSid"`
}

// Decode parses one inbound message. An unknown event decodes without error; callers
// ignore what they do not handle.
func Decode(data []byte) (Message, error) {
	var m Message
	err := json.Unmarshal(data, &m)
	return m, err
}
