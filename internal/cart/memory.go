package cart

import (
	"container/list"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of MemoryConfig.
const (
	DefaultMaxEntries = 10000
	DefaultTTL        = 30 * time.Minute
	// MaxKeyLength bounds a cart key in bytes.
	MaxKeyLength = 256
)

// MemoryConfig configures a MemoryStore. Zero fields take their defaults.
type MemoryConfig struct {
	// MaxEntries is the most carts kept; adding one more evicts the least recently
	// used cart that is not in use. Default 10000.
	MaxEntries int
	// TTL is how long a cart is kept after its last use (Update or Get). Default 30 min.
	TTL time.Duration
	// Now returns the current time; tests inject a clock. Default time.Now.
	Now func() time.Time
}

// EvictionReason is the cause of a dropped cart and the label of the eviction metric.
type EvictionReason string

// Reasons a MemoryStore drops a cart.
const (
	EvictedCapacity EvictionReason = "capacity"
	EvictedExpired  EvictionReason = "expired"
)

// Stats are counters of a MemoryStore.
type Stats struct {
	// Entries is the number of carts stored now.
	Entries int
	// Evictions counts dropped carts by reason since the store was made.
	Evictions map[EvictionReason]uint64
	// Rejected counts new carts refused with ErrFull.
	Rejected uint64
}

// MemoryStore is a Store in process memory, bounded by MaxEntries and expiring carts
// idle longer than TTL. Expiry happens when an expired cart is next looked up and in
// ExpireLoop, which the owner runs; the store starts no goroutine itself. It is safe
// for concurrent use.
type MemoryStore struct {
	maxEntries int
	ttl        time.Duration
	now        func() time.Time

	mu        sync.Mutex
	entries   map[string]*entry
	recency   list.List // of *entry, most recently used first
	closed    bool
	evictions map[EvictionReason]uint64
	rejected  uint64
}

// entry is one stored cart. A call that holds the token in lock owns the cart for a
// change. The other fields are guarded by MemoryStore.mu, and only the lock holder
// writes cart.
type entry struct {
	key      string
	lock     chan struct{}
	cart     Cart
	element  *list.Element
	lastUsed time.Time
	// users counts calls between lookup and release; an entry in use is never
	// evicted or expired.
	users int
	// fresh marks a cart created by an Update that has not stored it yet.
	fresh   bool
	removed bool
}

// NewMemoryStore returns an empty store.
func NewMemoryStore(cfg MemoryConfig) *MemoryStore {
	s := &MemoryStore{
		maxEntries: cfg.MaxEntries,
		ttl:        cfg.TTL,
		now:        cfg.Now,
		entries:    make(map[string]*entry),
		evictions:  make(map[EvictionReason]uint64, 2),
	}
	if s.maxEntries <= 0 {
		s.maxEntries = DefaultMaxEntries
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Update implements Store. It waits for the cart's lock until ctx ends, and returns
// ErrFull when a new cart cannot be added because every stored cart is in use.
func (s *MemoryStore) Update(ctx context.Context, key, restaurantID string, fn func(*Cart) error) (Cart, error) {
	if err := checkKey(key); err != nil {
		return Cart{}, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return Cart{}, err
		}
		e, err := s.acquire(key, restaurantID)
		if err != nil {
			return Cart{}, err
		}
		select {
		case e.lock <- struct{}{}:
		case <-ctx.Done():
			s.release(e, nil)
			return Cart{}, ctx.Err()
		}
		if s.isRemoved(e) {
			// Deleted or closed while this call waited: start again with a new cart,
			// or learn that the store is closed.
			s.release(e, nil)
			<-e.lock
			continue
		}
		return s.apply(e, restaurantID, fn)
	}
}

// apply runs fn on a copy of the locked entry's cart and stores the copy when fn
// succeeds. The deferred release stores the result before the entry is unlocked, so
// that the next holder reads it, and it unlocks the entry even when fn panics.
func (s *MemoryStore) apply(e *entry, restaurantID string, fn func(*Cart) error) (Cart, error) {
	var saved *Cart
	defer func() {
		s.release(e, saved)
		<-e.lock
	}()

	current := e.cart
	if restaurantID != "" && current.RestaurantID != "" && current.RestaurantID != restaurantID {
		return current.Clone(), fmt.Errorf("update cart %q: it belongs to restaurant %q, not %q", e.key, current.RestaurantID, restaurantID)
	}
	work := current.Clone()
	if err := fn(&work); err != nil {
		return current.Clone(), err
	}
	// The store owns the cart's identity; fn changes only its content.
	work.Key, work.Instance, work.CreatedAt = current.Key, current.Instance, current.CreatedAt
	if work.Version != current.Version {
		work.UpdatedAt = s.now()
	}
	saved = &work
	return work.Clone(), nil
}

// Get implements Store. It does not wait for a change in progress; it returns the
// cart as last stored. A Get counts as use for expiry and eviction.
func (s *MemoryStore) Get(ctx context.Context, key string) (Cart, bool, error) {
	if err := ctx.Err(); err != nil {
		return Cart{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Cart{}, false, ErrClosed
	}
	e := s.lookup(key)
	if e == nil || e.fresh {
		return Cart{}, false, nil
	}
	s.touch(e)
	return e.cart.Clone(), true, nil
}

// Delete implements Store. It waits for a change in progress on the cart to finish.
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	e := s.entries[key]
	if e == nil {
		s.mu.Unlock()
		return nil
	}
	e.users++
	s.mu.Unlock()

	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		s.release(e, nil)
		return ctx.Err()
	}
	s.mu.Lock()
	s.remove(e)
	e.users--
	s.mu.Unlock()
	<-e.lock
	return nil
}

// Len implements Store.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Close implements Store: it drops every cart. Changes in progress finish, but what
// they store is dropped.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, e := range s.entries {
		e.removed = true
	}
	clear(s.entries)
	s.recency.Init()
	return nil
}

// Stats returns the store's counters.
func (s *MemoryStore) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := make(map[EvictionReason]uint64, len(s.evictions))
	for k, v := range s.evictions {
		ev[k] = v
	}
	return Stats{Entries: len(s.entries), Evictions: ev, Rejected: s.rejected}
}

// ExpireNow removes every cart idle longer than TTL that is not in use and returns
// how many it removed.
func (s *MemoryStore) ExpireNow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	removed := 0
	// Entries move to the front when used, so the oldest are at the back.
	for el := s.recency.Back(); el != nil; {
		e := el.Value.(*entry)
		el = el.Prev()
		if e.users > 0 {
			continue
		}
		if now.Sub(e.lastUsed) <= s.ttl {
			break
		}
		s.remove(e)
		s.evictions[EvictedExpired]++
		removed++
	}
	return removed
}

// ExpireLoop removes idle carts every interval until ctx ends or the store is
// closed. It returns nil then, and an error only for an interval that is not
// positive.
func (s *MemoryStore) ExpireLoop(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("cart expiry: interval must be positive (got %s)", interval)
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		if s.isClosed() {
			return nil
		}
		s.ExpireNow()
	}
}

// acquire returns the entry for key, creating it when absent, and marks it in use.
func (s *MemoryStore) acquire(key, restaurantID string) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	e := s.lookup(key)
	if e == nil {
		if len(s.entries) >= s.maxEntries && !s.evictOne() {
			s.rejected++
			return nil, fmt.Errorf("add cart %q: %w (%d carts, all in use)", key, ErrFull, len(s.entries))
		}
		now := s.now()
		e = &entry{
			key:   key,
			lock:  make(chan struct{}, 1),
			fresh: true,
			cart: Cart{
				Key:          key,
				RestaurantID: restaurantID,
				Instance:     rand.Text(),
				CreatedAt:    now,
				UpdatedAt:    now,
			},
		}
		e.element = s.recency.PushFront(e)
		s.entries[key] = e
	}
	e.users++
	s.touch(e)
	return e, nil
}

// release ends a use of e begun by acquire, storing saved when it is not nil. A
// fresh cart that no call stored is dropped once no call uses it.
func (s *MemoryStore) release(e *entry, saved *Cart) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.users--
	if saved != nil {
		e.cart = *saved
		e.fresh = false
	}
	if e.removed {
		return
	}
	if e.fresh && e.users == 0 {
		s.remove(e)
		return
	}
	s.touch(e)
}

// lookup returns the live entry for key, removing it first when it has expired.
// s.mu must be held.
func (s *MemoryStore) lookup(key string) *entry {
	e := s.entries[key]
	if e == nil {
		return nil
	}
	if e.users == 0 && s.now().Sub(e.lastUsed) > s.ttl {
		s.remove(e)
		s.evictions[EvictedExpired]++
		return nil
	}
	return e
}

// evictOne removes the least recently used entry that is not in use. s.mu must be
// held.
func (s *MemoryStore) evictOne() bool {
	for el := s.recency.Back(); el != nil; el = el.Prev() {
		e := el.Value.(*entry)
		if e.users > 0 {
			continue
		}
		s.remove(e)
		s.evictions[EvictedCapacity]++
		return true
	}
	return false
}

func (s *MemoryStore) touch(e *entry) {
	e.lastUsed = s.now()
	s.recency.MoveToFront(e.element)
}

func (s *MemoryStore) remove(e *entry) {
	if e.removed {
		return
	}
	e.removed = true
	delete(s.entries, e.key)
	s.recency.Remove(e.element)
}

func (s *MemoryStore) isRemoved(e *entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.removed
}

func (s *MemoryStore) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("cart key is empty")
	case len(key) > MaxKeyLength:
		return fmt.Errorf("cart key is %d bytes, longer than %d", len(key), MaxKeyLength)
	}
	return nil
}
