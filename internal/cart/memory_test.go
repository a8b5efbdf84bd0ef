package cart_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/voiceorder/voiceorder/internal/cart"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable time source for MemoryConfig.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryStoreUpdateAndGet(t *testing.T) {
	cat := catalog(t)
	clk := newClock()
	s := cart.NewMemoryStore(cart.MemoryConfig{Now: clk.Now})
	defer s.Close()
	ctx := context.Background()

	if _, ok, err := s.Get(ctx, "a"); ok || err != nil {
		t.Fatalf("Get on empty store = %v, %v; want false, nil", ok, err)
	}
	got, err := s.Update(ctx, "a", "corner-cafe", func(c *cart.Cart) error {
		_, err := c.Add(cat, cart.AddRequest{ItemID: "latte"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != "a" || got.RestaurantID != "corner-cafe" || got.Version != 1 || got.Instance == "" {
		t.Errorf("Update returned key %q, restaurant %q, version %d, instance %q", got.Key, got.RestaurantID, got.Version, got.Instance)
	}
	if !got.UpdatedAt.Equal(clk.Now()) || !got.CreatedAt.Equal(clk.Now()) {
		t.Errorf("CreatedAt %s, UpdatedAt %s; want both %s", got.CreatedAt, got.UpdatedAt, clk.Now())
	}

	// The returned cart is a copy.
	got.Lines[0].Quantity = 50
	stored, ok, err := s.Get(ctx, "a")
	if err != nil || !ok {
		t.Fatalf("Get after Update = %v, %v", ok, err)
	}
	if stored.Lines[0].Quantity != 1 {
		t.Errorf("changing a returned cart changed the stored one (quantity %d)", stored.Lines[0].Quantity)
	}

	// A read-only fn stores no new version and keeps UpdatedAt.
	clk.Advance(time.Minute)
	again, err := s.Update(ctx, "a", "corner-cafe", func(c *cart.Cart) error {
		c.Key = "hijacked"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != 1 || !again.UpdatedAt.Equal(stored.UpdatedAt) || again.Key != "a" || again.Instance != stored.Instance {
		t.Errorf("read-only Update: version %d, updated %s, key %q, instance %q", again.Version, again.UpdatedAt, again.Key, again.Instance)
	}
	if s.Len() != 1 {
		t.Errorf("Len = %d, want 1", s.Len())
	}
}

func TestMemoryStoreFnErrorStoresNothing(t *testing.T) {
	cat := catalog(t)
	s := cart.NewMemoryStore(cart.MemoryConfig{})
	defer s.Close()
	ctx := context.Background()
	errBoom := errors.New("boom")

	_, err := s.Update(ctx, "new", "corner-cafe", func(c *cart.Cart) error { return errBoom })
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update error = %v, want %v", err, errBoom)
	}
	if _, ok, _ := s.Get(ctx, "new"); ok || s.Len() != 0 {
		t.Errorf("a failed Update of a new cart left it stored (Len %d)", s.Len())
	}

	if _, err := s.Update(ctx, "a", "corner-cafe", func(c *cart.Cart) error {
		_, err := c.Add(cat, cart.AddRequest{ItemID: "latte"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Update(ctx, "a", "corner-cafe", func(c *cart.Cart) error {
		c.Clear()
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update error = %v, want %v", err, errBoom)
	}
	if len(got.Lines) != 1 || got.Version != 1 {
		t.Errorf("failed Update returned %d lines, version %d; want the unchanged cart", len(got.Lines), got.Version)
	}
	stored, _, _ := s.Get(ctx, "a")
	if len(stored.Lines) != 1 {
		t.Errorf("failed Update changed the stored cart")
	}
}

func TestMemoryStoreRejects(t *testing.T) {
	s := cart.NewMemoryStore(cart.MemoryConfig{})
	defer s.Close()
	ctx := context.Background()
	noop := func(*cart.Cart) error { return nil }
	if _, err := s.Update(ctx, "", "r", noop); err == nil {
		t.Errorf("Update with an empty key succeeded")
	}
	if _, err := s.Update(ctx, strings.Repeat("k", cart.MaxKeyLength+1), "r", noop); err == nil {
		t.Errorf("Update with a long key succeeded")
	}
	if _, err := s.Update(ctx, "a", "r1", func(c *cart.Cart) error { c.Version++; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "a", "r2", noop); err == nil {
		t.Errorf("Update of another restaurant's cart succeeded")
	}
}

func TestMemoryStoreCapacity(t *testing.T) {
	clk := newClock()
	s := cart.NewMemoryStore(cart.MemoryConfig{MaxEntries: 3, Now: clk.Now})
	defer s.Close()
	ctx := context.Background()
	bump := func(c *cart.Cart) error { c.Version++; return nil }

	for i := range 10 {
		key := fmt.Sprintf("k%d", i)
		if _, err := s.Update(ctx, key, "r", bump); err != nil {
			t.Fatalf("Update %s: %v", key, err)
		}
		if s.Len() > 3 {
			t.Fatalf("Len = %d after %s, want at most 3", s.Len(), key)
		}
		clk.Advance(time.Second)
		// Keep k0 in use, so the least recently used cart is always another one.
		if _, _, err := s.Get(ctx, "k0"); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Entries != 3 || st.Evictions[cart.EvictedCapacity] != 7 || st.Evictions[cart.EvictedExpired] != 0 {
		t.Errorf("Stats = %+v, want 3 entries and 7 capacity evictions", st)
	}
	for _, key := range []string{"k0", "k8", "k9"} {
		if _, ok, _ := s.Get(ctx, key); !ok {
			t.Errorf("recently used cart %s was evicted", key)
		}
	}
}

func TestMemoryStoreFullWhenAllInUse(t *testing.T) {
	s := cart.NewMemoryStore(cart.MemoryConfig{MaxEntries: 1})
	defer s.Close()
	ctx := context.Background()

	entered := make(chan struct{})
	leave := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Update(ctx, "busy", "r", func(c *cart.Cart) error {
			close(entered)
			<-leave
			c.Version++
			return nil
		})
		done <- err
	}()
	<-entered
	_, err := s.Update(ctx, "other", "r", func(*cart.Cart) error { return nil })
	if !errors.Is(err, cart.ErrFull) {
		t.Errorf("Update while the only cart is in use = %v, want ErrFull", err)
	}
	close(leave)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Rejected; got != 1 {
		t.Errorf("Rejected = %d, want 1", got)
	}
	if _, err := s.Update(ctx, "other", "r", func(*cart.Cart) error { return nil }); err != nil {
		t.Errorf("Update after the cart was released: %v", err)
	}
}

func TestMemoryStoreExpiry(t *testing.T) {
	clk := newClock()
	s := cart.NewMemoryStore(cart.MemoryConfig{TTL: 30 * time.Minute, Now: clk.Now})
	defer s.Close()
	ctx := context.Background()
	bump := func(c *cart.Cart) error { c.Version++; return nil }

	for _, key := range []string{"a", "b", "c"} {
		if _, err := s.Update(ctx, key, "r", bump); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(29 * time.Minute)
	if _, ok, _ := s.Get(ctx, "a"); !ok {
		t.Fatalf("cart a expired before its TTL")
	}
	clk.Advance(2 * time.Minute) // b and c idle 31 min, a idle 2 min

	if _, ok, _ := s.Get(ctx, "b"); ok {
		t.Errorf("Get returned cart b idle longer than the TTL")
	}
	if n := s.ExpireNow(); n != 1 {
		t.Errorf("ExpireNow removed %d carts, want 1 (c)", n)
	}
	if s.Len() != 1 {
		t.Errorf("Len = %d, want 1", s.Len())
	}
	if got := s.Stats().Evictions[cart.EvictedExpired]; got != 2 {
		t.Errorf("expired evictions = %d, want 2", got)
	}

	// An expired key starts a new cart with a new instance.
	old, _, _ := s.Get(ctx, "a")
	clk.Advance(31 * time.Minute)
	fresh, err := s.Update(ctx, "a", "r", bump)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Version != 1 || fresh.Instance == old.Instance {
		t.Errorf("cart after expiry: version %d, instance same as before: %v", fresh.Version, fresh.Instance == old.Instance)
	}
}

func TestExpireLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cart.NewMemoryStore(cart.MemoryConfig{TTL: time.Minute})
		defer s.Close()
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := s.Update(ctx, "a", "r", func(c *cart.Cart) error { c.Version++; return nil }); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.ExpireLoop(ctx, 10*time.Second) }()

		time.Sleep(55 * time.Second)
		synctest.Wait()
		if s.Len() != 1 {
			t.Errorf("Len = %d before the TTL passed, want 1", s.Len())
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if s.Len() != 0 {
			t.Errorf("Len = %d after the TTL and a sweep, want 0", s.Len())
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ExpireLoop returned %v after cancel, want nil", err)
		}
	})
	s := cart.NewMemoryStore(cart.MemoryConfig{})
	if err := s.ExpireLoop(context.Background(), 0); err == nil {
		t.Errorf("ExpireLoop with interval 0 succeeded")
	}
}

func TestMemoryStoreConcurrentUpdate(t *testing.T) {
	cat := catalog(t)
	s := cart.NewMemoryStore(cart.MemoryConfig{})
	defer s.Close()
	ctx := context.Background()
	const workers = 50

	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for range workers {
		for _, key := range []string{"shared", "other"} {
			wg.Go(func() {
				_, err := s.Update(ctx, key, "corner-cafe", func(c *cart.Cart) error {
					_, err := c.Add(cat, cart.AddRequest{ItemID: "latte"})
					return err
				})
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"shared", "other"} {
		c, _, _ := s.Get(ctx, key)
		if len(c.Lines) != 1 || c.Lines[0].Quantity != workers || c.Subtotal != workers*425 || c.Version != workers {
			t.Errorf("cart %s: %d lines, quantity %d, subtotal %d, version %d; want 1, %d, %d, %d",
				key, len(c.Lines), c.Quantity(), c.Subtotal, c.Version, workers, workers*425, workers)
		}
	}
}

// holdCart runs an Update on key whose fn blocks until the returned release is
// called; it returns once fn is running.
func holdCart(t *testing.T, s cart.Store, key string) (release func() error) {
	t.Helper()
	entered := make(chan struct{})
	leave := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Update(context.Background(), key, "r", func(c *cart.Cart) error {
			close(entered)
			<-leave
			c.Version++
			return nil
		})
		done <- err
	}()
	<-entered
	return func() error {
		close(leave)
		return <-done
	}
}

func TestMemoryStoreLocksPerCart(t *testing.T) {
	s := cart.NewMemoryStore(cart.MemoryConfig{})
	defer s.Close()
	release := holdCart(t, s, "a")

	// Another cart is not blocked by a's lock.
	if _, err := s.Update(context.Background(), "b", "r", func(c *cart.Cart) error { c.Version++; return nil }); err != nil {
		t.Errorf("Update of b while a is locked: %v", err)
	}
	// Get returns a's last stored state without waiting.
	if _, ok, err := s.Get(context.Background(), "a"); ok || err != nil {
		t.Errorf("Get of a cart being created = %v, %v; want false, nil", ok, err)
	}

	if err := release(); err != nil {
		t.Fatal(err)
	}
	if c, ok, _ := s.Get(context.Background(), "a"); !ok || c.Version != 1 {
		t.Errorf("cart a after release: found %v, version %d; want true, 1", ok, c.Version)
	}
}

func TestMemoryStoreWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cart.NewMemoryStore(cart.MemoryConfig{})
		defer s.Close()
		release := holdCart(t, s, "a")

		ctx, cancel := context.WithCancel(context.Background())
		waited := make(chan error, 1)
		go func() {
			_, err := s.Update(ctx, "a", "r", func(*cart.Cart) error { return nil })
			waited <- err
		}()
		synctest.Wait() // the Update is now blocked on a's lock
		select {
		case err := <-waited:
			t.Fatalf("Update of a locked cart returned %v before its context ended", err)
		default:
		}
		cancel()
		if err := <-waited; !errors.Is(err, context.Canceled) {
			t.Errorf("Update waiting for a locked cart = %v, want context.Canceled", err)
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
		if c, _, _ := s.Get(context.Background(), "a"); c.Version != 1 {
			t.Errorf("cart a version = %d, want 1", c.Version)
		}
	})
}

func TestMemoryStoreDelete(t *testing.T) {
	s := cart.NewMemoryStore(cart.MemoryConfig{})
	defer s.Close()
	ctx := context.Background()
	bump := func(c *cart.Cart) error { c.Version++; return nil }

	if err := s.Delete(ctx, "missing"); err != nil {
		t.Errorf("Delete of a missing cart: %v", err)
	}
	if _, err := s.Update(ctx, "a", "r", bump); err != nil {
		t.Fatal(err)
	}
	release := holdCart(t, s, "a")
	deleted := make(chan error, 1)
	go func() { deleted <- s.Delete(ctx, "a") }()
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get(ctx, "a"); ok || s.Len() != 0 {
		t.Errorf("cart a still stored after Delete (Len %d)", s.Len())
	}
	c, err := s.Update(ctx, "a", "r", bump)
	if err != nil || c.Version != 1 {
		t.Errorf("Update after Delete = version %d, %v; want a new cart", c.Version, err)
	}
}

func TestMemoryStorePanicUnlocks(t *testing.T) {
	s := cart.NewMemoryStore(cart.MemoryConfig{})
	defer s.Close()
	ctx := context.Background()
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("panic in fn did not reach the caller")
			}
		}()
		s.Update(ctx, "a", "r", func(*cart.Cart) error { panic("fn failed") })
	}()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.Update(ctx, "a", "r", func(c *cart.Cart) error { c.Version++; return nil }); err != nil {
		t.Errorf("Update after a panicking fn: %v", err)
	}
}

func TestMemoryStoreClose(t *testing.T) {
	s := cart.NewMemoryStore(cart.MemoryConfig{})
	ctx := context.Background()
	if _, err := s.Update(ctx, "a", "r", func(c *cart.Cart) error { c.Version++; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Update(ctx, "a", "r", func(*cart.Cart) error { return nil }); !errors.Is(err, cart.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if _, _, err := s.Get(ctx, "a"); !errors.Is(err, cart.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, cart.ErrClosed) {
		t.Errorf("Delete after Close = %v, want ErrClosed", err)
	}
	if s.Len() != 0 {
		t.Errorf("Len after Close = %d, want 0", s.Len())
	}
}

func BenchmarkMemoryStoreUpdate(b *testing.B) {
	cat := catalog(b)
	s := cart.NewMemoryStore(cart.MemoryConfig{})
	defer s.Close()
	ctx := context.Background()
	req := cart.AddRequest{ItemID: "latte", Modifiers: []cart.Selection{{OptionID: "oat"}}}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			key := fmt.Sprintf("cart-%d", i%1000)
			if _, err := s.Update(ctx, key, "corner-cafe", func(c *cart.Cart) error {
				_, err := c.Add(cat, req)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
