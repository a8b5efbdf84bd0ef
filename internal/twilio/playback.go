package twilio

import (
	"sync"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/session"
)

const (
	// frameDuration is the playing time of one FrameSize frame.
	frameDuration = 20 * time.Millisecond
	// markEveryFrames is how much audio goes between two playback marks: 300 ms, so
	// the position the caller heard is known to within a few hundred milliseconds
	// even if elapsed time cannot be trusted.
	markEveryFrames = 15
	// paceFramesPerSecond sends audio at twice real time: a clear then discards at
	// most about as much audio as has played since the response began, and the played
	// position stays close to the audio sent.
	paceFramesPerSecond = 2 * float64(time.Second/frameDuration)
	// paceBurstFrames is the number of frames that may go out at once before pacing
	// applies: the first 100 ms of a response leave without delay.
	paceBurstFrames = 5
	// maxPendingMarks bounds marks waiting for their echo: 200 marks are 60 s of
	// audio, more than the session's queue holds. Beyond it the oldest is forgotten.
	maxPendingMarks = 200
	// maxSpans bounds the items tracked in one generation; the oldest that has fully
	// played is dropped first.
	maxSpans = 32
)

// span is the audio of one assistant item within a playback generation, in frames
// from the start of the generation. bytes counts the item's own audio, without the
// silence that pads its last frame.
type span struct {
	item          string
	start, frames int
	bytes         int
}

// pendingMark is a mark sent and not yet echoed: pos is the number of frames sent
// before it.
type pendingMark struct {
	seq, pos int
}

// playback tracks assistant audio on one Media Stream: what was sent and what Twilio
// confirmed played, per item, within the current generation. A clear starts a new
// generation; marks of older generations are stale. It also holds the pacing budget.
// It is safe for concurrent use.
type playback struct {
	now func() time.Time

	mu           sync.Mutex
	gen          uint64
	clearPending bool // a clear must reach Twilio before more audio
	framer       *audio.Framer
	framerItem   string
	sent         int       // frames sent in this generation
	acked        int       // frames Twilio confirmed played
	ackedAt      time.Time // when playback reached acked, as far as known
	spans        []span
	marks        []pendingMark
	seq          int
	sinceMark    int
	// changed is closed and replaced when acked grows or a generation starts, for
	// AwaitPlayed.
	changed chan struct{}
	// wake receives a token when a generation starts, to end a pacing wait.
	wake chan struct{}

	tokens   float64
	refilled time.Time
}

func newPlayback(now func() time.Time) *playback {
	return &playback{
		now: now, gen: 1, framer: audio.NewFramer(FrameSize),
		changed: make(chan struct{}), wake: make(chan struct{}, 1),
		tokens: paceBurstFrames,
	}
}

// outFrame is one frame ready to send with what it belongs to.
type outFrame struct {
	item string
	data []byte
	real int // bytes of the item's audio in data; the rest pads the last frame
}

// frame cuts chunk into frames of item under generation gen, appending them to dst
// with their data copied into buf. When the item changes, the previous item's partial
// frame is padded and goes first. A stale generation yields nothing.
func (p *playback) frame(gen uint64, item string, chunk []byte, dst []outFrame, buf []byte) ([]outFrame, []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return dst, buf
	}
	if item != p.framerItem {
		dst, buf = p.flushLocked(dst, buf)
		p.framerItem = item
	}
	for f := range p.framer.Frames(chunk) {
		start := len(buf)
		buf = append(buf, f...)
		dst = append(dst, outFrame{item: item, data: buf[start:len(buf):len(buf)], real: len(f)})
	}
	return dst, buf
}

// flush pads and returns the partial frame of generation gen, if any.
func (p *playback) flush(gen uint64, dst []outFrame, buf []byte) ([]outFrame, []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return dst, buf
	}
	return p.flushLocked(dst, buf)
}

func (p *playback) flushLocked(dst []outFrame, buf []byte) ([]outFrame, []byte) {
	real := p.framer.Buffered()
	last := p.framer.Flush(audio.MulawSilence)
	if last == nil {
		return dst, buf
	}
	start := len(buf)
	buf = append(buf, last...)
	return append(dst, outFrame{item: p.framerItem, data: buf[start:len(buf):len(buf)], real: real}), buf
}

// admit reports whether a frame of gen may be written now, and whether a clear must
// be written before it. A pending clear is taken: the caller writes it.
func (p *playback) admit(gen uint64) (ok, clearFirst bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return false, false
	}
	clearFirst = p.clearPending
	p.clearPending = false
	return true, clearFirst
}

// takeClear reports whether a clear is pending, and takes it.
func (p *playback) takeClear() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pending := p.clearPending
	p.clearPending = false
	return pending
}

// sentFrame records a frame written under gen. It returns the name of a mark to send
// after it, or "" when none is due.
func (p *playback) sentFrame(gen uint64, f outFrame) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return ""
	}
	if p.acked >= p.sent {
		// Twilio had nothing left to play: this frame starts playing on arrival.
		p.ackedAt = p.now()
	}
	if n := len(p.spans); n == 0 || p.spans[n-1].item != f.item {
		p.addSpanLocked(f.item)
	}
	s := &p.spans[len(p.spans)-1]
	s.frames++
	s.bytes += f.real
	p.sent++
	p.sinceMark++
	if p.sinceMark < markEveryFrames {
		return ""
	}
	return p.markLocked(f.item)
}

func (p *playback) addSpanLocked(item string) {
	if len(p.spans) == maxSpans {
		p.spans = append(p.spans[:0], p.spans[1:]...)
	}
	p.spans = append(p.spans, span{item: item, start: p.sent})
}

// endMark returns the name of a mark after the last frame of gen, or "" when gen is
// stale or a mark already follows the last frame.
func (p *playback) endMark(gen uint64) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen || p.sinceMark == 0 {
		return ""
	}
	return p.markLocked(p.framerItem)
}

func (p *playback) markLocked(item string) string {
	p.seq++
	p.sinceMark = 0
	if len(p.marks) == maxPendingMarks {
		p.marks = append(p.marks[:0], p.marks[1:]...)
	}
	p.marks = append(p.marks, pendingMark{seq: p.seq, pos: p.sent})
	return markName(p.gen, item, p.seq)
}

// ack records the echo of a mark. It reports false for a mark of an older
// generation or one this gateway did not send, which the caller counts as stale.
func (p *playback) ack(name string) bool {
	gen, _, seq, ok := parseMarkName(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !ok || gen != p.gen {
		return false
	}
	for i, m := range p.marks {
		if m.seq != seq {
			continue
		}
		// Twilio echoes marks in order, so the ones before are played too.
		p.acked = max(p.acked, m.pos)
		p.ackedAt = p.now()
		p.marks = append(p.marks[:0], p.marks[i+1:]...)
		p.broadcastLocked()
		return true
	}
	return false
}

// interrupt starts a new generation. It reports whether Twilio had audio to play or
// a partial frame was held, and returns the playback of every item that had audio
// sent. A clear becomes pending when Twilio holds unplayed audio.
func (p *playback) interrupt() (playing bool, items []session.ItemPlayback) {
	p.mu.Lock()
	defer p.mu.Unlock()
	unplayed := p.sent > p.acked
	playing = unplayed || p.framer.Buffered() > 0
	played := p.playedLocked(p.now())
	for _, s := range p.spans {
		if s.bytes == 0 {
			continue
		}
		heard := min(max(played-s.start, 0), s.frames)
		sentMS := s.bytes / bytesPerMS
		items = append(items, session.ItemPlayback{
			ItemID:   s.item,
			SentMS:   sentMS,
			PlayedMS: min(heard*int(frameDuration/time.Millisecond), sentMS),
		})
	}
	p.gen++
	p.clearPending = p.clearPending || unplayed
	p.sent, p.acked, p.sinceMark = 0, 0, 0
	p.ackedAt = time.Time{}
	p.spans = p.spans[:0]
	p.marks = p.marks[:0]
	p.framer.Reset()
	p.framerItem = ""
	p.broadcastLocked()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return playing, items
}

// playedLocked estimates the frames played: the last confirmed position plus the time
// since, while audio remains, but never past the next unconfirmed mark or the audio
// sent.
func (p *playback) playedLocked(now time.Time) int {
	if p.acked >= p.sent || p.ackedAt.IsZero() {
		return p.acked
	}
	limit := p.sent
	if len(p.marks) > 0 {
		limit = min(limit, p.marks[0].pos)
	}
	elapsed := int(now.Sub(p.ackedAt) / frameDuration)
	return min(max(p.acked+elapsed, p.acked), limit)
}

// playedPosition returns the estimated frames played and the frames sent in the
// current generation.
func (p *playback) playedPosition() (played, sent int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.playedLocked(p.now()), p.sent
}

// playing reports whether audio was sent that Twilio has not confirmed played.
func (p *playback) playing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent > p.acked || p.framer.Buffered() > 0
}

// settled returns whether everything sent was confirmed played, and a channel closed
// at the next change.
func (p *playback) settled() (bool, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acked >= p.sent && p.framer.Buffered() == 0, p.changed
}

func (p *playback) generation() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

func (p *playback) broadcastLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// paceWait takes one frame of pacing budget and returns zero, or returns how long
// until one frame of budget is available.
func (p *playback) paceWait() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !p.refilled.IsZero() {
		p.tokens += now.Sub(p.refilled).Seconds() * paceFramesPerSecond
		p.tokens = min(p.tokens, paceBurstFrames)
	}
	p.refilled = now
	if p.tokens >= 1 {
		p.tokens--
		return 0
	}
	return time.Duration((1 - p.tokens) / paceFramesPerSecond * float64(time.Second))
}
