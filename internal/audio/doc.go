// Package audio provides the audio primitives of the voice path. These are
// G.711 μ-law encoding and decoding, little-endian PCM16 packing, a streaming
// band-limited resampler, re-framing into fixed-size frames (20 ms for
// telephony), WAV reading and writing, and signal level (RMS and dBFS). A
// stateful Converter chains decode, resample and encode between two formats.
//
// Audio is mono 16-bit signed samples ([]int16) in memory. On the wire it is
// either PCM16 little-endian or 8-bit μ-law. Functions that produce samples or
// bytes append to a dst slice and return it, so a caller that keeps its
// buffers between calls allocates nothing in steady state.
//
// The resampler is written here because Go has no band-limited streaming
// resampler in wide use: the maintained options wrap C libraries through cgo.
// It is a windowed-sinc polyphase FIR for any rational ratio between the usual
// rates (8000, 16000, 22050, 24000, 44100 and 48000 Hz).
//
// The package does not provide A-law, Opus or other codecs, float or 24-bit
// samples, multichannel processing beyond downmixing to mono, playback timing,
// or voice-activity decisions (it supplies the level measures those use).
// It starts no goroutines. Resampler, Framer, Converter and WAVWriter hold
// per-stream state and are not safe for concurrent use; give each stream its
// own.
package audio
