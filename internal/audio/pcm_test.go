package audio

import (
	"math"
	"slices"
	"testing"
)

func TestPCM16FromBytesLittleEndian(t *testing.T) {
	tests := []struct {
		name string
		src  []byte
		want []int16
	}{
		{"empty", nil, []int16{}},
		{"one", []byte{0x01, 0x00}, []int16{1}},
		{"minus one", []byte{0xFF, 0xFF}, []int16{-1}},
		{"min and max", []byte{0x00, 0x80, 0xFF, 0x7F}, []int16{math.MinInt16, math.MaxInt16}},
		{"trailing odd byte ignored", []byte{0x34, 0x12, 0x99}, []int16{0x1234}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PCM16FromBytes([]int16{}, tt.src)
			if !slices.Equal(got, tt.want) {
				t.Errorf("PCM16FromBytes(% x) = %v, want %v", tt.src, got, tt.want)
			}
		})
	}
}

func TestPCM16ToBytesLittleEndian(t *testing.T) {
	got := PCM16ToBytes([]byte{0xAA}, []int16{0x1234, -1, math.MinInt16})
	want := []byte{0xAA, 0x34, 0x12, 0xFF, 0xFF, 0x00, 0x80}
	if !slices.Equal(got, want) {
		t.Errorf("PCM16ToBytes = % x, want % x", got, want)
	}
}

func TestPCM16RoundTrip(t *testing.T) {
	samples := noise(1001, 1)
	got := PCM16FromBytes(nil, PCM16ToBytes(nil, samples))
	if !slices.Equal(got, samples) {
		t.Errorf("round trip changed samples")
	}
}

func TestPCM16NoAllocationWithCapacity(t *testing.T) {
	samples := noise(320, 2)
	raw := make([]byte, 0, 640)
	back := make([]int16, 0, 320)
	allocs := testing.AllocsPerRun(100, func() {
		raw = PCM16ToBytes(raw[:0], samples)
		back = PCM16FromBytes(back[:0], raw)
	})
	if allocs != 0 {
		t.Errorf("allocations per round trip = %v, want 0", allocs)
	}
}

func TestDownmix(t *testing.T) {
	tests := []struct {
		name     string
		src      []int16
		channels int
		want     []int16
	}{
		{"mono unchanged", []int16{1, 2, 3}, 1, []int16{1, 2, 3}},
		{"stereo mean", []int16{100, 200, -50, -150}, 2, []int16{150, -100}},
		{"stereo extremes do not clip", []int16{32767, 32767, -32768, -32768}, 2, []int16{32767, -32768}},
		{"rounds toward zero", []int16{1, -2, 3, 4}, 2, []int16{0, 3}},
		{"three channels", []int16{3, 6, 9, -3, -6, -9}, 3, []int16{6, -6}},
		{"trailing partial frame dropped", []int16{10, 20, 30}, 2, []int16{15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Downmix(nil, tt.src, tt.channels)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Downmix(%v, %d) = %v, want %v", tt.src, tt.channels, got, tt.want)
			}
		})
	}
}

func TestDownmixPanicsOnZeroChannels(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Downmix with 0 channels did not panic")
		}
	}()
	Downmix(nil, []int16{1}, 0)
}

func TestRMS(t *testing.T) {
	tests := []struct {
		name    string
		samples []int16
		want    float64
	}{
		{"empty", nil, 0},
		{"silence", make([]int16, 100), 0},
		{"constant", []int16{1000, -1000, 1000, -1000}, 1000},
		{"full-scale square", []int16{math.MinInt16, math.MinInt16}, 32768},
		{"three four", []int16{3, 4}, math.Sqrt(12.5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RMS(tt.samples); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("RMS = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDBFS(t *testing.T) {
	tests := []struct {
		name      string
		samples   []int16
		want      float64
		tolerance float64
	}{
		{"full-scale square", []int16{math.MinInt16, math.MinInt16}, 0, 1e-9},
		{"full-scale sine", sine(8000, 8000, 1000, 32767), -3.01, 0.01},
		{"sine at -20 dB peak", sine(8000, 8000, 1000, 3276.8), -23.01, 0.01},
		{"one LSB", []int16{1, -1}, -90.31, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DBFS(tt.samples); math.Abs(got-tt.want) > tt.tolerance {
				t.Errorf("DBFS = %.3f, want %.3f ± %v", got, tt.want, tt.tolerance)
			}
		})
	}
}

func TestDBFSSilenceIsNegativeInfinity(t *testing.T) {
	for _, samples := range [][]int16{nil, make([]int16, 160)} {
		if got := DBFS(samples); !math.IsInf(got, -1) {
			t.Errorf("DBFS(%d zero samples) = %v, want -Inf", len(samples), got)
		}
	}
}
