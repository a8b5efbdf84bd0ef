package audio

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	mulaw8k  = Format{Encoding: Mulaw, Rate: 8000}
	pcm8k    = Format{Encoding: PCM16, Rate: 8000}
	pcm16k   = Format{Encoding: PCM16, Rate: 16000}
	pcm24k   = Format{Encoding: PCM16, Rate: 24000}
	mulaw16k = Format{Encoding: Mulaw, Rate: 16000}
)

// encodeFormat returns samples as bytes in the encoding of f.
func encodeFormat(f Format, samples []int16) []byte {
	if f.Encoding == Mulaw {
		return EncodeMulaw(nil, samples)
	}
	return PCM16ToBytes(nil, samples)
}

// convertAll runs src through a new Converter in one call and flushes it.
func convertAll(tb testing.TB, from, to Format, src []byte) []byte {
	tb.Helper()
	c, err := NewConverter(from, to)
	if err != nil {
		tb.Fatalf("NewConverter(%v, %v): %v", from, to, err)
	}
	return c.Flush(c.Convert(nil, src))
}

func TestConverterMatchesPrimitives(t *testing.T) {
	samples := noise(4801, 12)
	tests := []struct {
		name     string
		from, to Format
	}{
		{"pcm24k to mulaw8k", pcm24k, mulaw8k},
		{"mulaw8k to pcm24k", mulaw8k, pcm24k},
		{"mulaw8k to pcm16k", mulaw8k, pcm16k},
		{"pcm16k to pcm24k", pcm16k, pcm24k},
		{"pcm8k to mulaw8k", pcm8k, mulaw8k},
		{"mulaw8k to pcm8k", mulaw8k, pcm8k},
		{"mulaw8k to mulaw16k", mulaw8k, mulaw16k},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := encodeFormat(tt.from, samples)

			var decoded []int16
			if tt.from.Encoding == Mulaw {
				decoded = DecodeMulaw(nil, src)
			} else {
				decoded = PCM16FromBytes(nil, src)
			}
			if tt.from.Rate != tt.to.Rate {
				decoded = resampleAll(t, tt.from.Rate, tt.to.Rate, decoded)
			}
			want := encodeFormat(tt.to, decoded)

			if got := convertAll(t, tt.from, tt.to, src); !bytes.Equal(got, want) {
				t.Errorf("Convert gave %d bytes differing from decode, resample, encode (%d bytes)", len(got), len(want))
			}
		})
	}
}

func TestConverterChunkedEqualsWhole(t *testing.T) {
	samples := noise(7000, 13)
	pairs := [][2]Format{{pcm24k, mulaw8k}, {mulaw8k, pcm24k}, {mulaw8k, pcm16k}, {pcm16k, pcm24k}, {pcm16k, mulaw8k}, {pcm8k, mulaw8k}}
	chunkings := [][]int{{1}, {37, 1001, 3}, {160}, {641}, {5000}}
	for _, pair := range pairs {
		from, to := pair[0], pair[1]
		src := encodeFormat(from, samples)
		whole := convertAll(t, from, to, src)
		for _, sizes := range chunkings {
			t.Run(fmt.Sprintf("%v to %v chunks %v", from, to, sizes), func(t *testing.T) {
				c, err := NewConverter(from, to)
				if err != nil {
					t.Fatal(err)
				}
				var got []byte
				rest := src
				for i := 0; len(rest) > 0; i++ {
					n := min(sizes[i%len(sizes)], len(rest))
					got = c.Convert(got, rest[:n])
					rest = rest[n:]
				}
				got = c.Flush(got)
				if !bytes.Equal(got, whole) {
					t.Errorf("chunked output (%d bytes) differs from whole (%d bytes)", len(got), len(whole))
				}
			})
		}
	}
}

func TestConverterOutputLength(t *testing.T) {
	tests := []struct {
		name     string
		from, to Format
		inBytes  int
		outBytes int
	}{
		{"20 ms pcm24k to mulaw8k", pcm24k, mulaw8k, 960, 160},
		{"20 ms mulaw8k to pcm24k", mulaw8k, pcm24k, 160, 960},
		{"20 ms mulaw8k to pcm16k", mulaw8k, pcm16k, 160, 640},
		{"odd pcm byte dropped", pcm16k, pcm8k, 641, 320},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := convertAll(t, tt.from, tt.to, make([]byte, tt.inBytes))
			if len(got) != tt.outBytes {
				t.Errorf("output = %d bytes, want %d", len(got), tt.outBytes)
			}
		})
	}
}

func TestConverterIdentity(t *testing.T) {
	c, err := NewConverter(mulaw8k, mulaw8k)
	if err != nil {
		t.Fatal(err)
	}
	src := []byte{1, 2, 3, 0x7F}
	if got := c.Convert([]byte{9}, src); !bytes.Equal(got, []byte{9, 1, 2, 3, 0x7F}) {
		t.Errorf("identity Convert = % x, want the input appended unchanged", got)
	}
	if got := c.Flush(nil); len(got) != 0 {
		t.Errorf("identity Flush = % x, want nothing", got)
	}
}

func TestConverterReset(t *testing.T) {
	src := encodeFormat(mulaw8k, noise(2000, 14))
	want := convertAll(t, mulaw8k, pcm24k, src)

	c, err := NewConverter(mulaw8k, pcm24k)
	if err != nil {
		t.Fatal(err)
	}
	c.Convert(nil, src[:555])
	c.Reset()
	if got := c.Flush(c.Convert(nil, src)); !bytes.Equal(got, want) {
		t.Error("output after Reset differs from a new Converter")
	}
}

func TestConverterResetDropsOddByte(t *testing.T) {
	src := encodeFormat(pcm16k, noise(500, 15))
	want := convertAll(t, pcm16k, pcm8k, src)

	c, err := NewConverter(pcm16k, pcm8k)
	if err != nil {
		t.Fatal(err)
	}
	c.Convert(nil, []byte{0x12})
	c.Reset()
	if got := c.Flush(c.Convert(nil, src)); !bytes.Equal(got, want) {
		t.Error("the odd byte before Reset leaked into the next stream")
	}
}

func TestConverterRealtimeOutputToPhone(t *testing.T) {
	raw, err := os.ReadFile(testdataPath(t, "audio/realtime-output/hi-there-24k-pcm16.pcm"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConverter(pcm24k, mulaw8k)
	if err != nil {
		t.Fatal(err)
	}
	// The model sends deltas of uneven size, and a phone takes 160-byte frames.
	framer := NewFramer(mulaw8k.FrameSize(20 * time.Millisecond))
	var phone, out []byte
	for chunk := range slices.Chunk(raw, 4801) {
		out = c.Convert(out[:0], chunk)
		for frame := range framer.Frames(out) {
			phone = append(phone, frame...)
		}
	}
	for frame := range framer.Frames(c.Flush(out[:0])) {
		phone = append(phone, frame...)
	}
	if last := framer.Flush(MulawSilence); last != nil {
		phone = append(phone, last...)
	}

	inSeconds := float64(len(raw)/2) / 24000
	if got, want := len(phone), 8000*len(raw)/2/24000; got < want || got >= want+160 {
		t.Errorf("phone audio = %d bytes, want %d to %d for %.2f s", got, want, want+159, inSeconds)
	}

	// The phone audio, decoded, must keep the level of the model audio.
	inLevel := DBFS(PCM16FromBytes(nil, raw))
	outLevel := DBFS(DecodeMulaw(nil, phone))
	t.Logf("%.2f s of model audio at %.1f dBFS became %d frames at %.1f dBFS", inSeconds, inLevel, len(phone)/160, outLevel)
	if d := outLevel - inLevel; d < -1 || d > 1 {
		t.Errorf("level changed by %.2f dB, want within ±1 dB", d)
	}
}

func TestNewConverterErrors(t *testing.T) {
	tests := []struct {
		name     string
		from, to Format
		mention  string
	}{
		{"unknown encoding", Format{Encoding: 0, Rate: 8000}, pcm16k, "unknown encoding"},
		{"zero rate", pcm16k, Format{Encoding: PCM16, Rate: 0}, "rate"},
		{"too many filter phases", Format{Encoding: PCM16, Rate: 8001}, pcm16k, "filter coefficients"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewConverter(tt.from, tt.to)
			if err == nil {
				t.Fatal("NewConverter returned no error")
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestConverterNoAllocationWithCapacity(t *testing.T) {
	tests := []struct {
		name     string
		from, to Format
	}{
		{"pcm24k to mulaw8k", pcm24k, mulaw8k},
		{"mulaw8k to pcm24k", mulaw8k, pcm24k},
		{"mulaw8k to pcm16k", mulaw8k, pcm16k},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewConverter(tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			frame := encodeFormat(tt.from, noise(tt.from.Rate/50, 16))
			dst := make([]byte, 0, 2*tt.to.FrameSize(20*time.Millisecond))
			allocs := testing.AllocsPerRun(200, func() {
				dst = c.Convert(dst[:0], frame)
			})
			if allocs != 0 {
				t.Errorf("allocations per 20 ms frame = %v, want 0", allocs)
			}
		})
	}
}

func TestFormatFrameSize(t *testing.T) {
	tests := []struct {
		format Format
		d      time.Duration
		want   int
	}{
		{mulaw8k, 20 * time.Millisecond, 160},
		{pcm16k, 20 * time.Millisecond, 640},
		{pcm24k, 20 * time.Millisecond, 960},
		{Format{Encoding: PCM16, Rate: 22050}, 20 * time.Millisecond, 882},
		{Format{Encoding: PCM16, Rate: 22050}, 10 * time.Millisecond, 440}, // 220.5 samples round down
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v %v", tt.format, tt.d), func(t *testing.T) {
			if got := tt.format.FrameSize(tt.d); got != tt.want {
				t.Errorf("FrameSize(%v) = %d, want %d", tt.d, got, tt.want)
			}
		})
	}
}

func TestFormatString(t *testing.T) {
	if got, want := pcm24k.String(), "pcm16/24000"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := mulaw8k.String(), "mulaw/8000"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := Encoding(9).String(), "Encoding(9)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
