package localmodel

import (
	"math"
	"path/filepath"
	"testing"
	"time"
)

// runVAD feeds samples in 20 ms chunks and returns the events.
func runVAD(v *VAD, samples []int16) []VADEvent {
	var events []VADEvent
	const chunk = SampleRate / 50
	for len(samples) > 0 {
		n := min(chunk, len(samples))
		events = v.Write(events, samples[:n])
		samples = samples[n:]
	}
	return events
}

func TestVADOneUtterancePerClip(t *testing.T) {
	dir, clips := loadClips(t)
	for _, c := range clips {
		t.Run(c.File[:8], func(t *testing.T) {
			samples := readClip(t, filepath.Join(dir, c.File))
			// A second of quiet after the clip lets the hangover end the utterance.
			samples = append(samples, make([]int16, SampleRate)...)
			events := runVAD(NewVAD(VADConfig{}), samples)
			if len(events) != 2 {
				t.Fatalf("got %d events %+v, want speech start and stop", len(events), kinds(events))
			}
			start, stop := events[0], events[1]
			if start.Kind != SpeechStarted || stop.Kind != SpeechStopped {
				t.Fatalf("got kinds %v, want started then stopped", kinds(events))
			}
			if stop.AudioEndMS <= start.AudioStartMS {
				t.Errorf("audio_end_ms %d <= audio_start_ms %d", stop.AudioEndMS, start.AudioStartMS)
			}
			if got, want := len(stop.Audio), (stop.AudioEndMS-start.AudioStartMS)*SampleRate/1000; abs(got-want) > SampleRate/100 {
				t.Errorf("utterance has %d samples, want about %d", got, want)
			}
			t.Logf("speech %d..%d ms of %d ms", start.AudioStartMS, stop.AudioEndMS, len(samples)*1000/SampleRate)
		})
	}
}

func kinds(events []VADEvent) []VADEventKind {
	out := make([]VADEventKind, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestVADSilence(t *testing.T) {
	tests := []struct {
		name    string
		samples []int16
	}{
		{"digital silence", make([]int16, 5*SampleRate)},
		{"low hiss", noise(5*SampleRate, 30, 1)},
		{"single click", append(append(make([]int16, SampleRate), clickOf(40)...), make([]int16, SampleRate)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if events := runVAD(NewVAD(VADConfig{}), tt.samples); len(events) != 0 {
				t.Errorf("got events %v, want none", kinds(events))
			}
		})
	}
}

func TestVADMaxUtterance(t *testing.T) {
	v := NewVAD(VADConfig{MaxUtterance: 2 * time.Second})
	loud := noise(5*SampleRate, 8000, 2)
	events := runVAD(v, append(make([]int16, SampleRate/2), loud...))
	if len(events) < 2 || events[1].Kind != SpeechStopped {
		t.Fatalf("got %v, want a stop after 2 s of continuous speech", kinds(events))
	}
	if got := events[1].AudioEndMS - events[0].AudioStartMS; got > 2100 {
		t.Errorf("utterance lasted %d ms, want at most 2000 plus a frame", got)
	}
}

func TestVADEndAndReset(t *testing.T) {
	v := NewVAD(VADConfig{})
	events := runVAD(v, append(make([]int16, SampleRate/2), noise(SampleRate, 8000, 3)...))
	if len(events) != 1 || events[0].Kind != SpeechStarted {
		t.Fatalf("got %v, want one start", kinds(events))
	}
	ev, ok := v.End()
	if !ok || ev.Kind != SpeechStopped || len(ev.Audio) == 0 {
		t.Fatalf("End() = %v, %v, want a stop with audio", ev.Kind, ok)
	}
	if _, ok := v.End(); ok {
		t.Error("second End() reported an utterance")
	}
	runVAD(v, noise(SampleRate/2, 8000, 4))
	v.Reset()
	if v.Speaking() {
		t.Error("Speaking() after Reset, want false")
	}
}

// noise returns deterministic pseudo-random samples of about the given amplitude.
func noise(n int, amplitude int, seed uint32) []int16 {
	out := make([]int16, n)
	x := seed*2654435761 + 1
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = int16(int(x%uint32(2*amplitude+1)) - amplitude)
	}
	return out
}

func clickOf(ms int) []int16 {
	return noise(ms*SampleRate/1000, 20000, 9)
}

// TestVADSpeechFromFirstFrame feeds a stream that opens with speech, as a caller who
// talks at once or a synthetic voice does: the speech must still be detected.
func TestVADSpeechFromFirstFrame(t *testing.T) {
	tone := make([]int16, SampleRate) // one second of a loud 300 Hz tone
	for i := range tone {
		tone[i] = int16(6000 * math.Sin(2*math.Pi*300*float64(i)/SampleRate))
	}
	in := append(tone, make([]int16, SampleRate)...)
	v := NewVAD(VADConfig{})
	var events []VADEvent
	for i := 0; i < len(in); i += 320 {
		events = v.Write(events, in[i:min(i+320, len(in))])
	}
	if len(events) != 2 || events[0].Kind != SpeechStarted || events[1].Kind != SpeechStopped {
		t.Fatalf("events = %+v, want one start and one stop", events)
	}
	if got := events[0].AudioStartMS; got != 0 {
		t.Errorf("speech started at %d ms, want 0", got)
	}
}
