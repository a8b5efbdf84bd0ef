package realtime

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServerOptions configure Serve.
type ServerOptions struct {
	// Name names the server in errors and logs, such as "local model".
	Name    string
	Handler http.Handler
	// BaseContext is the context of every request; the server's connections end
	// when it does. Default context.Background.
	BaseContext context.Context
	// Close ends every WebSocket connection and waits for its goroutines; Serve calls
	// it after the HTTP server has stopped, because http.Server.Shutdown neither
	// closes nor waits for hijacked connections.
	Close func()
	// ShutdownTimeout bounds the wait for plain HTTP requests at shutdown.
	// Default 5 s.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
}

// Serve runs an in-process Realtime server on ln until ctx ends or serving fails,
// then stops accepting, closes every connection through opts.Close and waits for the
// server's goroutine. It returns nil after a shutdown caused by ctx. The offline
// engine and the echo model both serve this way.
func Serve(ctx context.Context, ln net.Listener, opts ServerOptions) error {
	base := opts.BaseContext
	if base == nil {
		base = context.Background()
	}
	timeout := opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	hs := &http.Server{
		Handler:           opts.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveErr <- hs.Serve(ln)
	}()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	shutdownCtx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), timeout,
		fmt.Errorf("%s HTTP shutdown timed out", opts.Name))
	defer cancel()
	if shutdownErr := hs.Shutdown(shutdownCtx); shutdownErr != nil {
		opts.Logger.Warn(opts.Name+" HTTP shutdown", "err", shutdownErr)
	}
	if opts.Close != nil {
		opts.Close()
	}
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", opts.Name, err)
	}
	return nil
}

// HijackedConns tracks the connections that a server's WebSocket upgrades took over
// from net/http, which neither closes nor tracks them, so that the server can close
// connections stuck in a close handshake. The zero value is ready to use and it is
// safe for concurrent use.
type HijackedConns struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	stopped bool
}

// Wrap returns a ResponseWriter whose Hijack records the connection, and a func that
// forgets it, to call when the handler returns. Hijack fails once Stop was called.
func (h *HijackedConns) Wrap(w http.ResponseWriter) (http.ResponseWriter, func()) {
	tw := &trackingWriter{ResponseWriter: w, set: h}
	return tw, func() {
		if tw.conn != nil {
			h.mu.Lock()
			delete(h.conns, tw.conn)
			h.mu.Unlock()
		}
	}
}

// Stop makes later hijacks fail and close their connection.
func (h *HijackedConns) Stop() {
	h.mu.Lock()
	h.stopped = true
	h.mu.Unlock()
}

// CloseAll closes every tracked connection, which unblocks their handlers' reads and
// writes.
func (h *HijackedConns) CloseAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for conn := range h.conns {
		conn.Close()
	}
}

func (h *HijackedConns) track(conn net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	if h.conns == nil {
		h.conns = make(map[net.Conn]struct{})
	}
	h.conns[conn] = struct{}{}
	return true
}

type trackingWriter struct {
	http.ResponseWriter
	set  *HijackedConns
	conn net.Conn
}

func (w *trackingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hijacker, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer does not support hijacking")
	}
	conn, rw, err := hijacker.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if !w.set.track(conn) {
		conn.Close()
		return nil, nil, errors.New("server is shutting down")
	}
	w.conn = conn
	return conn, rw, nil
}
