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
)

type outItem struct {
	kind outKind
	data []byte
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

func (q *outQueue) pushEnd() { q.push(outItem{kind: outEnd}) }

// clear drops queued audio and asks the caller to drop what it has buffered.
func (q *outQueue) clear() {
	q.mu.Lock()
	q.items = q.items[:0]
	q.bytes = 0
	q.mu.Unlock()
	q.push(outItem{kind: outClear})
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
