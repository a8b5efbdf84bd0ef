// Package session provides one conversation between a caller and the speech model:
// it pumps audio both ways with format conversion, runs the model's tool calls against
// the cart and order stores, and records the turns. For phone callers it also handles
// barge-in with truncation at the heard position, reconnects a dropped model
// connection, and replaces a connection before the provider's maximum session
// duration. It also provides the Registry of live conversations that shutdown drains,
// the process-wide Breaker of model dials, and pre-dials for phone calls. It does not
// speak any caller protocol; the twilio and browser packages adapt their sockets to
// Caller and Player.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/tools"
)

// ErrHangup is returned by Caller.Receive when the caller ended the call. A session
// that ends this way ends normally.
var ErrHangup = errors.New("caller hung up")

// Ending reasons reported in logs, records and metrics.
const (
	EndHangup      = "hangup"
	EndCompleted   = "completed"
	EndShutdown    = "shutdown"
	EndUpstream    = "upstream_closed"
	EndIdle        = "idle_timeout"
	EndMaxDuration = "max_duration"
	EndError       = "error"
	EndPanic       = "panic"
)

// Errors that end a conversation for a reason other than the caller. Run returns
// ErrShutdown so that transports can close the caller's socket with 1001 (going
// away); it is a normal ending, not a failure.
var (
	ErrShutdown    = errors.New("gateway shutting down")
	ErrIdle        = errors.New("no audio from the caller for the idle timeout")
	ErrMaxDuration = errors.New("conversation reached its maximum duration")
)

// Limits bound one conversation. Zero values turn a limit off.
type Limits struct {
	// IdleTimeout ends the conversation when no caller audio arrived for this long.
	// Only audio counts: marks, keys and keepalive pings do not.
	IdleTimeout time.Duration
	// MaxDuration ends the conversation after this long.
	MaxDuration time.Duration
}

// Model is the speech model a session dials, and its audio and voice settings.
type Model struct {
	// Dial opens a new connection; it must honour ctx's deadline.
	Dial func(ctx context.Context) (*realtime.Conn, error)
	// PCMRates lists the PCM16 sample rates the model accepts for audio/pcm. OpenAI
	// accepts 24000 only.
	PCMRates []int
	// Voice is the model's voice name; empty leaves the model's default.
	Voice string
	// TranscriptionModel names the input transcription model; empty disables it.
	TranscriptionModel string
	// Keepalive is the ping interval on the model connection; zero disables pings.
	Keepalive time.Duration
	// Breaker, when set, is the process-wide circuit breaker that every dial of every
	// conversation passes; nil dials without one.
	Breaker *Breaker
	// Reconnect is the policy for replacing a phone call's dropped model connection.
	// Zero fields take the defaults of ReconnectPolicy.
	Reconnect ReconnectPolicy
	// RecycleAfter is the age at which a conversation replaces its model connection
	// between responses, before the provider's maximum session duration ends it.
	// Zero means DefaultRecycleAfter; a negative value turns recycling off.
	RecycleAfter time.Duration
}

// Config is the set of dependencies of one conversation. Everything is passed in; nothing is global.
type Config struct {
	ID           string
	Transport    string // "browser" or "twilio"
	RestaurantID string
	CallSID      string
	Caller       Caller
	Model        Model
	Catalog      *menu.Catalog
	Tools        *tools.Executor
	Registry     *Registry
	Limits       Limits
	// Metrics records the conversation; nil records nothing.
	Metrics *monitor.Metrics
	// OnStart, when set, is called with the session id once the conversation is
	// admitted by the registry and before the model is dialed.
	OnStart func(id string)
	Logger  *slog.Logger
	Now     func() time.Time

	// predials holds the connections dialed ahead of phone calls; nil has none.
	predials *predialCache
}

// Session is one conversation. Create it with New and run it with Run once.
type Session struct {
	cfg    Config
	log    *slog.Logger
	record *Record
	tm     *monitor.TransportMetrics
}

// New prepares a conversation. It starts nothing.
func New(cfg Config) *Session {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger.With("session_id", cfg.ID, "transport", cfg.Transport, "restaurant_id", cfg.RestaurantID)
	if cfg.CallSID != "" {
		log = log.With("call_sid", cfg.CallSID)
	}
	return &Session{
		cfg:    cfg,
		log:    log,
		record: newRecord(cfg.ID, cfg.Transport, cfg.RestaurantID, cfg.CallSID, cfg.Now()),
		tm:     cfg.Metrics.Transport(cfg.Transport),
	}
}

// Record returns the conversation's record.
func (s *Session) Record() *Record { return s.record }

// Run runs the conversation until the caller hangs up, the model connection ends, a
// limit is reached or ctx ends, and returns only after every goroutine it started has
// exited. A hang-up or a limit returns nil; a gateway shutdown returns ErrShutdown. A
// panic inside the conversation is recovered, logged with its stack and returned as an
// error; it ends this conversation only.
func (s *Session) Run(ctx context.Context) (err error) {
	start := s.cfg.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if d := s.cfg.Limits.MaxDuration; d > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, d, ErrMaxDuration)
		defer stop()
	}

	if s.cfg.Registry != nil {
		release, err := s.cfg.Registry.Register(s.record, cancel)
		if err != nil {
			s.tm.SessionRejected()
			return err
		}
		defer release()
	}
	s.tm.SessionStarted()

	reason := EndHangup
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("conversation panicked", "panic", p, "stack", string(debug.Stack()))
			reason, err = EndPanic, fmt.Errorf("conversation panicked: %v", p)
		}
		s.record.end(s.cfg.Now(), reason)
		s.tm.SessionEnded(reason)
		view := s.record.View()
		s.log.Info("conversation ended", "reason", reason, "duration", s.cfg.Now().Sub(start).Round(time.Millisecond),
			"turns", len(view.Turns), "tool_calls", len(view.ToolCalls))
	}()

	if s.cfg.OnStart != nil {
		s.cfg.OnStart(s.cfg.ID)
	}
	s.log.Info("conversation started")
	err = s.run(ctx)
	reason = endReason(ctx, err)
	switch reason {
	case EndHangup, EndCompleted, EndIdle, EndMaxDuration:
		return nil
	case EndShutdown:
		return ErrShutdown
	case EndError:
		s.log.Error("conversation failed", "err", err)
	case EndUpstream:
		s.log.Warn("model connection lost", "err", err)
		s.cfg.Metrics.UpstreamFailure(monitor.UpstreamClosed)
	}
	return err
}

// endReason classifies how a conversation ended. The context's cause wins over the
// error a loop returned, because cancelling the context is what made the loops fail.
func endReason(ctx context.Context, err error) string {
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, ErrShutdown):
		return EndShutdown
	case errors.Is(cause, ErrMaxDuration):
		return EndMaxDuration
	case errors.Is(err, ErrIdle):
		return EndIdle
	case errors.Is(err, ErrCompleted):
		return EndCompleted
	case err == nil, errors.Is(err, ErrHangup):
		return EndHangup
	case errors.Is(err, realtime.ErrClosed), errors.As(err, new(*upstreamError)):
		return EndUpstream
	default:
		return EndError
	}
}

func (s *Session) run(ctx context.Context) error {
	in, out := s.cfg.Caller.Formats()
	formats, err := negotiate(in, out, s.cfg.Model.PCMRates)
	if err != nil {
		return err
	}
	c, err := newConversation(s, formats)
	if err != nil {
		return err
	}
	// A connection dialed when the call's webhook arrived lets the greeting start at
	// once; without one, the conversation dials while it already reads the caller.
	return c.run(ctx, s.cfg.predials.take(ctx, s.cfg.CallSID, formats))
}

// upstreamError is a failure to read from the model connection: the provider or the
// network dropped it, which degrades service but is not the gateway's fault.
type upstreamError struct{ err error }

func (e *upstreamError) Error() string { return "model connection: " + e.err.Error() }
func (e *upstreamError) Unwrap() error { return e.err }

// dialFailure classifies a failed dial for the upstream failure metric.
func dialFailure(err error) string {
	var de *realtime.DialError
	if errors.As(err, &de) && de.StatusCode != 0 {
		return monitor.UpstreamRejected
	}
	return monitor.UpstreamDial
}

// formats are the audio formats on both legs and the conversions between them.
type formats struct {
	callerIn, callerOut audio.Format
	modelIn, modelOut   audio.Format
}

// negotiate picks the model's formats: the caller's own when the model accepts them,
// so audio passes through untouched, otherwise 24 kHz PCM16.
func negotiate(in, out audio.Format, pcmRates []int) (formats, error) {
	pick := func(f audio.Format) audio.Format {
		switch {
		case f.Encoding == audio.Mulaw && f.Rate == 8000:
			return f
		case f.Encoding == audio.PCM16 && containsRate(pcmRates, f.Rate):
			return f
		default:
			return audio.Format{Encoding: audio.PCM16, Rate: 24000}
		}
	}
	return formats{callerIn: in, callerOut: out, modelIn: pick(in), modelOut: pick(out)}, nil
}

func containsRate(rates []int, rate int) bool {
	for _, r := range rates {
		if r == rate {
			return true
		}
	}
	return false
}

// runGroup runs fns in one errgroup; the first to return cancels the others.
func runGroup(ctx context.Context, fns ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, fn := range fns {
		g.Go(func() error { return fn(ctx) })
	}
	return g.Wait()
}
