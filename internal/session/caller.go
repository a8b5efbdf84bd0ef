package session

import (
	"context"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/order"
)

// Caller is the caller's leg of a conversation: a phone call or a browser. The
// transport implements it over its own WebSocket and closes that socket when the
// session's Run returns. Receive is called by one goroutine; the Send methods by
// another. Every method returns when ctx ends.
type Caller interface {
	// Formats returns the audio format the caller sends and the one it plays.
	Formats() (in, out audio.Format)
	// Receive blocks for the next inbound event. It returns ErrHangup when the caller
	// ended the call (a stop message or a normal close).
	Receive(ctx context.Context) (Inbound, error)
	// SendAudio queues assistant audio in the caller's output format.
	SendAudio(ctx context.Context, chunk []byte) error
	// EndAudio marks the end of one response's audio, so a transport that sends whole
	// frames can flush the last partial one.
	EndAudio(ctx context.Context) error
	// ClearAudio discards assistant audio the caller has not played yet.
	ClearAudio(ctx context.Context) error
	// Notify sends a conversation event. Transports without a channel for it (the phone)
	// ignore it.
	Notify(ctx context.Context, n Notice) error
}

// InboundKind is the kind of event an Inbound carries.
type InboundKind int

// Inbound kinds.
const (
	InboundAudio InboundKind = iota + 1
	InboundDTMF
	InboundMark
)

// Inbound is one event from the caller.
type Inbound struct {
	Kind InboundKind
	// Audio is in the caller's input format. The session does not keep it past the
	// next Receive, so transports may reuse the buffer.
	Audio []byte
	Digit string
	Mark  string
}

// NoticeKind is the kind of event a Notice carries.
type NoticeKind int

// Notice kinds.
const (
	NoticeTranscript NoticeKind = iota + 1
	NoticeCart
	NoticeOrder
	NoticeTool
	NoticeError
)

// Notice is a conversation event for transports that show the conversation.
type Notice struct {
	Kind NoticeKind
	// Turn is set for NoticeTranscript.
	Turn Turn
	// Cart is set for NoticeCart.
	Cart *cart.Cart
	// Order is set for NoticeOrder.
	Order *order.Order
	// Tool is set for NoticeTool.
	Tool *ToolCall
	// Code and Message are set for NoticeError.
	Code    string
	Message string
}
