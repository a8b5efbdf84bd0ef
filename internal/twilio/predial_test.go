package twilio_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
	"github.com/voiceorder/voiceorder/internal/twilio"
)

// greetingModel replies to the greeting request with 200 ms of audio and then reads until the
// connection ends. requested receives the time each greeting was requested.
func greetingModel(requested chan<- time.Time) realtimetest.Handler {
	return func(ctx context.Context, c *realtimetest.ServerConn) {
		var wg sync.WaitGroup
		defer wg.Wait()
		s := newModelScript(ctx, c, &wg)
		if _, ok := s.configure(); !ok {
			return
		}
		if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
			return
		}
		select {
		case requested <- time.Now():
		default:
		}
		s.speakResponse("resp_0", "item_0", 200, 100, 0x10)
		s.rest()
	}
}

// TestPhonePredialUsedByStream dials the model when the webhook arrives: the
// greeting is requested before the media stream exists, the stream takes that
// connection instead of dialing again, and the caller hears the greeting.
func TestPhonePredialUsedByStream(t *testing.T) {
	requested := make(chan time.Time, 1)
	h := newHarness(t, harnessConfig{predial: true}, greetingModel(requested))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	h.webhook(ctx, "CApre")
	var at time.Time
	select {
	case at = <-requested:
	case <-ctx.Done():
		t.Fatal("the webhook did not dial the model")
	}
	if held, _ := h.starter.Predials(); held != 1 {
		t.Errorf("pre-dials held before the stream = %d, want 1", held)
	}
	p := h.connect(ctx, "CApre")
	streamAt := time.Now()
	p.start(ctx)
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return len(p.playAt) >= 10 }) {
		t.Fatal("the greeting never reached the caller")
	}
	if at.After(streamAt) {
		t.Errorf("greeting requested %v after the stream opened, want before", at.Sub(streamAt))
	}
	if got := h.model.Dials(); got != 1 {
		t.Errorf("model dials = %d, want 1: the stream must take the pre-dialed connection", got)
	}
	if held, _ := h.starter.Predials(); held != 0 {
		t.Errorf("pre-dials held after the stream = %d, want 0", held)
	}
	p.hangUp(ctx)
}

// TestPhonePredialExpires posts a webhook whose media stream never comes: the
// pre-dialed connection is closed after the timeout.
func TestPhonePredialExpires(t *testing.T) {
	closed := make(chan struct{})
	h := newHarness(t, harnessConfig{predial: true, predialTimeout: 200 * time.Millisecond},
		func(ctx context.Context, c *realtimetest.ServerConn) {
			defer close(closed)
			for {
				if _, err := c.Read(ctx); err != nil {
					return
				}
			}
		})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	h.webhook(ctx, "CAgone")
	select {
	case <-closed:
		t.Logf("unclaimed pre-dial closed after %v", time.Since(start).Round(time.Millisecond))
	case <-ctx.Done():
		t.Fatal("the pre-dialed connection stayed open without a media stream")
	}
	if held, _ := h.starter.Predials(); held != 0 {
		t.Errorf("pre-dials held = %d, want 0", held)
	}
}

// TestPhoneFillsInboundGaps sends caller audio with a 500 ms hole in
// media.timestamp: the model receives the missing time as μ-law silence.
func TestPhoneFillsInboundGaps(t *testing.T) {
	received := make(chan []byte, 1)
	h := newHarness(t, harnessConfig{}, func(ctx context.Context, c *realtimetest.ServerConn) {
		var wg sync.WaitGroup
		defer wg.Wait()
		s := newModelScript(ctx, c, &wg)
		s.configure() // the call may be over before session.updated goes out
		var got []byte
		for _, ev := range s.rest() {
			if ev.Type == realtime.ClientInputAudioBufferAppend {
				b, _ := base64.StdEncoding.DecodeString(ev.Audio)
				got = append(got, b...)
			}
		}
		received <- got
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := h.call(ctx, "CAgap", false)
	frame := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x42}, twilio.FrameSize))
	for _, ts := range []string{"20", "40", "560", "580"} {
		p.send(ctx, twilio.Message{Event: twilio.EventMedia, StreamSID: p.streamSID, Media: &twilio.Media{Timestamp: ts, Payload: frame}})
	}
	p.hangUp(ctx)
	got := <-received
	want := 4*twilio.FrameSize + 500*8
	if len(got) != want {
		t.Fatalf("model received %d bytes, want %d (four frames and 500 ms of silence)", len(got), want)
	}
	if !bytes.Equal(got[2*twilio.FrameSize:2*twilio.FrameSize+4000], bytes.Repeat([]byte{0xFF}, 4000)) {
		t.Error("the gap was not filled with μ-law silence")
	}
}

// TestPhoneGreetingLatency measures the time from the media stream's start to the
// first greeting audio with a model handshake of 800 ms, with and without a
// pre-dial, for several gaps between the webhook and the stream. It only runs with
// VOICEORDER_MEASURE=1.
func TestPhoneGreetingLatency(t *testing.T) {
	if os.Getenv("VOICEORDER_MEASURE") == "" {
		t.Skip("a measurement; set VOICEORDER_MEASURE=1 to run it")
	}
	const handshake = 800 * time.Millisecond
	for _, predial := range []bool{false, true} {
		for _, gap := range []time.Duration{0, 300 * time.Millisecond, 1000 * time.Millisecond} {
			if !predial && gap > 0 {
				continue // without a pre-dial the gap does not matter
			}
			var samples []time.Duration
			for i := range 5 {
				requested := make(chan time.Time, 1)
				h := newHarness(t, harnessConfig{predial: predial, dialDelay: handshake, quiet: true}, greetingModel(requested))
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				sid := "CAlat" + string(rune('a'+i))
				if predial {
					h.webhook(ctx, sid)
				}
				delay(ctx, gap)
				p := h.connect(ctx, sid)
				startAt := time.Now()
				p.start(ctx)
				if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return len(p.playAt) > 0 }) {
					t.Fatal("no greeting")
				}
				p.mu.Lock()
				samples = append(samples, p.playAt[0].Sub(startAt))
				p.mu.Unlock()
				p.hangUp(ctx)
				cancel()
			}
			t.Logf("pre-dial %v, webhook-to-stream gap %v: start to first greeting audio %v", predial, gap, samples)
		}
	}
}
