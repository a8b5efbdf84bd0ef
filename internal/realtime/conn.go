package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Buffers that grew beyond these sizes for one large event are dropped
// instead of kept for the next one.
const (
	maxRetainedReadBuffer  = 256 << 10
	maxRetainedAudioBuffer = 64 << 10
)

// Conn is a client connection to a Realtime server, made by Dial.
//
// Read must be called by one goroutine at a time, the connection's reader,
// which calls it in a loop for the life of the connection. The reader also
// sends pongs for the server's pings and receives the pongs that Keepalive
// waits for.
// All other methods are safe for concurrent use, and writes are serialized.
//
// As in the underlying WebSocket library, an error from any method,
// including the end of the context passed to it, closes the connection. Pass
// contexts that end with the connection's owner rather than per-call
// timeouts, unless a timed-out call should end the connection.
type Conn struct {
	ws      *websocket.Conn
	closing atomic.Bool

	readBuf bytes.Buffer // used only by the reader
}

// Read returns the next server event. An event that is not valid JSON of an
// event returns an error matching ErrMalformedEvent, and the connection stays
// usable. A normal close returns an error matching ErrClosed. An event larger
// than ReadLimit returns an error for which CloseStatus reports
// websocket.StatusMessageTooBig. Read has then sent close code 1009, and the
// connection is unusable. Call Close to complete the close handshake.
func (c *Conn) Read(ctx context.Context) (ServerEvent, error) {
	data, err := c.readMessage(ctx)
	if err != nil {
		return ServerEvent{}, err
	}
	var ev ServerEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return ServerEvent{}, fmt.Errorf("read event: %w: %w", ErrMalformedEvent, err)
	}
	return ev, nil
}

// readMessage returns the next message in readBuf, valid until the next call.
func (c *Conn) readMessage(ctx context.Context) ([]byte, error) {
	if c.readBuf.Cap() > maxRetainedReadBuffer {
		c.readBuf = bytes.Buffer{}
	}
	c.readBuf.Reset()

	_, r, err := c.ws.Reader(ctx)
	if err != nil {
		return nil, c.errorIn("read event", err)
	}
	if _, err := c.readBuf.ReadFrom(r); err != nil {
		return nil, c.errorIn("read event", err)
	}
	return c.readBuf.Bytes(), nil
}

// Send sends ev.
func (c *Conn) Send(ctx context.Context, ev ClientEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("send %s: %w", ev.Type, err)
	}
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return c.errorIn("send "+ev.Type, err)
	}
	return nil
}

// SendRaw sends b, which must be one encoded client event, as it is.
func (c *Conn) SendRaw(ctx context.Context, b []byte) error {
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return c.errorIn("send raw event", err)
	}
	return nil
}

// audioBuffers holds *[]byte buffers for SendAudio and SendAudioBase64.
var audioBuffers = sync.Pool{New: func() any { return new([]byte) }}

// SendAudio sends an input_audio_buffer.append of audio, raw bytes in the
// session's input format. It encodes into a pooled buffer and so does not
// allocate per call.
func (c *Conn) SendAudio(ctx context.Context, audio []byte) error {
	buf := audioBuffers.Get().(*[]byte)
	defer putAudioBuffer(buf)

	*buf = AppendAudioEvent((*buf)[:0], audio)
	if err := c.ws.Write(ctx, websocket.MessageText, *buf); err != nil {
		return c.errorIn("send audio", err)
	}
	return nil
}

// SendAudioBase64 sends an input_audio_buffer.append of audio that is
// already base64-encoded, without decoding it. Audio with a byte outside the
// base64 alphabet returns an error matching ErrInvalidBase64 and sends
// nothing.
func (c *Conn) SendAudioBase64(ctx context.Context, b64 string) error {
	buf := audioBuffers.Get().(*[]byte)
	defer putAudioBuffer(buf)

	var err error
	*buf, err = AppendAudioEventBase64((*buf)[:0], b64)
	if err != nil {
		return fmt.Errorf("send audio: %w", err)
	}
	if err := c.ws.Write(ctx, websocket.MessageText, *buf); err != nil {
		return c.errorIn("send audio", err)
	}
	return nil
}

func putAudioBuffer(buf *[]byte) {
	if cap(*buf) <= maxRetainedAudioBuffer {
		audioBuffers.Put(buf)
	}
}

// Keepalive pings the server every interval until ctx ends, when it returns
// nil, or until a pong does not arrive within interval, when it returns the
// error. Run it in a goroutine of the connection's owner next to the reader,
// which receives the pongs. An interval of zero or less disables pings:
// Keepalive then only waits for ctx.
func (c *Conn) Keepalive(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		<-ctx.Done()
		return nil
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		if err := c.ping(ctx, interval); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return c.errorIn("keepalive", err)
		}
	}
}

func (c *Conn) ping(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return c.ws.Ping(ctx)
}

// Close closes the connection with status 1000 and waits for the server to
// acknowledge it. The WebSocket library bounds the wait: 5 s to write the
// close frame and 5 s for the server's. The connection is closed when Close
// returns, even with an error. Calls after the first, and concurrent calls,
// wait for the first and return nil.
func (c *Conn) Close() error {
	c.closing.Store(true)
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	// The library reports a close frame from the server with another code
	// as an error, but the handshake is complete all the same.
	if err == nil || errors.Is(err, net.ErrClosed) || websocket.CloseStatus(err) != -1 {
		return nil
	}
	return fmt.Errorf("close realtime connection: %w", err)
}

// CloseNow closes the connection without a close handshake. If Close is in
// progress, CloseNow waits for it. Calls after the first return nil.
func (c *Conn) CloseNow() error {
	c.closing.Store(true)
	if err := c.ws.CloseNow(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close realtime connection: %w", err)
	}
	return nil
}

// errorIn returns err, wrapped with op, as an error matching ErrClosed when it
// reports a normal close: the peer's status 1000 or 1001, or a use of the
// connection after the owner closed it.
func (c *Conn) errorIn(op string, err error) error {
	if c.closedNormally(err) {
		return fmt.Errorf("%s: %w: %w", op, ErrClosed, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (c *Conn) closedNormally(err error) bool {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return true
	}
	return c.closing.Load() && errors.Is(err, net.ErrClosed)
}
