package realtime

import (
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
