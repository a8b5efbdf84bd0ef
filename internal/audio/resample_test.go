package audio

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// resampleAll runs src through a new Resampler in one call and flushes it.
func resampleAll(tb testing.TB, from, to int, src []int16) []int16 {
	tb.Helper()
	r, err := NewResampler(from, to)
	if err != nil {
		tb.Fatalf("NewResampler(%d, %d): %v", from, to, err)
	}
	return r.Flush(r.Process(nil, src))
}

// edgeSkip is the number of output samples at each end of a finite signal
// that differ from an endless one, because the filter reads the zeros outside
// it.
func edgeSkip(from, to int) int {
	return 2 * 400 * to / min(from, to)
}

func TestResampleSineSNR(t *testing.T) {
	tests := []struct {
		name   string
		rates  []int // the tone passes through each rate in turn
		freq   float64
		minSNR float64 // dB
	}{
		{"8k to 16k to 8k", []int{8000, 16000, 8000}, 1000, 60},
		{"24k to 8k", []int{24000, 8000}, 1000, 60},
		{"8k to 24k", []int{8000, 24000}, 1000, 60},
		{"44.1k to 48k", []int{44100, 48000}, 1000, 60},
		{"48k to 22.05k", []int{48000, 22050}, 1000, 60},
		{"8k to 44.1k to 8k", []int{8000, 44100, 8000}, 1000, 60},
		{"8k to 16k near passband edge", []int{8000, 16000}, 3400, 60},
		// 997 Hz shares no short period with these rates, so the rounding
		// errors of input and output do not line up and cancel as they can
		// at 1 kHz.
		{"997 Hz 8k to 16k to 8k", []int{8000, 16000, 8000}, 997, 60},
		{"997 Hz 24k to 8k", []int{24000, 8000}, 997, 60},
		{"997 Hz 8k to 24k to 8k", []int{8000, 24000, 8000}, 997, 60},
		{"997 Hz 16k to 24k to 16k", []int{16000, 24000, 16000}, 997, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const seconds = 1
			first, last := tt.rates[0], tt.rates[len(tt.rates)-1]
			samples := sine(first*seconds, first, tt.freq, 16000)
			skip := 0
			for i := 1; i < len(tt.rates); i++ {
				samples = resampleAll(t, tt.rates[i-1], tt.rates[i], samples)
				skip += edgeSkip(tt.rates[i-1], tt.rates[i]) * last / tt.rates[i]
			}

			want := sine(last*seconds, last, tt.freq, 16000)
			if len(samples) != len(want) {
				t.Fatalf("output length = %d, want %d", len(samples), len(want))
			}
			snr := snrDB(samples, want, skip)
			t.Logf("%.0f Hz tone through %v: SNR %.1f dB", tt.freq, tt.rates, snr)
			if snr < tt.minSNR {
				t.Errorf("SNR = %.1f dB, want at least %.0f dB", snr, tt.minSNR)
			}
		})
	}
}

func TestResampleAllStandardPairsPassTone(t *testing.T) {
	for _, from := range standardRates {
		for _, to := range standardRates {
			t.Run(fmt.Sprintf("%d to %d", from, to), func(t *testing.T) {
				got := resampleAll(t, from, to, sine(from/2, from, 1000, 16000))
				want := sine(to/2, to, 1000, 16000)
				if snr := snrDB(got, want, edgeSkip(from, to)); snr < 60 {
					t.Errorf("SNR = %.1f dB, want at least 60 dB", snr)
				}
			})
		}
	}
}

func TestResampleAttenuatesAboveTargetNyquist(t *testing.T) {
	tests := []struct {
		name     string
		from, to int
		freq     float64
	}{
		{"24k to 8k just above 4 kHz", 24000, 8000, 4100},
		{"24k to 8k at 5 kHz", 24000, 8000, 5000},
		{"24k to 8k at 11 kHz", 24000, 8000, 11000},
		{"16k to 8k at 6 kHz", 16000, 8000, 6000},
		{"48k to 16k at 9 kHz", 48000, 16000, 9000},
		{"44.1k to 8k at 4.5 kHz", 44100, 8000, 4500},
		{"48k to 44.1k at 23 kHz", 48000, 44100, 23000},
		{"22.05k to 16k at 8.5 kHz", 22050, 16000, 8500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sine(tt.from, tt.from, tt.freq, 16000)
			out := resampleAll(t, tt.from, tt.to, in)
			skip := edgeSkip(tt.from, tt.to)
			attenuation := 20 * math.Log10(RMS(in)/RMS(out[skip:len(out)-skip]))
			t.Logf("%.0f Hz from %d to %d Hz: attenuated %.1f dB", tt.freq, tt.from, tt.to, attenuation)
			if attenuation < 40 {
				t.Errorf("attenuation = %.1f dB, want at least 40 dB", attenuation)
			}
		})
	}
}

func TestResampleRejectsImages(t *testing.T) {
	// Up-sampling a 3 kHz tone from 8 kHz must not leave its 5 kHz image.
	out := resampleAll(t, 8000, 16000, sine(8000, 8000, 3000, 16000))
	want := sine(16000, 16000, 3000, 16000)
	residual := make([]int16, 0, len(out))
	skip := edgeSkip(8000, 16000)
	for i := skip; i < len(out)-skip; i++ {
		residual = append(residual, out[i]-want[i])
	}
	if level := 20 * math.Log10(RMS(residual)/RMS(want)); level > -40 {
		t.Errorf("residual after removing the tone = %.1f dB, want below -40 dB", level)
	}
}

func TestResampleChunkedEqualsWhole(t *testing.T) {
	pairs := [][2]int{{8000, 16000}, {16000, 8000}, {24000, 8000}, {8000, 24000}, {44100, 48000}, {48000, 44100}, {22050, 8000}, {16000, 16000}}
	chunkings := []struct {
		name  string
		sizes []int
	}{
		{"single samples", []int{1}},
		{"odd sizes", []int{37, 1001, 3}},
		{"20 ms frames", []int{160}},
		{"large", []int{5000}},
		{"with empty chunks", []int{0, 7, 0, 300}},
	}
	src := noise(12000, 3)
	for _, pair := range pairs {
		from, to := pair[0], pair[1]
		whole := resampleAll(t, from, to, src)
		for _, chunking := range chunkings {
			t.Run(fmt.Sprintf("%d to %d %s", from, to, chunking.name), func(t *testing.T) {
				r, err := NewResampler(from, to)
				if err != nil {
					t.Fatal(err)
				}
				var got []int16
				rest := src
				for i := 0; len(rest) > 0; i++ {
					n := min(chunking.sizes[i%len(chunking.sizes)], len(rest))
					got = r.Process(got, rest[:n])
					rest = rest[n:]
				}
				got = r.Flush(got)
				if !slices.Equal(got, whole) {
					t.Errorf("chunked output differs from whole: lengths %d and %d, first difference at %d",
						len(got), len(whole), firstDifference(got, whole))
				}
			})
		}
	}
}

func firstDifference(a, b []int16) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestResampleOutputLength(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 159, 160, 441, 1000} {
		for _, pair := range [][2]int{{8000, 16000}, {24000, 8000}, {44100, 8000}, {8000, 44100}, {22050, 24000}} {
			from, to := pair[0], pair[1]
			got := len(resampleAll(t, from, to, noise(n, 4)))
			want := (n*to + from - 1) / from
			if got != want {
				t.Errorf("%d samples from %d to %d Hz gave %d, want %d", n, from, to, got, want)
			}
		}
	}
}

func TestResampleConstantStaysConstant(t *testing.T) {
	in := make([]int16, 4000)
	for i := range in {
		in[i] = 10000
	}
	out := resampleAll(t, 22050, 8000, in)
	skip := edgeSkip(22050, 8000)
	for i := skip; i < len(out)-skip; i++ {
		if d := out[i] - 10000; d < -1 || d > 1 {
			t.Fatalf("output[%d] = %d, want 10000 ± 1", i, out[i])
		}
	}
}

func TestResampleIdentityCopies(t *testing.T) {
	src := noise(500, 5)
	r, err := NewResampler(16000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Process(nil, src)
	if !slices.Equal(got, src) {
		t.Error("identity Process changed the samples")
	}
	if tail := r.Flush(nil); len(tail) != 0 {
		t.Errorf("identity Flush returned %d samples, want 0", len(tail))
	}
}

func TestResampleResetStartsNewStream(t *testing.T) {
	src := noise(3000, 6)
	want := resampleAll(t, 8000, 24000, src)

	r, err := NewResampler(8000, 24000)
	if err != nil {
		t.Fatal(err)
	}
	r.Process(nil, noise(777, 7))
	r.Reset()
	if got := r.Flush(r.Process(nil, src)); !slices.Equal(got, want) {
		t.Error("output after Reset differs from a new Resampler")
	}
	// Flush also resets.
	if got := r.Flush(r.Process(nil, src)); !slices.Equal(got, want) {
		t.Error("output after Flush differs from a new Resampler")
	}
}

func TestNewResamplerErrors(t *testing.T) {
	tests := []struct {
		name     string
		from, to int
	}{
		{"zero from", 0, 8000},
		{"negative to", 8000, -1},
		{"too high", 8000, 1_000_000},
		{"too many filter phases", 8001, 16000},
		{"extreme down-sampling", 384000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewResampler(tt.from, tt.to); err == nil {
				t.Errorf("NewResampler(%d, %d) returned no error", tt.from, tt.to)
			} else {
				t.Logf("error: %v", err)
			}
		})
	}
}

func TestNewResamplerOtherRates(t *testing.T) {
	got := resampleAll(t, 11025, 8000, sine(11025, 11025, 1000, 16000))
	want := sine(8000, 8000, 1000, 16000)
	if snr := snrDB(got, want, edgeSkip(11025, 8000)); snr < 60 {
		t.Errorf("11025 to 8000 Hz SNR = %.1f dB, want at least 60 dB", snr)
	}
}

func TestResampleNoAllocationWithCapacity(t *testing.T) {
	for _, pair := range [][2]int{{8000, 16000}, {24000, 8000}, {44100, 48000}} {
		from, to := pair[0], pair[1]
		r, err := NewResampler(from, to)
		if err != nil {
			t.Fatal(err)
		}
		frame := noise(from/50, 8)
		dst := make([]int16, 0, 2*to/50)
		allocs := testing.AllocsPerRun(200, func() {
			dst = r.Process(dst[:0], frame)
		})
		if allocs != 0 {
			t.Errorf("%d to %d Hz: allocations per 20 ms frame = %v, want 0", from, to, allocs)
		}
	}
}

func TestFilterBankPhasesSumToOne(t *testing.T) {
	bank, err := designFilterBank(44100, 48000)
	if err != nil {
		t.Fatal(err)
	}
	for p := range bank.up {
		var sum float64
		for _, c := range bank.coefs[p*bank.taps : (p+1)*bank.taps] {
			sum += float64(c)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("phase %d sums to %v, want 1", p, sum)
		}
	}
}
