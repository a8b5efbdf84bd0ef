package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/browser"
	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

// TestHangupWhileWriteBlocked fills the socket of a caller that stops reading, then
// drops the caller: the conversation and its model connection end within a second.
func TestHangupWhileWriteBlocked(t *testing.T) {
	flooding := make(chan struct{})
	closed := make(chan time.Time, 1)
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		if _, err := realtimetest.ReplyToSessionUpdate(ctx, c); err != nil {
			return
		}
		go func() {
			defer close(flooding)
			chunk := bytes.Repeat([]byte{1, 2}, 48000) // 2 s of 24 kHz PCM16 per delta
			c.Send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseCreated, Response: &realtime.Response{ID: "resp_1"}})
			for range 200 {
				ev := realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioDelta, ResponseID: "resp_1", ItemID: "item_1",
					Delta: base64.StdEncoding.EncodeToString(chunk)}
				if c.Send(ctx, ev) != nil {
					return
				}
			}
		}()
		for {
			if _, err := c.Read(ctx); err != nil {
				closed <- time.Now()
				<-flooding
				return
			}
		}
	})
	g := startGateway(t, model.URL())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k := dialKiosk(ctx, t, g)
	k.send(ctx, `{"type":"session.start","format":{"format":"pcm16","rate":24000}}`)
	k.readUntil(ctx, browser.TypeAudio) // the gateway is streaming; from here on nobody reads
	<-flooding                          // 400 s of audio sent: the gateway's writes to the caller are blocked

	hungUp := time.Now()
	k.ws.CloseNow()
	select {
	case at := <-closed:
		if d := at.Sub(hungUp); d > time.Second {
			t.Errorf("model connection closed %v after the hang-up, want within 1s", d)
		}
	case <-ctx.Done():
		t.Fatal("model connection still open after the caller dropped")
	}
}

// TestLargeModelEvents sends a 3 MB event to one call and a 20 MB frame to another:
// the first is accepted, the second closes that call's model connection with 1009 and
// ends the call, and a third call goes on unaffected.
func TestLargeModelEvents(t *testing.T) {
	type result struct {
		call string
		code websocket.StatusCode
	}
	results := make(chan result, 3)
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		if _, err := realtimetest.ReplyToSessionUpdate(ctx, c); err != nil {
			return
		}
		first, err := realtimetest.ExpectType(ctx, c, realtime.ClientInputAudioBufferAppend)
		if err != nil {
			return
		}
		call := first.Audio // each caller sends its name as its first audio
		switch call {
		case base64.StdEncoding.EncodeToString([]byte("big3")):
			text := strings.Repeat("a", 3<<20)
			c.Send(ctx, realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioTranscriptDone, ResponseID: "r", ItemID: "i", Transcript: text})
		case base64.StdEncoding.EncodeToString([]byte("huge")):
			// Send while reading: the gateway stops reading at its limit and answers
			// with a close frame, which only a reader sees.
			sent := make(chan struct{})
			defer func() { <-sent }()
			go func() {
				defer close(sent)
				c.SendRaw(ctx, append(append([]byte(`{"type":"response.output_audio_transcript.done","transcript":"`), bytes.Repeat([]byte("a"), 20<<20)...), `"}`...))
			}()
		}
		for {
			if _, err := c.Read(ctx); err != nil {
				results <- result{call, websocket.CloseStatus(err)}
				return
			}
		}
	})
	g := startGateway(t, model.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	start := func(name string) *kiosk {
		k := dialKiosk(ctx, t, g)
		k.send(ctx, `{"type":"session.start","format":{"format":"pcm16","rate":24000}}`)
		k.readUntil(ctx, browser.TypeSessionStarted)
		k.send(ctx, `{"type":"audio","audio":"`+base64.StdEncoding.EncodeToString([]byte(name))+`"}`)
		return k
	}
	bystander := start("byst")
	big := start("big3")
	if m := big.readUntil(ctx, browser.TypeTranscript); len(m.Text) != 3<<20 {
		t.Errorf("3 MB transcript arrived with %d bytes", len(m.Text))
	}
	huge := start("huge")
	for {
		_, _, err := huge.ws.Read(ctx)
		if err == nil {
			continue
		}
		if websocket.CloseStatus(err) != websocket.StatusInternalError {
			t.Errorf("call with a 20 MB model frame ended with %v, want close 1011", err)
		}
		break
	}
	select {
	case r := <-results:
		if r.call != base64.StdEncoding.EncodeToString([]byte("huge")) || r.code != websocket.StatusMessageTooBig {
			t.Errorf("first model connection to end: %q with %v, want the 20 MB call with 1009", r.call, r.code)
		}
	case <-ctx.Done():
		t.Fatal("the model connection of the 20 MB call did not end")
	}

	// The other calls are unaffected: they still carry audio both ways.
	bystander.send(ctx, `{"type":"audio","audio":"AAAA"}`)
	big.send(ctx, `{"type":"session.stop"}`)
	bystander.send(ctx, `{"type":"session.stop"}`)
	for _, k := range []*kiosk{big, bystander} {
		if _, _, err := k.ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			if _, _, err = k.ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Errorf("unaffected call ended with %v, want a normal close", err)
			}
		}
	}
}

// TestAbortedWebhookLeavesNothing starts webhook requests whose bodies never finish:
// no descriptor stays open and no temporary file is left.
func TestAbortedWebhookLeavesNothing(t *testing.T) {
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) { <-ctx.Done() })
	g := startGateway(t, model.URL())
	tmpBefore := tempEntries(t)
	fdsBefore := openFDs(t)

	for range 50 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL(), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		req := "POST /voice/incoming HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nCallSid=CA1&From=%2B1555"
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		conn.Close() // the caller goes away mid-body
	}
	// A complete request afterwards proves the server is healthy. It is not a webhook:
	// a webhook pre-dials the model, which holds a connection open for a while.
	resp, err := http.Get(g.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()

	eventually(5*time.Second, func() bool { return openFDs(t) <= fdsBefore })
	if n := openFDs(t); n > fdsBefore {
		t.Errorf("open descriptors grew from %d to %d", fdsBefore, n)
	}
	if after := tempEntries(t); after > tmpBefore {
		t.Errorf("temporary directory grew from %d to %d entries", tmpBefore, after)
	}
}

func tempEntries(t *testing.T) int {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
