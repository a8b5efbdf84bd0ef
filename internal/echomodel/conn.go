package echomodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

const (
	// readLimit is the largest client event accepted, as in the hosted API.
	readLimit = realtime.ReadLimit
	// outboxMax bounds encoded server events waiting for the writer. A full
	// outbox makes the producers wait, and writeTimeout bounds that wait.
	outboxMax = 256
	// writeTimeout ends a connection whose peer stops reading.
	writeTimeout = 10 * time.Second
)

// errPeerClosed ends a connection that the client closed; it is a normal
// ending.
var errPeerClosed = errors.New("peer closed the connection")

// conn is one Realtime connection. Its goroutines are the reader, which also
// processes client events, the speaker, which plays responses, and the
// writer. All three run in one errgroup owned by run, and the first to
// return ends the other two.
type conn struct {
	cfg    Config
	ws     *websocket.Conn
	log    *slog.Logger
	prefix string // makes ids unique to this server
	ids    atomic.Int64

	outbox chan []byte
	// jobs hands a started response to the speaker. It never holds more
	// than one, because at most one response is active.
	jobs chan *response

	// Owned by the reader.
	session sessionState
	turn    turnDetector

	mu       sync.Mutex
	active   *response // the response being played, if any
	deferred *response // an echo to play once active is done
	pending  []byte    // echo of a turn that waits for response.create
	items    recentItems
}

func newConn(s *Server, ws *websocket.Conn, n int64) *conn {
	prefix := "echo" + strconv.FormatInt(n, 10)
	c := &conn{
		cfg:     s.cfg,
		ws:      ws,
		log:     s.log.With("session_id", "sess_"+prefix),
		prefix:  prefix,
		outbox:  make(chan []byte, outboxMax),
		jobs:    make(chan *response, 1),
		session: defaultSession(),
	}
	c.turn = newTurnDetector(s.cfg, c.session.input)
	return c
}

// newID returns an id such as "item_echo3_7".
func (c *conn) newID(kind string) string {
	return kind + "_" + c.prefix + "_" + strconv.FormatInt(c.ids.Add(1), 10)
}

// run serves the connection until the peer hangs up, a goroutine fails or
// srvCtx (the server's) ends, and returns after every goroutine has exited.
func (c *conn) run(srvCtx context.Context) {
	start := time.Now()
	c.ws.SetReadLimit(readLimit)

	// On server shutdown the close handshake with 1001 ends the reader, and
	// through it the other goroutines. Their context outlives srvCtx so that
	// the handshake can finish.
	closed := make(chan struct{})
	stop := context.AfterFunc(srvCtx, func() {
		defer close(closed)
		c.ws.Close(websocket.StatusGoingAway, "server shutting down")
	})
	defer func() {
		if !stop() {
			<-closed
		}
	}()

	ctx, cancel := context.WithCancel(context.WithoutCancel(srvCtx))
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer cancel()
		return c.read(ctx)
	})
	g.Go(func() error {
		defer cancel()
		return c.speak(ctx)
	})
	g.Go(func() error {
		defer cancel()
		return c.write(ctx)
	})
	err := g.Wait()
	c.ws.CloseNow()
	c.cancelAll()

	attrs := []any{"duration", time.Since(start).Round(time.Millisecond), "turns", c.turn.turns}
	switch {
	case err == nil, errors.Is(err, errPeerClosed), srvCtx.Err() != nil:
		c.log.Debug("echo model connection ended", attrs...)
	default:
		c.log.Warn("echo model connection failed", append(attrs, "err", err)...)
	}
}

// read decodes and handles client events until the peer closes.
func (c *conn) read(ctx context.Context) error {
	if err := c.send(ctx, realtime.ServerEvent{Type: realtime.ServerSessionCreated, Session: c.session.wire(c.prefix)}); err != nil {
		return err
	}
	var audioBuf []byte
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			return readError(ctx, err)
		}
		if typ != websocket.MessageText {
			c.sendError(ctx, "", "invalid_event", "", "Events must be JSON text messages.")
			continue
		}
		var ev realtime.ClientEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			c.sendError(ctx, "", "invalid_event", "", "The event is not valid JSON of a client event: "+err.Error())
			continue
		}
		if audioBuf, err = c.handle(ctx, &ev, audioBuf); err != nil {
			return err
		}
	}
}

// readError classifies the error that ended the reader. A close frame with
// a normal status, or a connection dropped without one, is the peer hanging
// up: a gateway closes its model connection without a handshake when a call
// ends.
func readError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return errPeerClosed
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return errPeerClosed
	}
	return fmt.Errorf("read: %w", err)
}

// handle processes one client event. audioBuf is the reader's scratch buffer
// for decoded audio, returned for reuse. An error ends the connection, while
// an invalid event only gets an error event.
func (c *conn) handle(ctx context.Context, ev *realtime.ClientEvent, audioBuf []byte) ([]byte, error) {
	var err error
	switch ev.Type {
	case realtime.ClientSessionUpdate:
		err = c.updateSession(ctx, ev)
	case realtime.ClientInputAudioBufferAppend:
		audioBuf, err = c.appendAudio(ctx, ev, audioBuf)
	case realtime.ClientInputAudioBufferCommit:
		err = c.commit(ctx, ev)
	case realtime.ClientInputAudioBufferClear:
		c.turn.clear()
		err = c.send(ctx, realtime.ServerEvent{Type: "input_audio_buffer.cleared"})
	case realtime.ClientConversationItemCreate:
		err = c.createItem(ctx, ev)
	case realtime.ClientConversationItemTruncate:
		err = c.truncate(ctx, ev)
	case realtime.ClientResponseCreate:
		err = c.createResponse(ctx, ev)
	case realtime.ClientResponseCancel:
		err = c.cancelResponse(ctx, ev)
	default:
		err = c.sendError(ctx, ev.EventID, "invalid_value", "type",
			fmt.Sprintf("Invalid value: %q is not a supported client event type.", ev.Type))
	}
	return audioBuf, err
}

func (c *conn) createItem(ctx context.Context, ev *realtime.ClientEvent) error {
	if ev.Item == nil {
		return c.sendError(ctx, ev.EventID, "missing_required_parameter", "item", "Missing required parameter: 'item'.")
	}
	item := *ev.Item
	if item.ID == "" {
		item.ID = c.newID("item")
	}
	item.Status = realtime.ItemCompleted
	return c.send(ctx, realtime.ServerEvent{Type: realtime.ServerConversationItemAdded, PreviousItemID: ev.PreviousItemID, Item: &item})
}

// send queues a server event for the writer. It waits while the outbox is
// full, and returns ctx's error when ctx ends first.
func (c *conn) send(ctx context.Context, ev realtime.ServerEvent) error {
	if ev.EventID == "" {
		ev.EventID = c.newID("event")
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s: %w", ev.Type, err)
	}
	select {
	case c.outbox <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendError queues an error event of type invalid_request_error, which
// leaves the connection open.
func (c *conn) sendError(ctx context.Context, eventID, code, param, message string) error {
	return c.send(ctx, realtime.ServerEvent{Type: realtime.ServerError, Error: &realtime.ErrorDetail{
		Type: "invalid_request_error", Code: code, Param: param, Message: message, EventID: eventID,
	}})
}

// write sends queued events in order until ctx ends.
func (c *conn) write(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case b := <-c.outbox:
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := c.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("write: %w", err)
			}
		}
	}
}
