package session

import (
	"context"
	"errors"
	"sync"
)

// ErrBusy is returned by Registry.Register when the maximum number of concurrent
// conversations is reached.
var ErrBusy = errors.New("too many concurrent conversations")

// Registry tracks live conversations, so shutdown can wait for them and close the rest,
// and keeps the records of recently ended ones for operators. Both are bounded. It is
// safe for concurrent use.
type Registry struct {
	maxLive   int
	maxRecent int

	mu     sync.Mutex
	live   map[string]*entry
	recent []*Record // ring of ended conversations, oldest first
	idle   chan struct{}
}

type entry struct {
	record *Record
	cancel context.CancelCauseFunc
}

// NewRegistry returns a registry that admits at most maxLive conversations at once and
// remembers the last maxRecent ended ones.
func NewRegistry(maxLive, maxRecent int) *Registry {
	return &Registry{maxLive: maxLive, maxRecent: maxRecent, live: make(map[string]*entry)}
}

// Register admits a conversation. cancel ends it when the registry closes everything.
// The returned release must be called exactly once when the conversation has ended.
func (r *Registry) Register(rec *Record, cancel context.CancelCauseFunc) (release func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.live) >= r.maxLive {
		return nil, ErrBusy
	}
	id := rec.r.ID
	r.live[id] = &entry{record: rec, cancel: cancel}
	var once sync.Once
	return func() { once.Do(func() { r.release(id) }) }, nil
}

func (r *Registry) release(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.live[id]
	if !ok {
		return
	}
	delete(r.live, id)
	if r.maxRecent > 0 {
		if len(r.recent) == r.maxRecent {
			copy(r.recent, r.recent[1:])
			r.recent = r.recent[:len(r.recent)-1]
		}
		r.recent = append(r.recent, e.record)
	}
	if len(r.live) == 0 && r.idle != nil {
		close(r.idle)
		r.idle = nil
	}
}

// Active returns the number of live conversations.
func (r *Registry) Active() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live)
}

// Lookup returns the record of a live or recently ended conversation by its id or its
// phone call id.
func (r *Registry) Lookup(id string) (RecordView, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.live[id]; ok {
		return e.record.View(), true
	}
	for _, e := range r.live {
		if e.record.r.CallSID == id {
			return e.record.View(), true
		}
	}
	for i := len(r.recent) - 1; i >= 0; i-- {
		rec := r.recent[i]
		if rec.r.ID == id || (rec.r.CallSID != "" && rec.r.CallSID == id) {
			return rec.View(), true
		}
	}
	return RecordView{}, false
}

// CancelAll ends every live conversation with the given cause.
func (r *Registry) CancelAll(cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.live {
		e.cancel(cause)
	}
}

// Wait blocks until no conversation is live or ctx ends.
func (r *Registry) Wait(ctx context.Context) error {
	r.mu.Lock()
	if len(r.live) == 0 {
		r.mu.Unlock()
		return nil
	}
	if r.idle == nil {
		r.idle = make(chan struct{})
	}
	idle := r.idle
	r.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Full reports whether a new conversation would be turned away.
func (r *Registry) Full() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live) >= r.maxLive
}
