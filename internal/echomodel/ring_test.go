package echomodel

import (
	"bytes"
	"testing"
)

func TestRingKeepsLastBytes(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		writes   []string
		want     string
	}{
		{name: "empty", capacity: 4, want: ""},
		{name: "under capacity", capacity: 4, writes: []string{"ab", "c"}, want: "abc"},
		{name: "exactly full", capacity: 4, writes: []string{"ab", "cd"}, want: "abcd"},
		{name: "wraps", capacity: 4, writes: []string{"abc", "de"}, want: "bcde"},
		{name: "one write larger than capacity", capacity: 4, writes: []string{"a", "bcdefg"}, want: "defg"},
		{name: "many small writes", capacity: 3, writes: []string{"a", "b", "c", "d", "e"}, want: "cde"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(tt.capacity)
			for _, w := range tt.writes {
				r.write([]byte(w))
			}
			if got := string(r.appendTo(nil)); got != tt.want {
				t.Errorf("ring holds %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzRing checks the ring against the tail of everything written.
func FuzzRing(f *testing.F) {
	f.Add(5, []byte("hello, world"), 3)
	f.Add(1, []byte("ab"), 1)
	f.Fuzz(func(t *testing.T, capacity int, data []byte, chunk int) {
		if capacity < 1 || capacity > 1<<12 || chunk < 1 {
			t.Skip()
		}
		r := newRing(capacity)
		for off := 0; off < len(data); off += chunk {
			r.write(data[off:min(off+chunk, len(data))])
		}
		want := data[max(0, len(data)-capacity):]
		if got := r.appendTo(nil); !bytes.Equal(got, want) {
			t.Errorf("ring holds %q, want %q", got, want)
		}
	})
}
