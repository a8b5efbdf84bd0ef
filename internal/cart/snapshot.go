package cart

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Snapshot returns a copy of every stored cart that has lines and was not submitted:
// the carts a restart would otherwise lose. Carts being changed right now are copied
// as last saved.
func (s *MemoryStore) Snapshot() []Cart {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Cart
	for e := s.recency.Back(); e != nil; e = e.Prev() {
		en := e.Value.(*entry)
		if en.fresh || len(en.cart.Lines) == 0 {
			continue
		}
		out = append(out, en.cart.Clone())
	}
	return out
}

// Restore adds carts saved by Snapshot, skipping those idle longer than the TTL and
// those whose key is already stored. It returns how many it added; it stops adding
// when the store is full rather than evicting live carts.
func (s *MemoryStore) Restore(carts []Cart) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	now := s.now()
	added := 0
	for _, c := range carts {
		if checkKey(c.Key) != nil || now.Sub(c.UpdatedAt) > s.ttl || s.entries[c.Key] != nil {
			continue
		}
		if len(s.entries) >= s.maxEntries {
			break
		}
		e := &entry{key: c.Key, lock: make(chan struct{}, 1), cart: c.Clone(), lastUsed: now}
		e.element = s.recency.PushFront(e)
		s.entries[c.Key] = e
		added++
	}
	return added
}

// SaveSnapshotFile writes the carts to path atomically: a crash mid-write leaves the
// previous file, never a partial one.
func SaveSnapshotFile(path string, carts []Cart) error {
	data, err := json.Marshal(carts)
	if err != nil {
		return fmt.Errorf("encode cart snapshot: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".carts-*.json")
	if err != nil {
		return fmt.Errorf("save cart snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save cart snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save cart snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save cart snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save cart snapshot: %w", err)
	}
	return nil
}

// LoadSnapshotFile reads carts saved by SaveSnapshotFile and removes the file, so a
// cart is restored once. A missing file is no carts.
func LoadSnapshotFile(path string) ([]Cart, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load cart snapshot: %w", err)
	}
	var carts []Cart
	if err := json.Unmarshal(data, &carts); err != nil {
		return nil, fmt.Errorf("load cart snapshot %s: %w; move the file away to start without it", path, err)
	}
	if err := os.Remove(path); err != nil {
		return nil, fmt.Errorf("remove restored cart snapshot: %w", err)
	}
	return carts, nil
}
