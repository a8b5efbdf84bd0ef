package localmodel

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
)

func requireEspeak(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(DefaultVoiceBinary); err != nil {
		t.Skipf("espeak-ng not installed: %v", err)
	}
}

func TestVoiceSpeakFormats(t *testing.T) {
	requireEspeak(t)
	tests := []struct {
		name   string
		format audio.Format
		perSec int
	}{
		{"pcm 24 kHz", audio.Format{Encoding: audio.PCM16, Rate: 24000}, 48000},
		{"pcm 16 kHz", audio.Format{Encoding: audio.PCM16, Rate: 16000}, 32000},
		{"mulaw 8 kHz", audio.Format{Encoding: audio.Mulaw, Rate: 8000}, 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var total, chunks int
			err := Voice{}.Speak(context.Background(), "Your order number is 101. Thank you, goodbye!", tt.format, func(b []byte) error {
				total += len(b)
				chunks++
				return nil
			})
			if err != nil {
				t.Fatalf("Speak: %v", err)
			}
			secs := float64(total) / float64(tt.perSec)
			if secs < 1 || secs > 10 {
				t.Errorf("got %.2f s of audio, want between 1 and 10", secs)
			}
			if chunks < 2 {
				t.Errorf("got %d chunks, want audio streamed in several", chunks)
			}
		})
	}
}

func TestVoiceCancelKillsProcess(t *testing.T) {
	requireEspeak(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	long := strings.Repeat("This sentence is spoken again and again. ", 30)
	first := true
	start := time.Now()
	err := Voice{}.Speak(ctx, long, audio.Format{Encoding: audio.PCM16, Rate: 16000}, func([]byte) error {
		if first {
			first = false
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Speak after cancel = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Speak took %v after cancel, want it to stop promptly", d)
	}
}

func TestVoiceEmitErrorStops(t *testing.T) {
	requireEspeak(t)
	stop := errors.New("client gone")
	err := Voice{}.Speak(context.Background(), strings.Repeat("Hello there. ", 40), audio.Format{Encoding: audio.PCM16, Rate: 24000}, func([]byte) error {
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Speak = %v, want the emit error", err)
	}
}

func TestVoiceUnknownVoice(t *testing.T) {
	requireEspeak(t)
	err := Voice{Name: "nosuchvoice"}.Speak(context.Background(), "hello", audio.Format{Encoding: audio.PCM16, Rate: 24000}, func([]byte) error { return nil })
	if err == nil {
		t.Fatal("Speak with an unknown voice succeeded, want an error")
	}
}

func TestCapText(t *testing.T) {
	tests := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"short", "hello there", 20, "hello there"},
		{"cut at space", "hello there friend", 14, "hello there"},
		{"no space", "abcdefgh", 4, "abcd"},
		{"multibyte", "café café café", 6, "café"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := capText(tt.in, tt.limit); got != tt.want {
				t.Errorf("capText(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
}
