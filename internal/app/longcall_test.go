package app_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/twilio"
	"go.uber.org/goleak"
)

// TestLongCallMemoryFlat sends ten minutes of phone audio through one call to the echo
// model, faster than real time, and checks that the live heap after the tenth minute is
// where it was after the first: nothing accumulates audio beyond a bounded window.
func TestLongCallMemoryFlat(t *testing.T) {
	cfg := gatewayConfig(t, "")
	cfg.FakeUpstream = true
	g := startGatewayLogger(t, cfg, quietLogger(t))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := dialPhone(ctx, t, g, "CAlong")
	p.start(ctx)
	// Drain what the gateway sends so its writes never block.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			if _, err := p.read(ctx); err != nil {
				return
			}
		}
	}()

	// One minute of speech-like audio and silence, 20 ms frames; the echo model
	// answers each turn.
	minute := make([][]byte, 0, 3000)
	for i := range 3000 {
		level := byte(0xFF) // μ-law silence
		if i%250 < 150 {
			level = byte(0x10 + i%32) // 3 s of loud audio, then 2 s of silence
		}
		minute = append(minute, bytes.Repeat([]byte{level}, twilio.FrameSize))
	}
	sendMinute := func() {
		t.Helper()
		for _, f := range minute {
			if err := p.sendMedia(ctx, f); err != nil {
				t.Fatalf("send media: %v", err)
			}
		}
	}

	sendMinute()
	first := measure(t)
	for range 9 {
		sendMinute()
	}
	tenth := measure(t)
	t.Logf("live heap after minute 1: %d bytes, after minute 10: %d bytes", first.heapLive, tenth.heapLive)
	if limit := first.heapLive + 512<<10; tenth.heapLive > limit {
		t.Errorf("live heap grew by %d bytes over nine minutes of audio, want under 512 KiB", tenth.heapLive-first.heapLive)
	}
	p.stop(ctx)
	<-drained
}

// TestRunLeavesNoGoroutine checks that once Run has returned, after conversations
// over both transports, no goroutine of the gateway is left.
func TestRunLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cfg := gatewayConfig(t, "")
	cfg.FakeUpstream = true
	cfg.ShutdownGrace = 200 * time.Millisecond
	g := startGatewayLogger(t, cfg, quietLogger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	p := dialPhone(ctx, t, g, "CAgoroutines")
	p.start(ctx)
	p.sendMedia(ctx, bytes.Repeat([]byte{0x20}, twilio.FrameSize))
	k := dialKiosk(ctx, t, g)
	k.send(ctx, `{"type":"session.start","format":{"format":"pcm16","rate":16000}}`)
	k.send(ctx, `{"type":"audio","audio":"AAAA"}`)
	if err := g.stop(); err != nil { // both calls are live: shutdown closes them
		t.Errorf("Run = %v, want nil", err)
	}
	p.ws.CloseNow()
	k.ws.CloseNow()
}
