package realtimetest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// ServerConn is the server side of one connection. Read must be called by
// one goroutine at a time; the other methods are safe for concurrent use.
// The server sends pongs for the client's pings only while a goroutine is in
// Read.
type ServerConn struct {
	ws     *websocket.Conn
	req    *http.Request
	events atomic.Int64 // number of event IDs assigned by Send
	pings  atomic.Int64
	pinged chan struct{} // holds a token after a ping, for PingReceived
}

func (c *ServerConn) onPing(context.Context, []byte) bool {
	c.pings.Add(1)
	select {
	case c.pinged <- struct{}{}:
	default:
	}
	return true // reply with a pong
}

// Pings returns the number of pings received from the client.
func (c *ServerConn) Pings() int {
	return int(c.pings.Load())
}

// PingReceived returns a channel that receives a value after one or more
// pings arrived since the last receive.
func (c *ServerConn) PingReceived() <-chan struct{} {
	return c.pinged
}

// Request returns the handshake request, to check its headers and query.
func (c *ServerConn) Request() *http.Request {
	return c.req
}

// WebSocket returns the underlying connection, for frames that the other
// methods cannot produce.
func (c *ServerConn) WebSocket() *websocket.Conn {
	return c.ws
}

// Read returns the next client event. A message that is not valid JSON of a
// client event returns an error.
func (c *ServerConn) Read(ctx context.Context) (realtime.ClientEvent, error) {
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		return realtime.ClientEvent{}, fmt.Errorf("read client event: %w", err)
	}
	var ev realtime.ClientEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return realtime.ClientEvent{}, fmt.Errorf("decode client event %q: %w", truncate(data), err)
	}
	return ev, nil
}

// Send sends ev, with an event ID assigned when ev has none.
func (c *ServerConn) Send(ctx context.Context, ev realtime.ServerEvent) error {
	if ev.EventID == "" {
		ev.EventID = "event_" + strconv.FormatInt(c.events.Add(1), 10)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s: %w", ev.Type, err)
	}
	return c.SendRaw(ctx, b)
}

// SendRaw sends b as one text message, whatever it contains.
func (c *ServerConn) SendRaw(ctx context.Context, b []byte) error {
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("send to client: %w", err)
	}
	return nil
}

// Close closes the connection with code and reason and waits, at most 5 s,
// for the client's close frame. The client sends it only while it reads.
func (c *ServerConn) Close(code websocket.StatusCode, reason string) error {
	return c.ws.Close(code, reason)
}

// CloseNow closes the connection without a close handshake.
func (c *ServerConn) CloseNow() error {
	return c.ws.CloseNow()
}

// truncate shortens a message quoted in an error.
func truncate(b []byte) []byte {
	const max = 200
	if len(b) > max {
		return b[:max]
	}
	return b
}
