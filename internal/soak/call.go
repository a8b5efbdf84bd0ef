package soak

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

const (
	// hangUpTimeout bounds the wait for the gateway to close the socket
	// after the caller hung up.
	hangUpTimeout = 5 * time.Second
	// writeTimeout bounds one WebSocket write.
	writeTimeout = 10 * time.Second
	// maxMessageBytes bounds one message from the gateway; its own limit
	// for browser messages is 1 MiB.
	maxMessageBytes = 1 << 20
	// minSilenceInterval is the shortest pause between two frames of
	// silence that a caller sends while it waits, so that a high Speed does
	// not flood the gateway with silence.
	minSilenceInterval = time.Millisecond
)

// leg is the caller's side of one call over one transport. The call's script
// calls begin, send and hangUp, and the call's reader goroutine runs read.
// Either may call closeNow, more than once.
type leg interface {
	// begin sends the messages that start the conversation.
	begin(ctx context.Context) error
	// send sends one frame of caller audio.
	send(ctx context.Context, frame []byte) error
	// hangUp ends the call the polite way, with the protocol's stop message.
	hangUp(ctx context.Context) error
	// read reads the gateway's messages into st until the socket closes.
	read(ctx context.Context, st *callState)
	// closeNow closes the socket without a close handshake.
	closeNow()
}

// callState is the reader's record of the call, which the script waits on
// with waitFor.
type callState struct {
	mu sync.Mutex
	// ready is set when the gateway reports the session started (browser)
	// or sends its first message (Twilio), at readyAt.
	ready   bool
	readyAt time.Time
	// audioChunks and audioEnds count the assistant's audio messages and
	// the ends of its responses (audio.done, or a Twilio mark).
	audioChunks int
	audioEnds   int
	// listening is set while the script waits for a reply; replyAt is the
	// arrival of the first audio since.
	listening bool
	replyAt   time.Time
	// gatewayError is the first error the gateway reported in an event.
	gatewayError string
	// closed is set when the socket closed, with the reason in closeErr.
	closed   bool
	closeErr error

	changed chan struct{} // holds a token after a change
}

func newCallState() *callState {
	return &callState{changed: make(chan struct{}, 1)}
}

// update changes the state under its lock and wakes the script.
func (st *callState) update(change func(st *callState)) {
	st.mu.Lock()
	change(st)
	st.mu.Unlock()
	select {
	case st.changed <- struct{}{}:
	default:
	}
}

func (st *callState) onReady(now time.Time) {
	st.update(func(st *callState) {
		if !st.ready {
			st.ready, st.readyAt = true, now
		}
	})
}

func (st *callState) onAudio(now time.Time) {
	st.update(func(st *callState) {
		if !st.ready {
			st.ready, st.readyAt = true, now
		}
		st.audioChunks++
		if st.listening && st.replyAt.IsZero() {
			st.replyAt = now
		}
	})
}

func (st *callState) onAudioEnd() {
	st.update(func(st *callState) { st.audioEnds++ })
}

func (st *callState) onGatewayError(code, message string) {
	st.update(func(st *callState) {
		if st.gatewayError == "" {
			st.gatewayError = fmt.Sprintf("gateway sent error %s: %s", code, message)
		}
	})
}

func (st *callState) onClosed(err error) {
	st.update(func(st *callState) { st.closed, st.closeErr = true, err })
}

// listen starts watching for the reply's first audio.
func (st *callState) listen() {
	st.update(func(st *callState) { st.listening, st.replyAt = true, time.Time{} })
}

// errClosedEarly reports a socket the gateway closed before the caller hung
// up.
var errClosedEarly = errors.New("gateway closed the call before the caller hung up")

// script runs one call's side of the conversation.
type script struct {
	leg      leg
	st       *callState
	clip     *clip
	interval time.Duration // between two frames, after Speed
	timeout  time.Duration // TurnTimeout
	timer    *time.Timer
}

// waitFor returns once cond holds, sending a frame of silence every interval
// meanwhile when keepTalking is set, as an open microphone or a phone line
// does. It fails when timeout passes, when the gateway closes the socket or
// reports an error, or when ctx ends.
func (s *script) waitFor(ctx context.Context, what string, cond func(st *callState) bool, keepTalking bool) error {
	deadline := time.Now().Add(s.timeout)
	silenceEvery := max(s.interval, minSilenceInterval)
	nextSilence := time.Now()
	for {
		s.st.mu.Lock()
		ok, closed, gatewayErr := cond(s.st), s.st.closed, s.st.gatewayError
		s.st.mu.Unlock()
		switch {
		case ok:
			return nil
		case gatewayErr != "":
			return errors.New(gatewayErr)
		case closed:
			return s.closedError(what)
		}
		now := time.Now()
		if !now.Before(deadline) {
			return fmt.Errorf("no %s within %v", what, s.timeout)
		}
		wait := deadline.Sub(now)
		if keepTalking {
			if !now.Before(nextSilence) {
				if err := s.leg.send(ctx, s.clip.silence); err != nil {
					return fmt.Errorf("send silence: %w", err)
				}
				// Keep the pace without sending a burst after falling behind.
				nextSilence = nextSilence.Add(silenceEvery)
				if nextSilence.Before(now) {
					nextSilence = now.Add(silenceEvery)
				}
			}
			wait = min(wait, time.Until(nextSilence))
		}
		if err := s.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// sleep waits for d, or less when the state changes. It returns an error
// only when ctx ends.
func (s *script) sleep(ctx context.Context, d time.Duration) error {
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		s.timer.Reset(d)
	}
	defer s.timer.Stop()
	select {
	case <-s.timer.C:
		return nil
	case <-s.st.changed:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *script) closedError(what string) error {
	s.st.mu.Lock()
	err := s.st.closeErr
	s.st.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%w while waiting for %s: %w", errClosedEarly, what, err)
	}
	return fmt.Errorf("%w while waiting for %s", errClosedEarly, what)
}

// speak sends frames of the clip paced at interval.
func (s *script) speak(ctx context.Context, frames [][]byte) error {
	start := time.Now()
	for i, frame := range frames {
		if wait := time.Until(start.Add(time.Duration(i) * s.interval)); wait > 0 {
			if err := s.pause(ctx, wait); err != nil {
				return err
			}
		}
		if err := s.leg.send(ctx, frame); err != nil {
			return fmt.Errorf("send audio: %w", err)
		}
	}
	return nil
}

// pause waits for d regardless of the state. It returns an error only when
// ctx ends.
func (s *script) pause(ctx context.Context, d time.Duration) error {
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		s.timer.Reset(d)
	}
	defer s.timer.Stop()
	select {
	case <-s.timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// hangUp sends the stop message and waits for the gateway to close the
// socket, which it must do with a normal closure.
func (s *script) hangUp(ctx context.Context) error {
	if err := s.leg.hangUp(ctx); err != nil {
		return fmt.Errorf("hang up: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, hangUpTimeout)
	defer cancel()
	for {
		s.st.mu.Lock()
		closed, err := s.st.closed, s.st.closeErr
		s.st.mu.Unlock()
		if closed && err != nil {
			return fmt.Errorf("after the hang-up: %w", err)
		}
		if closed {
			return nil
		}
		select {
		case <-s.st.changed:
		case <-ctx.Done():
			return fmt.Errorf("gateway did not close the call within %v of the hang-up", hangUpTimeout)
		}
	}
}

func ready(st *callState) bool      { return st.ready }
func heardAudio(st *callState) bool { return st.audioChunks > 0 }
func heardReply(st *callState) bool { return !st.replyAt.IsZero() }
func responseEnded(n int) func(*callState) bool {
	return func(st *callState) bool { return st.audioEnds >= n }
}

// run plays the script of ending e and fills in the figures of res.
func (s *script) run(ctx context.Context, e Ending, dialStart time.Time, res *callResult) error {
	if e == EndDial {
		// Drop the socket while the gateway dials the model.
		if err := s.leg.begin(ctx); err != nil {
			return fmt.Errorf("start: %w", err)
		}
		s.leg.closeNow()
		return nil
	}
	if err := s.leg.begin(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := s.waitFor(ctx, "session start", ready, false); err != nil {
		return err
	}
	s.st.mu.Lock()
	res.setup = s.st.readyAt.Sub(dialStart)
	s.st.mu.Unlock()

	if e == EndSpeaking {
		if err := s.waitFor(ctx, "assistant audio", heardAudio, true); err != nil {
			return err
		}
		return s.hangUp(ctx)
	}
	if err := s.waitFor(ctx, "end of the greeting", responseEnded(1), true); err != nil {
		return err
	}
	if e == EndAbrupt {
		if err := s.speak(ctx, s.clip.frames[:len(s.clip.frames)/2]); err != nil {
			return err
		}
		s.leg.closeNow()
		return nil
	}
	return s.converse(ctx, res)
}

// converse speaks the clip, measures the time to the reply's first audio,
// waits for the reply to end and hangs up.
func (s *script) converse(ctx context.Context, res *callResult) error {
	s.st.mu.Lock()
	ends := s.st.audioEnds
	s.st.mu.Unlock()

	s.st.listen()
	if err := s.speak(ctx, s.clip.frames); err != nil {
		return err
	}
	spoken := time.Now()
	if err := s.waitFor(ctx, "reply", heardReply, true); err != nil {
		return err
	}
	s.st.mu.Lock()
	// A reply that began during the clip's own trailing silence counts as
	// immediate.
	res.latency, res.hasLatency = max(s.st.replyAt.Sub(spoken), 0), true
	s.st.mu.Unlock()
	if err := s.waitFor(ctx, "end of the reply", responseEnded(ends+1), true); err != nil {
		return err
	}
	return s.hangUp(ctx)
}

// closeError classifies how the gateway closed the socket: nil for a normal
// closure or going away, an error otherwise.
func closeError(err error) error {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return nil
	case -1:
		return fmt.Errorf("connection lost: %w", err)
	}
	return fmt.Errorf("gateway closed the call with status %d: %w", websocket.CloseStatus(err), err)
}
