package audio

import "iter"

// A Framer cuts a byte stream arriving in chunks of any size into frames of
// one fixed size, such as the 160-byte 20 ms frames of 8 kHz μ-law that
// Twilio expects. It retains at most one partial frame between chunks.
//
// A Framer is not safe for concurrent use.
type Framer struct {
	size    int
	partial []byte // len < size, cap == size
}

// NewFramer returns a Framer that yields frames of frameSize bytes. It panics
// if frameSize is less than 1, because sizes come from code, not input.
func NewFramer(frameSize int) *Framer {
	if frameSize < 1 {
		panic("audio: NewFramer with frame size below 1")
	}
	return &Framer{size: frameSize, partial: make([]byte, 0, frameSize)}
}

// FrameSize returns the size of the frames the Framer yields, in bytes.
func (f *Framer) FrameSize() int { return f.size }

// Buffered returns the number of bytes of the partial frame held back.
func (f *Framer) Buffered() int { return len(f.partial) }

// Frames adds chunk to the stream and yields every whole frame it completes,
// in order. The bytes that do not fill a frame are kept for the next call.
//
// A yielded frame aliases either chunk or the Framer's own buffer, and is
// valid only until the loop body returns; copy it to keep it. If the loop
// stops early, the frames not yet yielded are dropped, and so are the bytes
// after them.
func (f *Framer) Frames(chunk []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if len(f.partial) > 0 {
			n := copy(f.partial[len(f.partial):f.size], chunk)
			f.partial = f.partial[:len(f.partial)+n]
			chunk = chunk[n:]
			if len(f.partial) < f.size {
				return
			}
			f.partial = f.partial[:0]
			if !yield(f.partial[:f.size]) {
				return
			}
		}
		for len(chunk) >= f.size {
			frame := chunk[:f.size:f.size]
			chunk = chunk[f.size:]
			if !yield(frame) {
				return
			}
		}
		f.partial = append(f.partial, chunk...)
	}
}

// Flush returns the partial frame padded to full size with pad (use
// MulawSilence for μ-law, 0 for PCM16) and empties the Framer. It returns nil
// when no bytes are held back. The returned slice belongs to the caller.
func (f *Framer) Flush(pad byte) []byte {
	if len(f.partial) == 0 {
		return nil
	}
	frame := make([]byte, f.size)
	n := copy(frame, f.partial)
	for i := n; i < len(frame); i++ {
		frame[i] = pad
	}
	f.partial = f.partial[:0]
	return frame
}

// Reset drops the partial frame, as after a barge-in clears queued audio.
func (f *Framer) Reset() {
	f.partial = f.partial[:0]
}
