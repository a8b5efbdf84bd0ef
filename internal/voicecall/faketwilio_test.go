package voicecall

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// fakeTwilioGateway serves the incoming-call webhook, the media stream and the call
// record with a script. Its marks name the response they end.
type fakeTwilioGateway struct {
	greeting []step
	replies  [][]step
	speech   []int
	record   callRecord // served once the stream stopped; ended_at set on the second read

	violations violations

	mu          sync.Mutex
	callSID     string
	start       twilioMessage
	frameSizes  map[int]int
	callerMulaw []byte
	sentMulaw   []byte
	marks       []sentMark
	echoes      map[string]time.Time
	stopped     bool
	recordReads int
}

// sentMark is a mark the fake sent and the audio before it.
type sentMark struct {
	name       string
	audio      time.Duration // audio sent since the previous mark
	firstAudio time.Time     // when the first of that audio was sent
}

func startFakeTwilio(t *testing.T, f *fakeTwilioGateway) *httptest.Server {
	t.Helper()
	f.frameSizes = make(map[int]int)
	f.echoes = make(map[string]time.Time)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+incomingCallPath, f.incoming)
	mux.HandleFunc("GET /voice/stream", f.stream)
	mux.HandleFunc("GET /api/v1/calls/{id}", f.getRecord)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeTwilioGateway) incoming(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.violations.add("webhook form: %v", err)
	}
	sid := r.PostForm.Get("CallSid")
	if !strings.HasPrefix(sid, "CA") || len(sid) != 34 {
		f.violations.add("webhook CallSid %q, want CA and 32 hex digits", sid)
	}
	for _, k := range []string{"AccountSid", "From", "To"} {
		if r.PostForm.Get(k) == "" {
			f.violations.add("webhook without %s", k)
		}
	}
	f.mu.Lock()
	f.callSID = sid
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Connect><Stream url="ws://%s/voice/stream?token=t1"><Parameter name="restaurant" value="cafe"/></Stream></Connect></Response>`, r.Host)
}

func (f *fakeTwilioGateway) getRecord(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.PathValue("id") != f.callSID || !f.stopped {
		http.NotFound(w, r)
		return
	}
	f.recordReads++
	rec := f.record
	if f.recordReads > 1 {
		ended := time.Now()
		rec.EndedAt = &ended
	}
	json.NewEncoder(w).Encode(rec)
}

func (f *fakeTwilioGateway) stream(w http.ResponseWriter, r *http.Request) {
	if got := r.URL.Query().Get("token"); got != "t1" {
		f.violations.add("stream URL query token=%q, want t1", got)
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		f.violations.add("accept: %v", err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ws.CloseNow()
	defer cancel()

	in := make(chan inbound, inboundBuffer)
	wg.Go(func() { pump(ctx, ws, in) })
	c := &fakeTwilioConn{f: f, ws: ws, script: turnScript{speech: f.speech}}
	for m := range in {
		if c.handle(ctx, m) {
			return
		}
	}
}

// fakeTwilioConn is the state of one media stream.
type fakeTwilioConn struct {
	f         *fakeTwilioGateway
	ws        *websocket.Conn
	script    turnScript
	sequence  int
	chunk     int
	timestamp int64
	replyEnd  time.Time
	lastMark  string // the last mark after audio
	streamSID string

	pendingAudio time.Duration
	firstAudio   time.Time
}

// handle checks and acts on one message and reports whether the stream is over.
func (c *fakeTwilioConn) handle(ctx context.Context, m inbound) bool {
	var msg twilioMessage
	if err := json.Unmarshal(m.data, &msg); err != nil {
		c.f.violations.add("message that is not JSON: %q", m.data)
		return false
	}
	if msg.Event != twilioConnected {
		c.sequence++
		if msg.SequenceNumber != strconv.Itoa(c.sequence) {
			c.f.violations.add("%s with sequenceNumber %q, want %d", msg.Event, msg.SequenceNumber, c.sequence)
		}
	}
	switch msg.Event {
	case twilioConnected:
		if msg.Protocol != "Call" || msg.Version == "" {
			c.f.violations.add("connected with protocol %q version %q", msg.Protocol, msg.Version)
		}
	case twilioStart:
		c.begin(ctx, msg)
	case twilioMedia:
		return c.media(ctx, m, msg)
	case twilioMark:
		c.f.mu.Lock()
		c.f.echoes[msg.Mark.Name] = m.at
		c.f.mu.Unlock()
	case twilioStop:
		if msg.Stop == nil || msg.Stop.CallSID != c.f.callSID {
			c.f.violations.add("stop %+v without the call's CallSid %s", msg.Stop, c.f.callSID)
		}
		c.f.mu.Lock()
		c.f.stopped = true
		c.f.mu.Unlock()
		c.ws.Close(websocket.StatusNormalClosure, "")
		return true
	default:
		c.f.violations.add("unexpected event %q", msg.Event)
	}
	return false
}

func (c *fakeTwilioConn) begin(ctx context.Context, msg twilioMessage) {
	c.f.mu.Lock()
	c.f.start = msg
	sid := c.f.callSID
	c.f.mu.Unlock()
	s := msg.Start
	switch {
	case s == nil:
		c.f.violations.add("start without start details")
		return
	case s.CallSID != sid:
		c.f.violations.add("start callSid %q, want the webhook's %q", s.CallSID, sid)
	case !strings.HasPrefix(s.StreamSID, "MZ") || s.StreamSID != msg.StreamSID:
		c.f.violations.add("start streamSid %q and %q", s.StreamSID, msg.StreamSID)
	}
	c.streamSID = s.StreamSID
	c.replyEnd = c.play(ctx, c.f.greeting)
}

func (c *fakeTwilioConn) media(ctx context.Context, m inbound, msg twilioMessage) bool {
	frame, err := base64.StdEncoding.DecodeString(msg.Media.Payload)
	if err != nil {
		c.f.violations.add("media payload that is not base64: %v", err)
		return false
	}
	c.chunk++
	if msg.Media.Chunk != strconv.Itoa(c.chunk) {
		c.f.violations.add("media chunk %q, want %d", msg.Media.Chunk, c.chunk)
	}
	ts, err := strconv.ParseInt(msg.Media.Timestamp, 10, 64)
	if err != nil || ts < c.timestamp {
		c.f.violations.add("media timestamp %q after %d", msg.Media.Timestamp, c.timestamp)
	}
	c.timestamp = ts
	c.f.mu.Lock()
	c.f.frameSizes[len(frame)]++
	c.f.callerMulaw = append(c.f.callerMulaw, frame...)
	_, echoed := c.f.echoes[c.lastMark]
	c.f.mu.Unlock()

	pos, err := c.script.next()
	if err != nil {
		c.f.violations.add("%v", err)
		return true
	}
	if pos.first && m.at.Before(c.replyEnd) {
		c.f.violations.add("turn %d began %s before the previous reply ended", pos.turn+1, c.replyEnd.Sub(m.at))
	}
	if pos.first && !echoed {
		c.f.violations.add("turn %d began before mark %q was echoed", pos.turn+1, c.lastMark)
	}
	if pos.replyDue {
		c.replyEnd = c.play(ctx, c.f.replies[pos.turn])
	}
	return false
}

// play sends a script and returns when its last step was sent.
func (c *fakeTwilioConn) play(ctx context.Context, steps []step) time.Time {
	for _, s := range steps {
		switch {
		case s.audio > 0:
			c.sendAudio(ctx, s.audio)
		case s.mark != "":
			c.f.mu.Lock()
			c.f.marks = append(c.f.marks, sentMark{name: s.mark, audio: c.pendingAudio, firstAudio: c.firstAudio})
			c.f.mu.Unlock()
			if c.pendingAudio > 0 {
				c.lastMark = s.mark
			}
			c.pendingAudio = 0
			c.send(ctx, twilioMessage{Event: twilioMark, StreamSID: c.streamSID, Mark: &twilioMarkInfo{Name: s.mark}})
		case s.clear:
			c.pendingAudio = 0
			c.send(ctx, twilioMessage{Event: twilioClear, StreamSID: c.streamSID})
		case s.pause > 0:
			pause(ctx, s.pause)
		}
	}
	return time.Now()
}

// sendAudio sends d of a tone as 160-byte μ-law frames, the way the gateway does.
func (c *fakeTwilioConn) sendAudio(ctx context.Context, d time.Duration) {
	if c.pendingAudio == 0 {
		c.firstAudio = time.Now()
	}
	c.pendingAudio += d
	mulaw := audio.EncodeMulaw(nil, tone(twilioRate, d, 300))
	for len(mulaw) > 0 {
		n := min(160, len(mulaw))
		frame := mulaw[:n]
		c.send(ctx, twilioMessage{Event: twilioMedia, StreamSID: c.streamSID, Media: &twilioMediaInfo{Payload: base64.StdEncoding.EncodeToString(frame)}})
		c.f.mu.Lock()
		c.f.sentMulaw = append(c.f.sentMulaw, frame...)
		c.f.mu.Unlock()
		mulaw = mulaw[n:]
	}
}

func (c *fakeTwilioConn) send(ctx context.Context, m twilioMessage) {
	data, err := json.Marshal(m)
	if err != nil {
		c.f.violations.add("encode %s: %v", m.Event, err)
		return
	}
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil && ctx.Err() == nil {
		c.f.violations.add("write %s: %v", m.Event, err)
	}
}
