package audio

import (
	"os"
	"testing"
	"time"
)

// Each benchmark processes one 20 ms frame per iteration, so ns/op is the
// CPU cost of 20 ms of audio.

func BenchmarkEncodeMulaw20ms(b *testing.B) {
	samples := sine(160, 8000, 997, 12000)
	dst := make([]byte, 0, len(samples))
	b.SetBytes(int64(2 * len(samples)))
	for b.Loop() {
		dst = EncodeMulaw(dst[:0], samples)
	}
}

func BenchmarkDecodeMulaw20ms(b *testing.B) {
	codes := EncodeMulaw(nil, sine(160, 8000, 997, 12000))
	dst := make([]int16, 0, len(codes))
	b.SetBytes(int64(len(codes)))
	for b.Loop() {
		dst = DecodeMulaw(dst[:0], codes)
	}
}

func benchmarkResample(b *testing.B, from, to int) {
	r, err := NewResampler(from, to)
	if err != nil {
		b.Fatal(err)
	}
	frame := sine(from/50, from, 997, 12000)
	dst := make([]int16, 0, 2*to/50)
	b.SetBytes(int64(2 * len(frame)))
	for b.Loop() {
		dst = r.Process(dst[:0], frame)
	}
}

func BenchmarkResample8kTo16k20ms(b *testing.B)  { benchmarkResample(b, 8000, 16000) }
func BenchmarkResample8kTo24k20ms(b *testing.B)  { benchmarkResample(b, 8000, 24000) }
func BenchmarkResample24kTo8k20ms(b *testing.B)  { benchmarkResample(b, 24000, 8000) }
func BenchmarkResample24kTo16k20ms(b *testing.B) { benchmarkResample(b, 24000, 16000) }
func BenchmarkResample44kTo48k20ms(b *testing.B) { benchmarkResample(b, 44100, 48000) }

// BenchmarkConvertPCM24kToMulaw8k20ms is the outbound phone path: model audio
// to Twilio. It loops over the recorded model output when it is available.
func BenchmarkConvertPCM24kToMulaw8k20ms(b *testing.B) {
	audio := PCM16ToBytes(nil, sine(24000, 24000, 997, 12000))
	if path, err := findTestdata("audio/realtime-output/hi-there-24k-pcm16.pcm"); err == nil {
		raw, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		audio = raw
	} else {
		b.Logf("recorded model output not available (%v); using a synthetic tone", err)
	}
	benchmarkConvert(b, pcm24k, mulaw8k, audio)
}

// BenchmarkConvertMulaw8kToPCM24k20ms is the inbound phone path: Twilio audio
// to a model that takes 24 kHz PCM16.
func BenchmarkConvertMulaw8kToPCM24k20ms(b *testing.B) {
	benchmarkConvert(b, mulaw8k, pcm24k, EncodeMulaw(nil, sine(8000, 8000, 997, 12000)))
}

// BenchmarkConvertMulaw8kToPCM16k20ms is the phone path into the local
// engine's recognizer.
func BenchmarkConvertMulaw8kToPCM16k20ms(b *testing.B) {
	benchmarkConvert(b, mulaw8k, pcm16k, EncodeMulaw(nil, sine(8000, 8000, 997, 12000)))
}

func benchmarkConvert(b *testing.B, from, to Format, audio []byte) {
	c, err := NewConverter(from, to)
	if err != nil {
		b.Fatal(err)
	}
	frameSize := from.FrameSize(20 * time.Millisecond)
	frames := len(audio) / frameSize
	dst := make([]byte, 0, 2*to.FrameSize(20*time.Millisecond))
	b.SetBytes(int64(frameSize))
	i := 0
	for b.Loop() {
		frame := audio[i*frameSize : (i+1)*frameSize]
		dst = c.Convert(dst[:0], frame)
		i = (i + 1) % frames
	}
}

// BenchmarkFramer cuts model-sized deltas (4800 bytes of μ-law, 600 ms) into
// 160-byte frames; one op is one delta.
func BenchmarkFramer(b *testing.B) {
	f := NewFramer(160)
	delta := streamBytes(4801)
	b.SetBytes(int64(len(delta)))
	frames := 0
	for b.Loop() {
		for range f.Frames(delta) {
			frames++
		}
	}
}

func BenchmarkNewResamplerNonStandardRate(b *testing.B) {
	for b.Loop() {
		if _, err := NewResampler(11025, 8000); err != nil {
			b.Fatal(err)
		}
	}
}
