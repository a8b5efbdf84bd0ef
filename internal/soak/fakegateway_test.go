package soak

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// fakeGateway speaks the browser voice protocol and the Twilio webhook and
// Media Streams protocol minimally, on a loopback server, and serves
// /metrics from its own counters. Each call gets a greeting; each caller
// turn (audio that is not silence, then silence) gets a reply. It classifies
// how each call ended, so tests can check the mix.
type fakeGateway struct {
	t      *testing.T
	server *httptest.Server
	admin  *httptest.Server

	// silentReplies makes the gateway never reply to a turn.
	silentReplies bool
	// after, when set, changes the figures /metrics reports once every
	// call has ended: it receives the figures and returns them changed.
	after func(m fakeFigures) fakeFigures

	handlers sync.WaitGroup

	mu         sync.Mutex
	live       int // voice connections open now
	endings    map[Ending]int
	transports map[Transport]int
	gcs        int
	scrapes    int
	calls      int // voice connections that ended
}

// fakeFigures are the figures /metrics reports.
type fakeFigures struct {
	goroutines, heap, fds, active float64
}

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{t: t, endings: map[Ending]int{}, transports: map[Transport]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /voice-stream", g.serveBrowser)
	mux.HandleFunc("POST /voice/incoming", g.serveWebhook)
	mux.HandleFunc("GET /voice/stream", g.serveTwilio)
	mux.HandleFunc("GET /metrics", g.serveMetrics)
	g.server = httptest.NewServer(mux)

	adminMux := http.NewServeMux()
	adminMux.HandleFunc("POST /debug/gc", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.gcs++
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"heap_inuse_bytes":10485760}`)
	})
	g.admin = httptest.NewServer(adminMux)

	t.Cleanup(func() {
		g.server.Close()
		g.admin.Close()
		g.handlers.Wait() // the soak closed every socket, so the handlers return
	})
	return g
}

func (g *fakeGateway) connected() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.live++
}

func (g *fakeGateway) ended(t Transport, e Ending) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.live--
	g.calls++
	g.endings[e]++
	g.transports[t]++
}

func (g *fakeGateway) serveMetrics(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.scrapes++
	figures := fakeFigures{goroutines: 40, heap: 10 << 20, fds: 12, active: float64(g.live)}
	if g.after != nil && g.calls > 0 && g.live == 0 {
		figures = g.after(figures)
	}
	ended := g.endings[EndNormal] + g.endings[EndSpeaking]
	dropped := g.endings[EndAbrupt] + g.endings[EndDial]
	g.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprintf(w, `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines %g
# TYPE go_memstats_heap_inuse_bytes gauge
go_memstats_heap_inuse_bytes %g
# TYPE process_open_fds gauge
process_open_fds %g
# TYPE voiceorder_sessions_active gauge
voiceorder_sessions_active{transport="browser"} %g
voiceorder_sessions_active{transport="twilio"} 0
# TYPE voiceorder_sessions_ended_total counter
voiceorder_sessions_ended_total{reason="hangup",transport="browser"} %d
voiceorder_sessions_ended_total{reason="hangup",transport="twilio"} %d
`, figures.goroutines, figures.heap, figures.fds, figures.active, ended, dropped)
}

// callLog is what the fake saw of one call, for classifying its ending.
type callLog struct {
	spoke   bool // caller audio that was not silence arrived
	replied bool // a reply to a turn was sent
}

// ending classifies a call. A hang-up after a reply is normal, and one
// before it is speaking. A dropped socket after caller speech is abrupt, and
// one before it is a drop during the dial.
func (l callLog) ending(hungUp bool) Ending {
	switch {
	case hungUp && l.replied:
		return EndNormal
	case hungUp:
		return EndSpeaking
	case l.spoke:
		return EndAbrupt
	default:
		return EndDial
	}
}

// turn tracks the caller's turns: speech followed by silence.
type turn struct {
	inSpeech bool
}

// frame reports whether frame ends a turn.
func (t *turn) frame(f audio.Format, frame []byte, log *callLog) bool {
	silent := true
	for _, b := range frame {
		if (f.Encoding == audio.Mulaw && b != audio.MulawSilence) || (f.Encoding == audio.PCM16 && b != 0) {
			silent = false
			break
		}
	}
	if !silent {
		t.inSpeech, log.spoke = true, true
		return false
	}
	if t.inSpeech {
		t.inSpeech = false
		return true
	}
	return false
}

// accept upgrades the request; the caller must call g.handlers.Done when it
// returns true.
func (g *fakeGateway) accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, bool) {
	g.handlers.Add(1)
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		g.handlers.Done()
		g.t.Errorf("fake gateway: accept: %v", err)
		return nil, false
	}
	g.connected()
	return ws, true
}

func (g *fakeGateway) serveBrowser(w http.ResponseWriter, r *http.Request) {
	ws, ok := g.accept(w, r)
	if !ok {
		return
	}
	defer g.handlers.Done()
	defer ws.CloseNow()
	ctx := r.Context()
	var log callLog
	hungUp := false
	defer func() { g.ended(TransportBrowser, log.ending(hungUp)) }()

	var start struct {
		Type   string `json:"type"`
		Format struct {
			Rate int `json:"rate"`
		} `json:"format"`
	}
	if !readJSON(ctx, ws, &start) || start.Type != "session.start" {
		return
	}
	if start.Format.Rate != browserFormat.Rate {
		g.t.Errorf("session.start rate = %d, want %d", start.Format.Rate, browserFormat.Rate)
	}
	send := func(v string) bool { return ws.Write(ctx, websocket.MessageText, []byte(v)) == nil }
	reply := func() bool {
		chunk := base64.StdEncoding.EncodeToString(make([]byte, 640))
		for range 3 {
			if !send(`{"type":"audio","audio":"` + chunk + `"}`) {
				return false
			}
		}
		return send(`{"type":"audio.done"}`)
	}
	if !send(`{"type":"session.started","session_id":"s1","format":{"format":"pcm16","rate":16000}}`) || !reply() {
		return
	}

	var tr turn
	for {
		var msg struct {
			Type  string `json:"type"`
			Audio string `json:"audio"`
		}
		if !readJSON(ctx, ws, &msg) {
			return
		}
		switch msg.Type {
		case "session.stop":
			hungUp = true
			ws.Close(websocket.StatusNormalClosure, "")
			return
		case "audio":
			frame, err := base64.StdEncoding.DecodeString(msg.Audio)
			if err != nil {
				g.t.Errorf("audio is not base64: %v", err)
				return
			}
			if tr.frame(browserFormat, frame, &log) && !g.silentReplies {
				log.replied = true
				if !reply() {
					return
				}
			}
		}
	}
}

func (g *fakeGateway) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.PostForm.Get("CallSid"), "CA") {
		http.Error(w, "invalid webhook form", http.StatusBadRequest)
		return
	}
	// The stream URL names a public host, as behind a proxy; the soak must
	// connect to the configured server instead.
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Connect><Stream url="wss://gateway.example.invalid/voice/stream"><Parameter name="restaurant" value="corner-cafe"/></Stream></Connect></Response>`)
}

func (g *fakeGateway) serveTwilio(w http.ResponseWriter, r *http.Request) {
	ws, ok := g.accept(w, r)
	if !ok {
		return
	}
	defer g.handlers.Done()
	defer ws.CloseNow()
	ctx := r.Context()
	var log callLog
	hungUp := false
	defer func() { g.ended(TransportTwilio, log.ending(hungUp)) }()

	var start twilioMessage
	for start.Event != "start" {
		if !readJSON(ctx, ws, &start) {
			return
		}
	}
	if got := start.Start.CustomParameters["restaurant"]; got != "corner-cafe" {
		g.t.Errorf("start customParameters restaurant = %q, want corner-cafe", got)
	}
	sid := start.StreamSID
	send := func(v string) bool { return ws.Write(ctx, websocket.MessageText, []byte(v)) == nil }
	marks := 0
	reply := func() bool {
		payload := base64.StdEncoding.EncodeToString(silence(twilioFormat))
		for range 3 {
			if !send(`{"event":"media","streamSid":"` + sid + `","media":{"payload":"` + payload + `"}}`) {
				return false
			}
		}
		marks++
		return send(fmt.Sprintf(`{"event":"mark","streamSid":%q,"mark":{"name":"response-%d"}}`, sid, marks))
	}
	if !reply() {
		return
	}

	var tr turn
	for {
		var msg struct {
			Event string `json:"event"`
			Media struct {
				Payload string `json:"payload"`
			} `json:"media"`
		}
		if !readJSON(ctx, ws, &msg) {
			return
		}
		switch msg.Event {
		case "stop":
			hungUp = true
			ws.Close(websocket.StatusNormalClosure, "")
			return
		case "media":
			frame, err := base64.StdEncoding.DecodeString(msg.Media.Payload)
			if err != nil || len(frame) != 160 {
				g.t.Errorf("media payload: %d bytes, err %v; want 160 bytes of base64", len(frame), err)
				return
			}
			if tr.frame(twilioFormat, frame, &log) && !g.silentReplies {
				log.replied = true
				if !reply() {
					return
				}
			}
		}
	}
}

func readJSON(ctx context.Context, ws *websocket.Conn, v any) bool {
	_, data, err := ws.Read(ctx)
	if err != nil {
		return false
	}
	return json.Unmarshal(data, v) == nil
}

func (g *fakeGateway) config() Config {
	return Config{
		Server:            g.server.URL,
		AdminURL:          g.admin.URL,
		Calls:             9,
		Concurrency:       4,
		Speed:             50,
		Margins:           DefaultMargins(),
		TurnTimeout:       3 * timeoutScale,
		SettleTimeout:     timeoutScale,
		MaxFailurePercent: -1,
	}
}

func (g *fakeGateway) snapshot() (endings map[Ending]int, transports map[Transport]int, gcs int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.endings), maps.Clone(g.transports), g.gcs
}
