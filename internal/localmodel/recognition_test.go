package localmodel

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// Lower bounds for the sixteen recorded orders with the shipped menu. Debian's
// pocketsphinx 0.8+5prealpha got 15 of 16 right at 16 kHz and 14 of 16 through
// 8 kHz μ-law. The margin of one or two leaves room for builds that score
// slightly differently.
const (
	minClipsRight      = 13
	minPhoneClipsRight = 13
)

// utteranceOf cuts the first utterance out of a recording with the VAD, as the
// server does, or returns the whole recording when the VAD finds none.
func utteranceOf(samples []int16) []int16 {
	samples = append(append([]int16(nil), samples...), make([]int16, SampleRate)...)
	for _, e := range runVAD(NewVAD(VADConfig{}), samples) {
		if e.Kind == SpeechStopped {
			return e.Audio
		}
	}
	return samples
}

// throughPhone converts 16 kHz audio to 8 kHz μ-law and back, as a phone call
// delivers it.
func throughPhone(t testing.TB, samples []int16) []int16 {
	t.Helper()
	down, err := audio.NewConverter(decodeFormat, audio.Format{Encoding: audio.Mulaw, Rate: 8000})
	if err != nil {
		t.Fatalf("converter: %v", err)
	}
	up, err := audio.NewConverter(audio.Format{Encoding: audio.Mulaw, Rate: 8000}, decodeFormat)
	if err != nil {
		t.Fatalf("converter: %v", err)
	}
	mulaw := down.Flush(down.Convert(nil, audio.PCM16ToBytes(nil, samples)))
	pcm := up.Flush(up.Convert(nil, mulaw))
	return audio.PCM16FromBytes(nil, pcm)
}

func TestDecodeRecordedOrders(t *testing.T) {
	tests := []struct {
		name     string
		phone    bool
		minRight int
	}{
		{"16 kHz", false, minClipsRight},
		{"8 kHz mulaw", true, minPhoneClipsRight},
	}
	r, _ := newTestRecognizer(t)
	dir, clips := loadClips(t)
	cat := testCatalog(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			right := 0
			var total time.Duration
			var audioLen time.Duration
			for _, c := range clips {
				samples := readClip(t, filepath.Join(dir, c.File))
				if tt.phone {
					samples = throughPhone(t, samples)
				}
				utt := utteranceOf(samples)
				start := time.Now()
				h, err := r.Decode(utt)
				elapsed := time.Since(start)
				if err != nil {
					t.Fatalf("decode %s: %v", c.File, err)
				}
				total += elapsed
				audioLen += time.Duration(len(utt)) * time.Second / SampleRate
				diff := lineDiff(Interpret(cat, h.Text), expectedLine(t, cat, c.Slots))
				accepted := h.WordScorePerFrame >= DefaultScoreThreshold
				ok := diff == "" && accepted
				if ok {
					right++
				}
				t.Logf("%s %-5v score/frame %6.1f word score/frame %6.1f decode %4dms %q %s",
					c.File[:8], ok, h.ScorePerFrame, h.WordScorePerFrame, elapsed.Milliseconds(), h.Text, diff)
			}
			t.Logf("%d of %d right; decoding took %.3f × real time", right, len(clips), total.Seconds()/audioLen.Seconds())
			if right < tt.minRight {
				t.Errorf("%d of %d orders right, want at least %d", right, len(clips), tt.minRight)
			}
		})
	}
}

func TestDecodeRejectsOffMenuSpeech(t *testing.T) {
	r, _ := newTestRecognizer(t)
	path := filepath.Join(testdataDir(t), "audio", "coffee-orders-rhino", "test_out_of_context.wav")
	samples := readClip(t, path)
	for _, phone := range []bool{false, true} {
		t.Run(fmt.Sprintf("phone=%v", phone), func(t *testing.T) {
			s := samples
			if phone {
				s = throughPhone(t, s)
			}
			h, err := r.Decode(utteranceOf(s))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			t.Logf("word score/frame %.1f for %q", h.WordScorePerFrame, h.Text)
			if h.WordScorePerFrame >= DefaultScoreThreshold {
				t.Errorf("off-menu speech scored %.1f, want below the threshold %.1f", h.WordScorePerFrame, DefaultScoreThreshold)
			}
		})
	}
}

func TestDecodeWithinContext(t *testing.T) {
	r, _ := newTestRecognizer(t)
	path := filepath.Join(testdataDir(t), "audio", "coffee-orders-rhino", "test_within_context.wav")
	h, err := r.Decode(utteranceOf(readClip(t, path)))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	in := Interpret(testCatalog(t), h.Text)
	t.Logf("word score/frame %.1f for %q", h.WordScorePerFrame, h.Text)
	if h.WordScorePerFrame < DefaultScoreThreshold || in.Kind != IntentOrder || in.Items[0].ItemID != "americano" || in.Items[0].SizeID != "medium" {
		t.Errorf("got %+v at %.1f, want a medium americano above the threshold", in, h.WordScorePerFrame)
	}
}

// TestDecodeSyntheticVoice speaks phrases with espeak-ng through the Voice and the
// 22050 Hz to 16 kHz conversion, with the low noise of a real line before and
// after, as the VAD would cut it.
func TestDecodeSyntheticVoice(t *testing.T) {
	requireEspeak(t)
	r, _ := newTestRecognizer(t)
	phrases := []struct{ text, want string }{
		{"I'd like a large latte with oat milk", "i'd like a large latte with oat milk"},
		{"that's all", "that's all"},
		{"yes", "yes"},
	}
	for _, p := range phrases {
		t.Run(p.want, func(t *testing.T) {
			var pcm []byte
			err := Voice{}.Speak(context.Background(), p.text, decodeFormat, func(b []byte) error {
				pcm = append(pcm, b...)
				return nil
			})
			if err != nil {
				t.Fatalf("speak: %v", err)
			}
			speech := audio.PCM16FromBytes(nil, pcm)
			samples := append(noise(SampleRate*3/10, 100, 5), mix(speech, noise(len(speech), 100, 6))...)
			samples = append(samples, noise(SampleRate/2, 100, 7)...)
			h, err := r.Decode(samples)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			t.Logf("word score/frame %.1f for %q", h.WordScorePerFrame, h.Text)
			if h.Text != p.want {
				t.Errorf("heard %q, want %q", h.Text, p.want)
			}
			if h.WordScorePerFrame < DefaultScoreThreshold {
				t.Errorf("word score/frame %.1f is below the threshold %.1f", h.WordScorePerFrame, DefaultScoreThreshold)
			}
		})
	}
}

func mix(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i := range a {
		out[i] = int16(max(-32768, min(32767, int(a[i])+int(b[i]))))
	}
	return out
}

// TestRecognizerMemory reports the resident memory one decoder adds; run it with
// -v to see the figure.
func TestRecognizerMemory(t *testing.T) {
	dict := fullDictionary(t)
	g := BuildGrammar(testCatalog(t), dict)
	sub := dict.Subset(g.Words)
	const n = 8
	runtime.GC()
	before := residentKB(t)
	recs := make([]*Recognizer, 0, n)
	start := time.Now()
	for range n {
		r, err := NewRecognizer(RecognizerConfig{Dictionary: sub, Grammar: g.JSGF})
		if err != nil {
			t.Fatalf("new recognizer: %v", err)
		}
		recs = append(recs, r)
	}
	load := time.Since(start) / n
	// A decode grows the search's buffers to their working size.
	for _, r := range recs {
		if _, err := r.Decode(noise(3*SampleRate, 3000, 1)); err != nil {
			t.Fatalf("decode: %v", err)
		}
	}
	after := residentKB(t)
	for _, r := range recs {
		r.Close()
	}
	perDecoder := float64(after-before) / n / 1024
	t.Logf("resident memory per decoder: %.1f MB (%d decoders); loading one took %v", perDecoder, n, load.Round(time.Millisecond))
	if perDecoder > 40 {
		t.Errorf("each decoder takes %.1f MB, want at most 40", perDecoder)
	}
}

func residentKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatalf("parse VmRSS %q: %v", rest, err)
			}
			return kb
		}
	}
	t.Skip("VmRSS not found")
	return 0
}

func BenchmarkDecode(b *testing.B) {
	r, _ := newTestRecognizer(b)
	dir, clips := loadClips(b)
	utt := utteranceOf(readClip(b, filepath.Join(dir, clips[0].File)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Decode(utt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(time.Duration(len(utt))*time.Second/SampleRate), "x_realtime")
}

func BenchmarkVAD(b *testing.B) {
	samples := noise(10*SampleRate, 3000, 2)
	b.SetBytes(int64(2 * len(samples)))
	for b.Loop() {
		v := NewVAD(VADConfig{})
		runVAD(v, samples)
	}
}
