package voicecall

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"
)

const (
	// dialTimeout bounds the WebSocket dial and each HTTP request.
	dialTimeout = 10 * time.Second
	// writeTimeout bounds one WebSocket write.
	writeTimeout = 10 * time.Second
	// hangUpTimeout bounds the wait for the gateway to close the socket after the
	// caller hung up. After it, this side closes the socket.
	hangUpTimeout = 5 * time.Second
	// maxMessageBytes bounds one message from the gateway. The gateway's own limit
	// for browser messages is 1 MiB.
	maxMessageBytes = 1 << 20
)

// Call places one call against the gateway at opts.Server, speaks opts.Turns and hangs
// up. It returns the conversation as the gateway reported it.
//
// After the call has connected, Call returns a Result together with any error, holding
// what was gathered until the error, so a failed call can still be shown. All
// goroutines, sockets, subprocesses and files it opens are ended and closed before it
// returns, on every path.
func Call(ctx context.Context, opts Options) (*Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{}
		defer client.CloseIdleConnections()
	}
	start := time.Now()
	var result *Result
	switch o.Transport {
	case TransportTwilio:
		result, err = callTwilio(ctx, &o, client)
	default:
		result, err = callBrowser(ctx, &o, client)
	}
	if result != nil {
		o.Logger.Info("call ended", "transport", o.Transport, "duration", time.Since(start),
			"turns", len(result.Turns), "tool_calls", len(result.ToolCalls), "order_placed", len(result.Order) > 0, "err", err)
	}
	return result, err
}

// speaker sends the caller's side of a call and waits for the assistant's.
type speaker struct {
	o       *Options
	tr      *tracker
	send    func(ctx context.Context, frame []byte) error
	silence []byte // one frame

	latencies []time.Duration
}

func newSpeaker(o *Options, tr *tracker, format audio.Format, send func(context.Context, []byte) error) *speaker {
	return &speaker{
		o: o, tr: tr, send: send,
		silence: silence(format, format.FrameSize(frameDuration)),
	}
}

// converse waits for the greeting, then speaks each utterance and waits for the reply.
// closed is closed when the transport's reader has stopped.
func (s *speaker) converse(ctx context.Context, utterances []utterance, closed <-chan struct{}) error {
	if err := s.tr.wait(ctx, s.o.TurnTimeout, closed); err != nil {
		return fmt.Errorf("wait for the greeting: %w", err)
	}
	for i := range utterances {
		u := &utterances[i]
		s.tr.startTurn(time.Now())
		s.o.Logger.Debug("speaking", "turn", i+1, "source", u.turn.String(), "frames", u.frames())
		if err := s.speak(ctx, u); err != nil {
			return fmt.Errorf("turn %d: %w", i+1, err)
		}
		if err := s.tr.wait(ctx, s.o.TurnTimeout, closed); err != nil {
			return fmt.Errorf("turn %d: %w", i+1, err)
		}
		s.latencies = append(s.latencies, s.tr.latency())
	}
	return nil
}

// speak sends the utterance and then trailing silence in frames paced at
// 20 ms / Speed, and tells the tracker when the last frame of speech was sent.
func (s *speaker) speak(ctx context.Context, u *utterance) error {
	speech := u.frames()
	total := speech + int(trailingSilence/frameDuration)
	ticker := time.NewTicker(s.o.scaled(frameDuration))
	defer ticker.Stop()
	for i := range total {
		if i > 0 {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-ticker.C:
			}
		}
		frame := s.silence
		if i < speech {
			frame = u.frame(i)
		}
		if err := s.send(ctx, frame); err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("send audio: %w", err)
		}
		if i == speech-1 {
			s.tr.speechEnded(time.Now())
		}
	}
	return nil
}

// waitClosed waits until the reader has stopped, ctx ends or hangUpTimeout passes,
// and reports whether the reader stopped.
func waitClosed(ctx context.Context, closed <-chan struct{}) bool {
	timer := time.NewTimer(hangUpTimeout)
	defer timer.Stop()
	select {
	case <-closed:
		return true
	case <-ctx.Done():
	case <-timer.C:
	}
	return false
}

// webSocketURL returns the ws:// or wss:// URL for path on the server's base URL.
func webSocketURL(server, path string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("parse server URL: %w", err)
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	p, err := url.Parse(path)
	if err != nil {
		return "", fmt.Errorf("parse path %q: %w", path, err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + p.Path
	u.RawQuery = p.RawQuery
	return u.String(), nil
}

// readEnd classifies the error that ended a read: the context's cause when it
// ended, nil for a normal close by the gateway or for a close this side started, the
// error otherwise. A Read whose context ends closes the socket, so its error then
// names the closed connection rather than the context.
func readEnd(ctx context.Context, err error, hangingUp bool) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return nil
	case -1:
		if hangingUp {
			return nil
		}
		return fmt.Errorf("read from gateway: %w", err)
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Errorf("the gateway closed the call with status %d (%s): %s", int(ce.Code), ce.Code, ce.Reason)
	}
	return fmt.Errorf("read from gateway: %w", err)
}

// writeMessage sends one text message, bounded by writeTimeout.
func writeMessage(ctx context.Context, conn *websocket.Conn, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, data)
}
