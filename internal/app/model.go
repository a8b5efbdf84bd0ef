package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/voiceorder/voiceorder/internal/echomodel"
	"github.com/voiceorder/voiceorder/internal/localmodel"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/session"
)

// modelKeepalive is the ping interval on model connections; it keeps idle phone calls
// from being cut by proxies and finds dead connections.
const modelKeepalive = 20 * time.Second

// buildModel chooses the speech model: OpenAI with a key, a configured URL, the echo
// model for soak runs, or the in-process local engine. In-process models listen on
// loopback and are dialed through the same client as OpenAI.
func (a *App) buildModel() (session.Model, error) {
	cfg := a.cfg
	// One client, one connection pool, for every call to the provider.
	client := &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}}
	a.provider = client
	url := cfg.RealtimeURL
	model := session.Model{
		Keepalive: modelKeepalive, PCMRates: []int{realtime.PCMRate}, Voice: cfg.Voice,
		// One breaker for the whole process: a provider that rejects every dial is
		// left alone for the cool-down instead of being hit by every new call.
		Breaker: session.NewBreaker(session.BreakerConfig{CoolDown: cfg.UpstreamCoolDown}),
	}

	switch {
	case cfg.FakeUpstream:
		a.engine = echomodel.New(echomodel.Config{Logger: a.log.With("component", "echomodel"), MaxConnections: cfg.MaxSessions})
		model.PCMRates = []int{8000, 16000, 24000}
		model.RecycleAfter = -1 // in-process models have no session time limit
	case cfg.UsesOpenAI():
		if url == "" {
			url = realtime.DefaultURL
		}
		model.Voice = orDefault(cfg.Voice, "marin")
		model.TranscriptionModel = "gpt-4o-mini-transcribe"
	case url != "":
		// Another Realtime endpoint, such as a local engine run elsewhere.
	default:
		engine, err := localmodel.NewServer(localmodel.Config{
			Catalog: a.catalog, Logger: a.log.With("component", "localmodel"), Voice: cfg.Voice,
			MaxSessions: cfg.MaxSessions,
		})
		if err != nil {
			return model, fmt.Errorf("start local engine: %w", err)
		}
		a.engine = engine
		model.PCMRates = []int{16000, 24000}
		model.RecycleAfter = -1
	}

	if a.engine != nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return model, fmt.Errorf("listen for the in-process model: %w", err)
		}
		a.engineLn = ln
		url = "ws://" + ln.Addr().String() + "/v1/realtime"
	}

	dialCfg := realtime.DialConfig{URL: url, Model: cfg.RealtimeModel, APIKey: cfg.OpenAIAPIKey.Reveal(), HTTPClient: client}
	model.Dial = func(ctx context.Context) (*realtime.Conn, error) { return realtime.Dial(ctx, dialCfg) }
	a.model = model
	return model, nil
}

func (a *App) modelName() string {
	switch {
	case a.cfg.FakeUpstream:
		return "echo model (-fake-upstream)"
	case a.engine != nil:
		return "local engine"
	case a.cfg.UsesOpenAI():
		return "openai " + a.cfg.RealtimeModel
	default:
		return a.cfg.RealtimeURL
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
