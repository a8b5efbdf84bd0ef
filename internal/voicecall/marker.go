package voicecall

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

const (
	// maxPendingMarks bounds the marks waiting for their audio to play. The gateway
	// sends one per response, so a full queue means it misbehaves. The oldest mark is
	// then echoed early rather than dropped, because the gateway waits for echoes.
	maxPendingMarks = 256
	// markRequests is the buffer between the reader and the marker.
	markRequests = 16
)

// markRequest is a mark to echo at due, or, with clear set, a request to echo every
// pending mark at once.
type markRequest struct {
	name  string
	due   time.Time
	clear bool
}

type pendingMark struct {
	name string
	due  time.Time
}

// marker echoes the gateway's marks the way Twilio does: each once the audio sent
// before it has played, and all of them at once after a clear.
type marker struct {
	echo     func(ctx context.Context, name string) error
	log      *slog.Logger
	requests chan markRequest
	pending  []pendingMark // owned by run
}

func newMarker(echo func(context.Context, string) error, log *slog.Logger) *marker {
	return &marker{echo: echo, log: log, requests: make(chan markRequest, markRequests)}
}

// add queues a mark to echo at due. It blocks only while the marker is behind, and
// returns when ctx ends.
func (m *marker) add(ctx context.Context, name string, due time.Time) error {
	return m.send(ctx, markRequest{name: name, due: due})
}

// clear echoes every pending mark at once.
func (m *marker) clear(ctx context.Context) error {
	return m.send(ctx, markRequest{clear: true})
}

func (m *marker) send(ctx context.Context, r markRequest) error {
	select {
	case m.requests <- r:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// run echoes marks until ctx ends or closed is closed, after which no mark can be
// echoed. It returns an echo's write error.
func (m *marker) run(ctx context.Context, closed <-chan struct{}) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var err error
		if len(m.pending) > 0 {
			timer.Reset(time.Until(m.pending[0].due))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-closed:
			return nil
		case r := <-m.requests:
			err = m.accept(ctx, r)
		case <-timer.C:
			err = m.echoDue(ctx, time.Now())
		}
		if err != nil {
			return m.echoFailed(err, closed)
		}
	}
}

// echoFailed returns err unless the socket has closed meanwhile, which the reader
// reports on its own.
func (m *marker) echoFailed(err error, closed <-chan struct{}) error {
	select {
	case <-closed:
		m.log.Debug("echo mark after the stream closed", "err", err)
		return nil
	default:
		return fmt.Errorf("echo mark: %w", err)
	}
}

func (m *marker) accept(ctx context.Context, r markRequest) error {
	if r.clear {
		for len(m.pending) > 0 {
			if err := m.echoFirst(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	if len(m.pending) == maxPendingMarks {
		m.log.Warn("too many marks waiting to play; echoing the oldest early", "max", maxPendingMarks)
		if err := m.echoFirst(ctx); err != nil {
			return err
		}
	}
	m.pending = append(m.pending, pendingMark{name: r.name, due: r.due})
	// Marks are due in the order they arrive, because playback is sequential.
	return m.echoDue(ctx, time.Now())
}

// echoDue echoes, in order, the pending marks due at or before now.
func (m *marker) echoDue(ctx context.Context, now time.Time) error {
	for len(m.pending) > 0 && !m.pending[0].due.After(now) {
		if err := m.echoFirst(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (m *marker) echoFirst(ctx context.Context) error {
	name := m.pending[0].name
	m.pending = m.pending[1:]
	if err := m.echo(ctx, name); err != nil {
		return err
	}
	m.log.Debug("echoed mark", "name", name)
	return nil
}
