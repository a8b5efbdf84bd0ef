package echomodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// Path is where Handler serves the WebSocket upgrade, the path of the hosted
// API's endpoint. A gateway dials "ws://" + listener address + Path.
const Path = "/v1/realtime"

// Defaults for the zero values of Config.
const (
	DefaultMinTurn        = time.Second
	DefaultMaxTurn        = 5 * time.Second
	DefaultMaxEcho        = 2 * time.Second
	DefaultGreetingLength = time.Second
	DefaultMaxConnections = 1024
)

const (
	// shutdownTimeout bounds the HTTP server's shutdown in Serve.
	shutdownTimeout = 5 * time.Second
	// closeTimeout is how long Close waits for connections to finish their
	// close handshakes before it closes their sockets.
	closeTimeout = 2 * time.Second
)

// Config configures a Server. The zero value is usable.
type Config struct {
	// Logger receives connection errors, and connection lifecycle at debug
	// level. Default slog.Default().
	Logger *slog.Logger
	// ResponseDelay is the pause between the start of a response
	// (response.created) and its first audio delta. Default 0, no pause.
	ResponseDelay time.Duration
	// DeltaInterval is the pause between two audio deltas of 100 ms each.
	// Default 0: a response is sent as fast as the client reads it, as the
	// hosted API sends audio faster than real time.
	DeltaInterval time.Duration
	// MinTurn is the length of input audio, counted from the caller's first
	// non-silent append, after which an append of digital silence ends the
	// turn. Default DefaultMinTurn.
	MinTurn time.Duration
	// MaxTurn ends a turn that has not fallen silent after this much input
	// audio. Default DefaultMaxTurn.
	MaxTurn time.Duration
	// MaxEcho bounds the caller audio that is kept and played back: the last
	// MaxEcho of the turn. Default DefaultMaxEcho.
	MaxEcho time.Duration
	// GreetingLength is the length of the tone that answers a response.create.
	// Default DefaultGreetingLength.
	GreetingLength time.Duration
	// MaxConnections bounds concurrent connections; more are rejected with
	// HTTP 503. Default DefaultMaxConnections.
	MaxConnections int
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MinTurn <= 0 {
		c.MinTurn = DefaultMinTurn
	}
	if c.MaxTurn <= 0 {
		c.MaxTurn = DefaultMaxTurn
	}
	if c.MaxTurn < c.MinTurn {
		c.MaxTurn = c.MinTurn
	}
	if c.MaxEcho <= 0 {
		c.MaxEcho = DefaultMaxEcho
	}
	if c.GreetingLength <= 0 {
		c.GreetingLength = DefaultGreetingLength
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	return c
}

// Server is the echo model. Create it with New; serve it with Serve, or mount
// Handler on a server of your own and call Close when that server stops.
// Its methods are safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger

	// ctx ends every connection when the server closes.
	ctx    context.Context
	cancel context.CancelFunc

	handlers sync.WaitGroup
	ids      atomic.Int64 // connection counter, for ids

	conns realtime.HijackedConns // force-closed by Close

	mu      sync.Mutex
	closing bool
	active  int // connection handlers running
}

// New returns a server. It starts no goroutine.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:    cfg,
		log:    cfg.Logger,
		ctx:    ctx,
		cancel: cancel,
	}
}

// Handler returns the handler that upgrades Path to a Realtime WebSocket. The
// model query parameter and the Authorization header are accepted and
// ignored. Each connection runs in its handler's goroutine until the peer
// hangs up or the server closes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path, s.serveRealtime)
	return mux
}

// Connections returns the number of connections being served.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Serve runs an HTTP server with Handler on ln until ctx ends, then stops
// accepting, closes every connection with status 1001 and waits for all of
// their goroutines. It closes ln. It returns nil after a shutdown caused by
// ctx, and the error otherwise.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return realtime.Serve(ctx, ln, realtime.ServerOptions{
		Name: "echo model", Handler: s.Handler(), BaseContext: s.ctx, Close: s.Close,
		ShutdownTimeout: shutdownTimeout, Logger: s.log,
	})
}

// Close ends every connection and waits until their goroutines have exited.
// Each connection first gets a close handshake with status 1001; sockets
// still open after closeTimeout are closed without one. Later upgrades are
// rejected with HTTP 503. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.conns.Stop()
	s.cancel()

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.handlers.Wait()
		close(done)
	}()
	defer wg.Wait()

	timer := time.NewTimer(closeTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C:
	}
	s.conns.CloseAll() // ends close handshakes the peers do not complete
}

// admit counts a new connection handler unless the server is closing or
// full. The caller must call release when admit returns nil.
func (s *Server) admit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return errors.New("server is shutting down")
	case s.active >= s.cfg.MaxConnections:
		return fmt.Errorf("too many connections (maximum %d)", s.cfg.MaxConnections)
	}
	s.active++
	s.handlers.Add(1)
	return nil
}

func (s *Server) release() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
	s.handlers.Done()
}

func (s *Server) serveRealtime(w http.ResponseWriter, r *http.Request) {
	if err := s.admit(); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer s.release()

	tracked, forget := s.conns.Wrap(w)
	ws, err := websocket.Accept(tracked, r, &websocket.AcceptOptions{Subprotocols: []string{"realtime"}})
	if err != nil {
		s.log.Debug("echo model upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	defer forget()
	defer ws.CloseNow()

	c := newConn(s, ws, s.ids.Add(1))
	c.run(s.ctx)
}
