package voicecall

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
)

func TestEncodeTurnFrames(t *testing.T) {
	tests := []struct {
		name       string
		rate       int
		d          time.Duration
		to         audio.Format
		wantFrames int
		frameSize  int
	}{
		{"browser, same rate", 16000, 200 * time.Millisecond, audio.Format{Encoding: audio.PCM16, Rate: 16000}, 10, 640},
		{"browser, padded", 16000, 210 * time.Millisecond, audio.Format{Encoding: audio.PCM16, Rate: 16000}, 11, 640},
		{"browser from 22050 Hz", 22050, time.Second, audio.Format{Encoding: audio.PCM16, Rate: 16000}, 50, 640},
		{"twilio from 16 kHz", 16000, time.Second, audio.Format{Encoding: audio.Mulaw, Rate: 8000}, 50, 160},
		{"twilio from 8 kHz, padded", 8000, 130 * time.Millisecond, audio.Format{Encoding: audio.Mulaw, Rate: 8000}, 7, 160},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &audio.WAV{SampleRate: tt.rate, Channels: 1, Encoding: audio.PCM16, Samples: tone(tt.rate, tt.d, 440)}
			u, err := encodeTurn(w, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if u.frameSize != tt.frameSize {
				t.Errorf("frame size = %d, want %d", u.frameSize, tt.frameSize)
			}
			if u.frames() != tt.wantFrames {
				t.Errorf("frames = %d, want %d", u.frames(), tt.wantFrames)
			}
			if len(u.audio)%u.frameSize != 0 {
				t.Errorf("audio is %d bytes, not whole frames of %d", len(u.audio), u.frameSize)
			}
		})
	}
}

func TestEncodeTurnPadsWithSilence(t *testing.T) {
	tests := []struct {
		name string
		to   audio.Format
		pad  byte
	}{
		{"pcm16", audio.Format{Encoding: audio.PCM16, Rate: 8000}, 0},
		{"mulaw", audio.Format{Encoding: audio.Mulaw, Rate: 8000}, audio.MulawSilence},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			samples := make([]int16, 10)
			for i := range samples {
				samples[i] = 1000
			}
			u, err := encodeTurn(&audio.WAV{SampleRate: 8000, Channels: 1, Samples: samples}, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			tail := u.audio[len(u.audio)-1]
			if tail != tt.pad {
				t.Errorf("last byte = %#x, want silence %#x", tail, tt.pad)
			}
		})
	}
}

func TestPrepareTurnsErrors(t *testing.T) {
	notWAV := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notWAV, []byte("a latte please"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.wav")
	f, err := os.Create(empty)
	if err != nil {
		t.Fatal(err)
	}
	audio.WriteWAV(f, 16000, nil)
	f.Close()

	tests := []struct {
		name string
		turn Turn
		want string
	}{
		{"missing file", FileTurn(filepath.Join(t.TempDir(), "absent.wav")), "no such file"},
		{"not a WAV", FileTurn(notWAV), "invalid WAV"},
		{"no audio", FileTurn(empty), "no audio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := prepareTurns(t.Context(), []Turn{tt.turn}, audio.Format{Encoding: audio.PCM16, Rate: 16000})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "turn 1") {
				t.Errorf("error = %v, want one naming turn 1 and containing %q", err, tt.want)
			}
		})
	}
}

func requireEspeak(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
}

func TestSynthesize(t *testing.T) {
	requireEspeak(t)
	w, err := synthesize(t.Context(), "I'd like a large latte with oat milk")
	if err != nil {
		t.Fatal(err)
	}
	if w.SampleRate != 22050 || w.Channels != 1 {
		t.Errorf("espeak-ng output is %d Hz with %d channels, want 22050 Hz mono", w.SampleRate, w.Channels)
	}
	if d := w.Duration(); d < time.Second || d > 10*time.Second {
		t.Errorf("speech lasts %s, want a few seconds", d)
	}
	if dbfs := audio.DBFS(w.Samples); dbfs < -40 {
		t.Errorf("speech level %.1f dBFS, want audible speech", dbfs)
	}
}

func TestSynthesizeCancelled(t *testing.T) {
	requireEspeak(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	long := strings.Repeat("one large latte with oat milk and an extra shot please. ", 2000)
	start := time.Now()
	_, err := synthesize(ctx, long)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want the context's deadline", err)
	}
	if elapsed := time.Since(start); elapsed > espeakWaitDelay+time.Second {
		t.Errorf("synthesize returned %s after the deadline, want the process killed at once", elapsed)
	}
}

func TestSpeechTurnFrames(t *testing.T) {
	requireEspeak(t)
	us, err := prepareTurns(t.Context(), []Turn{SpeechTurn("that's all")}, audio.Format{Encoding: audio.Mulaw, Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	if us[0].frameSize != 160 || us[0].frames() < 10 {
		t.Errorf("spoken turn is %d frames of %d bytes, want at least 10 frames of 160", us[0].frames(), us[0].frameSize)
	}
}

func TestBoundedBuffer(t *testing.T) {
	tests := []struct {
		name     string
		truncate bool
		wantErr  bool
		wantLen  int
	}{
		{"fails past the limit", false, true, 4},
		{"truncates past the limit", true, false, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &boundedBuffer{max: 6, truncate: tt.truncate}
			b.Write([]byte("1234"))
			_, err := b.Write([]byte("5678"))
			if (err != nil) != tt.wantErr {
				t.Errorf("second write error = %v, want error %v", err, tt.wantErr)
			}
			if b.buf.Len() != tt.wantLen {
				t.Errorf("kept %d bytes, want %d", b.buf.Len(), tt.wantLen)
			}
		})
	}
}
