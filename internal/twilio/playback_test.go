package twilio

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/voiceorder/voiceorder/internal/session"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The playback tests run in a synctest bubble, where time.Now and time.Sleep follow a
// simulated clock, so tens of seconds of playback take no wall time.

// sendAnswer frames and records an answer of the given length for item, as
// Caller.PlayAudio and EndResponse would, and returns the marks in the order sent.
func sendAnswer(t *testing.T, p *playback, item string, ms int) []string {
	t.Helper()
	gen := p.generation()
	audio := bytes.Repeat([]byte{0x55}, ms*bytesPerMS)
	frames, _ := p.frame(gen, item, audio, nil, nil)
	frames, _ = p.flush(gen, frames, nil)
	var marks []string
	for _, f := range frames {
		if ok, _ := p.admit(gen); !ok {
			t.Fatalf("frame of the current generation %d not admitted", gen)
		}
		if name := p.sentFrame(gen, f); name != "" {
			marks = append(marks, name)
		}
	}
	if name := p.endMark(gen); name != "" {
		marks = append(marks, name)
	}
	return marks
}

func TestPlaybackFullyPlayedAnswerIsNotCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlayback(time.Now)
		marks := sendAnswer(t, p, "item_a", 3000)
		// Twilio plays the 3 s answer and echoes each mark when its audio has played.
		for _, name := range marks {
			time.Sleep(300 * time.Millisecond)
			if !p.ack(name) {
				t.Fatalf("mark %q of the current generation was not accepted", name)
			}
		}
		time.Sleep(40 * time.Second) // the caller speaks 40 s later

		if p.playing() {
			t.Error("playing() = true after every mark was echoed, want false")
		}
		playing, items := p.interrupt()
		if playing {
			t.Error("interrupt() reports audio playing, want none: no clear is due")
		}
		if len(items) != 1 {
			t.Fatalf("interrupt() returned %d items, want 1", len(items))
		}
		if got := items[0]; got.PlayedMS != got.SentMS || got.SentMS != 3000 {
			t.Errorf("item playback = %+v, want 3000 ms sent and all of it played (no truncate)", got)
		}
		if p.takeClear() {
			t.Error("a clear is pending after an interruption with nothing left to play")
		}
	})
}

func TestPlaybackPositionBetweenMarks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlayback(time.Now)
		marks := sendAnswer(t, p, "item_a", 10000) // all 10 s sent at once
		// Twilio confirms the first 2.7 s, then the caller speaks at 3.0 s.
		for _, name := range marks[:9] {
			time.Sleep(300 * time.Millisecond)
			p.ack(name)
		}
		time.Sleep(300 * time.Millisecond)
		playing, items := p.interrupt()
		if !playing {
			t.Error("interrupt() = not playing, want playing")
		}
		if len(items) != 1 || items[0].PlayedMS != 3000 || items[0].SentMS != 10000 {
			t.Errorf("items = %+v, want item_a with 3000 of 10000 ms played", items)
		}
		if !p.takeClear() {
			t.Error("no clear pending after interrupting audio Twilio holds")
		}
	})
}

func TestPlaybackEstimateStopsAtNextMark(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlayback(time.Now)
		marks := sendAnswer(t, p, "item_a", 3000)
		time.Sleep(300 * time.Millisecond)
		p.ack(marks[0])
		// Playback stalls: no mark for 5 s. The estimate may not pass the next mark.
		time.Sleep(5 * time.Second)
		_, items := p.interrupt()
		if got := items[0].PlayedMS; got != 600 {
			t.Errorf("played = %d ms, want 600 (capped at the next unconfirmed mark)", got)
		}
	})
}

func TestPlaybackStaleMarksAfterClear(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlayback(time.Now)
		old := sendAnswer(t, p, "item_a", 3000)
		time.Sleep(300 * time.Millisecond)
		p.ack(old[0])
		p.interrupt()

		fresh := sendAnswer(t, p, "item_b", 1000)
		time.Sleep(300 * time.Millisecond)
		p.ack(fresh[0])
		before, sent := p.playedPosition()

		// Twilio echoes the cleared generation's marks late; five of them arrive now.
		for _, name := range old[1:6] {
			if p.ack(name) {
				t.Errorf("stale mark %q was accepted", name)
			}
		}
		after, _ := p.playedPosition()
		if after != before {
			t.Errorf("played position moved from %d to %d frames on stale marks", before, after)
		}
		if sent != 50 {
			t.Errorf("sent = %d frames in the new generation, want 50", sent)
		}
	})
}

func TestPlaybackPacesAtTwiceRealTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlayback(time.Now)
		start := time.Now()
		const frames = 500 // 10 s of audio
		for range frames {
			for wait := p.paceWait(); wait > 0; wait = p.paceWait() {
				time.Sleep(wait)
			}
		}
		elapsed := time.Since(start)
		// Twice real time is 5 s for 10 s of audio; the first 100 ms go at once.
		if want := 5*time.Second - 100*time.Millisecond; elapsed < want-10*time.Millisecond {
			t.Errorf("500 frames paced in %v, want at least %v (no faster than twice real time)", elapsed, want)
		}
		if elapsed > 5*time.Second+50*time.Millisecond {
			t.Errorf("500 frames paced in %v, want about 5 s", elapsed)
		}
	})
}

func TestPlaybackItemsSplitAtBoundary(t *testing.T) {
	p := newPlayback(time.Now)
	gen := p.generation()
	frames, buf := p.frame(gen, "item_a", bytes.Repeat([]byte{1}, 250), nil, nil)
	frames, _ = p.frame(gen, "item_b", bytes.Repeat([]byte{2}, 170), frames, buf)
	var got []string
	for _, f := range frames {
		got = append(got, f.item)
		if len(f.data) != FrameSize {
			t.Errorf("frame of %d bytes, want %d", len(f.data), FrameSize)
		}
	}
	// item_a: one whole frame, then its last 90 bytes padded when item_b starts;
	// item_b: one whole frame, 10 bytes held back.
	if want := "item_a item_a item_b"; strings.Join(got, " ") != want {
		t.Errorf("frame items = %q, want %q", strings.Join(got, " "), want)
	}
	if frames[1].real != 90 {
		t.Errorf("padded frame carries %d bytes of audio, want 90", frames[1].real)
	}
}

func TestMarkNameRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		gen  uint64
		item string
		seq  int
	}{
		{"plain item", 1, "item_C5k2", 7},
		{"item with colons", 12, "a:b:c", 3},
		{"empty item", 2, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gen, item, seq, ok := parseMarkName(markName(tt.gen, tt.item, tt.seq))
			if !ok || gen != tt.gen || item != tt.item || seq != tt.seq {
				t.Errorf("round trip = (%d, %q, %d, %v), want (%d, %q, %d, true)", gen, item, seq, ok, tt.gen, tt.item, tt.seq)
			}
		})
	}
}

func TestParseMarkNameRejectsForeign(t *testing.T) {
	for _, name := range []string{"", "response-1", "p", "p1", "p1:x", "px:item:1", "p1:item:-2", "p1:item:x", "q1:item:1"} {
		if _, _, _, ok := parseMarkName(name); ok {
			t.Errorf("parseMarkName(%q) ok, want rejected", name)
		}
	}
}

func FuzzParseMarkName(f *testing.F) {
	for _, s := range []string{"p1:item_a:3", "p18446744073709551615::0", "p1:a:b:2", "response-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		gen, item, seq, ok := parseMarkName(name)
		if !ok {
			return
		}
		gen2, item2, seq2, ok2 := parseMarkName(markName(gen, item, seq))
		if !ok2 || gen2 != gen || item2 != item || seq2 != seq {
			t.Errorf("parse(markName(parse(%q))) = (%d, %q, %d, %v), want (%d, %q, %d, true)", name, gen2, item2, seq2, ok2, gen, item, seq)
		}
		if seq < 0 {
			t.Errorf("parse(%q) gave negative sequence %d", name, seq)
		}
	})
}

func TestGapFiller(t *testing.T) {
	tests := []struct {
		name       string
		timestamps []string
		want       []int // milliseconds of silence inserted before each media
	}{
		{"regular", []string{"99", "119", "139"}, []int{0, 0, 0}},
		{"one lost packet is jitter", []string{"0", "20", "60"}, []int{0, 0, 0}},
		{"gap of 200 ms", []string{"0", "20", "240"}, []int{0, 0, 200}},
		{"long gap is capped", []string{"0", "20", "90000"}, []int{0, 0, 1000}},
		{"overlap inserts nothing", []string{"0", "20", "10", "40"}, []int{0, 0, 0, 0}},
		{"bad timestamps are ignored", []string{"0", "x", "-5", "40"}, []int{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g gapFiller
			for i, ts := range tt.timestamps {
				got := g.fill(nil, ts, FrameSize) // each media is 20 ms
				if len(got) != tt.want[i]*bytesPerMS {
					t.Errorf("media %d (timestamp %s): inserted %d ms, want %d", i, ts, len(got)/bytesPerMS, tt.want[i])
				}
				for _, b := range got {
					if b != 0xFF {
						t.Fatalf("inserted byte %#x, want μ-law silence 0xff", b)
					}
				}
			}
		})
	}
}

func FuzzGapFiller(f *testing.F) {
	f.Add("20", "40", 160)
	f.Add("0", "999999999999999999", 160)
	f.Fuzz(func(t *testing.T, first, second string, n int) {
		if n < 0 || n > maxMessageBytes {
			return
		}
		var g gapFiller
		g.fill(nil, first, n)
		if got := g.fill(nil, second, n); len(got) > maxGapFillMS*bytesPerMS {
			t.Errorf("inserted %d bytes for one gap, want at most %d", len(got), maxGapFillMS*bytesPerMS)
		}
	})
}

// The session depends on Caller satisfying session.Player.
var _ session.Player = (*Caller)(nil)

// BenchmarkPlaybackFrame measures the tracking cost of one 20 ms frame on its way to
// Twilio: framing, admission, accounting and a mark every 15 frames.
func BenchmarkPlaybackFrame(b *testing.B) {
	p := newPlayback(time.Now)
	gen := p.generation()
	chunk := bytes.Repeat([]byte{0x55}, FrameSize)
	var frames []outFrame
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		frames, buf = p.frame(gen, "item_a", chunk, frames[:0], buf[:0])
		for _, f := range frames {
			p.admit(gen)
			if name := p.sentFrame(gen, f); name != "" {
				p.ack(name)
			}
		}
	}
}
