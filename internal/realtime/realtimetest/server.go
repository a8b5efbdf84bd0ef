// Package realtimetest provides a scripted fake Realtime server for tests: a
// real WebSocket server on a loopback socket that runs a test's handler for
// each connection and speaks the event types of package realtime.
//
// It checks nothing about the protocol on its own; handlers script the
// events to send and read the client's. It is not a model: package
// localmodel is the offline engine.
package realtimetest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/realtime"
)

// Handler scripts one connection. ctx ends when the server closes. The
// server closes the connection without a handshake when the handler returns;
// call ServerConn.Close first for a close handshake.
type Handler func(ctx context.Context, c *ServerConn)

// Server is a fake Realtime server. Its methods are safe for concurrent use.
type Server struct {
	tb         testing.TB
	handler    Handler
	httpServer *httptest.Server

	ctx    context.Context
	cancel context.CancelFunc

	handlers sync.WaitGroup
	dials    atomic.Int64

	conns realtime.HijackedConns // closed by Close

	mu            sync.Mutex
	closed        bool
	rejectStatus  int
	rejectBody    string
	closeOnAccept websocket.StatusCode
	closeOnce     sync.Once
}

// NewServer starts a server on 127.0.0.1 that runs handler for each
// connection, and registers Close with tb.Cleanup.
func NewServer(tb testing.TB, handler Handler) *Server {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		tb:      tb,
		handler: handler,
		ctx:     ctx,
		cancel:  cancel,
	}
	s.httpServer = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	tb.Cleanup(s.Close)
	return s
}

// URL returns the server's ws:// URL.
func (s *Server) URL() string {
	return "ws" + strings.TrimPrefix(s.httpServer.URL, "http")
}

// Dials returns the number of handshakes received, including rejected ones.
func (s *Server) Dials() int {
	return int(s.dials.Load())
}

// RejectHandshakes makes later handshakes fail with HTTP status and body,
// such as 401 and an OpenAI error body. A status of zero accepts them again.
func (s *Server) RejectHandshakes(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectStatus, s.rejectBody = status, body
}

// CloseOnAccept makes the server close later connections with code right
// after accepting them, without running the handler. A code of zero runs the
// handler again.
func (s *Server) CloseOnAccept(code websocket.StatusCode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeOnAccept = code
}

// Close ends the handlers' context, closes all connections and the listener,
// and waits for every handler to return. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.conns.Stop()
		s.conns.CloseAll()
		s.httpServer.Close()
		s.handlers.Wait()
	})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.dials.Add(1)
	s.mu.Lock()
	status, body, closeCode, closed := s.rejectStatus, s.rejectBody, s.closeOnAccept, s.closed
	if !closed {
		s.handlers.Add(1)
	}
	s.mu.Unlock()
	if closed {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	defer s.handlers.Done()

	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body)) // the client may already have gone
		return
	}
	s.serveConn(w, r, closeCode)
}

func (s *Server) serveConn(w http.ResponseWriter, r *http.Request, closeCode websocket.StatusCode) {
	c := &ServerConn{req: r, pinged: make(chan struct{}, 1)}
	tracked, forget := s.conns.Wrap(w)
	ws, err := websocket.Accept(tracked, r, &websocket.AcceptOptions{OnPingReceived: c.onPing})
	if err != nil {
		s.tb.Logf("realtimetest: accept: %v", err)
		return
	}
	defer forget()
	defer ws.CloseNow()
	ws.SetReadLimit(realtime.ReadLimit)
	c.ws = ws

	if closeCode != 0 {
		_ = c.Close(closeCode, "") // the client may not complete the handshake
		return
	}
	s.handler(s.ctx, c)
}
