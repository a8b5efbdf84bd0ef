package audio

import "math"

// fullScale is the magnitude of the most negative 16-bit sample, the 0 dBFS
// reference used by DBFS.
const fullScale = 32768.0

// RMS returns the root mean square of samples in sample units (0 to 32768).
// It returns 0 for an empty slice.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	// Each square is at most 2^30, so an int64 sum cannot overflow below
	// 2^33 samples.
	var sum int64
	for _, s := range samples {
		v := int64(s)
		sum += v * v
	}
	return math.Sqrt(float64(sum) / float64(len(samples)))
}

// DBFS returns the RMS level of samples in decibels relative to full scale,
// where a square wave at full scale is 0 dBFS, so a full-scale sine reads
// about -3 dBFS. It returns negative infinity for digital silence and for an
// empty slice, which compares below any threshold.
func DBFS(samples []int16) float64 {
	rms := RMS(samples)
	if rms == 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(rms/fullScale)
}
