package twilio_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/monitor"
	"github.com/voiceorder/voiceorder/internal/order"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
	"github.com/voiceorder/voiceorder/internal/session"
	"github.com/voiceorder/voiceorder/internal/tools"
	"github.com/voiceorder/voiceorder/internal/twilio"
	"github.com/voiceorder/voiceorder/menus"
)

// harnessConfig sets up a gateway's phone path for one test.
type harnessConfig struct {
	predial bool
	// predialTimeout, when set, closes a pre-dial whose stream does not arrive.
	predialTimeout time.Duration
	apology        bool
	breaker        session.BreakerConfig
	reconnect      session.ReconnectPolicy
	// recycleAfter of zero turns recycling off in tests.
	recycleAfter time.Duration
	// dialDelay is added to every dial, as a slow handshake would.
	dialDelay time.Duration
	// orderDelay is added to storing every order, as a database under load would.
	orderDelay time.Duration
	quiet      bool // log warnings only
}

// harness is the phone path of a gateway on loopback: the incoming-call webhook and
// the media stream, wired as the app wires them, against a scripted model.
type harness struct {
	t       *testing.T
	model   *realtimetest.Server
	starter *session.Starter
	breaker *session.Breaker
	metrics *monitor.Metrics
	server  *httptest.Server
}

func newHarness(t *testing.T, cfg harnessConfig, handler realtimetest.Handler) *harness {
	t.Helper()
	model := realtimetest.NewServer(t, handler)
	catalog, err := menu.Parse(menus.DefaultName, menus.Default)
	if err != nil {
		t.Fatal(err)
	}
	orders, err := order.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	carts := cart.NewMemoryStore(cart.MemoryConfig{MaxEntries: 1000, TTL: time.Hour})
	log := testLogger(t, cfg.quiet)
	metrics := monitor.NewMetrics(monitor.NewRegistry())
	breaker := session.NewBreaker(cfg.breaker)

	dialCfg := realtime.DialConfig{URL: model.URL()}
	recycle := cfg.recycleAfter
	if recycle == 0 {
		recycle = -1
	}
	starter := &session.Starter{
		Catalog: catalog,
		Tools:   tools.NewExecutor(tools.Env{Catalog: catalog, Carts: carts, Orders: slowOrders{orders, cfg.orderDelay}}),
		Model: session.Model{
			PCMRates: []int{realtime.PCMRate}, Breaker: breaker, Reconnect: cfg.reconnect, RecycleAfter: recycle,
			Dial: func(ctx context.Context) (*realtime.Conn, error) {
				if err := delay(ctx, cfg.dialDelay); err != nil {
					return nil, err
				}
				return realtime.Dial(ctx, dialCfg)
			},
		},
		Registry:       session.NewRegistry(500, 10),
		Metrics:        metrics,
		Logger:         log,
		PredialTimeout: cfg.predialTimeout,
	}
	stream := &twilio.StreamHandler{Starter: starter, Metrics: metrics, Logger: log}
	if cfg.apology {
		stream.Apology = &twilio.Apology{}
		if err := stream.Apology.Prepare(context.Background()); err != nil {
			t.Logf("no spoken apology: %v", err)
		}
	}
	webhook := &twilio.Webhook{StreamPath: "/voice/stream", RestaurantID: catalog.Restaurant.ID, Logger: log}
	if cfg.predial {
		webhook.Incoming = func(callSID string) { starter.Predial(callSID) }
	}

	// httptest does not wait for hijacked connections, so the handlers are counted
	// here and waited for at cleanup.
	var handlers sync.WaitGroup
	mux := http.NewServeMux()
	mux.Handle("POST /voice/incoming", webhook)
	mux.HandleFunc("/voice/stream", func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		stream.ServeHTTP(w, r)
	})
	server := httptest.NewServer(mux)

	predialCtx, stopPredials := context.WithCancel(context.Background())
	predialsDone := make(chan error, 1)
	go func() { predialsDone <- starter.ServePredials(predialCtx) }()
	if cfg.predial {
		// The app starts ServePredials beside its server; here the first webhook
		// follows at once, so wait until pre-dials are accepted.
		tick := time.NewTicker(time.Millisecond)
		for !starter.ServingPredials() {
			<-tick.C
		}
		tick.Stop()
	}

	t.Cleanup(func() {
		server.CloseClientConnections()
		server.Close()
		handlers.Wait()
		stopPredials()
		<-predialsDone
		carts.Close()
		orders.Close()
	})
	return &harness{t: t, model: model, starter: starter, breaker: breaker, metrics: metrics, server: server}
}

// slowOrders makes every Create take delay.
type slowOrders struct {
	order.Store
	delay time.Duration
}

func (s slowOrders) Create(ctx context.Context, o order.Order) (order.Order, bool, error) {
	if err := delay(ctx, s.delay); err != nil {
		return order.Order{}, false, err
	}
	return s.Store.Create(ctx, o)
}

// delay waits d unless ctx ends first.
func delay(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dropped returns a phone drop counter.
func (h *harness) dropped(reason monitor.DropReason) float64 {
	var m dto.Metric
	if err := h.metrics.Transport("twilio").Dropped(reason).Write(&m); err != nil {
		h.t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func testLogger(t *testing.T, quiet bool) *slog.Logger {
	level := slog.LevelDebug
	if quiet {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fakeTwilio is Twilio's side of one call on real sockets: it posts the webhook,
// opens the media stream, plays the gateway's audio in real time, echoes each mark
// once the audio before it has played, and on clear drops its buffer and echoes the
// outstanding marks at once, as Twilio does.
type fakeTwilio struct {
	t         *testing.T
	ws        *websocket.Conn
	callSID   string
	streamSID string
	cmds      chan echoCmd
	stop      chan struct{}
	wg        sync.WaitGroup

	mu        sync.Mutex
	changed   chan struct{}
	bufferEnd time.Time   // when the audio received so far finishes playing
	playAt    []time.Time // when each media frame starts playing
	arrivedAt []time.Time // when each media frame arrived
	payloads  [][]byte
	clears    []time.Time
	// clearFrames holds, per clear, the number of media frames received before it.
	clearFrames []int
	// flushed holds, per clear, the number of marks echoed at once because of it.
	flushed   []int
	afterLast int      // media frames received since the last clear
	echoed    []string // marks echoed
	ended     error    // why the gateway's side ended, once it has
	endedAt   time.Time
	sentMedia int
}

type echoCmd struct {
	name  string
	due   time.Time
	flush bool
}

// call places a call: the webhook, unless skipped, then the media stream with its
// connected and start messages.
func (h *harness) call(ctx context.Context, callSID string, webhook bool) *fakeTwilio {
	h.t.Helper()
	if webhook {
		h.webhook(ctx, callSID)
	}
	p := h.connect(ctx, callSID)
	p.start(ctx)
	return p
}

// webhook posts the incoming-call webhook, as Twilio does before the media stream.
func (h *harness) webhook(ctx context.Context, callSID string) {
	h.t.Helper()
	form := url.Values{"CallSid": {callSID}, "AccountSid": {"AC00"}, "From": {"+15550100"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.server.URL+"/voice/incoming", strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := h.server.Client().Do(req)
	if err != nil {
		h.t.Fatalf("webhook: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("webhook status %d", resp.StatusCode)
	}
}

// connect opens the media stream without sending start.
func (h *harness) connect(ctx context.Context, callSID string) *fakeTwilio {
	h.t.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.server.URL, "http")+"/voice/stream", nil)
	if err != nil {
		h.t.Fatalf("dial media stream: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	p := &fakeTwilio{
		t: h.t, ws: ws, callSID: callSID, streamSID: "MZ" + callSID,
		cmds: make(chan echoCmd, 64), stop: make(chan struct{}), changed: make(chan struct{}),
	}
	p.wg.Add(2)
	go p.readLoop()
	go p.echoLoop()
	h.t.Cleanup(p.close)
	return p
}

func (p *fakeTwilio) start(ctx context.Context) {
	p.t.Helper()
	msgs := []twilio.Message{
		{Event: twilio.EventConnected, Protocol: "Call", Version: "1.0.0"},
		{Event: twilio.EventStart, StreamSID: p.streamSID, Start: &twilio.Start{
			StreamSID: p.streamSID, CallSID: p.callSID, AccountSID: "AC00", Tracks: []string{"inbound"},
			MediaFormat: twilio.MediaFormat{Encoding: "audio/x-mulaw", SampleRate: 8000, Channels: 1},
		}},
	}
	for _, m := range msgs {
		if err := p.send(ctx, m); err != nil {
			p.t.Fatalf("send %s: %v", m.Event, err)
		}
	}
}

func (p *fakeTwilio) send(ctx context.Context, m twilio.Message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return p.ws.Write(ctx, websocket.MessageText, data)
}

// close ends the call's sockets and goroutines; it is safe to call more than once.
func (p *fakeTwilio) close() {
	p.ws.CloseNow()
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}

// hangUp sends stop, as Twilio does when the caller hangs up.
func (p *fakeTwilio) hangUp(ctx context.Context) {
	p.send(ctx, twilio.Message{Event: twilio.EventStop, StreamSID: p.streamSID, Stop: &twilio.StopInfo{CallSID: p.callSID}})
}

// speak sends d of caller audio in 20 ms media messages paced in real time, each
// payload filled with b, and returns when done or ctx ends.
func (p *fakeTwilio) speak(ctx context.Context, d time.Duration, b byte) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	payload := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, twilio.FrameSize))
	for range int(d / (20 * time.Millisecond)) {
		p.mu.Lock()
		p.sentMedia++
		ts := p.sentMedia * 20
		p.mu.Unlock()
		err := p.send(ctx, twilio.Message{Event: twilio.EventMedia, StreamSID: p.streamSID, Media: &twilio.Media{
			Track: "inbound", Timestamp: strconv.Itoa(ts), Payload: payload,
		}})
		if err != nil {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		case <-p.stop:
			return
		}
	}
}

// speakAsync runs speak in a goroutine that close waits for.
func (p *fakeTwilio) speakAsync(ctx context.Context, d time.Duration, b byte) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.speak(ctx, d, b)
	}()
}

func (p *fakeTwilio) readLoop() {
	defer p.wg.Done()
	for {
		_, data, err := p.ws.Read(context.Background())
		if err != nil {
			p.mu.Lock()
			p.ended, p.endedAt = err, time.Now()
			p.broadcastLocked()
			p.mu.Unlock()
			return
		}
		m, err := twilio.Decode(data)
		if err != nil {
			p.t.Errorf("gateway sent an invalid message %q: %v", data, err)
			continue
		}
		if cmd, ok := p.handle(m); ok {
			select { // outside the lock: the echo loop takes it too
			case p.cmds <- cmd:
			case <-p.stop:
				return
			}
		}
	}
}

// handle records one message from the gateway and returns what the echo loop must do.
func (p *fakeTwilio) handle(m twilio.Message) (cmd echoCmd, ok bool) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.broadcastLocked()
	switch m.Event {
	case twilio.EventMedia:
		frame, err := base64.StdEncoding.DecodeString(m.Media.Payload)
		if err != nil || len(frame) != twilio.FrameSize {
			p.t.Errorf("media payload of %d bytes (%v), want %d", len(frame), err, twilio.FrameSize)
		}
		start := now
		if p.bufferEnd.After(now) {
			start = p.bufferEnd
		}
		p.bufferEnd = start.Add(20 * time.Millisecond)
		p.playAt = append(p.playAt, start)
		p.arrivedAt = append(p.arrivedAt, now)
		p.payloads = append(p.payloads, frame)
		p.afterLast++
	case twilio.EventMark:
		due := now
		if p.bufferEnd.After(now) {
			due = p.bufferEnd
		}
		return echoCmd{name: m.Mark.Name, due: due}, true
	case twilio.EventClear:
		p.clears = append(p.clears, now)
		p.clearFrames = append(p.clearFrames, len(p.playAt))
		p.afterLast = 0
		p.bufferEnd = now
		return echoCmd{flush: true}, true
	}
	return echoCmd{}, false
}

// echoLoop echoes marks when their audio has played, or at once after a clear.
func (p *fakeTwilio) echoLoop() {
	defer p.wg.Done()
	var queue []echoCmd
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if len(queue) > 0 {
			timer.Reset(time.Until(queue[0].due))
		}
		select {
		case <-p.stop:
			return
		case cmd := <-p.cmds:
			if !cmd.flush {
				queue = append(queue, cmd)
				continue
			}
			for _, m := range queue {
				p.echo(m.name)
			}
			p.mu.Lock()
			p.flushed = append(p.flushed, len(queue))
			p.broadcastLocked()
			p.mu.Unlock()
			queue = queue[:0]
		case <-timer.C:
			now := time.Now()
			for len(queue) > 0 && !queue[0].due.After(now) {
				p.echo(queue[0].name)
				queue = queue[1:]
			}
		}
	}
}

func (p *fakeTwilio) echo(name string) {
	p.send(context.Background(), twilio.Message{Event: twilio.EventMark, StreamSID: p.streamSID, Mark: &twilio.Mark{Name: name}})
	p.mu.Lock()
	p.echoed = append(p.echoed, name)
	p.broadcastLocked()
	p.mu.Unlock()
}

func (p *fakeTwilio) broadcastLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// waitUntil blocks until cond holds for the phone's state or ctx ends, and reports
// whether it held.
func (p *fakeTwilio) waitUntil(ctx context.Context, cond func(p *fakeTwilio) bool) bool {
	for {
		p.mu.Lock()
		ok := cond(p)
		changed := p.changed
		p.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}

// heard returns when the caller will have heard the given audio: the play time of
// the frame that starts there, once it has arrived.
func (p *fakeTwilio) heard(ctx context.Context, position time.Duration) (time.Time, bool) {
	frame := int(position / (20 * time.Millisecond))
	var at time.Time
	ok := p.waitUntil(ctx, func(p *fakeTwilio) bool {
		if len(p.playAt) > frame {
			at = p.playAt[frame]
			return true
		}
		return false
	})
	return at, ok
}

// mediaFrames returns the number of media frames received and those since the last
// clear.
func (p *fakeTwilio) mediaFrames() (total, sinceClear int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.playAt), p.afterLast
}

// modelScript runs a model connection's script with its events read by a goroutine,
// so a script can wait for an event while it sends.
type modelScript struct {
	ctx    context.Context
	c      *realtimetest.ServerConn
	events chan realtime.ClientEvent
}

func newModelScript(ctx context.Context, c *realtimetest.ServerConn, wg *sync.WaitGroup) *modelScript {
	s := &modelScript{ctx: ctx, c: c, events: make(chan realtime.ClientEvent, 4096)}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(s.events)
		for {
			ev, err := c.Read(ctx)
			if err != nil {
				return
			}
			select {
			case s.events <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return s
}

// expect returns the next event of type typ, skipping others; ok is false when the
// connection ended first.
func (s *modelScript) expect(typ string) (realtime.ClientEvent, bool) {
	for ev := range s.events {
		if ev.Type == typ {
			return ev, true
		}
	}
	return realtime.ClientEvent{}, false
}

// rest returns every event until the connection ends.
func (s *modelScript) rest() []realtime.ClientEvent {
	var all []realtime.ClientEvent
	for ev := range s.events {
		all = append(all, ev)
	}
	return all
}

func (s *modelScript) send(evs ...realtime.ServerEvent) bool {
	for _, ev := range evs {
		if err := s.c.Send(s.ctx, ev); err != nil {
			return false
		}
	}
	return true
}

// configure replies to the session.update and returns it.
func (s *modelScript) configure() (realtime.ClientEvent, bool) {
	update, ok := s.expect(realtime.ClientSessionUpdate)
	if !ok {
		return update, false
	}
	return update, s.send(realtime.ServerEvent{Type: realtime.ServerSessionUpdated, Session: update.Session})
}

// speakResponse sends a complete spoken response of ms milliseconds of μ-law audio
// filled with b, in deltas of chunkMS.
func (s *modelScript) speakResponse(responseID, itemID string, ms, chunkMS int, b byte) bool {
	var chunks [][]byte
	for sent := 0; sent < ms; sent += chunkMS {
		chunks = append(chunks, bytes.Repeat([]byte{b}, min(chunkMS, ms-sent)*8))
	}
	return realtimetest.SendAudioResponse(s.ctx, s.c, realtimetest.AudioResponse{
		ResponseID: responseID, ItemID: itemID, Chunks: chunks, Transcript: "answer " + responseID,
	}) == nil
}

func audioDelta(responseID, itemID string, ms int, b byte) realtime.ServerEvent {
	return realtime.ServerEvent{
		Type: realtime.ServerResponseOutputAudioDelta, ResponseID: responseID, ItemID: itemID,
		Delta: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, ms*8)),
	}
}

func responseCreated(id string) realtime.ServerEvent {
	return realtime.ServerEvent{Type: realtime.ServerResponseCreated, Response: &realtime.Response{ID: id, Status: realtime.ResponseInProgress}}
}

func responseDone(id, status string, output ...realtime.Item) realtime.ServerEvent {
	return realtime.ServerEvent{Type: realtime.ServerResponseDone, Response: &realtime.Response{ID: id, Status: status, Output: output}}
}

func speechStarted() realtime.ServerEvent {
	return realtime.ServerEvent{Type: realtime.ServerInputAudioBufferSpeechStarted, AudioStartMS: 1000}
}

func assistantItem(id string) realtime.Item {
	return realtime.Item{ID: id, Type: realtime.ItemMessage, Role: realtime.RoleAssistant, Status: realtime.ItemCompleted}
}

// countTypes counts events by type.
func countTypes(evs []realtime.ClientEvent) map[string]int {
	n := make(map[string]int)
	for _, ev := range evs {
		n[ev.Type]++
	}
	return n
}
