package cart

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/menus"
)

func TestSnapshotRoundTrip(t *testing.T) {
	cat, err := menu.Parse(menus.DefaultName, menus.Default)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	src := NewMemoryStore(MemoryConfig{TTL: time.Hour, Now: clock})
	ctx := context.Background()
	add := func(c *Cart) error {
		_, err := c.Add(cat, AddRequest{ItemID: "latte", SizeID: "large", Quantity: 2})
		return err
	}
	if _, err := src.Update(ctx, "with-lines", "corner-cafe", add); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Update(ctx, "empty", "corner-cafe", func(*Cart) error { return nil }); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "carts.json")
	if err := SaveSnapshotFile(path, src.Snapshot()); err != nil {
		t.Fatal(err)
	}
	carts, err := LoadSnapshotFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(carts) != 1 || carts[0].Key != "with-lines" {
		t.Fatalf("snapshot = %+v, want only the cart with lines", carts)
	}
	if again, err := LoadSnapshotFile(path); err != nil || again != nil {
		t.Errorf("second load = %v, %v; want the file consumed", again, err)
	}

	dst := NewMemoryStore(MemoryConfig{TTL: time.Hour, Now: clock})
	if n := dst.Restore(carts); n != 1 {
		t.Fatalf("Restore added %d carts, want 1", n)
	}
	got, ok, err := dst.Get(ctx, "with-lines")
	if err != nil || !ok {
		t.Fatalf("restored cart missing: %v", err)
	}
	if got.Total != carts[0].Total || got.Lines[0].Quantity != 2 {
		t.Errorf("restored cart = %+v, want %+v", got, carts[0])
	}

	now = now.Add(2 * time.Hour)
	late := NewMemoryStore(MemoryConfig{TTL: time.Hour, Now: clock})
	if n := late.Restore(carts); n != 0 {
		t.Errorf("Restore of expired carts added %d, want 0", n)
	}
}
