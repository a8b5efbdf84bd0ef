package localmodel

// ditherAmplitude is the peak of the noise added before decoding, about −55 dBFS RMS.
// Audio with stretches of exact digital zeros (a synthetic voice, a browser with noise
// suppression) breaks the recognizer's cepstral mean normalization: measured on
// espeak-ng phrases, clean audio decoded as other words ("i'll have three oatmeal" for
// "can i get a small mocha with skim milk") at −72 per frame, the same audio with this
// noise decoded right at −41. Real recordings carry far more noise than this, so it
// changes nothing for them.
const ditherAmplitude = 100

// ditherer adds low-level white noise from a xorshift generator: deterministic per
// conversation, so a decode can be reproduced, and allocation-free.
type ditherer struct{ state uint32 }

func newDitherer() *ditherer { return &ditherer{state: 2463534242} }

// apply adds the noise to samples in place, saturating at the int16 range.
func (d *ditherer) apply(samples []int16) {
	x := d.state
	for i, s := range samples {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		n := int(x%(2*ditherAmplitude+1)) - ditherAmplitude
		samples[i] = int16(max(-32768, min(32767, int(s)+n)))
	}
	d.state = x
}
