package localmodel

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// Connection limits.
const (
	// readLimit is the largest client event accepted, as the hosted API allows.
	readLimit = 16 << 20
	// inboxMax bounds client events waiting for the processor: 500 appends of
	// 20 ms are ten seconds of audio.
	inboxMax = 500
	// outboxMax bounds encoded server events waiting for the writer.
	outboxMax = 256
	// writeTimeout ends a connection whose peer stops reading.
	writeTimeout = 10 * time.Second
)

// conn is one realtime connection. Its goroutines are the reader, the processor,
// the speaker and the writer, all in one errgroup owned by run.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	log    *slog.Logger
	model  string
	prefix string // makes ids unique to this connection

	inbox   *inbox
	outbox  chan []byte
	jobs    chan speechJob
	spoken  chan speechDone
	counter atomic.Int64

	outDropped atomic.Int64
}

func newConn(s *Server, ws *websocket.Conn, model string) *conn {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	prefix := hex.EncodeToString(b[:])
	return &conn{
		s:      s,
		ws:     ws,
		log:    s.log.With("session_id", "sess_"+prefix),
		model:  model,
		prefix: prefix,
		inbox:  newInbox(inboxMax),
		outbox: make(chan []byte, outboxMax),
		jobs:   make(chan speechJob, 1),
		spoken: make(chan speechDone, 1),
	}
}

// newID returns an id such as "item_1a2b3c4d_7".
func (c *conn) newID(kind string) string {
	return fmt.Sprintf("%s_%s_%d", kind, c.prefix, c.counter.Add(1))
}

// run serves the connection until the peer hangs up, a goroutine fails or ctx
// (the server's) ends, and returns after every goroutine has exited.
func (c *conn) run(ctx context.Context) {
	start := c.s.cfg.Now()
	c.log.Info("local model session started", "model", c.model)
	c.ws.SetReadLimit(readLimit)
	// On server shutdown, close with 1001 so that the peer can reconnect
	// elsewhere. The close handshake also unblocks the reader.
	closed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(closed)
		c.closeGoingAway()
	})
	defer func() {
		if !stop() {
			<-closed
		}
	}()

	p := newProcessor(c)
	defer p.close()
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	g.Go(func() error { return c.read(gctx) })
	g.Go(func() error { return p.run(gctx) })
	g.Go(func() error { return c.speak(gctx) })
	g.Go(func() error { return c.write(gctx) })
	err := g.Wait()
	// Whichever goroutine ended first decided the connection is over; make
	// sure the socket is closed whatever it was.
	c.ws.CloseNow()

	attrs := []any{"duration", c.s.cfg.Now().Sub(start).Round(time.Millisecond), "utterances", p.utterances,
		"audio_dropped", c.inbox.dropped.Load(), "events_dropped", c.outDropped.Load()}
	switch {
	case err == nil, errors.Is(err, errPeerClosed), ctx.Err() != nil:
		c.log.Info("local model session ended", attrs...)
	default:
		c.log.Warn("local model session failed", append(attrs, "err", err)...)
	}
}

// closeGoingAway sends close 1001 and waits for the peer's close frame; the
// library bounds each of the two steps at 5 s.
func (c *conn) closeGoingAway() {
	c.ws.Close(websocket.StatusGoingAway, "server shutting down")
}

// errPeerClosed ends the reader when the client closes the connection; it is a
// normal ending.
var errPeerClosed = errors.New("peer closed the connection")

// read decodes client events and queues them for the processor. A malformed event
// gets an error event and the connection goes on.
func (c *conn) read(ctx context.Context) error {
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			switch websocket.CloseStatus(err) {
			case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
				return errPeerClosed
			}
			// A client that drops the TCP connection without a close frame has hung
			// up too; the gateway does so when its caller leaves.
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return errPeerClosed
			}
			return fmt.Errorf("read: %w", err)
		}
		if typ != websocket.MessageText {
			c.sendError(ctx, "", "invalid_event", "", "events must be JSON text messages")
			continue
		}
		item, problem := parseClientEvent(data)
		if problem != "" {
			c.sendError(ctx, item.event.EventID, "invalid_event", "", problem)
			continue
		}
		if err := c.inbox.push(ctx, item); err != nil {
			return nil // ctx ended
		}
	}
}

// inboundItem is a decoded client event. For an append, audio contains the
// decoded bytes. For session.update, raw is the message, for fields that the
// event type does not model.
type inboundItem struct {
	event realtime.ClientEvent
	audio []byte
	raw   []byte
}

var clientEventTypes = map[string]bool{
	realtime.ClientSessionUpdate: true, realtime.ClientInputAudioBufferAppend: true,
	realtime.ClientInputAudioBufferCommit: true, realtime.ClientInputAudioBufferClear: true,
	realtime.ClientConversationItemCreate: true, realtime.ClientConversationItemTruncate: true,
	realtime.ClientResponseCreate: true, realtime.ClientResponseCancel: true,
}

// parseClientEvent decodes one message and returns a problem to report when it is
// not a valid client event.
func parseClientEvent(data []byte) (inboundItem, string) {
	var item inboundItem
	if err := json.Unmarshal(data, &item.event); err != nil {
		var id struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal(data, &id) // best effort: echo the id when there is one
		item.event.EventID = id.EventID
		return item, "The event is not valid JSON of a client event: " + err.Error()
	}
	ev := &item.event
	if !clientEventTypes[ev.Type] {
		return item, fmt.Sprintf("Invalid value: %q is not a supported client event type.", ev.Type)
	}
	switch ev.Type {
	case realtime.ClientInputAudioBufferAppend:
		audio, err := base64.StdEncoding.DecodeString(ev.Audio)
		if err != nil {
			return item, "Invalid 'audio': not valid base64."
		}
		item.audio = audio
		ev.Audio = ""
	case realtime.ClientSessionUpdate:
		if ev.Session == nil {
			return item, "Missing required parameter: 'session'."
		}
		item.raw = data
	case realtime.ClientConversationItemCreate:
		if ev.Item == nil {
			return item, "Missing required parameter: 'item'."
		}
	}
	return item, ""
}

// send queues a server event for the writer; it blocks while the outbox is full
// and returns false when ctx ended first.
func (c *conn) send(ctx context.Context, ev realtime.ServerEvent) bool {
	if ev.EventID == "" {
		ev.EventID = c.newID("event")
	}
	b, err := json.Marshal(ev)
	if err != nil {
		c.log.Error("encode server event", "type", ev.Type, "err", err)
		return true
	}
	select {
	case c.outbox <- b:
		return true
	case <-ctx.Done():
		c.outDropped.Add(1)
		return false
	}
}

// sendError queues an error event of type invalid_request_error.
func (c *conn) sendError(ctx context.Context, eventID, code, param, message string) {
	c.send(ctx, realtime.ServerEvent{Type: realtime.ServerError, Error: &realtime.ErrorDetail{
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

// inbox is the bounded queue from the reader to the processor. When it is full,
// the oldest audio append is dropped and counted. Other events are never
// dropped, so the reader waits for room when the queue holds no audio.
type inbox struct {
	mu      sync.Mutex
	items   []inboundItem
	max     int
	ready   chan struct{} // signalled when an item is pushed
	room    chan struct{} // signalled when an item is popped
	dropped atomic.Int64
}

func newInbox(max int) *inbox {
	return &inbox{max: max, ready: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

func (q *inbox) push(ctx context.Context, it inboundItem) error {
	for {
		q.mu.Lock()
		if len(q.items) >= q.max {
			q.dropOldestAudio()
		}
		if len(q.items) < q.max {
			q.items = append(q.items, it)
			q.mu.Unlock()
			signal(q.ready)
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (q *inbox) dropOldestAudio() {
	for i, it := range q.items {
		if it.audio != nil {
			q.items = append(q.items[:i], q.items[i+1:]...)
			q.dropped.Add(1)
			return
		}
	}
}

// pop returns the oldest item, if any.
func (q *inbox) pop() (inboundItem, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return inboundItem{}, false
	}
	it := q.items[0]
	q.items[0] = inboundItem{}
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // let the backing array go
	}
	signal(q.room)
	return it, true
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
