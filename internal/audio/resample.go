package audio

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// Filter design. The low-pass passes up to 90 % of the lower Nyquist
// frequency and reaches full attenuation at that Nyquist frequency, so
// nothing above the output's Nyquist frequency folds back (down-sampling) and
// no image below the input's Nyquist frequency survives (up-sampling). At
// 8 kHz that is a 3.6 kHz passband, wider than the 3.4 kHz telephone band.
const (
	stopbandAttenuationDB = 80.0
	passbandFraction      = 0.9

	// maxFilterCoefficients bounds the memory of one filter bank (4 MiB of
	// float32). Every pair of the standard rates needs fewer than 50 000.
	maxFilterCoefficients = 1 << 20
	maxSampleRate         = 384000

	// resampleBlock is how many input samples Process adds to the history
	// at a time, which bounds the history however large a chunk is.
	resampleBlock = 1024
)

// A Resampler converts a stream of mono PCM16 samples from one sample rate to
// another with a windowed-sinc polyphase FIR filter (Kaiser window, 80 dB
// stopband). The ratio is exact: the rates reduced by their greatest common
// divisor give the up-sampling factor L and the down-sampling factor M.
//
// Output sample n is the input signal at time n·from/to, so the output is
// aligned with the input and, after Flush, holds exactly ceil(inputs·to/from)
// samples. Process holds back the input that the filter still needs, about 50
// samples at the lower of the two rates (6.4 ms when either side is 8 kHz),
// and emits the outputs that depend on it once later input or Flush arrives.
// The output does not depend on how the input is split into chunks.
//
// A Resampler is not safe for concurrent use.
type Resampler struct {
	from, to int
	bank     *filterBank // nil when from == to

	// history contains float32 copies of the input at absolute input indices
	// histStart onward. Indices below 0 are the zeros before the stream.
	history   []float32
	histStart int64

	// The next output sample lies at input time base + phase/L.
	base  int64
	phase int

	inputs  int64 // real input samples since the last Reset
	outputs int64 // output samples emitted since the last Reset
}

// NewResampler returns a Resampler from fromRate to toRate, in Hz. It accepts
// any pair of the standard rates, and other rates while the filter bank stays
// within its memory bound. The error names the bound when it does not.
func NewResampler(fromRate, toRate int) (*Resampler, error) {
	if fromRate < 1 || fromRate > maxSampleRate || toRate < 1 || toRate > maxSampleRate {
		return nil, fmt.Errorf("resample %d Hz to %d Hz: rates must be between 1 and %d Hz",
			fromRate, toRate, maxSampleRate)
	}
	r := &Resampler{from: fromRate, to: toRate}
	if fromRate == toRate {
		return r, nil
	}

	bank, err := filterBankFor(fromRate, toRate)
	if err != nil {
		return nil, err
	}
	r.bank = bank
	r.history = make([]float32, 0, bank.taps+resampleBlock)
	r.Reset()
	return r, nil
}

// Process appends the output samples that the input in src completes to dst
// and returns the extended slice. It does not allocate when dst has room for
// about len(src)·to/from + 1 more samples.
func (r *Resampler) Process(dst, src []int16) []int16 {
	if r.bank == nil {
		return append(dst, src...)
	}
	dst = slices.Grow(dst, r.maxOutputs(len(src)))
	for len(src) > 0 {
		n := min(len(src), cap(r.history)-len(r.history))
		for _, s := range src[:n] {
			r.history = append(r.history, float32(s))
		}
		src = src[n:]
		r.inputs += int64(n)

		dst = r.drain(dst, math.MaxInt64)
		r.discardUsed()
	}
	return dst
}

// Flush appends the output samples still held back, computed as if the input
// were followed by silence, to dst and returns the extended slice. It then
// resets the Resampler for a new stream.
func (r *Resampler) Flush(dst []int16) []int16 {
	if r.bank == nil {
		return dst
	}
	// Outputs n with n·M < inputs·L lie inside the input's time span.
	L, M := int64(r.bank.up), int64(r.bank.down)
	total := (r.inputs*L + M - 1) / M
	dst = slices.Grow(dst, int(total-r.outputs))
	for r.outputs < total {
		for len(r.history) < cap(r.history) {
			r.history = append(r.history, 0)
		}
		dst = r.drain(dst, total)
		r.discardUsed()
	}
	r.Reset()
	return dst
}

// Reset drops the held-back input and starts a new stream.
func (r *Resampler) Reset() {
	if r.bank == nil {
		return
	}
	// The first output needs R-1 samples before index 0, which are zeros.
	lead := r.bank.halfTaps - 1
	r.history = r.history[:lead]
	clear(r.history)
	r.histStart = -int64(lead)
	r.base, r.phase = 0, 0
	r.inputs, r.outputs = 0, 0
}

// maxOutputs returns an upper bound on the outputs that n more inputs
// complete.
func (r *Resampler) maxOutputs(n int) int {
	return int(int64(n)*int64(r.bank.up)/int64(r.bank.down)) + 2
}

// drain appends every output whose filter window the history covers, up to
// the output count limit.
func (r *Resampler) drain(dst []int16, limit int64) []int16 {
	b := r.bank
	histEnd := r.histStart + int64(len(r.history))
	for r.outputs < limit && r.base+int64(b.halfTaps) < histEnd {
		start := int(r.base - int64(b.halfTaps) + 1 - r.histStart)
		window := r.history[start : start+b.taps]
		coefs := b.coefs[r.phase*b.taps : (r.phase+1)*b.taps]
		dst = append(dst, roundToInt16(dot(window, coefs)))
		r.outputs++

		r.phase += b.phaseStep
		r.base += int64(b.baseStep)
		if r.phase >= b.up {
			r.phase -= b.up
			r.base++
		}
	}
	return dst
}

// discardUsed drops history that no later output needs. The filter is wider
// than one output step (see designFilterBank), so the first index still
// needed never lies beyond the history's end.
func (r *Resampler) discardUsed() {
	keepFrom := r.base - int64(r.bank.halfTaps) + 1
	drop := int(keepFrom - r.histStart)
	if drop <= 0 {
		return
	}
	drop = min(drop, len(r.history))
	n := copy(r.history, r.history[drop:])
	r.history = r.history[:n]
	r.histStart += int64(drop)
}

// dot returns the dot product of x and c, where len(x) >= len(c). Four
// partial sums shorten the dependency chain of the additions, and the
// three-index slices let the compiler drop bounds checks in the loop.
func dot(x, c []float32) float32 {
	n := len(c)
	x = x[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		x4 := x[i : i+4 : i+4]
		c4 := c[i : i+4 : i+4]
		s0 += x4[0] * c4[0]
		s1 += x4[1] * c4[1]
		s2 += x4[2] * c4[2]
		s3 += x4[3] * c4[3]
	}
	for ; i < n; i++ {
		s0 += x[i] * c[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// roundToInt16 rounds v half away from zero and clips it to the int16 range.
func roundToInt16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

// A filterBank is the polyphase decomposition of one low-pass filter. Phase
// p holds the taps for outputs at input time base + p/L, in order of input
// index from base-halfTaps+1 to base+halfTaps. It is read-only once built.
type filterBank struct {
	up, down  int // L and M
	halfTaps  int // R: taps on each side of the output time
	taps      int // 2R taps per phase
	phaseStep int // M mod L
	baseStep  int // M div L
	coefs     []float32
}

// standardRates are the rates whose filter banks are built once and shared by
// every Resampler. The table is fixed in size, so it cannot grow with use.
var standardRates = [...]int{8000, 16000, 22050, 24000, 44100, 48000}

var standardBanks = func() (banks [len(standardRates)][len(standardRates)]func() (*filterBank, error)) {
	for i, from := range standardRates {
		for j, to := range standardRates {
			banks[i][j] = sync.OnceValues(func() (*filterBank, error) {
				return designFilterBank(from, to)
			})
		}
	}
	return banks
}()

// filterBankFor returns the shared bank for standard rates and a new one
// otherwise.
func filterBankFor(from, to int) (*filterBank, error) {
	i := slices.Index(standardRates[:], from)
	j := slices.Index(standardRates[:], to)
	if i < 0 || j < 0 {
		return designFilterBank(from, to)
	}
	return standardBanks[i][j]()
}

// designFilterBank designs a Kaiser-windowed sinc low-pass for resampling
// from one rate to another and splits it into L phases. The kernel is
// evaluated in units of input samples, so its DC gain is 1 at any ratio, and
// each phase is normalized to sum to exactly 1 so constant input gives
// constant output.
func designFilterBank(from, to int) (*filterBank, error) {
	g := gcd(from, to)
	up, down := to/g, from/g

	nyquist := float64(min(from, to)) / 2
	transition := (1 - passbandFraction) * nyquist // Hz
	cutoff := (1 + passbandFraction) / 2 * nyquist / float64(from)

	// Kaiser's estimates of the window length (in input samples) and shape
	// for the attenuation and transition width.
	A := stopbandAttenuationDB
	length := (A-8)/(2.285*2*math.Pi*transition/float64(from)) + 1
	beta := 0.1102 * (A - 8.7)
	halfWidth := (length - 1) / 2

	// The window must span more than one output step, or discardUsed could
	// drop input that was never read.
	halfTaps := max(int(math.Ceil(halfWidth)), (down+up-1)/up+1)
	taps := 2 * halfTaps
	if up*taps > maxFilterCoefficients {
		return nil, fmt.Errorf("resample %d Hz to %d Hz: ratio %d/%d needs %d filter coefficients, more than the %d supported",
			from, to, up, down, up*taps, maxFilterCoefficients)
	}

	bank := &filterBank{
		up:        up,
		down:      down,
		halfTaps:  halfTaps,
		taps:      taps,
		phaseStep: down % up,
		baseStep:  down / up,
		coefs:     make([]float32, up*taps),
	}
	i0Beta := besselI0(beta)
	phase := make([]float64, taps)
	for p := range up {
		var sum float64
		for k := range phase {
			tau := float64(p)/float64(up) - float64(k-halfTaps+1)
			phase[k] = 0
			if math.Abs(tau) < halfWidth {
				ratio := tau / halfWidth
				window := besselI0(beta*math.Sqrt(1-ratio*ratio)) / i0Beta
				phase[k] = 2 * cutoff * sinc(2*cutoff*tau) * window
			}
			sum += phase[k]
		}
		for k, c := range phase {
			bank.coefs[p*taps+k] = float32(c / sum)
		}
	}
	return bank, nil
}

// sinc returns sin(πx)/(πx), the normalized sinc.
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 returns the modified Bessel function of the first kind of order
// zero, summed from its power series until terms stop mattering.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	half := x / 2
	for k := 1; term > 1e-12*sum; k++ {
		term *= (half / float64(k)) * (half / float64(k))
		sum += term
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
