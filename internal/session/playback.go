package session

import "context"

// CodeModelUnavailable is the Notice code of an error notice that the speech model
// cannot be reached: the dial failed, the breaker is open, or reconnecting gave up. A
// phone transport speaks a short apology for it before the call ends.
const CodeModelUnavailable = "model_unavailable"

// Player is implemented by a Caller that plays assistant audio in real time and
// learns what the caller has heard, as the phone does with Twilio's marks. A session
// whose Caller is a Player sends assistant audio through PlayAudio and EndResponse
// instead of SendAudio and EndAudio. It truncates interrupted items at the position
// the caller heard, reconnects a dropped model connection, and ends the call after
// the goodbye has played once an order is placed.
//
// The session calls Generation and Interrupt from its model reader, PlayAudio,
// EndResponse and ClearAudio from its audio sender, and AwaitPlayed from a third
// goroutine, so implementations are safe for concurrent use. Interrupt and Generation
// do no I/O.
type Player interface {
	// Generation returns the current playback generation. Audio queued under an
	// older generation is discarded when it reaches PlayAudio.
	Generation() uint64
	// PlayAudio sends chunk, the next audio of the assistant item, in the caller's
	// output format. It paces the audio and returns early, discarding the rest, when
	// gen stops being current.
	PlayAudio(ctx context.Context, gen uint64, item string, chunk []byte) error
	// EndResponse sends the last partial frame of a response and a mark after it,
	// unless gen stopped being current.
	EndResponse(ctx context.Context, gen uint64) error
	// Interrupt starts a new generation: audio not yet sent is discarded, and the
	// next ClearAudio asks the caller's side to drop what it buffered. It returns
	// whether any audio was queued or playing, and for every item of the old
	// generation that had audio sent, how much was sent and how much the caller heard.
	Interrupt() (playing bool, items []ItemPlayback)
	// Playing reports whether audio was sent that the caller has not yet been
	// confirmed to have heard.
	Playing() bool
	// AwaitPlayed blocks until all audio sent is confirmed played, or ctx ends.
	AwaitPlayed(ctx context.Context) error
}

// ItemPlayback is the playback of one assistant item at an interruption, in
// milliseconds of the item's audio. PlayedMS is at most SentMS.
type ItemPlayback struct {
	ItemID   string
	SentMS   int
	PlayedMS int
}
