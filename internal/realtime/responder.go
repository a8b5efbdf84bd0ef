package realtime

import (
	"context"
	"strconv"
	"sync"
)

// errActiveResponse is the error code of a response.create that the server
// rejected because another response is active.
const errActiveResponse = "conversation_already_has_active_response"

// SendFunc sends one client event; Conn.Send is one.
type SendFunc func(ctx context.Context, ev ClientEvent) error

// Responder enforces the protocol's rule that only one response may be
// active at a time, for one connection. Both the client (response.create) and
// the server (after turn detection) start responses, so a client that wants
// a response while one is active must wait for response.done.
//
// The connection's reader passes every server event to Observe. Other
// goroutines call RequestResponse and CancelActive. All methods are safe for
// concurrent use; events are sent outside the lock.
type Responder struct {
	send SendFunc

	mu       sync.Mutex
	activeID string // ID of the active response; valid when active
	active   bool
	// cancelled is set when response.cancel was sent for the active
	// response.
	cancelled bool
	// pending is set from sending response.create until response.created
	// or the create's rejection arrives.
	pending bool
	// deferred is set when a response was requested while another was
	// active or pending; it is created after the next response.done.
	deferred bool
	// createEventID is the event ID of the last response.create sent,
	// which the server echoes in the error that rejects it.
	createEventID string
	creates       int // number of response.create sent, for event IDs
}

// NewResponder returns a Responder that sends its events with send. Use one
// Responder per connection.
func NewResponder(send SendFunc) *Responder {
	return &Responder{send: send}
}

// Active returns the ID of the active response, and whether one is active.
func (r *Responder) Active() (id string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.activeID, r.active
}

// RequestResponse sends response.create now if no response is active or
// being created, and otherwise defers it until response.done. Requests made
// while one is deferred join it, so one response.done leads to at most one
// response.create.
func (r *Responder) RequestResponse(ctx context.Context) error {
	r.mu.Lock()
	if r.active || r.pending {
		r.deferred = true
		r.mu.Unlock()
		return nil
	}
	ev := r.startCreateLocked()
	r.mu.Unlock()
	return r.sendCreate(ctx, ev)
}

// CancelActive sends response.cancel for the active response. It sends
// nothing when no response is active, when the active one was already
// cancelled, or when a create is still pending, because the server has not
// named that response yet.
func (r *Responder) CancelActive(ctx context.Context) error {
	r.mu.Lock()
	if !r.active || r.cancelled {
		r.mu.Unlock()
		return nil
	}
	r.cancelled = true
	ev := CancelResponse(r.activeID)
	r.mu.Unlock()
	return r.send(ctx, ev)
}

// Observe updates the state from a server event, and sends a deferred
// response.create once the active response is done. Events of other types
// are ignored. The error is that of sending the deferred create.
func (r *Responder) Observe(ctx context.Context, ev *ServerEvent) error {
	r.mu.Lock()
	switch ev.Type {
	case ServerResponseCreated:
		r.observeCreatedLocked(ev)
	case ServerResponseDone:
		r.active, r.activeID, r.cancelled = false, "", false
	case ServerError:
		r.observeErrorLocked(ev)
	}
	if !r.deferred || r.active || r.pending {
		r.mu.Unlock()
		return nil
	}
	r.deferred = false
	create := r.startCreateLocked()
	r.mu.Unlock()
	return r.sendCreate(ctx, create)
}

// observeCreatedLocked marks the new response active. The server may have
// started it on its own while this side's create was pending; the create is
// then rejected, and observeErrorLocked defers it.
func (r *Responder) observeCreatedLocked(ev *ServerEvent) {
	r.active, r.cancelled, r.pending = true, false, false
	r.activeID = ""
	if ev.Response != nil {
		r.activeID = ev.Response.ID
	}
}

// observeErrorLocked handles the rejection of this side's response.create.
// A create rejected because a response was active is retried after that
// response is done; any other rejection drops it.
func (r *Responder) observeErrorLocked(ev *ServerEvent) {
	if ev.Error == nil || ev.Error.EventID == "" || ev.Error.EventID != r.createEventID {
		return
	}
	r.pending = false
	if ev.Error.Code == errActiveResponse {
		r.deferred = true
	}
}

// startCreateLocked marks a create pending and returns the event to send.
func (r *Responder) startCreateLocked() ClientEvent {
	r.creates++
	r.pending = true
	r.createEventID = "response_create_" + strconv.Itoa(r.creates)
	ev := CreateResponse()
	ev.EventID = r.createEventID
	return ev
}

func (r *Responder) sendCreate(ctx context.Context, ev ClientEvent) error {
	err := r.send(ctx, ev)
	if err != nil {
		r.mu.Lock()
		if r.createEventID == ev.EventID {
			r.pending = false
		}
		r.mu.Unlock()
	}
	return err
}
