package session

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// maxSentEvents bounds the client events a link remembers by event ID, so that an
// error event can name the event that caused it.
const maxSentEvents = 64

// maxLinkItems bounds the assistant items a link remembers as its own; only the items
// of the response playing now matter for truncation.
const maxLinkItems = 64

// link is one connection to the model with the state that belongs to it: the
// response sequencer, the ids of the client events sent on it, and its breaker ticket.
// A conversation has one current link; it replaces it when the connection drops or
// ages out.
type link struct {
	conn      *realtime.Conn
	responder *realtime.Responder
	ticket    *Ticket
	formats   formats

	// retired is set when the conversation moved to another link and closes this one;
	// the link's reader then ignores what still arrives.
	retired atomic.Bool
	// done is closed when the link's reader has ended.
	done chan struct{}
	// opened is when the link's reader started; the recycle age counts from here.
	opened time.Time

	// awaitingCreated is set from sending response.create until response.created or
	// the create's rejection, so a recycle never swaps links while a response the
	// caller waits for is being created on the old one. Guarded by the conversation's
	// respMu.
	awaitingCreated bool

	mu        sync.Mutex
	nextID    int
	sent      map[string]string // event id → event type, bounded by maxSentEvents
	sentIDs   []string          // ring order of sent
	items     map[string]bool   // assistant items whose audio arrived on this link
	confirm   *time.Timer
	succeeded bool // the dial was reported a success to the breaker
	released  bool // the link's outcome is settled
}

func newLink(conn *realtime.Conn, ticket *Ticket, f formats) *link {
	l := &link{
		conn: conn, ticket: ticket, formats: f,
		done:  make(chan struct{}),
		sent:  make(map[string]string),
		items: make(map[string]bool),
	}
	l.responder = realtime.NewResponder(l.send)
	return l
}

// send sends ev with an event id, so that an error event caused by it can be matched
// back to it. Events that already carry an id (the responder's creates) keep theirs.
func (l *link) send(ctx context.Context, ev realtime.ClientEvent) error {
	l.mu.Lock()
	if ev.EventID == "" {
		l.nextID++
		ev.EventID = "gw_" + strconv.Itoa(l.nextID)
	}
	if len(l.sentIDs) == maxSentEvents {
		delete(l.sent, l.sentIDs[0])
		l.sentIDs = append(l.sentIDs[:0], l.sentIDs[1:]...)
	}
	l.sent[ev.EventID] = ev.Type
	l.sentIDs = append(l.sentIDs, ev.EventID)
	if ev.Type == realtime.ClientResponseCreate {
		l.awaitingCreated = true
	}
	l.mu.Unlock()
	return l.conn.Send(ctx, ev)
}

// sentType returns the type of the client event with id, if the link still remembers
// it.
func (l *link) sentType(id string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	typ, ok := l.sent[id]
	return typ, ok
}

// observe updates the link's own state from a server event.
func (l *link) observe(ev *realtime.ServerEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev.Type {
	case realtime.ServerResponseCreated:
		l.awaitingCreated = false
		l.succeedLocked()
	case realtime.ServerError:
		if ev.Error != nil && l.sent[ev.Error.EventID] == realtime.ClientResponseCreate {
			l.awaitingCreated = false
		}
	case realtime.ServerResponseOutputAudioDelta:
		if ev.ItemID != "" && !l.items[ev.ItemID] {
			if len(l.items) >= maxLinkItems {
				clear(l.items)
			}
			l.items[ev.ItemID] = true
		}
	}
}

// owns reports whether the assistant item's audio arrived on this link, so that a
// truncation of it is sent only to the connection that created the item.
func (l *link) owns(item string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.items[item]
}

// creating reports whether a response.create is on its way.
func (l *link) creating() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.awaitingCreated
}

// startConfirm starts the confirmation period of the link's breaker ticket: a link
// still up after it counts as a successful dial. A link whose server creates a
// response counts as one at once, so a burst of calls does not wait out the period
// while the breaker has yet to see a working connection.
func (l *link) startConfirm(after time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opened = time.Now()
	if l.ticket == nil || l.released || l.succeeded {
		return
	}
	l.confirm = time.AfterFunc(after, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.succeedLocked()
	})
}

func (l *link) succeedLocked() {
	if l.released || l.succeeded {
		return
	}
	l.succeeded = true
	l.ticket.Succeed()
}

// settle reports the link's outcome to the breaker once its reader ended: a failure
// when it dropped before it was confirmed, nothing when it was confirmed. dropped is
// false when this side ended the link, which gives the ticket back without an
// outcome.
func (l *link) settle(dropped, fatal bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return
	}
	l.released = true
	if l.confirm != nil {
		l.confirm.Stop()
	}
	switch {
	case l.succeeded:
	case dropped || fatal:
		l.ticket.Fail(fatal)
	default:
		l.ticket.Release()
	}
}

// abandon closes a link that never served a conversation and gives its ticket back.
func (l *link) abandon() {
	l.settle(false, false)
	l.conn.CloseNow()
}
