package voicecall

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

const (
	// quietPeriod of no events after a reply's audio ended confirms that the
	// assistant's turn is over rather than paused between a spoken response and the
	// tool calls and response that follow it. It is scaled by Speed, down to minQuiet.
	quietPeriod = 400 * time.Millisecond
	minQuiet    = 50 * time.Millisecond
	// transcriptGrace is how long, after the end of a reply's audio, the browser
	// transport waits for the reply's transcript before ending the turn without it.
	// It is scaled by Speed, down to minQuiet.
	transcriptGrace = 2 * time.Second
)

// errConnectionEnded reports that the gateway closed the call while the caller
// still expected a reply.
var errConnectionEnded = errors.New("the gateway ended the call")

// tracker follows the assistant's side of the call to tell when the assistant's turn
// has ended. The transport's reader feeds it events and the driver waits on it.
//
// A turn has ended when all of these hold:
//   - a response that carried audio has finished (browser audio.done, Twilio mark)
//     after the caller's turn began. A reply may come before all the turn's audio
//     was sent, because a recording can end in seconds of room noise after the
//     speech, which the model's end-of-speech detection takes for silence;
//   - the audio received so far has played at the call's speed, and on Twilio every
//     mark has been echoed;
//   - no event has arrived for the quiet period;
//   - on transports that carry transcripts, the reply's transcript has arrived or its
//     grace period has passed.
//
// A response that carried no audio (tool calls only) never ends a turn.
type tracker struct {
	speed           float64
	quiet           time.Duration
	needsTranscript bool
	transcriptGrace time.Duration

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	turnStart  time.Time     // when the caller's turn, or the call, began
	speechEnd  time.Time     // when the last frame of the caller's speech was sent
	firstAudio time.Time     // first assistant audio since turnStart
	inResponse bool          // audio of the current response has arrived
	endedAt    time.Time     // end of a reply with audio since turnStart; zero until then
	transcript bool          // an assistant transcript arrived since turnStart
	lastEvent  time.Time
	playEnd    time.Time // when the audio received so far has played at speed
	unechoed   int       // Twilio marks received and not yet echoed
}

// newTracker returns a tracker waiting for the greeting, which needs no caller
// speech before it.
func newTracker(o *Options, needsTranscript bool) *tracker {
	return &tracker{
		turnStart:       time.Now(),
		speed:           o.Speed,
		quiet:           max(o.scaled(quietPeriod), minQuiet),
		needsTranscript: needsTranscript,
		transcriptGrace: max(o.scaled(transcriptGrace), minQuiet),
		changed:         make(chan struct{}),
	}
}

// notify wakes the waiters. The caller holds mu.
func (t *tracker) notify(now time.Time) {
	t.lastEvent = now
	close(t.changed)
	t.changed = make(chan struct{})
}

// startTurn begins a caller turn: only a reply that ends after now ends it.
func (t *tracker) startTurn(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.turnStart = now
	t.speechEnd = time.Time{}
	t.firstAudio = time.Time{}
	t.endedAt = time.Time{}
	t.transcript = false
}

// speechEnded records when the last frame of the caller's speech was sent, from
// which the reply's latency is measured.
func (t *tracker) speechEnded(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.speechEnd = now
}

// audio records d of assistant audio arriving now. Audio after an ended reply means
// another response is under way, so the turn goes on.
func (t *tracker) audio(now time.Time, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.firstAudio.IsZero() {
		t.firstAudio = now
	}
	t.inResponse = true
	t.endedAt = time.Time{}
	t.playEnd = later(now, t.playEnd).Add(time.Duration(float64(d) / t.speed))
	t.notify(now)
}

// responseEnd records the end of one response's audio and returns when the audio
// received so far will have played.
func (t *tracker) responseEnd(now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inResponse {
		t.endedAt = now
	}
	t.inResponse = false
	t.notify(now)
	return later(now, t.playEnd)
}

// markReceived records a Twilio mark that waits for its echo.
func (t *tracker) markReceived() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.unechoed++
}

// markEchoed records that a mark's echo was sent.
func (t *tracker) markEchoed() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.unechoed--
	close(t.changed)
	t.changed = make(chan struct{})
}

// cleared records that the gateway discarded the audio not yet played.
func (t *tracker) cleared(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inResponse = false
	t.playEnd = now
	t.notify(now)
}

// assistantTranscript records the transcript of an assistant reply.
func (t *tracker) assistantTranscript(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.transcript = true
	t.notify(now)
}

// event records any other event, which restarts the quiet period.
func (t *tracker) event(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notify(now)
}

// state returns whether a reply has finished arriving, the earliest time the turn
// can end (zero while a mark waits for its echo) and the channel that is closed on
// the next change.
func (t *tracker) state() (finished bool, at time.Time, changed <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.endedAt.IsZero() {
		return false, time.Time{}, t.changed
	}
	if t.unechoed > 0 {
		return true, time.Time{}, t.changed
	}
	at = later(t.lastEvent.Add(t.quiet), t.playEnd)
	if t.needsTranscript && !t.transcript {
		at = later(at, t.endedAt.Add(t.transcriptGrace))
	}
	return true, at, t.changed
}

// latency returns the time from the end of the caller's speech to the first
// assistant audio of the turn. It is 0 when the reply began before the speech's
// last frame was sent, or when no speech end was recorded.
func (t *tracker) latency() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.firstAudio.IsZero() || t.speechEnd.IsZero() {
		return 0
	}
	return max(t.firstAudio.Sub(t.speechEnd), 0)
}

// wait blocks until the assistant's turn has ended. A reply must finish arriving
// within timeout. The playback and quiet period after it are not bounded by timeout,
// because the audio and events already received bound them. When closed is closed
// because the connection ended, a finished reply ends the turn at once, and without
// one wait returns errConnectionEnded.
func (t *tracker) wait(ctx context.Context, timeout time.Duration, closed <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		finished, at, changed := t.state()
		now := time.Now()
		switch {
		case !finished && !now.Before(deadline):
			return fmt.Errorf("no reply from the assistant within %s", timeout)
		case !finished:
			timer.Reset(deadline.Sub(now))
		case at.IsZero():
			timer.Stop() // a mark's echo is due; the marker's change wakes this loop
		case !now.Before(at):
			return nil
		default:
			timer.Reset(at.Sub(now))
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-closed:
			// Nothing more will arrive, so a reply that has finished ends the turn now.
			if finished, _, _ := t.state(); finished {
				return nil
			}
			return errConnectionEnded
		case <-changed:
		case <-timer.C:
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
