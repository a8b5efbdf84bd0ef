package audio

import (
	"math"
	"slices"
	"testing"
)

func TestLinearToMulawKnownValues(t *testing.T) {
	tests := []struct {
		name   string
		sample int16
		want   byte
	}{
		{"zero", 0, 0xFF},
		{"plus one rounds to zero", 1, 0xFF},
		{"minus one", -1, 0x7F},
		{"eight", 8, 0xFE},
		{"minus eight", -8, 0x7E},
		{"segment 7 start", 16764, 0x8F},
		{"clip level", 32635, 0x80},
		{"max", math.MaxInt16, 0x80},
		{"min", math.MinInt16, 0x00},
		{"minus clip level", -32635, 0x00},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LinearToMulaw(tt.sample); got != tt.want {
				t.Errorf("LinearToMulaw(%d) = %#02x, want %#02x", tt.sample, got, tt.want)
			}
		})
	}
}

func TestMulawToLinearKnownValues(t *testing.T) {
	tests := []struct {
		name string
		code byte
		want int16
	}{
		{"positive zero", 0xFF, 0},
		{"negative zero", 0x7F, 0},
		{"positive max", 0x80, 32124},
		{"negative max", 0x00, -32124},
		{"smallest step", 0xFE, 8},
		{"smallest negative step", 0x7E, -8},
		{"segment 7 base", 0x8F, 16764},
		{"negative segment 7 base", 0x0F, -16764},
		{"segment 1 base", 0xEF, 132},
		{"segment 0 top", 0xF0, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MulawToLinear(tt.code); got != tt.want {
				t.Errorf("MulawToLinear(%#02x) = %d, want %d", tt.code, got, tt.want)
			}
		})
	}
}

// referenceLinearToMulaw is the segment-search form of the G.711 encoder, an
// independent check of the bit-length shortcut in LinearToMulaw.
func referenceLinearToMulaw(sample int16) byte {
	segmentEnds := [8]int32{0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF}
	v := int32(sample)
	mask := byte(0xFF)
	if v < 0 {
		v = -v
		mask = 0x7F
	}
	v = min(v, 32635) + 0x84
	segment := int32(0)
	for segment < 8 && v > segmentEnds[segment] {
		segment++
	}
	code := byte(segment<<4) | byte((v>>(segment+3))&0x0F)
	return code ^ mask
}

func TestLinearToMulawMatchesReference(t *testing.T) {
	for s := math.MinInt16; s <= math.MaxInt16; s++ {
		got, want := LinearToMulaw(int16(s)), referenceLinearToMulaw(int16(s))
		if got != want {
			t.Fatalf("LinearToMulaw(%d) = %#02x, want %#02x", s, got, want)
		}
	}
}

func TestMulawRoundTripAllCodes(t *testing.T) {
	for code := range 256 {
		want := byte(code)
		if want == 0x7F {
			want = 0xFF // negative zero decodes to 0, which encodes as positive zero
		}
		if got := LinearToMulaw(MulawToLinear(byte(code))); got != want {
			t.Errorf("encode(decode(%#02x)) = %#02x, want %#02x", code, got, want)
		}
	}
}

func TestMulawQuantizationError(t *testing.T) {
	prev := MulawToLinear(LinearToMulaw(math.MinInt16))
	for s := math.MinInt16; s <= math.MaxInt16; s++ {
		code := LinearToMulaw(int16(s))
		got := MulawToLinear(code)
		if got < prev {
			t.Fatalf("decode(encode(%d)) = %d, below decode(encode(%d)) = %d: not monotonic", s, got, s-1, prev)
		}
		prev = got

		if s < -32635 || s > 32635 {
			continue // clipped
		}
		// Each level sits in the middle of an interval 8<<segment wide.
		segment := (^code >> 4) & 0x07
		maxErr := 4 << segment
		if diff := int(got) - s; diff < -maxErr || diff > maxErr {
			t.Fatalf("decode(encode(%d)) = %d, error %d beyond ±%d", s, got, diff, maxErr)
		}
	}
}

func TestEncodeMulawAppends(t *testing.T) {
	dst := []byte{0xAA}
	got := EncodeMulaw(dst, []int16{0, -1, math.MaxInt16, math.MinInt16})
	want := []byte{0xAA, 0xFF, 0x7F, 0x80, 0x00}
	if !slices.Equal(got, want) {
		t.Errorf("EncodeMulaw = % x, want % x", got, want)
	}
}

func TestDecodeMulawAppends(t *testing.T) {
	dst := []int16{7}
	got := DecodeMulaw(dst, []byte{0xFF, 0x80, 0x00})
	want := []int16{7, 0, 32124, -32124}
	if !slices.Equal(got, want) {
		t.Errorf("DecodeMulaw = %v, want %v", got, want)
	}
}

func TestMulawNoAllocationWithCapacity(t *testing.T) {
	samples := sine(160, 8000, 1000, 8000)
	codes := make([]byte, 0, 160)
	decoded := make([]int16, 0, 160)
	allocs := testing.AllocsPerRun(100, func() {
		codes = EncodeMulaw(codes[:0], samples)
		decoded = DecodeMulaw(decoded[:0], codes)
	})
	if allocs != 0 {
		t.Errorf("allocations per encode and decode = %v, want 0", allocs)
	}
}
