package voicecall

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// fakeBrowserGateway serves /voice-stream with a script.
type fakeBrowserGateway struct {
	greeting []step
	replies  [][]step // one per caller turn
	speech   []int    // speech frames of each caller turn

	violations violations

	mu         sync.Mutex
	start      browserClientMessage
	frameSizes map[int]int
	callerPCM  []byte  // every caller audio byte, in order
	sentPCM    []int16 // every assistant sample sent
	stopped    bool
}

// startFakeBrowser serves the fake on loopback until the test ends.
func startFakeBrowser(t *testing.T, f *fakeBrowserGateway) *httptest.Server {
	t.Helper()
	f.frameSizes = make(map[int]int)
	mux := http.NewServeMux()
	mux.Handle("GET "+browserPath, f)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeBrowserGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

	if !f.handshake(ctx, ws) {
		return
	}
	in := make(chan inbound, inboundBuffer)
	wg.Go(func() { pump(ctx, ws, in) })

	replyEnd := f.play(ctx, ws, f.greeting)
	script := turnScript{speech: f.speech}
	for m := range in {
		var msg browserClientMessage
		if m.typ != websocket.MessageText || json.Unmarshal(m.data, &msg) != nil {
			f.violations.add("message that is not JSON text: %q", m.data)
			continue
		}
		switch msg.Type {
		case browserAudio:
			if f.audio(ctx, ws, m, msg, &script, &replyEnd) {
				return
			}
		case browserSessionStop:
			f.mu.Lock()
			f.stopped = true
			f.mu.Unlock()
			ws.Close(websocket.StatusNormalClosure, "")
			return
		default:
			f.violations.add("unexpected message type %q", msg.Type)
		}
	}
}

// handshake reads session.start and replies with session.started.
func (f *fakeBrowserGateway) handshake(ctx context.Context, ws *websocket.Conn) bool {
	_, data, err := ws.Read(ctx)
	if err != nil {
		f.violations.add("read session.start: %v", err)
		return false
	}
	var start browserClientMessage
	if err := json.Unmarshal(data, &start); err != nil || start.Type != browserSessionStart {
		f.violations.add("first message %q, want session.start", data)
		return false
	}
	f.mu.Lock()
	f.start = start
	f.mu.Unlock()
	f.send(ctx, ws, map[string]any{"type": browserSessionStarted, "session_id": "sess-1", "restaurant": "cafe", "format": start.Format})
	return true
}

// audio records one caller frame and plays the reply when it is due. It reports
// whether the script is broken beyond repair.
func (f *fakeBrowserGateway) audio(ctx context.Context, ws *websocket.Conn, m inbound, msg browserClientMessage, script *turnScript, replyEnd *time.Time) bool {
	frame, err := base64.StdEncoding.DecodeString(msg.Audio)
	if err != nil {
		f.violations.add("audio that is not base64: %v", err)
		return false
	}
	f.mu.Lock()
	f.frameSizes[len(frame)]++
	f.callerPCM = append(f.callerPCM, frame...)
	f.mu.Unlock()

	pos, err := script.next()
	if err != nil {
		f.violations.add("%v", err)
		return true
	}
	if pos.first && m.at.Before(*replyEnd) {
		f.violations.add("turn %d began %s before the previous reply ended", pos.turn+1, replyEnd.Sub(m.at))
	}
	if pos.silence && !bytes.Equal(frame, make([]byte, len(frame))) {
		f.violations.add("turn %d: trailing frame is not silence", pos.turn+1)
	}
	if pos.replyDue {
		*replyEnd = f.play(ctx, ws, f.replies[pos.turn])
	}
	return false
}

// play sends a script and returns when its last step was sent.
func (f *fakeBrowserGateway) play(ctx context.Context, ws *websocket.Conn, steps []step) time.Time {
	for _, s := range steps {
		switch {
		case s.audio > 0:
			f.sendAudio(ctx, ws, s.audio)
		case s.event != nil:
			f.send(ctx, ws, s.event)
		case s.pause > 0:
			pause(ctx, s.pause)
		}
	}
	return time.Now()
}

// sendAudio sends d of a tone in 100 ms chunks.
func (f *fakeBrowserGateway) sendAudio(ctx context.Context, ws *websocket.Conn, d time.Duration) {
	samples := tone(browserRate, d, 300)
	const chunk = browserRate / 10
	for len(samples) > 0 {
		n := min(chunk, len(samples))
		pcm := audio.PCM16ToBytes(nil, samples[:n])
		f.send(ctx, ws, map[string]any{"type": browserAudio, "audio": base64.StdEncoding.EncodeToString(pcm)})
		f.mu.Lock()
		f.sentPCM = append(f.sentPCM, samples[:n]...)
		f.mu.Unlock()
		samples = samples[n:]
	}
}

func (f *fakeBrowserGateway) send(ctx context.Context, ws *websocket.Conn, event any) {
	data, err := json.Marshal(event)
	if err != nil {
		f.violations.add("encode %v: %v", event, err)
		return
	}
	if err := ws.Write(ctx, websocket.MessageText, data); err != nil && ctx.Err() == nil {
		f.violations.add("write: %v", err)
	}
}

// browserEvent returns a browser event with its type and fields.
func browserEvent(typ string, fields map[string]any) map[string]any {
	e := map[string]any{"type": typ}
	for k, v := range fields {
		e[k] = v
	}
	return e
}
