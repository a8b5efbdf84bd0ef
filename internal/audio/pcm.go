package audio

import (
	"encoding/binary"
	"slices"
)

// PCM16FromBytes appends the samples of little-endian PCM16 bytes in src to
// dst and returns the extended slice. A trailing odd byte is ignored. Streams
// that may split a sample across chunks should use a Converter, which carries
// that byte to the next chunk.
func PCM16FromBytes(dst []int16, src []byte) []int16 {
	n := len(src) / 2
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(src[2*i:]))
	}
	return dst[:len(dst)+n]
}

// PCM16ToBytes appends src to dst as little-endian PCM16 bytes and returns the
// extended slice.
func PCM16ToBytes(dst []byte, src []int16) []byte {
	n := 2 * len(src)
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	for i, s := range src {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(s))
	}
	return dst[:len(dst)+n]
}

// Downmix appends the mono mix of interleaved samples with the given number
// of channels to dst and returns the extended slice. Each output sample is
// the mean of one frame's channels, rounded toward zero, so the mix cannot
// clip. A trailing partial frame is ignored. With one channel it appends src
// unchanged. It panics if channels is less than 1.
func Downmix(dst []int16, src []int16, channels int) []int16 {
	if channels < 1 {
		panic("audio: Downmix with fewer than 1 channel")
	}
	if channels == 1 {
		return append(dst, src...)
	}
	frames := len(src) / channels
	dst = slices.Grow(dst, frames)
	for i := range frames {
		var sum int32
		for _, s := range src[i*channels : (i+1)*channels] {
			sum += int32(s)
		}
		dst = append(dst, int16(sum/int32(channels)))
	}
	return dst
}
