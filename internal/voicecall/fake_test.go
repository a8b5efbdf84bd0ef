package voicecall

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The fake gateways in this package's tests are scripted servers on loopback that
// speak the browser protocol and the Twilio webhook and Media Streams protocol. Each
// plays a greeting, then answers each caller turn with its script once the turn's
// speech and half of its trailing silence have arrived. They report what they saw
// and every ordering rule the caller broke.

// step is one action of a fake's script.
type step struct {
	audio time.Duration // send this much assistant audio
	event any           // browser: send this event as JSON
	mark  string        // twilio: send a mark with this name
	clear bool          // twilio: send clear
	pause time.Duration // wait, as a slow model would
}

// inbound is one message the fake received, stamped on arrival.
type inbound struct {
	at   time.Time
	typ  websocket.MessageType
	data []byte
}

// inboundBuffer lets the fake's reader keep reading, and stamping arrival times,
// while the script plays.
const inboundBuffer = 4096

// pump reads messages into out until the socket closes or ctx ends, then closes out.
func pump(ctx context.Context, ws *websocket.Conn, out chan<- inbound) {
	defer close(out)
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		select {
		case out <- inbound{at: time.Now(), typ: typ, data: data}:
		case <-ctx.Done():
			return
		}
	}
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// turnScript follows the caller's frames through the scripted turns: each turn is
// speech[i] frames of speech and then a second of silence.
type turnScript struct {
	speech []int
	turn   int
	frame  int
}

const silenceFrames = int(trailingSilence / frameDuration)

// position is where one frame falls in the script.
type position struct {
	turn     int
	first    bool // first frame of the turn's speech
	silence  bool // part of the trailing silence
	replyDue bool // the reply to the turn is due after this frame
}

// next accounts for one frame. It returns an error for a frame beyond the script.
func (s *turnScript) next() (position, error) {
	if s.turn >= len(s.speech) {
		return position{}, fmt.Errorf("frame after the last scripted turn")
	}
	n := s.speech[s.turn]
	p := position{
		turn:     s.turn,
		first:    s.frame == 0,
		silence:  s.frame >= n,
		replyDue: s.frame == n+silenceFrames/2-1,
	}
	s.frame++
	if s.frame == n+silenceFrames {
		s.turn++
		s.frame = 0
	}
	return p, nil
}

// violations collects the rules a caller broke, for the test to report.
type violations struct {
	mu   sync.Mutex
	list []string
}

func (v *violations) add(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.list = append(v.list, fmt.Sprintf(format, args...))
}

func (v *violations) all() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.list...)
}
