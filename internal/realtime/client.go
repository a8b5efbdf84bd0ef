package realtime

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"
)

const (
	// DefaultURL is the endpoint of the hosted Realtime API.
	DefaultURL = "wss://api.openai.com/v1/realtime"
	// DefaultDialTimeout bounds a dial when DialConfig.DialTimeout is zero.
	DefaultDialTimeout = 10 * time.Second
	// ReadLimit is the largest server event Read accepts, in bytes. A
	// larger event ends the connection with close code 1009.
	ReadLimit = 16 << 20
)

// maxRejectionBody bounds how much of a rejected handshake's body is read
// for its error object. The WebSocket library keeps at most 1024 bytes.
const maxRejectionBody = 1024

// DialConfig configures Dial.
type DialConfig struct {
	// URL is the endpoint, with scheme ws, wss, http or https. Default
	// DefaultURL.
	URL string
	// Model is added to the URL as the query parameter model, when set.
	Model string
	// APIKey is sent as "Authorization: Bearer" when set. The offline
	// engine needs none.
	APIKey string
	// HTTPClient performs the handshake. Pass the one client that all
	// calls to the provider share; nil uses http.DefaultClient.
	HTTPClient *http.Client
	// Header holds extra handshake headers. Dial does not modify it.
	Header http.Header
	// DialTimeout bounds the dial even when ctx has no deadline. Default
	// DefaultDialTimeout.
	DialTimeout time.Duration
}

// LogValue describes the configuration without the API key.
func (c DialConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", c.URL),
		slog.String("model", c.Model),
		slog.Bool("api_key_set", c.APIKey != ""),
		slog.Duration("dial_timeout", c.DialTimeout),
	)
}

// Dial opens a connection to the Realtime endpoint of cfg. The dial ends at
// the earlier of ctx's deadline and cfg.DialTimeout; ctx does not bound the
// connection after Dial returns. A failed dial returns a *DialError. Dial
// starts no goroutine.
func Dial(ctx context.Context, cfg DialConfig) (*Conn, error) {
	endpoint, err := cfg.endpoint()
	if err != nil {
		return nil, &DialError{Err: err}
	}
	timeout := cfg.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	ws, resp, err := websocket.Dial(ctx, endpoint, &websocket.DialOptions{
		HTTPClient: cfg.HTTPClient,
		HTTPHeader: cfg.header(),
	})
	if err != nil {
		return nil, newDialError(resp, err)
	}
	ws.SetReadLimit(ReadLimit)
	return &Conn{ws: ws}, nil
}

func (c DialConfig) endpoint() (string, error) {
	raw := c.URL
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("invalid URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return "", fmt.Errorf("invalid URL %q: scheme must be ws, wss, http or https", u.Redacted())
	}
	if c.Model != "" {
		q := u.Query()
		q.Set("model", c.Model)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func (c DialConfig) header() http.Header {
	h := c.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if c.APIKey != "" {
		h.Set("Authorization", "Bearer "+c.APIKey)
	}
	return h
}

// newDialError wraps err from the WebSocket dial with the HTTP status and
// error object of the rejected handshake in resp, if any.
func newDialError(resp *http.Response, err error) *DialError {
	dialErr := &DialError{Err: err}
	if resp == nil || resp.StatusCode == http.StatusSwitchingProtocols {
		return dialErr
	}
	dialErr.StatusCode = resp.StatusCode
	if resp.Body != nil {
		// The library has already read and closed the real body; this is
		// its in-memory copy, and a read error only shortens it.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRejectionBody))
		dialErr.Detail = parseErrorBody(body)
	}
	return dialErr
}
