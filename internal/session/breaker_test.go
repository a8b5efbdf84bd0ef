package session

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// acquireNow returns the ticket Acquire gives without waiting, or nil and the error
// when it would wait or fails.
func acquireNow(t *testing.T, b *Breaker) (*Ticket, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return b.Acquire(ctx)
}

func TestBreakerLimitsUnconfirmedDials(t *testing.T) {
	b := NewBreaker(BreakerConfig{Threshold: 3, CoolDown: time.Minute})
	var tickets []*Ticket
	for i := range 3 {
		tk, err := acquireNow(t, b)
		if err != nil {
			t.Fatalf("dial %d before any outcome: %v, want admitted", i+1, err)
		}
		tickets = append(tickets, tk)
	}
	if _, err := acquireNow(t, b); !errors.Is(err, context.Canceled) {
		t.Errorf("fourth unconfirmed dial: %v, want it to wait", err)
	}
	tickets[0].Succeed()
	for i := range 5 {
		if _, err := acquireNow(t, b); err != nil {
			t.Errorf("dial %d after a confirmed connection: %v, want admitted", i+1, err)
		}
	}
}

func TestBreakerOpensAfterThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBreaker(BreakerConfig{Threshold: 3, CoolDown: time.Minute})
		for range 3 {
			tk, err := acquireNow(t, b)
			if err != nil {
				t.Fatal(err)
			}
			tk.Fail(false)
		}
		if !b.Open() {
			t.Fatal("breaker closed after 3 failures, want open")
		}
		if _, err := acquireNow(t, b); !errors.Is(err, ErrBreakerOpen) {
			t.Errorf("dial while open: %v, want ErrBreakerOpen", err)
		}

		time.Sleep(time.Minute)
		probe, err := acquireNow(t, b)
		if err != nil {
			t.Fatalf("probe after the cool-down: %v, want admitted", err)
		}
		if _, err := acquireNow(t, b); err == nil {
			t.Error("a second dial during the probe was admitted, want it to wait")
		}
		probe.Fail(false)
		if !b.Open() {
			t.Error("breaker closed after the probe failed, want open again")
		}
		if got := b.Opened(); got != 2 {
			t.Errorf("Opened() = %d, want 2", got)
		}
	})
}

func TestBreakerFatalOpensAtOnce(t *testing.T) {
	b := NewBreaker(BreakerConfig{Threshold: 5})
	tk, err := acquireNow(t, b)
	if err != nil {
		t.Fatal(err)
	}
	tk.Fail(true)
	if !b.Open() {
		t.Error("breaker closed after a fatal failure, want open")
	}
}

func TestBreakerWaiterWakesOnOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBreaker(BreakerConfig{Threshold: 1, CoolDown: time.Minute})
		first, err := acquireNow(t, b)
		if err != nil {
			t.Fatal(err)
		}
		result := make(chan error, 1)
		go func() {
			_, err := b.Acquire(context.Background())
			result <- err
		}()
		synctest.Wait() // the second dial waits for the first one's outcome
		first.Fail(false)
		if err := <-result; !errors.Is(err, ErrBreakerOpen) {
			t.Errorf("waiting dial: %v, want ErrBreakerOpen once the breaker opened", err)
		}
	})
}

func TestBreakerReleaseFreesSlot(t *testing.T) {
	b := NewBreaker(BreakerConfig{Threshold: 1})
	tk, err := acquireNow(t, b)
	if err != nil {
		t.Fatal(err)
	}
	tk.Release()
	tk.Fail(false) // a settled ticket ignores later outcomes
	if b.Open() {
		t.Error("breaker opened by an outcome after Release, want closed")
	}
	if _, err := acquireNow(t, b); err != nil {
		t.Errorf("dial after a released ticket: %v, want admitted", err)
	}
}

func TestNilBreakerAdmitsAll(t *testing.T) {
	var b *Breaker
	tk, err := b.Acquire(context.Background())
	if err != nil || tk != nil {
		t.Errorf("nil breaker Acquire = (%v, %v), want (nil, nil)", tk, err)
	}
	tk.Succeed() // a nil ticket does nothing
	b.Trip()
	if b.Open() {
		t.Error("nil breaker reports open")
	}
}

func TestReconnectDelayJitteredAndCapped(t *testing.T) {
	p := ReconnectPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: 500 * time.Millisecond}.withDefaults()
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 200 * time.Millisecond, 400 * time.Millisecond},
		{10, 250 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		for range 50 {
			if d := p.delay(tt.attempt); d < tt.min || d > tt.max {
				t.Errorf("delay(%d) = %v, want within [%v, %v]", tt.attempt, d, tt.min, tt.max)
			}
		}
	}
}
