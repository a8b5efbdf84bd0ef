package twilio_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

// TestPhoneBargeInTruncatesAtHeardPosition has the model send 10 s of audio within
// 500 ms and finish; the caller speaks once they have heard 3 s. The gateway clears
// Twilio within 50 ms, truncates the item once at the heard position, and sends no
// response.cancel, because the response is already done.
func TestPhoneBargeInTruncatesAtHeardPosition(t *testing.T) {
	speak := make(chan struct{})
	spoke := make(chan time.Time, 1)
	result := make(chan []realtime.ClientEvent, 1)
	h := newHarness(t, harnessConfig{}, func(ctx context.Context, c *realtimetest.ServerConn) {
		var wg sync.WaitGroup
		defer wg.Wait()
		s := newModelScript(ctx, c, &wg)
		if _, ok := s.configure(); !ok {
			return
		}
		if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
			return
		}
		s.send(responseCreated("resp_1"))
		tick := time.NewTicker(25 * time.Millisecond)
		for range 20 {
			s.send(audioDelta("resp_1", "item_1", 500, 0x11))
			<-tick.C
		}
		tick.Stop()
		s.send(responseDone("resp_1", realtime.ResponseCompleted, assistantItem("item_1")))
		select {
		case <-speak:
		case <-ctx.Done():
			return
		}
		spoke <- time.Now()
		s.send(speechStarted())
		result <- s.rest()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := h.call(ctx, "CAbargein", false)

	at, ok := p.heard(ctx, 3*time.Second)
	if !ok {
		t.Fatal("3 s of the answer never reached the caller")
	}
	delay(ctx, time.Until(at))
	close(speak)
	spokeAt := <-spoke
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return len(p.clears) > 0 }) {
		t.Fatal("no clear reached Twilio after the caller spoke")
	}
	p.mu.Lock()
	clearLatency := p.clears[0].Sub(spokeAt)
	p.mu.Unlock()
	t.Logf("speech_started to clear: %v", clearLatency)
	if clearLatency > 50*time.Millisecond {
		t.Errorf("clear reached Twilio %v after speech_started, want within 50 ms", clearLatency)
	}

	p.hangUp(ctx)
	evs := <-result
	counts := countTypes(evs)
	if counts[realtime.ClientResponseCancel] != 0 {
		t.Errorf("gateway sent %d response.cancel for a finished response, want 0", counts[realtime.ClientResponseCancel])
	}
	if counts[realtime.ClientConversationItemTruncate] != 1 {
		t.Fatalf("gateway sent %d truncates, want 1", counts[realtime.ClientConversationItemTruncate])
	}
	for _, ev := range evs {
		if ev.Type != realtime.ClientConversationItemTruncate {
			continue
		}
		t.Logf("truncate at %d ms", ev.AudioEndMS)
		if ev.ItemID != "item_1" || ev.ContentIndex != 0 {
			t.Errorf("truncate of item %q part %d, want item_1 part 0", ev.ItemID, ev.ContentIndex)
		}
		if ev.AudioEndMS < 2900 || ev.AudioEndMS > 3100 {
			t.Errorf("truncate at %d ms, want 3000 ± 100 ms", ev.AudioEndMS)
		}
	}
	if _, sinceClear := p.mediaFrames(); sinceClear != 0 {
		t.Errorf("%d media frames reached Twilio after the clear, want 0", sinceClear)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.clears) != 1 {
		t.Errorf("%d clears sent, want 1", len(p.clears))
	}
}

// TestPhoneFinishedAnswerIsNotTruncated plays a short answer to its end; the caller
// speaks half a second later: no clear, no cancel and no truncate. A pause of 40 s
// is covered without waiting in TestPlaybackFullyPlayedAnswerIsNotCut.
func TestPhoneFinishedAnswerIsNotTruncated(t *testing.T) {
	speak := make(chan struct{})
	result := make(chan []realtime.ClientEvent, 1)
	h := newHarness(t, harnessConfig{}, func(ctx context.Context, c *realtimetest.ServerConn) {
		var wg sync.WaitGroup
		defer wg.Wait()
		s := newModelScript(ctx, c, &wg)
		if _, ok := s.configure(); !ok {
			return
		}
		if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
			return
		}
		s.speakResponse("resp_1", "item_1", 600, 200, 0x11)
		select {
		case <-speak:
		case <-ctx.Done():
			return
		}
		s.send(speechStarted())
		result <- s.rest()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := h.call(ctx, "CAplayed", false)
	// 600 ms is 30 frames: marks after frames 15 and 30; the end mark is not needed
	// because a mark already follows the last frame.
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return len(p.echoed) >= 2 }) {
		t.Fatal("the answer's marks were never echoed")
	}
	delay(ctx, 500*time.Millisecond) // the caller's pause, part of the scenario
	close(speak)
	p.hangUp(ctx)
	counts := countTypes(<-result)
	for _, typ := range []string{realtime.ClientConversationItemTruncate, realtime.ClientResponseCancel} {
		if counts[typ] != 0 {
			t.Errorf("gateway sent %d %s after a fully played answer, want 0", counts[typ], typ)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.clears) != 0 {
		t.Errorf("%d clears sent with nothing playing, want 0", len(p.clears))
	}
}

// TestPhoneSpeechBeforeFirstDeltaCancels has the caller speak after response.created
// and before any audio: the gateway cancels the response and truncates nothing, and
// the deltas that arrive after are dropped as late.
func TestPhoneSpeechBeforeFirstDeltaCancels(t *testing.T) {
	result := make(chan []realtime.ClientEvent, 1)
	h := newHarness(t, harnessConfig{}, func(ctx context.Context, c *realtimetest.ServerConn) {
		var wg sync.WaitGroup
		defer wg.Wait()
		s := newModelScript(ctx, c, &wg)
		if _, ok := s.configure(); !ok {
			return
		}
		if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
			return
		}
		s.send(responseCreated("resp_1"), speechStarted())
		cancelEv, ok := s.expect(realtime.ClientResponseCancel)
		if !ok {
			return
		}
		if cancelEv.ResponseID != "resp_1" {
			t.Errorf("response.cancel of %q, want resp_1", cancelEv.ResponseID)
		}
		// The server had already produced audio; it arrives after the cancel.
		for range 3 {
			s.send(audioDelta("resp_1", "item_1", 200, 0x11))
		}
		s.send(responseDone("resp_1", realtime.ResponseCancelled, assistantItem("item_1")))
		// The next answer shows that the late deltas were handled before it.
		s.speakResponse("resp_2", "item_2", 200, 200, 0x22)
		result <- s.rest()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := h.call(ctx, "CAearly", false)
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return len(p.playAt) >= 10 }) {
		t.Fatal("the next answer never reached the caller")
	}
	p.hangUp(ctx)
	counts := countTypes(<-result)
	if counts[realtime.ClientConversationItemTruncate] != 0 {
		t.Errorf("gateway sent %d truncates with no audio sent, want 0", counts[realtime.ClientConversationItemTruncate])
	}
	if counts[realtime.ClientResponseCancel] != 0 {
		t.Errorf("gateway sent %d more response.cancel after the first, want 0", counts[realtime.ClientResponseCancel])
	}
	if got := h.dropped(monitor.DropLateDelta); got != 3 {
		t.Errorf("late deltas dropped = %v, want 3", got)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, frame := range p.payloads {
		if frame[0] == 0x11 {
			t.Fatalf("media frame %d carries audio of the cancelled response", i)
		}
	}
	if len(p.clears) != 0 {
		t.Errorf("%d clears sent with nothing playing, want 0", len(p.clears))
	}
}

// TestPhoneStaleMarksAndLateDeltas interrupts a response that is still streaming:
// after the clear, Twilio echoes the old marks, five more old marks arrive and the
// model sends three late deltas. None of it moves the played position of the next
// answer or reaches the caller, and the drop counters count it.
func TestPhoneStaleMarksAndLateDeltas(t *testing.T) {
	speak := make(chan struct{}, 2)
	result := make(chan []realtime.ClientEvent, 1)
	h := newHarness(t, harnessConfig{}, func(ctx context.Context, c *realtimetest.ServerConn) {
		var wg sync.WaitGroup
		defer wg.Wait()
		s := newModelScript(ctx, c, &wg)
		if _, ok := s.configure(); !ok {
			return
		}
		if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
			return
		}
		s.send(responseCreated("resp_1"))
		for range 10 { // 5 s of a 10 s answer so far
			s.send(audioDelta("resp_1", "item_1", 500, 0x11))
		}
		select {
		case <-speak:
		case <-ctx.Done():
			return
		}
		s.send(speechStarted())
		for range 3 {
			s.send(audioDelta("resp_1", "item_1", 500, 0x11))
		}
		if _, ok := s.expect(realtime.ClientResponseCancel); !ok {
			return
		}
		s.send(responseDone("resp_1", realtime.ResponseCancelled, assistantItem("item_1")))
		s.speakResponse("resp_2", "item_2", 1000, 250, 0x22)
		select {
		case <-speak:
		case <-ctx.Done():
			return
		}
		s.send(speechStarted())
		result <- s.rest()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := h.call(ctx, "CAstale", false)

	at, ok := p.heard(ctx, time.Second)
	if !ok {
		t.Fatal("the first answer never reached the caller")
	}
	delay(ctx, time.Until(at))
	speak <- struct{}{}
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return len(p.flushed) == 1 }) {
		t.Fatal("no clear after the caller spoke")
	}
	p.mu.Lock()
	flushed := p.flushed[0]
	p.mu.Unlock()
	if flushed == 0 {
		t.Error("no marks were outstanding at the clear; the test needs some")
	}
	// Five marks of the cleared generation arrive late.
	for seq := 1; seq <= 5; seq++ {
		p.echo(fmt.Sprintf("p1:item_1:%d", seq))
	}

	// The second answer plays from the start of its own generation; the caller
	// speaks once they have heard 400 ms of it.
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return p.afterLast >= 20 }) {
		t.Fatal("the second answer never reached the caller")
	}
	p.mu.Lock()
	start := p.playAt[p.clearFrames[0]]
	p.mu.Unlock()
	delay(ctx, time.Until(start.Add(400*time.Millisecond)))
	speak <- struct{}{}
	if !p.waitUntil(ctx, func(p *fakeTwilio) bool { return len(p.clears) == 2 }) {
		t.Fatal("no clear after the caller spoke over the second answer")
	}
	p.hangUp(ctx)
	evs := <-result

	var truncates []realtime.ClientEvent
	for _, ev := range evs {
		if ev.Type == realtime.ClientConversationItemTruncate && ev.ItemID == "item_2" {
			truncates = append(truncates, ev)
		}
	}
	if len(truncates) != 1 {
		t.Fatalf("truncates of item_2 = %+v, want one", truncates)
	}
	if got := truncates[0].AudioEndMS; got < 300 || got > 500 {
		t.Errorf("second answer truncated at %d ms, want 400 ± 100 ms: stale marks moved the position", got)
	}
	if got, want := h.dropped(monitor.DropStaleMark), float64(flushed+5); got < want {
		t.Errorf("stale marks dropped = %v, want at least %v (%d echoed at the clear and 5 late)", got, want, flushed)
	}
	if got := h.dropped(monitor.DropLateDelta); got != 3 {
		t.Errorf("late deltas dropped = %v, want 3", got)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := p.clearFrames[0]; i < len(p.payloads); i++ {
		if p.payloads[i][0] == 0x11 {
			t.Fatalf("media frame %d after the clear carries audio of the interrupted answer", i)
		}
	}
}
