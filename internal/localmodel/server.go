package localmodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// Server defaults.
const (
	// DefaultScoreThreshold is the lowest Hypothesis.WordScorePerFrame the policy
	// accepts. It was measured on the shipped menu's grammar. The sixteen
	// recorded orders scored from -21 to -30, and from -27 to -39 through 8 kHz
	// μ-law. espeak-ng speaking on-menu phrases scored from -27 to -47. The
	// recorded request for something off the menu scored from -53 to -59.
	DefaultScoreThreshold = -50.0
	DefaultMaxSessions    = 32
	DefaultModelName      = "voiceorder-local"
	// RealtimePath is where Handler serves the WebSocket upgrade.
	RealtimePath = "/v1/realtime"
	// shutdownTimeout bounds the HTTP server's shutdown in Serve.
	shutdownTimeout = 5 * time.Second
)

// Config configures a Server.
type Config struct {
	// Catalog is the menu whose items the grammar covers. Required.
	Catalog *menu.Catalog
	// Logger receives connection lifecycle and errors. Default slog.Default().
	Logger *slog.Logger
	// ModelDir is the pocketsphinx acoustic model. Default DefaultModelDir.
	ModelDir string
	// DictPath is the CMU pronouncing dictionary. Default DefaultDictPath.
	DictPath string
	// ScoreThreshold rejects utterances whose WordScorePerFrame is lower.
	// Zero means DefaultScoreThreshold.
	ScoreThreshold float64
	// Voice is the espeak-ng voice. Default DefaultVoiceName.
	Voice string
	// VoiceBinary is the espeak-ng executable. Default DefaultVoiceBinary.
	VoiceBinary string
	// MaxSessions bounds concurrent connections, each holding one decoder of
	// a few megabytes; more are rejected with HTTP 503. Default
	// DefaultMaxSessions.
	MaxSessions int
	// Now is the clock for session durations in the log. Default time.Now.
	Now func() time.Time
}

// Server is the offline realtime engine: a WebSocket server that speaks the
// OpenAI Realtime GA protocol, recognizes callers with pocketsphinx, decides with
// Policy and speaks with espeak-ng.
type Server struct {
	cfg     Config
	log     *slog.Logger
	grammar Grammar
	dict    *Dictionary
	voice   Voice
	slots   chan struct{}

	// ctx ends every connection when the server closes.
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup
}

// NewServer loads the dictionary, builds the grammar from the catalog and checks
// that pocketsphinx accepts it by loading one decoder. It starts no goroutine.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("new local model server: catalog is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ModelDir == "" {
		cfg.ModelDir = DefaultModelDir
	}
	if cfg.DictPath == "" {
		cfg.DictPath = DefaultDictPath
	}
	if cfg.ScoreThreshold == 0 {
		cfg.ScoreThreshold = DefaultScoreThreshold
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	full, err := LoadDictionary(cfg.DictPath)
	if err != nil {
		return nil, fmt.Errorf("new local model server: %w", err)
	}
	g := BuildGrammar(cfg.Catalog, full)
	for _, id := range g.SkippedItems {
		cfg.Logger.Warn("menu item left out of the speech grammar: no name or alias has all its words in the dictionary", "item_id", id)
	}
	if len(g.SkippedPhrases) > 0 {
		cfg.Logger.Debug("phrases left out of the speech grammar", "phrases", g.SkippedPhrases)
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		grammar: g,
		dict:    full.Subset(g.Words),
		voice:   Voice{Binary: cfg.VoiceBinary, Name: cfg.Voice},
		slots:   make(chan struct{}, cfg.MaxSessions),
		conns:   make(map[*conn]struct{}),
	}
	r, err := s.newRecognizer()
	if err != nil {
		return nil, fmt.Errorf("new local model server: %w", err)
	}
	r.Close()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

func (s *Server) newRecognizer() (*Recognizer, error) {
	return NewRecognizer(RecognizerConfig{ModelDir: s.cfg.ModelDir, Dictionary: s.dict, Grammar: s.grammar.JSGF})
}

// Grammar returns the grammar the server recognizes.
func (s *Server) Grammar() Grammar { return s.grammar }

// Handler returns the HTTP handler that upgrades RealtimePath to a realtime
// WebSocket. The model query parameter is accepted and echoed; authorization is
// not checked, because the engine listens on loopback for the gateway only. Each
// connection runs in its handler's goroutine until the peer hangs up or Close.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(RealtimePath, s.serveRealtime)
	return mux
}

func (s *Server) serveRealtime(w http.ResponseWriter, r *http.Request) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		http.Error(w, "too many sessions", http.StatusServiceUnavailable)
		return
	}
	if !s.track() {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"realtime"}})
	if err != nil {
		s.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	model := r.URL.Query().Get("model")
	if model == "" {
		model = DefaultModelName
	}
	c := newConn(s, ws, model)
	s.add(c)
	defer s.remove(c)
	c.run(s.ctx)
}

// track counts a connection handler unless the server is closing.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) add(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[c] = struct{}{}
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// Sessions returns the number of open connections.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Serve runs an HTTP server with Handler on ln until ctx ends, then stops
// accepting, closes every connection with status 1001 and waits for their
// goroutines. It returns nil after a shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return realtime.Serve(ctx, ln, realtime.ServerOptions{
		Name: "local model", Handler: s.Handler(), BaseContext: s.ctx, Close: s.Close,
		ShutdownTimeout: shutdownTimeout, Logger: s.log,
	})
}

// Close ends every connection with status 1001 and waits until their goroutines
// have exited. Later upgrades are rejected. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
}
