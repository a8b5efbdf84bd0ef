package order_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/order"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openStore(t *testing.T, path string) *order.SQLiteStore {
	t.Helper()
	s, err := order.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newOrder returns a valid order of quantity lattes at 425 cents with 8.875 % tax.
func newOrder(restaurant, key string, quantity int) order.Order {
	line := cart.Line{ID: "L1", ItemID: "latte", Name: "Latte", SizeID: "small", SizeName: "Small",
		Modifiers: []cart.Modifier{{GroupID: "milk", OptionID: "oat", Name: "Oat milk", Amount: "extra", Price: 70}},
		Quantity:  quantity, UnitPrice: 495, Total: 495 * int64(quantity)}
	subtotal := line.Total
	tax := cart.Tax(subtotal, 88750)
	return order.Order{
		RestaurantID: restaurant, SessionID: "session-1", IdempotencyKey: key, CustomerName: "Ada",
		Lines: []cart.Line{line}, Subtotal: subtotal, Tax: tax, Total: subtotal + tax, Currency: "USD",
		CreatedAt: time.Date(2025, 6, 2, 8, 30, 0, 123, time.FixedZone("EDT", -4*3600)),
	}
}

func TestCreateAndGet(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "orders.db"))
	ctx := context.Background()

	want := newOrder("cafe", "k1", 2)
	got, created, err := s.Create(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Errorf("created = false for a new key")
	}
	if got.Number != "101" {
		t.Errorf("first Number = %q, want 101", got.Number)
	}
	if got.ID == "" || got.Status != order.StatusPlaced {
		t.Errorf("ID %q, Status %q; want an id and placed", got.ID, got.Status)
	}
	if got.CreatedAt.Location() != time.UTC || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %s, want %s in UTC", got.CreatedAt, want.CreatedAt)
	}

	read, err := s.Get(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if read.Number != got.Number || read.Total != want.Total || read.CustomerName != "Ada" || read.SessionID != "session-1" ||
		!read.CreatedAt.Equal(got.CreatedAt) || len(read.Lines) != 1 || read.Lines[0].Modifiers[0].Amount != "extra" {
		t.Errorf("Get returned %+v, want %+v", read, got)
	}

	second, _, err := s.Create(ctx, newOrder("cafe", "k2", 1))
	if err != nil {
		t.Fatal(err)
	}
	if second.Number != "102" {
		t.Errorf("second Number = %q, want 102", second.Number)
	}
	other, _, err := s.Create(ctx, newOrder("other-cafe", "k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	if other.Number != "101" {
		t.Errorf("other restaurant's first Number = %q, want 101", other.Number)
	}

	if _, err := s.Get(ctx, "no-such-id"); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("Get(unknown) error = %v, want ErrNotFound", err)
	}
}

func TestCreateIdempotent(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "orders.db"))
	ctx := context.Background()
	first, _, err := s.Create(ctx, newOrder("cafe", "same-key", 1))
	if err != nil {
		t.Fatal(err)
	}
	again, created, err := s.Create(ctx, newOrder("cafe", "same-key", 3))
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Errorf("created = true for a repeated idempotency key")
	}
	if again.ID != first.ID || again.Number != first.Number || again.Lines[0].Quantity != 1 {
		t.Errorf("repeat returned %s #%s × %d, want the original %s #%s × 1", again.ID, again.Number, again.Lines[0].Quantity, first.ID, first.Number)
	}
	list, err := s.List(ctx, "cafe", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("List has %d orders after a repeated create, want 1", len(list))
	}
}

func TestCreateConcurrentNumbers(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "orders.db"))
	ctx := context.Background()
	const workers = 50

	var wg sync.WaitGroup
	results := make(chan order.Order, workers)
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			o, created, err := s.Create(ctx, newOrder("cafe", fmt.Sprintf("key-%d", i), 1))
			if err == nil && !created {
				err = fmt.Errorf("key-%d: created = false", i)
			}
			if err != nil {
				errs <- err
				return
			}
			results <- o
		})
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var numbers []int
	for o := range results {
		n, err := strconv.Atoi(o.Number)
		if err != nil {
			t.Fatalf("Number %q is not a number", o.Number)
		}
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for i, n := range numbers {
		if n != order.FirstNumber+i {
			t.Fatalf("numbers = %v, want %d..%d each once", numbers, order.FirstNumber, order.FirstNumber+workers-1)
		}
	}
}

func TestReopenReadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "orders.db")
	ctx := context.Background()

	s, err := order.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		o, _, err := s.Create(ctx, newOrder("cafe", fmt.Sprintf("k%d", i), i+1))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, path)
	o, err := s.Get(ctx, ids[1])
	if err != nil {
		t.Fatalf("Get after reopening: %v", err)
	}
	if o.Number != "102" || o.Lines[0].Quantity != 2 {
		t.Errorf("reopened order #%s × %d, want #102 × 2", o.Number, o.Lines[0].Quantity)
	}
	list, err := s.List(ctx, "cafe", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] {
		t.Errorf("List(limit 2) = %d orders, want the newest two, newest first", len(list))
	}
	next, _, err := s.Create(ctx, newOrder("cafe", "k-after", 1))
	if err != nil {
		t.Fatal(err)
	}
	if next.Number != "104" {
		t.Errorf("Number after reopening = %q, want 104", next.Number)
	}
	again, created, err := s.Create(ctx, newOrder("cafe", "k0", 1))
	if err != nil || created || again.ID != ids[0] {
		t.Errorf("idempotent create after reopening = %s, created %v, %v; want %s, false", again.ID, created, err, ids[0])
	}
}

func TestCreateRejectsInvalid(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "orders.db"))
	tests := []struct {
		name   string
		change func(*order.Order)
	}{
		{"no restaurant", func(o *order.Order) { o.RestaurantID = "" }},
		{"no idempotency key", func(o *order.Order) { o.IdempotencyKey = "" }},
		{"no lines", func(o *order.Order) { o.Lines = nil }},
		{"line total wrong", func(o *order.Order) { o.Lines[0].Total++ }},
		{"subtotal wrong", func(o *order.Order) { o.Subtotal++ }},
		{"total wrong", func(o *order.Order) { o.Total++ }},
		{"customer name too long", func(o *order.Order) { o.CustomerName = string(make([]rune, order.MaxCustomerName+1)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrder("cafe", "k", 1)
			tt.change(&o)
			if _, _, err := s.Create(context.Background(), o); err == nil {
				t.Errorf("Create succeeded, want an error")
			}
		})
	}
	if list, _ := s.List(context.Background(), "cafe", 0); len(list) != 0 {
		t.Errorf("rejected creates stored %d orders", len(list))
	}
}

func TestCreateContextCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	s := openStore(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Create(ctx, newOrder("cafe", "k", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a canceled context = %v, want context.Canceled", err)
	}

	// Another process holds the write lock; Create gives up when its deadline passes.
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = s.Create(ctx, newOrder("cafe", "k", 1))
	if err == nil {
		t.Fatalf("Create while another connection holds the write lock succeeded")
	}
	t.Logf("Create gave up after %s: %v", time.Since(start), err)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Create took %s to give up, want about its 200ms deadline", elapsed)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}

	list, err := s.List(context.Background(), "cafe", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("canceled creates stored %d orders", len(list))
	}
	if _, _, err := s.Create(context.Background(), newOrder("cafe", "k", 1)); err != nil {
		t.Errorf("Create after the lock was released: %v", err)
	}
}

func TestOpenSQLiteErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := order.OpenSQLite(ctx, ""); err == nil {
		t.Errorf("OpenSQLite(\"\") succeeded")
	}
	if _, err := order.OpenSQLite(ctx, filepath.Join(t.TempDir(), "a?b.db")); err == nil {
		t.Errorf("OpenSQLite with '?' in the path succeeded")
	}

	path := filepath.Join(t.TempDir(), "future.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := order.OpenSQLite(ctx, path); err == nil {
		s.Close()
		t.Errorf("OpenSQLite of a newer schema succeeded")
	}
}

func TestClose(t *testing.T) {
	s, err := order.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, _, err := s.Create(ctx, newOrder("cafe", "k", 1)); !errors.Is(err, order.ErrClosed) {
		t.Errorf("Create after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Get(ctx, "x"); !errors.Is(err, order.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if _, err := s.List(ctx, "cafe", 1); !errors.Is(err, order.ErrClosed) {
		t.Errorf("List after Close = %v, want ErrClosed", err)
	}
}

func BenchmarkCreate(b *testing.B) {
	s, err := order.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "orders.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, _, err := s.Create(ctx, newOrder("cafe", strconv.Itoa(i), 1)); err != nil {
			b.Fatal(err)
		}
	}
}
