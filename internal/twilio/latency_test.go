package twilio_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
	"github.com/voiceorder/voiceorder/internal/twilio"
)

// frameClock records when numbered frames were sent and received, to measure the
// gateway's added latency per frame. Frames carry their call and sequence number in
// their first six bytes; μ-law passes through the gateway unchanged.
type frameClock struct {
	mu     sync.Mutex
	sent   map[uint64]time.Time
	lat    []time.Duration
	steady []time.Duration // frames after the first 500 ms of a call
}

func frameKey(call, seq int) uint64 { return uint64(call)<<32 | uint64(seq) }

func numberedFrame(call, seq int) []byte {
	f := make([]byte, twilio.FrameSize)
	binary.BigEndian.PutUint16(f[0:2], uint16(call))
	binary.BigEndian.PutUint32(f[2:6], uint32(seq))
	return f
}

func frameNumber(f []byte) (call, seq int) {
	return int(binary.BigEndian.Uint16(f[0:2])), int(binary.BigEndian.Uint32(f[2:6]))
}

func (c *frameClock) send(call, seq int, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[frameKey(call, seq)] = at
}

func (c *frameClock) receive(f []byte, at time.Time) {
	call, seq := frameNumber(f)
	c.mu.Lock()
	defer c.mu.Unlock()
	if sent, ok := c.sent[frameKey(call, seq)]; ok {
		c.lat = append(c.lat, at.Sub(sent))
		if seq >= 25 {
			c.steady = append(c.steady, at.Sub(sent))
		}
		delete(c.sent, frameKey(call, seq))
	}
}

// summary returns the count, median, 99th percentile and maximum of all frames and
// of the frames after the first 500 ms of each call.
func (c *frameClock) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return percentiles(c.lat) + "; after the first 500 ms: " + percentiles(c.steady)
}

func percentiles(lat []time.Duration) string {
	if len(lat) == 0 {
		return "no frames"
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))].Round(time.Microsecond) }
	return fmt.Sprintf("%d frames, p50 %v, p99 %v, max %v", len(lat), at(0.50), at(0.99), lat[len(lat)-1].Round(time.Microsecond))
}

// TestPhoneFrameLatency100Calls runs 100 calls at once, each sending 20 ms frames in
// real time in both directions for 3 s, and reports the time each frame spends in
// the gateway: from the fake Twilio's write to the fake model's read for caller
// audio, and from the model's write to Twilio's read for assistant audio. It only
// runs with VOICEORDER_MEASURE=1.
func TestPhoneFrameLatency100Calls(t *testing.T) {
	if os.Getenv("VOICEORDER_MEASURE") == "" {
		t.Skip("a measurement; set VOICEORDER_MEASURE=1 to run it")
	}
	const (
		calls  = 100
		frames = 150 // 3 s
	)
	inbound := &frameClock{sent: make(map[uint64]time.Time)}
	outbound := &frameClock{sent: make(map[uint64]time.Time)}
	h := newHarness(t, harnessConfig{quiet: true}, func(ctx context.Context, c *realtimetest.ServerConn) {
		var wg sync.WaitGroup
		defer wg.Wait()
		s := newModelScript(ctx, c, &wg)
		if _, ok := s.configure(); !ok {
			return
		}
		if _, ok := s.expect(realtime.ClientResponseCreate); !ok {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range s.events {
				if ev.Type != realtime.ClientInputAudioBufferAppend {
					continue
				}
				at := time.Now()
				b, err := base64.StdEncoding.DecodeString(ev.Audio)
				if err == nil && len(b) == twilio.FrameSize {
					inbound.receive(b, at)
				}
			}
		}()
		// The answer streams in real time, one 20 ms delta per frame.
		s.send(responseCreated("resp_1"))
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		key := connKey(c)
		for seq := range frames {
			ev := realtime.ServerEvent{
				Type: realtime.ServerResponseOutputAudioDelta, ResponseID: "resp_1", ItemID: "item_1",
				Delta: base64.StdEncoding.EncodeToString(numberedFrame(key, seq)),
			}
			outbound.send(key, seq, time.Now())
			if !s.send(ev) {
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
		s.send(responseDone("resp_1", realtime.ResponseCompleted, assistantItem("item_1")))
		<-ctx.Done()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var g errgroup.Group
	for i := range calls {
		g.Go(func() error {
			sid := fmt.Sprintf("CA%05d", i)
			p := h.call(ctx, sid, false)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for seq := range frames {
				f := numberedFrame(i, seq)
				inbound.send(i, seq, time.Now())
				if err := p.send(ctx, twilio.Message{Event: twilio.EventMedia, StreamSID: p.streamSID, Media: &twilio.Media{
					Timestamp: fmt.Sprint((seq + 1) * 20), Payload: base64.StdEncoding.EncodeToString(f),
				}}); err != nil {
					return err
				}
				<-tick.C
			}
			p.waitUntil(ctx, func(p *fakeTwilio) bool { return len(p.arrivedAt) >= frames })
			p.mu.Lock()
			for j, f := range p.payloads {
				outbound.receive(f, p.arrivedAt[j])
			}
			p.mu.Unlock()
			p.hangUp(ctx)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("caller to model: %s", inbound.summary())
	t.Logf("model to caller: %s", outbound.summary())
}

// connKeys numbers the model connections, so that each call's answer carries its own
// number.
var (
	connKeysMu sync.Mutex
	connKeys   = map[*realtimetest.ServerConn]int{}
)

func connKey(c *realtimetest.ServerConn) int {
	connKeysMu.Lock()
	defer connKeysMu.Unlock()
	k, ok := connKeys[c]
	if !ok {
		k = len(connKeys) + 1000
		connKeys[c] = k
	}
	return k
}
