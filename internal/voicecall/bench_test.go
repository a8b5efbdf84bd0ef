package voicecall

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// The inbound audio path runs once per assistant chunk, 50 times a second per call
// on Twilio.

func BenchmarkTwilioInboundMedia(b *testing.B) {
	o := &Options{Speed: 1}
	t := &twilioCall{o: o, tr: newTracker(o, false)}
	payload := base64.StdEncoding.EncodeToString(audio.EncodeMulaw(nil, tone(twilioRate, frameDuration, 300)))
	m := &twilioMediaInfo{Payload: payload}
	b.ReportAllocs()
	for b.Loop() {
		if err := t.media(m, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBrowserInboundAudio(b *testing.B) {
	o := &Options{Speed: 1}
	c := &browserCall{o: o, tr: newTracker(o, true)}
	chunk := audio.PCM16ToBytes(nil, tone(browserRate, 100*time.Millisecond, 300))
	m := browserServerMessage{Type: browserAudio, Audio: base64.StdEncoding.EncodeToString(chunk)}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.audio(m, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
