// Package config provides voiceorder's one typed configuration: defaults, environment
// variables, command-line flags and validation with messages that name the setting and
// the accepted values. It is parsed once in main and passed down; nothing else reads the
// environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the gateway's configuration. Every field documents its default and unit.
type Config struct {
	// Addr is the listen address of the public HTTP and WebSocket server.
	// VOICEORDER_ADDR, default 127.0.0.1:8080.
	Addr string
	// DataDir holds the SQLite order database. VOICEORDER_DATA_DIR, default ./data.
	DataDir string
	// MenuPath is a menu file; empty means the shipped café menu. VOICEORDER_MENU.
	MenuPath string

	// OpenAIAPIKey switches the speech model from the local engine to OpenAI Realtime.
	// OPENAI_API_KEY; it is never logged.
	OpenAIAPIKey Secret
	// RealtimeURL overrides the Realtime endpoint (ws:// or wss://).
	// VOICEORDER_REALTIME_URL, default wss://api.openai.com/v1/realtime with a key and the
	// in-process local engine without one.
	RealtimeURL string
	// RealtimeModel is the model name sent to the Realtime endpoint.
	// VOICEORDER_REALTIME_MODEL, default gpt-realtime.
	RealtimeModel string
	// Voice is the assistant's voice: an OpenAI voice name, or an espeak-ng voice for the
	// local engine. VOICEORDER_VOICE, default marin (OpenAI) or en-us (local engine).
	Voice string

	// TwilioAuthToken enables X-Twilio-Signature validation on the webhook.
	// TWILIO_AUTH_TOKEN; it is never logged.
	TwilioAuthToken Secret
	// PublicURL is the externally visible base URL (https://…) that Twilio calls; it
	// is used to build the stream URL and to validate signatures. VOICEORDER_PUBLIC_URL.
	PublicURL string

	// CartTTL is how long an idle cart is kept. VOICEORDER_CART_TTL, default 30m.
	CartTTL time.Duration
	// MaxCarts bounds the in-memory cart store. VOICEORDER_MAX_CARTS, default 10000.
	MaxCarts int

	// MaxSessions bounds concurrent conversations; beyond it the browser socket is
	// closed with 1013 and the phone webhook returns TwiML that says the line is busy.
	// VOICEORDER_MAX_SESSIONS, default 200.
	MaxSessions int
	// IdleTimeout ends a conversation when the caller has sent no audio for this long.
	// Keepalive pings and pongs do not count as activity. VOICEORDER_IDLE_TIMEOUT,
	// default 60s.
	IdleTimeout time.Duration
	// MaxCallDuration ends any conversation after this long.
	// VOICEORDER_MAX_CALL_DURATION, default 30m.
	MaxCallDuration time.Duration

	// ShutdownDelay is how long the gateway keeps serving after readiness turns off,
	// so a load balancer stops sending new calls first. VOICEORDER_SHUTDOWN_DELAY,
	// default 0s; 5s to 15s behind a load balancer.
	ShutdownDelay time.Duration
	// ShutdownGrace is how long live conversations may go on after the delay before
	// they are closed with WebSocket close 1001. VOICEORDER_SHUTDOWN_GRACE, default 30s.
	ShutdownGrace time.Duration

	// AdminAddr is the listen address of the admin server (/debug/pprof, GC); empty
	// turns it off. It should stay on loopback. VOICEORDER_ADMIN_ADDR, default
	// 127.0.0.1:8081.
	AdminAddr string
	// AlertWebhook receives a JSON POST for each leak or growth alert.
	// VOICEORDER_ALERT_WEBHOOK, default unset.
	AlertWebhook string
	// MonitorInterval is the runtime sampling period. VOICEORDER_MONITOR_INTERVAL,
	// default 5s.
	MonitorInterval time.Duration
	// AlertMargin is the growth over the baseline, as a fraction, that raises an alert.
	// VOICEORDER_ALERT_MARGIN, default 0.5 (50 %).
	AlertMargin float64

	// UpstreamCoolDown is how long the gateway stops dialing the model after repeated
	// dial failures across calls. VOICEORDER_UPSTREAM_COOLDOWN, default 30s.
	UpstreamCoolDown time.Duration

	// FakeUpstream replaces the speech model with a built-in echo model, so a soak
	// measures the gateway itself. VOICEORDER_FAKE_UPSTREAM, default false.
	FakeUpstream bool

	// LogLevel is debug, info, warn or error. VOICEORDER_LOG_LEVEL, default info.
	LogLevel slog.Level
	// LogFormat is text or json. VOICEORDER_LOG_FORMAT, default text.
	LogFormat string
}

// Secret is a string that redacts itself in logs and formatted output.
type Secret string

// String returns a redacted form so that a Secret never prints by accident.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:             "127.0.0.1:8080",
		DataDir:          "./data",
		RealtimeModel:    "gpt-realtime",
		CartTTL:          30 * time.Minute,
		MaxCarts:         10000,
		MaxSessions:      200,
		IdleTimeout:      60 * time.Second,
		MaxCallDuration:  30 * time.Minute,
		ShutdownGrace:    30 * time.Second,
		AdminAddr:        "127.0.0.1:8081",
		MonitorInterval:  5 * time.Second,
		AlertMargin:      0.5,
		UpstreamCoolDown: 30 * time.Second,
		LogLevel:         slog.LevelInfo,
		LogFormat:        "text",
	}
}

// UsesOpenAI reports whether the speech model is OpenAI Realtime rather than the local
// engine.
func (c *Config) UsesOpenAI() bool { return c.OpenAIAPIKey != "" }

// Lookup returns an environment variable; os.LookupEnv in production, a map in tests.
type Lookup func(key string) (string, bool)

// Load builds a Config from defaults, then the environment, then flags in args, and
// validates it. Flags win over the environment. The FlagSet is registered with every
// setting so that -h lists them.
func Load(fs *flag.FlagSet, args []string, env Lookup) (Config, error) {
	c := Default()
	var errs []error
	c.fromEnv(env, &errs)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func (c *Config) fromEnv(env Lookup, errs *[]error) {
	str := func(key string, dst *string) {
		if v, ok := env(key); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	secret := func(key string, dst *Secret) {
		if v, ok := env(key); ok {
			*dst = Secret(strings.TrimSpace(v))
		}
	}
	str("VOICEORDER_ADDR", &c.Addr)
	str("VOICEORDER_DATA_DIR", &c.DataDir)
	str("VOICEORDER_MENU", &c.MenuPath)
	secret("OPENAI_API_KEY", &c.OpenAIAPIKey)
	str("VOICEORDER_REALTIME_URL", &c.RealtimeURL)
	str("VOICEORDER_REALTIME_MODEL", &c.RealtimeModel)
	str("VOICEORDER_VOICE", &c.Voice)
	secret("TWILIO_AUTH_TOKEN", &c.TwilioAuthToken)
	str("VOICEORDER_PUBLIC_URL", &c.PublicURL)
	str("VOICEORDER_LOG_FORMAT", &c.LogFormat)

	str("VOICEORDER_ADMIN_ADDR", &c.AdminAddr)
	str("VOICEORDER_ALERT_WEBHOOK", &c.AlertWebhook)

	duration := func(key string, dst *time.Duration) {
		if v, ok := env(key); ok {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s: invalid duration %q; use a Go duration such as 30s, 5m or 2h", key, v))
				return
			}
			*dst = d
		}
	}
	integer := func(key string, dst *int) {
		if v, ok := env(key); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s: invalid number %q; use a whole number", key, v))
				return
			}
			*dst = n
		}
	}
	duration("VOICEORDER_CART_TTL", &c.CartTTL)
	integer("VOICEORDER_MAX_CARTS", &c.MaxCarts)
	integer("VOICEORDER_MAX_SESSIONS", &c.MaxSessions)
	duration("VOICEORDER_IDLE_TIMEOUT", &c.IdleTimeout)
	duration("VOICEORDER_MAX_CALL_DURATION", &c.MaxCallDuration)
	duration("VOICEORDER_SHUTDOWN_DELAY", &c.ShutdownDelay)
	duration("VOICEORDER_SHUTDOWN_GRACE", &c.ShutdownGrace)
	duration("VOICEORDER_MONITOR_INTERVAL", &c.MonitorInterval)
	duration("VOICEORDER_UPSTREAM_COOLDOWN", &c.UpstreamCoolDown)
	if v, ok := env("VOICEORDER_ALERT_MARGIN"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("VOICEORDER_ALERT_MARGIN: invalid number %q; use a fraction such as 0.5 for 50 %%", v))
		} else {
			c.AlertMargin = f
		}
	}
	if v, ok := env("VOICEORDER_FAKE_UPSTREAM"); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			*errs = append(*errs, fmt.Errorf("VOICEORDER_FAKE_UPSTREAM: invalid value %q; use true or false", v))
		} else {
			c.FakeUpstream = b
		}
	}
	if v, ok := env("VOICEORDER_LOG_LEVEL"); ok {
		if err := c.LogLevel.UnmarshalText([]byte(strings.TrimSpace(v))); err != nil {
			*errs = append(*errs, fmt.Errorf("VOICEORDER_LOG_LEVEL: invalid level %q; use debug, info, warn or error", v))
		}
	}
}

func (c *Config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen `address` of the HTTP and WebSocket server (VOICEORDER_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "`directory` for the order database (VOICEORDER_DATA_DIR)")
	fs.StringVar(&c.MenuPath, "menu", c.MenuPath, "menu `file`; empty uses the shipped café menu (VOICEORDER_MENU)")
	fs.StringVar(&c.RealtimeURL, "realtime-url", c.RealtimeURL, "Realtime endpoint `URL` (VOICEORDER_REALTIME_URL)")
	fs.StringVar(&c.RealtimeModel, "realtime-model", c.RealtimeModel, "Realtime `model` name (VOICEORDER_REALTIME_MODEL)")
	fs.StringVar(&c.Voice, "voice", c.Voice, "assistant `voice` (VOICEORDER_VOICE)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "public base `URL` that Twilio reaches (VOICEORDER_PUBLIC_URL)")
	fs.DurationVar(&c.CartTTL, "cart-ttl", c.CartTTL, "idle `duration` after which a cart is dropped (VOICEORDER_CART_TTL)")
	fs.IntVar(&c.MaxCarts, "max-carts", c.MaxCarts, "maximum `number` of carts kept in memory (VOICEORDER_MAX_CARTS)")
	fs.IntVar(&c.MaxSessions, "max-sessions", c.MaxSessions, "maximum `number` of concurrent conversations (VOICEORDER_MAX_SESSIONS)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "end a conversation after this `duration` without caller audio (VOICEORDER_IDLE_TIMEOUT)")
	fs.DurationVar(&c.MaxCallDuration, "max-call-duration", c.MaxCallDuration, "maximum `duration` of a conversation (VOICEORDER_MAX_CALL_DURATION)")
	fs.DurationVar(&c.ShutdownDelay, "shutdown-delay", c.ShutdownDelay, "`duration` to keep serving after readiness turns off (VOICEORDER_SHUTDOWN_DELAY)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", c.ShutdownGrace, "`duration` live conversations may continue during shutdown (VOICEORDER_SHUTDOWN_GRACE)")
	fs.StringVar(&c.AdminAddr, "admin-addr", c.AdminAddr, "listen `address` of the admin server; empty turns it off (VOICEORDER_ADMIN_ADDR)")
	fs.StringVar(&c.AlertWebhook, "alert-webhook", c.AlertWebhook, "`URL` that receives leak alerts as JSON (VOICEORDER_ALERT_WEBHOOK)")
	fs.DurationVar(&c.MonitorInterval, "monitor-interval", c.MonitorInterval, "runtime sampling `period` (VOICEORDER_MONITOR_INTERVAL)")
	fs.Float64Var(&c.AlertMargin, "alert-margin", c.AlertMargin, "growth over the baseline, as a `fraction`, that raises an alert (VOICEORDER_ALERT_MARGIN)")
	fs.DurationVar(&c.UpstreamCoolDown, "upstream-cooldown", c.UpstreamCoolDown, "`duration` without model dials after repeated dial failures (VOICEORDER_UPSTREAM_COOLDOWN)")
	fs.BoolVar(&c.FakeUpstream, "fake-upstream", c.FakeUpstream, "use a built-in echo model instead of the speech model, to measure the gateway (VOICEORDER_FAKE_UPSTREAM)")
	fs.TextVar(&c.LogLevel, "log-level", c.LogLevel, "log `level`: debug, info, warn or error (VOICEORDER_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log `format`: text or json (VOICEORDER_LOG_FORMAT)")
}

// Validate checks every setting and reports all problems at once, each naming the
// setting and the accepted values.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		bad("VOICEORDER_ADDR: invalid address %q; use host:port such as 127.0.0.1:8080 or :8080", c.Addr)
	}
	if c.DataDir == "" {
		bad("VOICEORDER_DATA_DIR: must not be empty; use a directory path such as ./data")
	}
	if c.RealtimeURL != "" {
		u, err := url.Parse(c.RealtimeURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			bad("VOICEORDER_REALTIME_URL: invalid URL %q; use ws:// or wss:// with a host", c.RealtimeURL)
		}
	}
	if c.RealtimeModel == "" {
		bad("VOICEORDER_REALTIME_MODEL: must not be empty; use a model name such as gpt-realtime")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("VOICEORDER_PUBLIC_URL: invalid URL %q; use the https:// base URL Twilio reaches, such as https://voice.example.com", c.PublicURL)
		}
	}
	if c.CartTTL < time.Minute || c.CartTTL > 24*time.Hour {
		bad("VOICEORDER_CART_TTL: %s is out of range; use a duration between 1m and 24h", c.CartTTL)
	}
	if c.MaxCarts < 1 || c.MaxCarts > 10_000_000 {
		bad("VOICEORDER_MAX_CARTS: %d is out of range; use a number between 1 and 10000000", c.MaxCarts)
	}
	if c.MaxSessions < 1 || c.MaxSessions > 100_000 {
		bad("VOICEORDER_MAX_SESSIONS: %d is out of range; use a number between 1 and 100000", c.MaxSessions)
	}
	if c.IdleTimeout < time.Second || c.IdleTimeout > time.Hour {
		bad("VOICEORDER_IDLE_TIMEOUT: %s is out of range; use a duration between 1s and 1h", c.IdleTimeout)
	}
	if c.MaxCallDuration < 10*time.Second || c.MaxCallDuration > 24*time.Hour {
		bad("VOICEORDER_MAX_CALL_DURATION: %s is out of range; use a duration between 10s and 24h", c.MaxCallDuration)
	}
	if c.ShutdownDelay < 0 || c.ShutdownDelay > 5*time.Minute {
		bad("VOICEORDER_SHUTDOWN_DELAY: %s is out of range; use a duration between 0s and 5m", c.ShutdownDelay)
	}
	if c.ShutdownGrace < 0 || c.ShutdownGrace > time.Hour {
		bad("VOICEORDER_SHUTDOWN_GRACE: %s is out of range; use a duration between 0s and 1h", c.ShutdownGrace)
	}
	if c.AdminAddr != "" {
		if _, port, err := net.SplitHostPort(c.AdminAddr); err != nil || port == "" {
			bad("VOICEORDER_ADMIN_ADDR: invalid address %q; use host:port such as 127.0.0.1:8081, or empty to turn it off", c.AdminAddr)
		}
	}
	if c.AlertWebhook != "" {
		u, err := url.Parse(c.AlertWebhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("VOICEORDER_ALERT_WEBHOOK: invalid URL %q; use an http:// or https:// URL", c.AlertWebhook)
		}
	}
	if c.MonitorInterval < 100*time.Millisecond || c.MonitorInterval > 10*time.Minute {
		bad("VOICEORDER_MONITOR_INTERVAL: %s is out of range; use a duration between 100ms and 10m", c.MonitorInterval)
	}
	if c.UpstreamCoolDown < time.Millisecond || c.UpstreamCoolDown > time.Hour {
		bad("VOICEORDER_UPSTREAM_COOLDOWN: %s is out of range; use a duration between 1ms and 1h", c.UpstreamCoolDown)
	}
	if c.AlertMargin <= 0 || c.AlertMargin > 100 {
		bad("VOICEORDER_ALERT_MARGIN: %v is out of range; use a fraction above 0 such as 0.5 for 50 %%", c.AlertMargin)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("VOICEORDER_LOG_FORMAT: invalid format %q; use text or json", c.LogFormat)
	}
	return errors.Join(errs...)
}

// EnvLookup is the production Lookup.
func EnvLookup(key string) (string, bool) { return os.LookupEnv(key) }
