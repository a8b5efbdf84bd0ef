package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
)

// WebSocket close statuses a transport sends its caller when a conversation ends.
const (
	closeNormal    = 1000
	closeGoingAway = 1001
	closeInternal  = 1011
	closeTryLater  = 1013
)

// CloseCode returns the WebSocket close status and reason for the caller's socket of a
// conversation that ended with cause: 1000 for a hang-up or a limit, 1001 when the
// gateway shuts down, 1013 when it is full and 1011 for a failure.
func CloseCode(cause error) (code int, reason string) {
	switch {
	case cause == nil, errors.Is(cause, ErrHangup), errors.Is(cause, context.Canceled):
		return closeNormal, ""
	case errors.Is(cause, ErrShutdown):
		return closeGoingAway, "server shutting down"
	case errors.Is(cause, ErrIdle):
		return closeNormal, "no audio for the idle timeout"
	case errors.Is(cause, ErrMaxDuration):
		return closeNormal, "maximum call duration reached"
	case errors.Is(cause, ErrBusy):
		return closeTryLater, "too many conversations; try again later"
	default:
		return closeInternal, "conversation ended by an error"
	}
}

// SocketCloser closes a caller's socket with the right status when its conversation
// ends. A transport reads its socket with the connection's own context, not the
// conversation's, because a WebSocket read cancelled by its context drops the
// connection without a close frame; the closer sends the close frame instead, and the
// blocked read returns. It is safe for concurrent use.
type SocketCloser struct {
	close func(code int, reason string)

	once     sync.Once // guards the close
	armOnce  sync.Once
	mu       sync.Mutex
	stop     func() bool
	watching chan struct{} // closed when the armed close has finished
}

// NewSocketCloser returns a closer that calls close once with the chosen status.
func NewSocketCloser(close func(code int, reason string)) *SocketCloser {
	return &SocketCloser{close: close, watching: make(chan struct{})}
}

// Watch arms the closer to close the socket when ctx ends, with a status chosen from
// ctx's cause. Only the first call arms it; call it from Receive.
func (s *SocketCloser) Watch(ctx context.Context) {
	s.armOnce.Do(func() {
		stop := context.AfterFunc(ctx, func() {
			defer close(s.watching)
			s.closeWith(context.Cause(ctx))
		})
		s.mu.Lock()
		s.stop = stop
		s.mu.Unlock()
	})
}

// Finish closes the socket with a status chosen from the conversation's result, unless
// the watch already did, and waits for a close the watch started. Call it once the
// conversation's Run has returned.
func (s *SocketCloser) Finish(err error) {
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	if stop != nil && !stop() {
		<-s.watching
	}
	s.closeWith(err)
}

func (s *SocketCloser) closeWith(cause error) {
	s.once.Do(func() { s.close(CloseCode(cause)) })
}

// CallerGone turns a failed write to a caller whose connection is gone (reset, broken
// pipe, closed) into ErrHangup, so a caller who drops mid-reply ends the conversation
// as a hang-up rather than a failure. Other errors are returned unchanged.
func CallerGone(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrHangup, err)
	}
	return err
}
