package monitor

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric name of the gateway.
const namespace = "voiceorder"

// otherLabel is the label value that counts everything outside an allow-list
// or beyond a cap of distinct values.
const otherLabel = "other"

// Caps on distinct label values taken from callers. Transport names are
// constants of the app; tool names come from the model, which may invent them.
const (
	maxTransports = 8
	maxTools      = 16
	// maxLabelLength bounds one label value taken from a caller, in bytes.
	maxLabelLength = 64
)

// Reasons an upstream model connection failed: the label values of
// upstream_failures_total. Any other reason is counted as "other".
const (
	// UpstreamDial is a dial that did not complete: network, TLS or timeout.
	UpstreamDial = "dial"
	// UpstreamRejected is a handshake rejected with an HTTP error status.
	UpstreamRejected = "rejected"
	// UpstreamClosed is a connection that ended with an abnormal close status
	// or a read or write error during a conversation.
	UpstreamClosed = "closed"
	// UpstreamKeepalive is a ping that received no pong in time.
	UpstreamKeepalive = "keepalive"
	// UpstreamServerError is an error event that ended the conversation.
	UpstreamServerError = "server_error"
)

var upstreamFailureReasons = []string{UpstreamDial, UpstreamRejected, UpstreamClosed, UpstreamKeepalive, UpstreamServerError}

// Results of a tool call: the result label of tool_calls_total.
const (
	ToolOK    = "ok"
	ToolError = "error"
)

// toolDurationBuckets span 1 ms to 10 s, in seconds. Catalog lookups take
// well under a millisecond; an order store write over the network can take
// seconds.
var toolDurationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics holds the gateway's Prometheus collectors, registered on one
// registry. Create it with NewMetrics. It is safe for concurrent use.
//
// A nil *Metrics is valid and records nothing, so a component can run
// without metrics in tests.
type Metrics struct {
	reg prometheus.Registerer

	sessionsActive *prometheus.GaugeVec
	sessionsEnded  *prometheus.CounterVec
	sessionPanics  prometheus.Counter
	framesReceived *prometheus.CounterVec
	framesSent     *prometheus.CounterVec
	framesDropped  *prometheus.CounterVec

	dialOK             prometheus.Counter
	dialError          prometheus.Counter
	upstreamFailures   map[string]prometheus.Counter
	upstreamReconnects prometheus.Counter
	modelErrors        map[string]prometheus.Counter

	toolCalls    *prometheus.CounterVec
	toolDuration *prometheus.HistogramVec

	ordersStored   prometheus.Counter
	leakAlerts     map[AlertKind]prometheus.Counter
	webhookResults map[string]prometheus.Counter
	httpRequests   *prometheus.CounterVec

	mu         sync.Mutex
	transports map[string]*TransportMetrics
	tools      map[string]*toolMetrics
	cartStore  bool
}

// NewRegistry returns a registry with the Go runtime and process collectors
// (go_* and process_* metrics) registered. The app registers its Metrics on
// it and serves it with Handler.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// NewMetrics creates the gateway's collectors and registers them on reg,
// never on the global default registry. It panics if reg already holds
// collectors of the same names, which is a wiring mistake.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg:        reg,
		transports: make(map[string]*TransportMetrics),
		tools:      make(map[string]*toolMetrics),
	}
	m.newSessionCollectors()
	m.newUpstreamCollectors()
	m.newToolCollectors()
	m.newStoreAndAlertCollectors()
	return m
}

func (m *Metrics) newSessionCollectors() {
	m.sessionsActive = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "sessions_active",
		Help: "Conversations running now, by caller transport.",
	}, []string{"transport"})
	m.sessionsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "sessions_ended_total",
		Help: "Conversations ended or rejected, by caller transport and reason.",
	}, []string{"transport", "reason"})
	m.sessionPanics = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "session_panics_total",
		Help: "Panics recovered at the conversation boundary.",
	})
	m.framesReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "audio_frames_received_total",
		Help: "Audio frames received from callers, by caller transport.",
	}, []string{"transport"})
	m.framesSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "audio_frames_sent_total",
		Help: "Audio frames sent to callers, by caller transport.",
	}, []string{"transport"})
	m.framesDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "audio_frames_dropped_total",
		Help: "Audio frames dropped, by caller transport and reason.",
	}, []string{"transport", "reason"})
	m.reg.MustRegister(m.sessionsActive, m.sessionsEnded, m.sessionPanics, m.framesReceived, m.framesSent, m.framesDropped)
}

func (m *Metrics) newUpstreamCollectors() {
	dials := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "upstream_dials_total",
		Help: "Dials to the speech model, by result (ok, error).",
	}, []string{"result"})
	m.dialOK = dials.WithLabelValues("ok")
	m.dialError = dials.WithLabelValues("error")

	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "upstream_failures_total",
		Help: "Failed speech model connections, by reason.",
	}, []string{"reason"})
	m.upstreamFailures = bindAll(failures, slices.Concat(upstreamFailureReasons, []string{otherLabel}))

	m.upstreamReconnects = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "upstream_reconnects_total",
		Help: "Speech model connections dialed again during a conversation.",
	})

	modelErrors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "model_errors_total",
		Help: "Error events from the speech model, by error code; codes outside a fixed list count as other.",
	}, []string{"code"})
	m.modelErrors = bindAll(modelErrors, slices.Concat(modelErrorCodes, []string{otherLabel}))

	m.reg.MustRegister(dials, failures, m.upstreamReconnects, modelErrors)
}

func (m *Metrics) newToolCollectors() {
	m.toolCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "tool_calls_total",
		Help: "Tool calls made by the model, by tool and result (ok, error).",
	}, []string{"tool", "result"})
	m.toolDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "tool_call_duration_seconds",
		Help:    "Time to run one tool call, by tool.",
		Buckets: toolDurationBuckets,
	}, []string{"tool"})
	m.reg.MustRegister(m.toolCalls, m.toolDuration)
}

func (m *Metrics) newStoreAndAlertCollectors() {
	m.ordersStored = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "orders_stored_total",
		Help: "Orders written to the order store.",
	})

	leakAlerts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "leak_alerts_total",
		Help: "Leak and growth alerts raised by the runtime sampler, by kind.",
	}, []string{"kind"})
	m.leakAlerts = make(map[AlertKind]prometheus.Counter, len(alertKinds))
	for _, kind := range alertKinds {
		m.leakAlerts[kind] = leakAlerts.WithLabelValues(string(kind))
	}

	webhooks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "alert_webhooks_total",
		Help: "Alert webhook deliveries, by result (sent, failed, dropped from a full queue).",
	}, []string{"result"})
	m.webhookResults = bindAll(webhooks, []string{webhookSent, webhookFailed, webhookDropped})

	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_requests_total",
		Help: "HTTP requests served, by route and status code.",
	}, []string{"route", "code"})

	m.reg.MustRegister(m.ordersStored, leakAlerts, webhooks, m.httpRequests)
}

// bindAll returns the children of vec for each value of its only label, so
// every series is exported from the start, at zero.
func bindAll(vec *prometheus.CounterVec, values []string) map[string]prometheus.Counter {
	bound := make(map[string]prometheus.Counter, len(values))
	for _, v := range values {
		bound[v] = vec.WithLabelValues(v)
	}
	return bound
}

// Handler returns the handler that serves the metrics of g in the Prometheus
// text format. Mount it at /metrics on the admin listener.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		// Serve what can be gathered and report the rest, so one broken
		// collector does not hide all metrics.
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes are cheap, but a stuck scraper must not pile up requests.
		MaxRequestsInFlight: 4,
	})
}

// RegisterCartStore exports the cart store's size and evictions, read at
// scrape time: cart_store_entries from entries, and
// cart_store_evictions_total{reason} from evictions for the reasons
// "capacity" and "expired". Both functions must be safe for concurrent use
// and fast, since every scrape calls them. It returns an error if a cart
// store was already registered.
func (m *Metrics) RegisterCartStore(entries func() float64, evictions func(reason string) float64) error {
	if m == nil {
		return nil
	}
	if entries == nil || evictions == nil {
		return errors.New("register cart store metrics: entries and evictions functions are required")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cartStore {
		return errors.New("register cart store metrics: already registered")
	}
	collectors := []prometheus.Collector{prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "cart_store_entries",
		Help: "Carts held by the cart store.",
	}, entries)}
	for _, reason := range []string{"capacity", "expired"} {
		collectors = append(collectors, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Name: "cart_store_evictions_total",
			Help:        "Carts dropped by the cart store, by reason (capacity, expired).",
			ConstLabels: prometheus.Labels{"reason": reason},
		}, func() float64 { return evictions(reason) }))
	}
	for _, c := range collectors {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("register cart store metrics: %w", err)
		}
	}
	m.cartStore = true
	return nil
}

// OrderStored counts one order written to the order store.
func (m *Metrics) OrderStored() {
	if m == nil {
		return
	}
	m.ordersStored.Inc()
}

// UpstreamDial counts one dial to the speech model: ok when err is nil,
// error otherwise. It does not count a failure reason; call UpstreamFailure
// for that.
func (m *Metrics) UpstreamDial(err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.dialError.Inc()
		return
	}
	m.dialOK.Inc()
}

// UpstreamFailure counts one failed speech model connection. reason is one of
// UpstreamDial, UpstreamRejected, UpstreamClosed, UpstreamKeepalive or
// UpstreamServerError; any other value is counted as "other".
func (m *Metrics) UpstreamFailure(reason string) {
	if m == nil {
		return
	}
	c, ok := m.upstreamFailures[reason]
	if !ok {
		c = m.upstreamFailures[otherLabel]
	}
	c.Inc()
}

// UpstreamReconnect counts one speech model connection dialed again during a
// conversation.
func (m *Metrics) UpstreamReconnect() {
	if m == nil {
		return
	}
	m.upstreamReconnects.Inc()
}

// ModelError counts one error event from the speech model by its code, or by
// its type when the event has no code. Codes outside a fixed list of known
// codes are counted as "other", because the code is chosen by the remote
// server and each distinct value would stay in the registry for good.
func (m *Metrics) ModelError(code string) {
	if m == nil {
		return
	}
	c, ok := m.modelErrors[code]
	if !ok {
		c = m.modelErrors[otherLabel]
	}
	c.Inc()
}

// ToolCall counts one tool call and observes its duration. result is ToolOK
// or ToolError; any other value counts as ToolError. The first 16 distinct tool names get their own series and
// later names count as "other", because the name comes from the model.
func (m *Metrics) ToolCall(tool, result string, elapsed time.Duration) {
	if m == nil {
		return
	}
	t := m.tool(tool)
	if result == ToolOK {
		t.ok.Inc()
	} else {
		t.failed.Inc()
	}
	t.duration.Observe(elapsed.Seconds())
}

// toolMetrics are the pre-bound collectors of one tool name.
type toolMetrics struct {
	ok, failed prometheus.Counter
	duration   prometheus.Observer
}

func (m *Metrics) tool(name string) *toolMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tools[name]; ok {
		return t
	}
	label := name
	if len(m.tools) >= maxTools || !validLabel(name) {
		label = otherLabel
		if t, ok := m.tools[label]; ok {
			return t
		}
	}
	t := &toolMetrics{
		ok:       m.toolCalls.WithLabelValues(label, ToolOK),
		failed:   m.toolCalls.WithLabelValues(label, ToolError),
		duration: m.toolDuration.WithLabelValues(label),
	}
	m.tools[label] = t
	return t
}

// InstrumentHandler wraps h so that http_requests_total{route, code} counts
// its responses. route is the pattern the handler is mounted at, not the
// request path, so the number of series stays bounded. A WebSocket upgrade
// counts with the status written before the connection was hijacked.
func (m *Metrics) InstrumentHandler(route string, h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	counter := m.httpRequests.MustCurryWith(prometheus.Labels{"route": route})
	return promhttp.InstrumentHandlerCounter(counter, h)
}

// leakAlert counts one alert of kind.
func (m *Metrics) leakAlert(kind AlertKind) {
	if m == nil {
		return
	}
	if c, ok := m.leakAlerts[kind]; ok {
		c.Inc()
	}
}

// webhookResult counts one webhook delivery result.
func (m *Metrics) webhookResult(result string) {
	if m == nil {
		return
	}
	m.webhookResults[result].Inc()
}

// validLabel reports whether a caller-supplied label value is short and
// valid UTF-8; the client library panics on invalid UTF-8.
func validLabel(v string) bool {
	return v != "" && len(v) <= maxLabelLength && utf8.ValidString(v)
}
