package voicecall

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Tracker tests run in a synctest bubble, where time is simulated: time.Sleep in a
// bubble advances the clock instead of waiting.

func newTestTracker(speed float64, transcripts bool) *tracker {
	return newTracker(&Options{Speed: speed}, transcripts)
}

// waitAsync runs tr.wait in a goroutine and returns a function that returns its
// result and how long after the start it returned.
func waitAsync(tr *tracker, timeout time.Duration, closed <-chan struct{}) func() (time.Duration, error) {
	start := time.Now()
	var elapsed time.Duration
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		err = tr.wait(context.Background(), timeout, closed)
		elapsed = time.Since(start)
	}()
	return func() (time.Duration, error) {
		<-done
		return elapsed, err
	}
}

func TestTrackerEndsAfterPlayback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTestTracker(1, false)
		result := waitAsync(tr, 10*time.Second, nil)
		time.Sleep(100 * time.Millisecond)
		tr.audio(time.Now(), 2*time.Second)
		tr.responseEnd(time.Now())

		elapsed, err := result()
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		// The 2 s of audio began playing at 100 ms.
		if want := 2100 * time.Millisecond; elapsed != want {
			t.Errorf("turn ended after %s, want %s", elapsed, want)
		}
	})
}

func TestTrackerQuietPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTestTracker(1, false)
		result := waitAsync(tr, 10*time.Second, nil)
		tr.audio(time.Now(), 100*time.Millisecond)
		tr.responseEnd(time.Now())
		time.Sleep(300 * time.Millisecond)
		tr.event(time.Now()) // a tool call restarts the quiet period

		elapsed, err := result()
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		if want := 300*time.Millisecond + quietPeriod; elapsed != want {
			t.Errorf("turn ended after %s, want %s", elapsed, want)
		}
	})
}

func TestTrackerToolOnlyResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTestTracker(1, false)
		result := waitAsync(tr, 5*time.Second, nil)
		tr.responseEnd(time.Now()) // tool calls, no audio
		time.Sleep(time.Second)
		tr.audio(time.Now(), 500*time.Millisecond)
		tr.responseEnd(time.Now())

		elapsed, err := result()
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		if want := 1500 * time.Millisecond; elapsed != want {
			t.Errorf("turn ended after %s, want %s (the spoken response, not the tool-only one)", elapsed, want)
		}
	})
}

func TestTrackerSecondResponseContinuesTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTestTracker(1, false)
		result := waitAsync(tr, 5*time.Second, nil)
		tr.audio(time.Now(), 100*time.Millisecond)
		tr.responseEnd(time.Now())
		time.Sleep(200 * time.Millisecond) // within the quiet period
		tr.audio(time.Now(), time.Second)

		// The second response has not ended, so the turn goes on.
		time.Sleep(3 * time.Second)
		tr.responseEnd(time.Now())

		elapsed, err := result()
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		if want := 3200*time.Millisecond + quietPeriod; elapsed != want {
			t.Errorf("turn ended after %s, want %s", elapsed, want)
		}
	})
}

func TestTrackerTranscript(t *testing.T) {
	tests := []struct {
		name       string
		transcript bool
		want       time.Duration
	}{
		{"arrives", true, quietPeriod},
		{"never arrives", false, transcriptGrace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := newTestTracker(1, true)
				result := waitAsync(tr, 10*time.Second, nil)
				tr.audio(time.Now(), 10*time.Millisecond)
				if tt.transcript {
					tr.assistantTranscript(time.Now())
				}
				tr.responseEnd(time.Now())

				elapsed, err := result()
				if err != nil {
					t.Fatalf("wait: %v", err)
				}
				if elapsed != tt.want {
					t.Errorf("turn ended after %s, want %s", elapsed, tt.want)
				}
			})
		})
	}
}

func TestTrackerWaitsForMarkEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTestTracker(1, false)
		result := waitAsync(tr, time.Second, nil)
		tr.audio(time.Now(), 100*time.Millisecond)
		tr.markReceived()
		tr.responseEnd(time.Now())
		time.Sleep(5 * time.Second) // past the timeout: the reply has finished arriving
		tr.markEchoed()

		elapsed, err := result()
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		if want := 5 * time.Second; elapsed != want {
			t.Errorf("turn ended after %s, want %s, at the echo", elapsed, want)
		}
	})
}

func TestTrackerTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTestTracker(1, false)
		result := waitAsync(tr, 2*time.Second, nil)
		tr.responseEnd(time.Now())

		elapsed, err := result()
		if err == nil || !strings.Contains(err.Error(), "no reply from the assistant within 2s") {
			t.Errorf("wait error = %v, want a timeout", err)
		}
		if elapsed != 2*time.Second {
			t.Errorf("timed out after %s, want 2s", elapsed)
		}
	})
}

func TestTrackerConnectionEnded(t *testing.T) {
	tests := []struct {
		name     string
		finished bool
		want     error
	}{
		{"after the reply", true, nil},
		{"before any reply", false, errConnectionEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := newTestTracker(1, true)
				closed := make(chan struct{})
				result := waitAsync(tr, 10*time.Second, closed)
				if tt.finished {
					tr.audio(time.Now(), 10*time.Millisecond)
					tr.responseEnd(time.Now())
				}
				time.Sleep(10 * time.Millisecond)
				close(closed)

				elapsed, err := result()
				if !errors.Is(err, tt.want) {
					t.Errorf("wait error = %v, want %v", err, tt.want)
				}
				if elapsed != 10*time.Millisecond {
					t.Errorf("wait returned after %s, want 10ms, when the connection closed", elapsed)
				}
			})
		})
	}
}

func TestTrackerTurnStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTestTracker(1, false)
		// The greeting's reply ends before the caller's turn begins.
		tr.audio(time.Now(), 10*time.Millisecond)
		tr.responseEnd(time.Now())
		time.Sleep(time.Second)
		tr.startTurn(time.Now())
		if finished, _, _ := tr.state(); finished {
			t.Fatal("a reply that ended before the turn began finished the turn")
		}

		time.Sleep(time.Second)
		tr.speechEnded(time.Now())
		time.Sleep(300 * time.Millisecond)
		tr.audio(time.Now(), 10*time.Millisecond)
		tr.responseEnd(time.Now())
		if finished, _, _ := tr.state(); !finished {
			t.Error("the reply after the caller's speech did not finish the turn")
		}
		if got := tr.latency(); got != 300*time.Millisecond {
			t.Errorf("latency = %s, want 300ms", got)
		}
	})
}

func TestTrackerReplyDuringSpeech(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTestTracker(1, false)
		tr.startTurn(time.Now())
		// The model hears the end of speech while a recording's trailing noise plays.
		time.Sleep(2 * time.Second)
		tr.audio(time.Now(), 10*time.Millisecond)
		tr.responseEnd(time.Now())
		time.Sleep(time.Second)
		tr.speechEnded(time.Now())

		if finished, _, _ := tr.state(); !finished {
			t.Error("a reply during the caller's audio did not finish the turn")
		}
		if got := tr.latency(); got != 0 {
			t.Errorf("latency = %s, want 0 for a reply that began before the audio ended", got)
		}
	})
}

func TestTrackerSpeedScalesPlayback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTestTracker(10, false)
		result := waitAsync(tr, 10*time.Second, nil)
		tr.audio(time.Now(), 5*time.Second)
		tr.responseEnd(time.Now())

		elapsed, err := result()
		if err != nil {
			t.Fatal(err)
		}
		if want := 500 * time.Millisecond; elapsed != want {
			t.Errorf("5 s of audio played in %s at speed 10, want %s", elapsed, want)
		}
	})
}

func TestMarkerEchoes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type echo struct {
			name string
			at   time.Duration
		}
		var mu sync.Mutex
		var echoes []echo
		start := time.Now()
		m := newMarker(func(_ context.Context, name string) error {
			mu.Lock()
			defer mu.Unlock()
			echoes = append(echoes, echo{name, time.Since(start)})
			return nil
		}, newTestLogger(t))
		ctx := t.Context()
		closed := make(chan struct{})
		done := make(chan error)
		go func() { done <- m.run(ctx, closed) }()

		m.add(ctx, "played", start)               // its audio has played
		m.add(ctx, "a", start.Add(time.Second))   // due in 1 s
		m.add(ctx, "b", start.Add(3*time.Second)) // due in 3 s
		time.Sleep(2 * time.Second)
		m.clear(ctx) // echoes b at once
		m.add(ctx, "c", time.Now().Add(500*time.Millisecond))
		time.Sleep(time.Second)
		close(closed)
		if err := <-done; err != nil {
			t.Fatalf("run: %v", err)
		}

		want := []echo{{"played", 0}, {"a", time.Second}, {"b", 2 * time.Second}, {"c", 2500 * time.Millisecond}}
		if len(echoes) != len(want) {
			t.Fatalf("echoes = %v, want %v", echoes, want)
		}
		for i := range want {
			if echoes[i] != want[i] {
				t.Errorf("echo %d = %v, want %v", i, echoes[i], want[i])
			}
		}
	})
}

func TestMarkerBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var echoed []string
		m := newMarker(func(_ context.Context, name string) error {
			echoed = append(echoed, name)
			return nil
		}, newTestLogger(t))
		ctx := t.Context()
		far := time.Now().Add(time.Hour)
		for i := range maxPendingMarks {
			if err := m.accept(ctx, markRequest{name: string(rune('A' + i%26)), due: far}); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.accept(ctx, markRequest{name: "over", due: far}); err != nil {
			t.Fatal(err)
		}
		if len(echoed) != 1 || echoed[0] != "A" {
			t.Errorf("echoed %v, want the oldest mark A echoed early", echoed)
		}
		if len(m.pending) != maxPendingMarks {
			t.Errorf("%d marks pending, want %d", len(m.pending), maxPendingMarks)
		}
	})
}

func TestMarkerEchoErrorAfterClose(t *testing.T) {
	tests := []struct {
		name    string
		closed  bool
		wantErr bool
	}{
		{"socket open", false, true},
		{"socket closed", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMarker(func(context.Context, string) error { return errors.New("broken pipe") }, newTestLogger(t))
			closed := make(chan struct{})
			if tt.closed {
				close(closed)
			}
			err := m.echoFailed(errors.New("broken pipe"), closed)
			if (err != nil) != tt.wantErr {
				t.Errorf("echoFailed = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func newTestLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
