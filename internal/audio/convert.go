package audio

import (
	"fmt"
	"slices"
	"time"
)

// Encoding is the byte representation of samples.
type Encoding int

// Encodings of mono audio bytes.
const (
	PCM16 Encoding = iota + 1 // 16-bit signed little-endian
	Mulaw                     // 8-bit G.711 μ-law
)

// String returns the encoding's name as used in logs and errors.
func (e Encoding) String() string {
	switch e {
	case PCM16:
		return "pcm16"
	case Mulaw:
		return "mulaw"
	default:
		return fmt.Sprintf("Encoding(%d)", int(e))
	}
}

// bytesPerSample returns 2 for PCM16, 1 for μ-law and 0 for anything else.
func (e Encoding) bytesPerSample() int {
	switch e {
	case PCM16:
		return 2
	case Mulaw:
		return 1
	default:
		return 0
	}
}

// Format is the encoding and sample rate of a mono byte stream.
type Format struct {
	Encoding Encoding
	Rate     int // Hz
}

// String returns the format as "pcm16/24000".
func (f Format) String() string {
	return fmt.Sprintf("%s/%d", f.Encoding, f.Rate)
}

// Validate returns an error unless f names a known encoding and a rate the
// Resampler accepts.
func (f Format) Validate() error {
	if f.Encoding.bytesPerSample() == 0 {
		return fmt.Errorf("audio format %s: unknown encoding", f)
	}
	if f.Rate < 1 || f.Rate > maxSampleRate {
		return fmt.Errorf("audio format %s: rate must be between 1 and %d Hz", f, maxSampleRate)
	}
	return nil
}

// FrameSize returns the number of bytes in d of audio, rounded down to a
// whole sample: 160 for 20 ms of 8 kHz μ-law, 640 for 20 ms of 16 kHz PCM16.
func (f Format) FrameSize(d time.Duration) int {
	samples := int64(f.Rate) * int64(d) / int64(time.Second)
	return int(samples) * f.Encoding.bytesPerSample()
}

// convertBlockSize is how many samples a Converter decodes at a time, which
// bounds its scratch buffers however large a chunk is.
const convertBlockSize = 1024

// A Converter turns a byte stream in one Format into a byte stream in
// another: decode, resample, encode. It keeps the resampler's state and a
// PCM16 sample split between chunks, so chunk boundaries leave no trace.
// When both formats are equal it copies bytes unchanged.
//
// A Converter is not safe for concurrent use.
type Converter struct {
	from, to  Format
	resampler *Resampler // nil when the rates are equal
	odd       []byte     // the first byte of a PCM16 sample split between chunks, if any
	pair      [2]byte    // backing array of odd, so carrying a byte never allocates
	decoded   []int16    // scratch: one block of input samples
	resampled []int16    // scratch: one block of output samples
}

// NewConverter returns a Converter from one format to another.
func NewConverter(from, to Format) (*Converter, error) {
	if err := from.Validate(); err != nil {
		return nil, fmt.Errorf("new converter: %w", err)
	}
	if err := to.Validate(); err != nil {
		return nil, fmt.Errorf("new converter: %w", err)
	}
	c := &Converter{from: from, to: to}
	if from == to {
		return c, nil
	}
	c.decoded = make([]int16, 0, convertBlockSize)
	if from.Rate != to.Rate {
		r, err := NewResampler(from.Rate, to.Rate)
		if err != nil {
			return nil, fmt.Errorf("new converter: %w", err)
		}
		c.resampler = r
		c.resampled = make([]int16, 0, r.maxOutputs(convertBlockSize))
	}
	c.odd = c.pair[:0]
	return c, nil
}

// From returns the input format.
func (c *Converter) From() Format { return c.from }

// To returns the output format.
func (c *Converter) To() Format { return c.to }

// Convert appends the output that the input bytes in src complete to dst and
// returns the extended slice. When resampling, the output trails the input
// by the resampler's filter delay until Flush. It does not allocate when dst
// has room for the output.
func (c *Converter) Convert(dst, src []byte) []byte {
	if c.from == c.to {
		return append(dst, src...)
	}
	dst = slices.Grow(dst, c.maxOutputBytes(len(src)))
	if len(c.odd) == 1 && len(src) > 0 {
		c.odd = append(c.odd, src[0])
		src = src[1:]
		dst = c.convertSamples(dst, c.odd)
		c.odd = c.odd[:0]
	}
	step := convertBlockSize * c.from.Encoding.bytesPerSample()
	for len(src) >= step {
		dst = c.convertSamples(dst, src[:step])
		src = src[step:]
	}
	whole := len(src)
	if c.from.Encoding == PCM16 {
		whole -= len(src) % 2
		c.odd = append(c.odd, src[whole:]...)
	}
	return c.convertSamples(dst, src[:whole])
}

// Flush appends the output the resampler still holds back to dst, returns
// the extended slice and resets the Converter for a new stream. A PCM16
// input byte without its pair is dropped.
func (c *Converter) Flush(dst []byte) []byte {
	if c.resampler != nil {
		c.resampled = c.resampler.Flush(c.resampled[:0])
		dst = c.encode(dst, c.resampled)
	}
	c.odd = c.odd[:0]
	return dst
}

// Reset drops held-back input and starts a new stream, as after a barge-in.
func (c *Converter) Reset() {
	if c.resampler != nil {
		c.resampler.Reset()
	}
	c.odd = c.odd[:0]
}

// convertSamples converts whole input samples, at most convertBlockSize of
// them.
func (c *Converter) convertSamples(dst, src []byte) []byte {
	switch c.from.Encoding {
	case PCM16:
		c.decoded = PCM16FromBytes(c.decoded[:0], src)
	case Mulaw:
		c.decoded = DecodeMulaw(c.decoded[:0], src)
	}
	samples := c.decoded
	if c.resampler != nil {
		c.resampled = c.resampler.Process(c.resampled[:0], samples)
		samples = c.resampled
	}
	return c.encode(dst, samples)
}

// maxOutputBytes returns an upper bound on the output of Convert for n input
// bytes.
func (c *Converter) maxOutputBytes(n int) int {
	samples := n/c.from.Encoding.bytesPerSample() + 1
	if c.resampler != nil {
		samples = c.resampler.maxOutputs(samples)
	}
	return samples * c.to.Encoding.bytesPerSample()
}

func (c *Converter) encode(dst []byte, samples []int16) []byte {
	switch c.to.Encoding {
	case PCM16:
		return PCM16ToBytes(dst, samples)
	default:
		return EncodeMulaw(dst, samples)
	}
}
