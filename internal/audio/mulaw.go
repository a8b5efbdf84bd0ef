package audio

import (
	"math/bits"
	"slices"
)

// MulawSilence is the μ-law byte for a zero sample. It is what Twilio sends
// during digital silence and what partial frames are padded with.
const MulawSilence byte = 0xFF

// Constants of the ITU-T G.711 μ-law encoder for 16-bit input.
const (
	mulawBias = 0x84  // added to the magnitude so each segment starts at a power of two
	mulawClip = 32635 // largest magnitude that fits in 15 bits after adding the bias
)

// mulawDecodeTable maps every μ-law byte to its 16-bit linear value.
var mulawDecodeTable = buildMulawDecodeTable()

func buildMulawDecodeTable() [256]int16 {
	var table [256]int16
	for i := range table {
		table[i] = decodeMulawSample(byte(i))
	}
	return table
}

// decodeMulawSample expands one μ-law byte as G.711 specifies: the byte is
// stored inverted, and the magnitude is ((mantissa<<3) + bias) << segment,
// less the bias.
func decodeMulawSample(b byte) int16 {
	u := ^b
	segment := (u >> 4) & 0x07
	mantissa := int32(u & 0x0F)
	magnitude := ((mantissa << 3) + mulawBias) << segment
	if u&0x80 != 0 {
		return int16(mulawBias - magnitude)
	}
	return int16(magnitude - mulawBias)
}

// MulawToLinear returns the 16-bit linear value of one μ-law byte.
func MulawToLinear(b byte) int16 {
	return mulawDecodeTable[b]
}

// mulawEncodeTable maps a biased magnitude shifted right by 3 to the segment
// and mantissa bits of its code. The encoder never reads the 3 low bits, so
// 4096 entries cover every magnitude in 4 KiB.
var mulawEncodeTable = buildMulawEncodeTable()

func buildMulawEncodeTable() [4096]byte {
	var table [4096]byte
	for i := range table {
		biased := uint32(i) << 3
		// Indices below 16 stand for magnitudes under the bias, which the
		// encoder never produces. They map to segment 0.
		segment := max(bits.Len32(biased>>7), 1) - 1
		mantissa := (biased >> (segment + 3)) & 0x0F
		table[i] = byte(segment<<4) | byte(mantissa)
	}
	return table
}

// LinearToMulaw encodes one 16-bit sample as G.711 μ-law. Magnitudes above
// 32635 are clipped. It applies no zero trap, so -32768 encodes to 0x00.
func LinearToMulaw(sample int16) byte {
	s := int32(sample)
	sign := s >> 31 // -1 for negative samples, 0 otherwise
	// Negate negative samples without a branch. In int32, -32768 does not
	// overflow.
	magnitude := (s ^ sign) - sign
	biased := min(magnitude, mulawClip) + mulawBias
	return ^(mulawEncodeTable[uint32(biased>>3)&4095] | byte(sign&0x80))
}

// EncodeMulaw appends the μ-law encoding of src to dst, one byte per sample,
// and returns the extended slice.
func EncodeMulaw(dst []byte, src []int16) []byte {
	dst = slices.Grow(dst, len(src))
	out := dst[len(dst) : len(dst)+len(src)]
	for i, s := range src {
		out[i] = LinearToMulaw(s)
	}
	return dst[:len(dst)+len(src)]
}

// DecodeMulaw appends the linear samples of the μ-law bytes in src to dst and
// returns the extended slice.
func DecodeMulaw(dst []int16, src []byte) []int16 {
	dst = slices.Grow(dst, len(src))
	out := dst[len(dst) : len(dst)+len(src)]
	for i, b := range src {
		out[i] = mulawDecodeTable[b]
	}
	return dst[:len(dst)+len(src)]
}
