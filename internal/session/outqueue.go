package session

import (
	"context"
	"sync"
)

// defaultOutQueueBytes bounds assistant audio waiting for the caller: about 20 s of
// 24 kHz PCM16. The model sends audio faster than real time, so the queue absorbs a
// response; beyond the bound the oldest audio is dropped and counted.
const defaultOutQueueBytes = 1 << 20

type outKind int

const (
	outAudio outKind = iota + 1
	outEnd
	outClear
	// outMarker closes its done channel when the sender reaches it, so a waiter
	// knows that everything queued before it went to the caller.
	outMarker
)

type outItem struct {
	kind outKind
	data []byte
	// item and gen tag audio for a Player: the assistant item it belongs to and
	// the playback generation it was queued under. gen also tags outEnd.
	item string
	gen  uint64
	// done is closed by the sender when it reaches an outMarker, after sending
	// notice, if set, to the caller.
	done   chan struct{}
	notice *Notice
}

// outQueue is the bounded queue between the model's reader and the caller's writer.
// Pushing never blocks; when the byte budget is exceeded the oldest audio is dropped.
type outQueue struct {
	maxBytes int

	mu      sync.Mutex
	items   []outItem
	bytes   int
	dropped int // audio chunks dropped because the caller fell behind
	ready   chan struct{}
}

func newOutQueue(maxBytes int) *outQueue {
	return &outQueue{maxBytes: maxBytes, ready: make(chan struct{}, 1)}
}

// push queues an item and reports whether older audio was dropped to make room.
func (q *outQueue) push(it outItem) (dropped bool) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.bytes += len(it.data)
	for q.bytes > q.maxBytes {
		q.dropOldestAudioLocked()
		dropped = true
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

func (q *outQueue) dropOldestAudioLocked() {
	for i, it := range q.items {
		if it.kind == outAudio {
			q.bytes -= len(it.data)
			q.items = append(q.items[:i], q.items[i+1:]...)
			q.dropped++
			return
		}
	}
	q.bytes = 0 // no audio left to drop
}

func (q *outQueue) pushAudio(b []byte) (dropped bool) {
	return len(b) > 0 && q.push(outItem{kind: outAudio, data: b})
}

// pushItemAudio queues audio of an assistant item under a playback generation.
func (q *outQueue) pushItemAudio(b []byte, item string, gen uint64) (dropped bool) {
	return len(b) > 0 && q.push(outItem{kind: outAudio, data: b, item: item, gen: gen})
}

func (q *outQueue) pushEnd() { q.pushResponseEnd(0) }

// pushResponseEnd queues the end of a response's audio under a playback generation.
func (q *outQueue) pushResponseEnd(gen uint64) { q.push(outItem{kind: outEnd, gen: gen}) }

// pushMarker queues a marker whose channel the sender closes when it reaches it.
func (q *outQueue) pushMarker() <-chan struct{} {
	done := make(chan struct{})
	q.push(outItem{kind: outMarker, done: done})
	return done
}

// pushNotice queues a notice that the sender passes to the caller after the audio
// queued before it, and returns a channel closed once it was sent.
func (q *outQueue) pushNotice(n Notice) <-chan struct{} {
	done := make(chan struct{})
	q.push(outItem{kind: outMarker, done: done, notice: &n})
	return done
}

// clear drops queued audio and asks the caller to drop what it has buffered. It
// returns the number of audio chunks dropped. Markers stay queued, so their waiters
// still learn when the sender passes them.
func (q *outQueue) clear() (dropped int) {
	q.mu.Lock()
	kept := q.items[:0]
	for _, it := range q.items {
		switch it.kind {
		case outAudio:
			dropped++
		case outMarker:
			kept = append(kept, it)
		}
	}
	clear(q.items[len(kept):])
	q.items = kept
	q.bytes = 0
	q.mu.Unlock()
	q.push(outItem{kind: outClear})
	return dropped
}

// busy reports whether audio is queued.
func (q *outQueue) busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes > 0
}

// next blocks until an item is queued or ctx ends.
func (q *outQueue) next(ctx context.Context) (outItem, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			it := q.items[0]
			q.items[0] = outItem{}
			q.items = q.items[1:]
			q.bytes -= len(it.data)
			q.mu.Unlock()
			return it, nil
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
			return outItem{}, context.Cause(ctx)
		}
	}
}
