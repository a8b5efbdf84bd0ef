package soak

import (
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
)

const (
	// frameDuration is the caller's frame: what a microphone or Twilio sends
	// at a time.
	frameDuration = 20 * time.Millisecond
	// clipRate is the rate of the built-in clip.
	clipRate = 16000
	// clipTone is the length of the built-in clip's tone.
	clipTone = 1500 * time.Millisecond
	// maxWAVBytes bounds a CallAudio file; ten minutes of 48 kHz PCM16 fit.
	maxWAVBytes = 64 << 20
)

// The caller formats of the two transports.
var (
	browserFormat = audio.Format{Encoding: audio.PCM16, Rate: 16000}
	twilioFormat  = audio.Format{Encoding: audio.Mulaw, Rate: 8000}
)

// clip is the caller's audio in one transport's format, cut into 20 ms
// frames. It is shared read-only by every call of that transport.
type clip struct {
	frames  [][]byte
	silence []byte // one frame of digital silence
}

// duration returns the clip's length in audio time.
func (c *clip) duration() time.Duration {
	return time.Duration(len(c.frames)) * frameDuration
}

// loadClips returns the clip for each transport: the WAV file at path, or
// the built-in tone when path is empty.
func loadClips(path string) (map[Transport]*clip, error) {
	samples, rate := builtinClip(), clipRate
	if path != "" {
		wav, err := readWAV(path)
		if err != nil {
			return nil, err
		}
		samples, rate = wav.Mono(), wav.SampleRate
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("call audio %s holds no samples", path)
	}
	src := audio.PCM16ToBytes(nil, samples)
	clips := make(map[Transport]*clip, 2)
	for t, f := range map[Transport]audio.Format{TransportBrowser: browserFormat, TransportTwilio: twilioFormat} {
		c, err := newClip(src, rate, f)
		if err != nil {
			return nil, fmt.Errorf("call audio: %w", err)
		}
		clips[t] = c
	}
	return clips, nil
}

func readWAV(path string) (*audio.WAV, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open call audio: %w", err)
	}
	defer f.Close()
	wav, err := audio.ReadWAV(io.LimitReader(f, maxWAVBytes))
	if err != nil {
		return nil, fmt.Errorf("read call audio %s: %w", path, err)
	}
	return wav, nil
}

// newClip converts PCM16 bytes at rate into frames of format f; the last
// frame is padded with silence.
func newClip(pcm []byte, rate int, f audio.Format) (*clip, error) {
	conv, err := audio.NewConverter(audio.Format{Encoding: audio.PCM16, Rate: rate}, f)
	if err != nil {
		return nil, err
	}
	out := conv.Flush(conv.Convert(nil, pcm))
	framer := audio.NewFramer(f.FrameSize(frameDuration))
	c := &clip{silence: silence(f)}
	for frame := range framer.Frames(out) {
		c.frames = append(c.frames, append([]byte(nil), frame...))
	}
	if last := framer.Flush(c.silence[0]); last != nil {
		c.frames = append(c.frames, last)
	}
	return c, nil
}

// silence returns one frame of digital silence in f.
func silence(f audio.Format) []byte {
	b := make([]byte, f.FrameSize(frameDuration))
	if f.Encoding == audio.Mulaw {
		for i := range b {
			b[i] = audio.MulawSilence
		}
	}
	return b
}

// builtinClip returns the built-in clip: a tone of two partials with a slow
// swell, like a voiced sound, without silence around it, because the caller
// sends silence of its own before and after.
func builtinClip() []int16 {
	n := int(int64(clipRate) * int64(clipTone) / int64(time.Second))
	samples := make([]int16, n)
	for i := range samples {
		t := float64(i) / clipRate
		envelope := 0.6 + 0.4*math.Sin(2*math.Pi*3*t)
		v := 5000*math.Sin(2*math.Pi*220*t) + 2500*math.Sin(2*math.Pi*660*t)
		samples[i] = int16(envelope * v)
	}
	return samples
}
