package audio

import (
	"bytes"
	"fmt"
	"testing"
)

// streamBytes returns n bytes that differ from their neighbours, so a frame
// taken from the wrong offset shows.
func streamBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7 % 251)
	}
	return b
}

func TestFramerChunkSizes(t *testing.T) {
	tests := []struct {
		name       string
		frameSize  int
		chunkSizes []int
		total      int
	}{
		{"mulaw 37-byte chunks", 160, []int{37}, 5000},
		{"mulaw 1001-byte chunks", 160, []int{1001}, 5000},
		{"mulaw 3-byte chunks", 160, []int{3}, 5000},
		{"mulaw mixed chunks", 160, []int{37, 1001, 3, 0, 160, 159, 161}, 9000},
		{"pcm16 16k mixed chunks", 640, []int{37, 1001, 3}, 9000},
		{"exact frames", 160, []int{160}, 1600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := streamBytes(tt.total)
			f := NewFramer(tt.frameSize)
			var got []byte
			frames := 0
			rest := stream
			for i := 0; len(rest) > 0; i++ {
				n := min(tt.chunkSizes[i%len(tt.chunkSizes)], len(rest))
				for frame := range f.Frames(rest[:n]) {
					if len(frame) != tt.frameSize {
						t.Fatalf("frame %d has %d bytes, want %d", frames, len(frame), tt.frameSize)
					}
					got = append(got, frame...)
					frames++
				}
				rest = rest[n:]
				if f.Buffered() >= tt.frameSize {
					t.Fatalf("Buffered() = %d after a chunk, want below the frame size %d", f.Buffered(), tt.frameSize)
				}
			}

			whole := tt.total / tt.frameSize * tt.frameSize
			if !bytes.Equal(got, stream[:whole]) {
				t.Errorf("frames do not match the stream: got %d bytes, want the first %d", len(got), whole)
			}
			if want := tt.total - whole; f.Buffered() != want {
				t.Errorf("Buffered() = %d at end, want %d", f.Buffered(), want)
			}

			last := f.Flush(MulawSilence)
			if tt.total == whole {
				if last != nil {
					t.Errorf("Flush() = %d bytes, want nil", len(last))
				}
				return
			}
			want := append(bytes.Clone(stream[whole:]), bytes.Repeat([]byte{MulawSilence}, tt.frameSize-(tt.total-whole))...)
			if !bytes.Equal(last, want) {
				t.Errorf("Flush() = % x, want % x", last, want)
			}
			if f.Buffered() != 0 {
				t.Errorf("Buffered() = %d after Flush, want 0", f.Buffered())
			}
		})
	}
}

func TestFramerFlushEmptyReturnsNil(t *testing.T) {
	f := NewFramer(160)
	if got := f.Flush(MulawSilence); got != nil {
		t.Errorf("Flush() on a new Framer = %v, want nil", got)
	}
	for range f.Frames(make([]byte, 320)) {
	}
	if got := f.Flush(MulawSilence); got != nil {
		t.Errorf("Flush() after whole frames = %v, want nil", got)
	}
}

func TestFramerFlushPadsWithGivenByte(t *testing.T) {
	for _, pad := range []byte{MulawSilence, 0} {
		t.Run(fmt.Sprintf("pad %#02x", pad), func(t *testing.T) {
			f := NewFramer(4)
			for range f.Frames([]byte{1, 2, 3, 4, 5}) {
			}
			if got, want := f.Flush(pad), []byte{5, pad, pad, pad}; !bytes.Equal(got, want) {
				t.Errorf("Flush(%#02x) = % x, want % x", pad, got, want)
			}
		})
	}
}

func TestFramerReset(t *testing.T) {
	f := NewFramer(4)
	for range f.Frames([]byte{1, 2}) {
	}
	f.Reset()
	var got [][]byte
	for frame := range f.Frames([]byte{9, 8, 7, 6}) {
		got = append(got, bytes.Clone(frame))
	}
	if len(got) != 1 || !bytes.Equal(got[0], []byte{9, 8, 7, 6}) {
		t.Errorf("frames after Reset = %v, want [[9 8 7 6]]", got)
	}
}

func TestFramerEarlyBreakDropsRest(t *testing.T) {
	f := NewFramer(2)
	for range f.Frames([]byte{1, 2, 3, 4, 5}) {
		break
	}
	if f.Buffered() != 0 {
		t.Errorf("Buffered() = %d after an early break, want 0", f.Buffered())
	}
}

func TestFramerPartialFrameCompletedAcrossChunks(t *testing.T) {
	f := NewFramer(4)
	var got [][]byte
	for _, chunk := range [][]byte{{1}, {2, 3}, {4, 5, 6, 7, 8, 9}} {
		for frame := range f.Frames(chunk) {
			got = append(got, bytes.Clone(frame))
		}
	}
	want := [][]byte{{1, 2, 3, 4}, {5, 6, 7, 8}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("frames = %v, want %v", got, want)
	}
	if f.Buffered() != 1 {
		t.Errorf("Buffered() = %d, want 1", f.Buffered())
	}
}

func TestNewFramerPanicsOnZeroSize(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewFramer(0) did not panic")
		}
	}()
	NewFramer(0)
}

func TestFramerNoAllocation(t *testing.T) {
	f := NewFramer(160)
	chunk := streamBytes(1001)
	sent := 0
	allocs := testing.AllocsPerRun(100, func() {
		for frame := range f.Frames(chunk) {
			sent += len(frame)
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per chunk = %v, want 0", allocs)
	}
}
