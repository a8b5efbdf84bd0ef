package audio

import (
	"math"
	"math/rand/v2"
)

// sine returns n samples of a sine of freq Hz at rate Hz with the given peak
// amplitude, starting at phase 0.
func sine(n, rate int, freq, amplitude float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amplitude * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// noise returns n samples of uniform white noise from a fixed seed.
func noise(n int, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 0))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(rng.IntN(40000) - 20000)
	}
	return out
}

// snrDB returns the signal-to-noise ratio of got against want in decibels,
// over the samples from skip to len(want)-skip.
func snrDB(got, want []int16, skip int) float64 {
	var signal, errPower float64
	for i := skip; i < len(want)-skip; i++ {
		w := float64(want[i])
		d := float64(got[i]) - w
		signal += w * w
		errPower += d * d
	}
	if errPower == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(signal/errPower)
}
