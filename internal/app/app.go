// Package app builds voiceorder's object graph from a Config, runs its servers and
// background loops, and shuts them down in order. It is the only package that wires the
// parts together.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/browser"
	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/config"
	"github.com/voiceorder/voiceorder/internal/httpapi"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/order"
	"github.com/voiceorder/voiceorder/internal/session"
	"github.com/voiceorder/voiceorder/internal/tools"
	"github.com/voiceorder/voiceorder/internal/twilio"
	"github.com/voiceorder/voiceorder/menus"
)

const (
	// maxRecentRecords bounds the records of ended conversations kept for operators.
	maxRecentRecords = 1000
	// cartExpiryEvery is how often idle carts are swept.
	cartExpiryEvery = time.Minute
	// closeWait bounds the wait for conversations to end once they were closed.
	closeWait = 5 * time.Second
)

// ErrForced is the cause given to conversations closed by a second signal.
var ErrForced = errors.New("shutdown forced")

// modelServer is an in-process Realtime server: the local engine or the echo model.
type modelServer interface {
	Serve(ctx context.Context, ln net.Listener) error
}

// App is a configured gateway. New opens its listeners and stores; Run serves until its
// context ends and then closes everything New opened.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	catalog *menu.Catalog

	carts    *cart.MemoryStore
	orders   order.Store
	registry *session.Registry
	engine   modelServer // nil when the model is reached over the network
	// provider is the one HTTP client for every call to the model provider, and
	// model dials through it.
	provider *http.Client
	model    session.Model
	engineLn net.Listener
	ln       net.Listener
	server   *http.Server
	starter  *session.Starter
	apology  *twilio.Apology
	adminLn  net.Listener // nil when the admin listener is off
	admin    *http.Server
	metrics  *monitor.Metrics
	sampler  *monitor.Sampler
	ready    atomic.Bool

	// forced ends when Force is called; shutdown waits derive from it.
	forced    context.Context
	force     context.CancelCauseFunc
	closeOnce sync.Once
}

// New builds the gateway and opens its listeners and stores. It starts no goroutine.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *App, err error) {
	a := &App{cfg: cfg, log: log}
	a.forced, a.force = context.WithCancelCause(context.Background())
	defer func() {
		if err != nil {
			a.Close()
		}
	}()

	if a.catalog, err = loadCatalog(cfg.MenuPath); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory (VOICEORDER_DATA_DIR): %w", err)
	}
	if a.orders, err = order.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "orders.db")); err != nil {
		return nil, err
	}
	a.carts = cart.NewMemoryStore(cart.MemoryConfig{MaxEntries: cfg.MaxCarts, TTL: cfg.CartTTL})
	if err := a.restoreCarts(); err != nil {
		return nil, err
	}
	a.registry = session.NewRegistry(cfg.MaxSessions, maxRecentRecords)

	reg := monitor.NewRegistry()
	a.metrics = monitor.NewMetrics(reg)
	if err := a.metrics.RegisterCartStore(
		func() float64 { return float64(a.carts.Stats().Entries) },
		func(reason string) float64 { return float64(a.carts.Stats().Evictions[cart.EvictionReason(reason)]) },
	); err != nil {
		return nil, fmt.Errorf("register cart store metrics: %w", err)
	}
	a.sampler, err = monitor.NewSampler(monitor.Config{
		Interval: cfg.MonitorInterval, GoroutineMargin: cfg.AlertMargin, FDMargin: cfg.AlertMargin, HeapMargin: cfg.AlertMargin,
		Sessions: a.registry.Active, WebhookURL: cfg.AlertWebhook, Metrics: a.metrics, Logger: log.With("component", "monitor"),
	})
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}

	model, err := a.buildModel()
	if err != nil {
		return nil, err
	}
	a.apology = &twilio.Apology{}
	if err := a.apology.Prepare(ctx); err != nil {
		log.Warn("phone callers will hear no apology when the model is unavailable", "err", err)
	}
	starter := &session.Starter{
		Catalog:  a.catalog,
		Tools:    tools.NewExecutor(tools.Env{Catalog: a.catalog, Carts: a.carts, Orders: a.orders, Logger: log}),
		Model:    model,
		Registry: a.registry,
		Limits:   session.Limits{IdleTimeout: cfg.IdleTimeout, MaxDuration: cfg.MaxCallDuration},
		Metrics:  a.metrics,
		Logger:   log,
	}
	a.starter = starter

	a.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (VOICEORDER_ADDR): %w", cfg.Addr, err)
	}
	a.server = &http.Server{
		Handler:           a.routes(starter, reg),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.AdminAddr != "" {
		if a.adminLn, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			return nil, fmt.Errorf("listen on %s (VOICEORDER_ADMIN_ADDR): %w", cfg.AdminAddr, err)
		}
		a.admin = &http.Server{
			Handler:           adminRoutes(reg, a.sampler),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
	}
	return a, nil
}

func loadCatalog(path string) (*menu.Catalog, error) {
	if path == "" {
		return menu.Parse(menus.DefaultName, menus.Default)
	}
	return menu.LoadFile(path)
}

func (a *App) routes(starter *session.Starter, reg prometheus.Gatherer) http.Handler {
	rid := a.catalog.Restaurant.ID
	return httpapi.New(httpapi.Deps{
		Catalog:  a.catalog,
		Orders:   a.orders,
		Carts:    a.carts,
		Registry: a.registry,
		Webhook: &twilio.Webhook{
			AuthToken: a.cfg.TwilioAuthToken.Reveal(), PublicURL: a.cfg.PublicURL,
			StreamPath: "/voice/stream", RestaurantID: rid, Busy: a.busy("twilio"), Logger: a.log,
			// Dials only while starter.ServePredials runs.
			Incoming: func(callSID string) { starter.Predial(callSID) },
		},
		TwilioVoice: &twilio.StreamHandler{
			Starter: starter, Metrics: a.metrics, Apology: a.apology, Logger: a.log,
		},
		BrowserVoice: &browser.Handler{Starter: starter, RestaurantID: rid, Busy: a.busy("browser"), Logger: a.log},
		Metrics:      monitor.Handler(reg),
		Monitor:      a.sampler.Status,
		Kiosk:        browser.Kiosk,
		Logger:       a.log,
		Ready:        &a.ready,
	})
}

// busy returns the admission check of a transport: it reports whether the gateway is
// at its session limit and counts each call it turns away.
func (a *App) busy(transport string) func() bool {
	tm := a.metrics.Transport(transport)
	return func() bool {
		if a.registry.Full() {
			tm.SessionRejected()
			return true
		}
		return false
	}
}

// adminRoutes serves the operator endpoints, which must stay off the public network:
// profiles, metrics, the monitor's status and a forced garbage collection.
func adminRoutes(reg prometheus.Gatherer, sampler *monitor.Sampler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/metrics", monitor.Handler(reg))
	mux.Handle("/debug/monitor", sampler.StatusHandler())
	mux.Handle("/debug/gc", monitor.GCHandler())
	return mux
}

// AdminURL returns the base URL of the admin listener, or "" when it is off.
func (a *App) AdminURL() string {
	if a.adminLn == nil {
		return ""
	}
	return "http://" + a.adminLn.Addr().String()
}

// URL returns the base URL of the gateway's HTTP server.
func (a *App) URL() string { return "http://" + a.ln.Addr().String() }

// Catalog returns the menu the gateway serves.
func (a *App) Catalog() *menu.Catalog { return a.catalog }

// Orders returns the order store.
func (a *App) Orders() order.Store { return a.orders }

// Sessions returns the number of live conversations.
func (a *App) Sessions() int { return a.registry.Active() }

// Run serves until ctx ends, then shuts down in order and returns nil after a clean
// shutdown:
//
//  1. readiness turns off, and the gateway keeps serving for the shutdown delay so a
//     load balancer stops sending calls;
//  2. the listener closes and live conversations get the grace period to finish;
//  3. the rest are closed, their callers' sockets with 1001 (going away);
//  4. background loops stop and the stores close.
//
// Force skips the waits of steps 1 and 2.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	// Background loops outlive ctx: they stop only after the conversations that use
	// them have ended.
	loops, stopLoops := context.WithCancel(context.Background())
	defer stopLoops()
	g, gctx := errgroup.WithContext(loops)

	if a.engine != nil {
		g.Go(func() error { return a.engine.Serve(gctx, a.engineLn) })
	}
	g.Go(func() error { return a.carts.ExpireLoop(gctx, cartExpiryEvery) })
	g.Go(func() error { return a.sampler.Run(gctx) })
	g.Go(func() error { return a.starter.ServePredials(gctx) })
	if a.admin != nil {
		g.Go(func() error {
			if err := a.admin.Serve(a.adminLn); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve admin: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		if err := a.server.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	a.ready.Store(true)
	a.log.Info("voiceorder serving", "addr", a.ln.Addr().String(), "restaurant_id", a.catalog.Restaurant.ID, "model", a.modelName())

	select {
	case <-ctx.Done():
	case <-gctx.Done(): // a server or loop failed
	}
	a.shutdown()
	if a.admin != nil {
		a.admin.Close() // profiles and metrics have nothing to drain
	}
	stopLoops()
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err == nil {
		a.log.Info("voiceorder stopped")
	}
	return err
}

// Force makes a running shutdown close every conversation at once. It is what a second
// signal does. It is safe to call more than once and before shutdown starts.
func (a *App) Force() {
	a.force(ErrForced)
}

func (a *App) shutdown() {
	a.ready.Store(false)
	a.log.Info("shutting down", "sessions", a.registry.Active(), "delay", a.cfg.ShutdownDelay, "grace", a.cfg.ShutdownGrace)
	a.wait(a.cfg.ShutdownDelay)

	grace, cancel := context.WithTimeoutCause(a.forced, a.cfg.ShutdownGrace, errors.New("shutdown grace period ended"))
	defer cancel()

	// Shutdown stops new connections and waits for plain HTTP requests. It does not
	// wait for WebSockets; the registry does.
	if err := a.server.Shutdown(grace); err != nil {
		a.log.Warn("http requests still running at the end of the grace period", "err", err)
	}
	if err := a.registry.Wait(grace); err != nil {
		a.log.Warn("closing live conversations", "sessions", a.registry.Active(), "cause", context.Cause(grace))
		a.registry.CancelAll(session.ErrShutdown)
		final, cancelFinal := context.WithTimeout(context.Background(), closeWait)
		defer cancelFinal()
		if err := a.registry.Wait(final); err != nil {
			a.log.Error("conversations did not end after they were closed", "sessions", a.registry.Active())
		}
	}
}

// wait sleeps for d unless Force is called first.
func (a *App) wait(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-a.forced.Done():
	}
}

// Close releases what New opened. Run calls it on return; call it directly only when
// Run is never called. It is safe to call more than once.
func (a *App) Close() { a.closeOnce.Do(a.closeAll) }

func (a *App) closeAll() {
	a.force(nil)
	if a.ln != nil {
		a.ln.Close()
	}
	if a.adminLn != nil {
		a.adminLn.Close()
	}
	if a.engineLn != nil {
		a.engineLn.Close()
	}
	if a.carts != nil {
		a.saveCarts()
		a.carts.Close()
	}
	if a.orders != nil {
		if err := a.orders.Close(); err != nil {
			a.log.Error("close order store", "err", err)
		}
	}
}

// cartsFile keeps the carts that were open at shutdown, so a restart does not lose them.
func (a *App) cartsFile() string { return filepath.Join(a.cfg.DataDir, "carts.json") }

func (a *App) restoreCarts() error {
	carts, err := cart.LoadSnapshotFile(a.cartsFile())
	if err != nil {
		return err
	}
	if len(carts) > 0 {
		n := a.carts.Restore(carts)
		a.log.Info("restored carts open at the last shutdown", "restored", n, "expired_or_skipped", len(carts)-n)
	}
	return nil
}

// saveCarts writes every open cart with lines to the data directory. A cart that
// cannot be saved is logged with its content, never dropped silently.
func (a *App) saveCarts() {
	carts := a.carts.Snapshot()
	if len(carts) == 0 {
		return
	}
	if err := cart.SaveSnapshotFile(a.cartsFile(), carts); err != nil {
		for _, c := range carts {
			a.log.Error("cart lost at shutdown", "cart_key", c.Key, "lines", len(c.Lines), "total", c.Total, "err", err)
		}
		return
	}
	a.log.Info("saved open carts for the next start", "carts", len(carts), "file", a.cartsFile())
}
