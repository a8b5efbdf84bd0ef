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
	})
	return sess.Run(ctx)
}
