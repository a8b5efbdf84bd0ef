package session

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/tools"
)

// Starter runs conversations that share the gateway's dependencies. It is safe for
// concurrent use.
type Starter struct {
	Catalog  *menu.Catalog
	Tools    *tools.Executor
	Model    Model
	Registry *Registry
	Limits   Limits
	Metrics  *monitor.Metrics
	Logger   *slog.Logger
	Now      func() time.Time
	// MaxPredials bounds the model connections dialed ahead of phone calls. Default
	// DefaultMaxPredials.
	MaxPredials int
	// PredialTimeout closes a pre-dialed connection whose media stream has not
	// arrived within it. Default DefaultPredialTimeout.
	PredialTimeout time.Duration

	predials predialCache
}

// Params describe one conversation's caller.
type Params struct {
	Transport string
	CallSID   string
	Caller    Caller
	// Ready, when set, is called with the session id once the conversation is admitted
	// and before the model is dialed.
	Ready func(id string)
}

// Run runs one conversation to its end; see Session.Run.
func (s *Starter) Run(ctx context.Context, p Params) error {
	sess := New(Config{
		ID: uuid.NewString(), OnStart: p.Ready,
		Transport: p.Transport, RestaurantID: s.Catalog.Restaurant.ID, CallSID: p.CallSID,
		Caller: p.Caller, Model: s.Model, Catalog: s.Catalog, Tools: s.Tools,
		Registry: s.Registry, Limits: s.Limits, Metrics: s.Metrics, Logger: s.Logger, Now: s.Now,
		predials: &s.predials,
	})
	return sess.Run(ctx)
}

// Predial starts dialing the model for an incoming phone call, so that its greeting
// can start as soon as the media stream for callSID arrives: the connection is
// configured and has asked for the greeting by then. Call it from the incoming-call
// webhook. It does nothing, and returns false, unless ServePredials is running, or
// when a dial for callSID is already held or MaxPredials dials are. A connection
// whose stream does not arrive within PredialTimeout is closed.
func (s *Starter) Predial(callSID string) bool {
	max := s.MaxPredials
	if max <= 0 {
		max = DefaultMaxPredials
	}
	timeout := s.PredialTimeout
	if timeout <= 0 {
		timeout = DefaultPredialTimeout
	}
	cfg := Config{Model: s.Model, Catalog: s.Catalog, Metrics: s.Metrics, Logger: s.Logger}
	return s.predials.start(callSID, max, timeout, cfg)
}

// ServePredials runs until ctx ends and owns the goroutines of the dials Predial
// starts. When it returns, every pre-dialed connection not taken by a call is closed.
// Run it once, beside the servers, and end it after the conversations have ended.
func (s *Starter) ServePredials(ctx context.Context) error {
	return s.predials.serve(ctx)
}

// ServingPredials reports whether ServePredials is running, so Predial can start
// dials.
func (s *Starter) ServingPredials() bool {
	return s.predials.serving()
}

// Predials returns the number of pre-dialed connections held for calls whose stream
// has not arrived, and the number of pre-dials turned away because MaxPredials were
// held.
func (s *Starter) Predials() (held, rejected int) {
	return s.predials.size()
}
