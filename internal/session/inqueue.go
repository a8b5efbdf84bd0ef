package session

import (
	"context"
	"sync"
)

// defaultInQueueFrames bounds caller audio waiting for the model connection: about
// five seconds of 20 ms frames. Older audio is worth less than newer audio to a
// listener that fell behind, so the oldest frame is dropped first.
const defaultInQueueFrames = 250

// inQueue is the bounded queue from the caller's reader to the model's writer.
// Pushing never blocks.
type inQueue struct {
	max int

	mu      sync.Mutex
	frames  [][]byte
	dropped int   // frames dropped because the model connection fell behind
	end     error // set by close; next returns it once the queue is empty
	ready   chan struct{}
}

func newInQueue(max int) *inQueue {
	return &inQueue{max: max, ready: make(chan struct{}, 1)}
}

// close ends the stream: next returns the frames still queued, then err.
func (q *inQueue) close(err error) {
	q.mu.Lock()
	q.end = err
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// push queues a frame and reports whether the oldest one was dropped to make room.
func (q *inQueue) push(frame []byte) (dropped bool) {
	q.mu.Lock()
	if len(q.frames) == q.max {
		q.frames[0] = nil
		q.frames = q.frames[1:]
		q.dropped++
		dropped = true
	}
	q.frames = append(q.frames, frame)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

// next blocks until a frame is queued or ctx ends.
func (q *inQueue) next(ctx context.Context) ([]byte, error) {
	for {
		q.mu.Lock()
		if len(q.frames) > 0 {
			f := q.frames[0]
			q.frames[0] = nil
			q.frames = q.frames[1:]
			q.mu.Unlock()
			return f, nil
		}
		end := q.end
		q.mu.Unlock()
		if end != nil {
			return nil, end
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}
