package realtime_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
)

// dial connects to srv and closes the connection when the test ends.
func dial(t *testing.T, srv *realtimetest.Server) *realtime.Conn {
	t.Helper()
	conn, err := realtime.Dial(t.Context(), realtime.DialConfig{URL: srv.URL(), Model: "gpt-realtime"})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// drain reads client events until the connection ends, so that the server
// side replies to pings and close frames.
func drain(ctx context.Context, c *realtimetest.ServerConn) {
	for {
		if _, err := c.Read(ctx); err != nil {
			return
		}
	}
}

func TestDialSendsHandshakeHeaders(t *testing.T) {
	requests := make(chan *http.Request, 1)
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		requests <- c.Request()
		drain(ctx, c)
	})
	header := http.Header{"X-Restaurant": {"r1"}}
	conn, err := realtime.Dial(t.Context(), realtime.DialConfig{
		URL:        srv.URL() + "/v1/realtime",
		Model:      "gpt-realtime",
		APIKey:     "sk-test",
		HTTPClient: &http.Client{},
		Header:     header,
	})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.CloseNow()

	r := <-requests
	checks := []struct{ name, got, want string }{
		{"Authorization", r.Header.Get("Authorization"), "Bearer sk-test"},
		{"X-Restaurant", r.Header.Get("X-Restaurant"), "r1"},
		{"OpenAI-Beta", r.Header.Get("OpenAI-Beta"), ""},
		{"path", r.URL.Path, "/v1/realtime"},
		{"model", r.URL.Query().Get("model"), "gpt-realtime"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("handshake %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(header) != 1 {
		t.Errorf("Dial modified the caller's header: %v", header)
	}
	if got := srv.Dials(); got != 1 {
		t.Errorf("Dials() = %d, want 1", got)
	}
}

func TestDialWithoutKeySendsNoAuthorization(t *testing.T) {
	requests := make(chan *http.Request, 1)
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		requests <- c.Request()
		drain(ctx, c)
	})
	conn := dial(t, srv)
	defer conn.CloseNow()
	if got := (<-requests).Header.Values("Authorization"); len(got) != 0 {
		t.Errorf("Authorization = %q, want none", got)
	}
}

func TestDialRejected(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantCode  string
		wantFatal bool
	}{
		{"invalid key", http.StatusUnauthorized,
			`{"error":{"type":"invalid_request_error","code":"invalid_api_key","message":"Incorrect API key provided."}}`,
			"invalid_api_key", true},
		{"forbidden without body", http.StatusForbidden, "", "", true},
		{"quota", http.StatusTooManyRequests,
			`{"error":{"type":"insufficient_quota","code":"insufficient_quota","message":"You exceeded your current quota."}}`,
			"insufficient_quota", true},
		{"rate limited", http.StatusTooManyRequests,
			`{"error":{"type":"rate_limit_error","code":"rate_limit_exceeded","message":"Slow down."}}`,
			"rate_limit_exceeded", false},
		{"unavailable", http.StatusServiceUnavailable, "upstream overloaded", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := realtimetest.NewServer(t, func(context.Context, *realtimetest.ServerConn) {
				t.Error("handler ran for a rejected handshake")
			})
			srv.RejectHandshakes(tt.status, tt.body)

			conn, err := realtime.Dial(t.Context(), realtime.DialConfig{URL: srv.URL()})
			if err == nil {
				conn.CloseNow()
				t.Fatal("Dial succeeded, want an error")
			}
			var dialErr *realtime.DialError
			if !errors.As(err, &dialErr) || dialErr.StatusCode != tt.status {
				t.Fatalf("Dial error = %v, want *DialError with status %d", err, tt.status)
			}
			var serverErr *realtime.Error
			gotCode := ""
			if errors.As(err, &serverErr) {
				gotCode = serverErr.Code
			}
			if gotCode != tt.wantCode {
				t.Errorf("error code of %v = %q, want %q", err, gotCode, tt.wantCode)
			}
			if got := realtime.IsFatal(err); got != tt.wantFatal {
				t.Errorf("IsFatal(%v) = %v, want %v", err, got, tt.wantFatal)
			}
		})
	}
}

func TestDialTimeout(t *testing.T) {
	// The kernel completes TCP handshakes into the backlog, but no one
	// accepts, so the WebSocket handshake never gets a response.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	start := time.Now()
	conn, err := realtime.Dial(t.Context(), realtime.DialConfig{URL: "ws://" + ln.Addr().String(), DialTimeout: 50 * time.Millisecond})
	if err == nil {
		conn.CloseNow()
		t.Fatal("Dial succeeded, want a timeout")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial error = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Dial took %v, want about the 50 ms timeout", elapsed)
	}
}

func TestDialInvalidURL(t *testing.T) {
	for _, url := range []string{"ftp://127.0.0.1/", "://x"} {
		_, err := realtime.Dial(t.Context(), realtime.DialConfig{URL: url})
		var dialErr *realtime.DialError
		if !errors.As(err, &dialErr) {
			t.Errorf("Dial(%q) error = %v, want *DialError", url, err)
		}
	}
}

func TestDialContextEndsOnlyTheDial(t *testing.T) {
	got := make(chan realtime.ClientEvent, 1)
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		ev, err := c.Read(ctx)
		if err != nil {
			t.Errorf("server read: %v", err)
		}
		got <- ev
		drain(ctx, c)
	})
	dialCtx, cancel := context.WithCancel(t.Context())
	conn, err := realtime.Dial(dialCtx, realtime.DialConfig{URL: srv.URL()})
	cancel()
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.CloseNow()

	if err := conn.Send(t.Context(), realtime.CommitAudio()); err != nil {
		t.Fatalf("Send after the dial context ended: %v", err)
	}
	if ev := <-got; ev.Type != realtime.ClientInputAudioBufferCommit {
		t.Errorf("server got %q, want %q", ev.Type, realtime.ClientInputAudioBufferCommit)
	}
}

func TestSessionUpdateRoundTrip(t *testing.T) {
	updates := make(chan realtime.ClientEvent, 1)
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		if err := realtimetest.SendSessionCreated(ctx, c, "sess_1"); err != nil {
			t.Errorf("send session.created: %v", err)
			return
		}
		update, err := realtimetest.ReplyToSessionUpdate(ctx, c)
		if err != nil {
			t.Errorf("reply to session.update: %v", err)
			return
		}
		updates <- update
		drain(ctx, c)
	})
	conn := dial(t, srv)
	ctx := t.Context()

	created := readType(t, conn, realtime.ServerSessionCreated)
	if created.Session == nil || created.Session.ID != "sess_1" {
		t.Fatalf("session.created session = %+v, want ID sess_1", created.Session)
	}

	session := realtime.Session{
		Model:        "gpt-realtime",
		Instructions: "Take coffee orders.",
		Audio: &realtime.AudioConfig{
			Input: &realtime.AudioInput{
				Format:        &realtime.AudioFormat{Type: realtime.AudioPCMU},
				Transcription: &realtime.Transcription{Model: "gpt-4o-transcribe", Language: "en"},
				TurnDetection: &realtime.TurnDetection{
					Type: realtime.TurnDetectionServerVAD, Threshold: 0.6, PrefixPaddingMS: 300, SilenceDurationMS: 500,
					CreateResponse: new(true), InterruptResponse: new(false),
				},
			},
			Output: &realtime.AudioOutput{Format: &realtime.AudioFormat{Type: realtime.AudioPCMU}, Voice: "marin", Speed: 1.1},
		},
		Tools: []realtime.Tool{{
			Type: "function", Name: "add_to_order", Description: "Add an item to the order.",
			Parameters: []byte(`{"type":"object","properties":{"item_id":{"type":"string"}},"required":["item_id"]}`),
		}},
		ToolChoice:      realtime.ToolChoice{Mode: realtime.ToolChoiceAuto},
		MaxOutputTokens: 4096,
	}
	if err := conn.Send(ctx, realtime.UpdateSession(session)); err != nil {
		t.Fatalf("Send session.update: %v", err)
	}
	updated := readType(t, conn, realtime.ServerSessionUpdated)

	session.Type = realtime.SessionTypeRealtime
	if got := (<-updates).Session; !reflect.DeepEqual(*got, session) {
		t.Errorf("server received session\n%+v\nwant\n%+v", *got, session)
	}
	if !reflect.DeepEqual(*updated.Session, session) {
		t.Errorf("session.updated session\n%+v\nwant\n%+v", *updated.Session, session)
	}
}

// readType reads server events until one of type typ arrives.
func readType(t *testing.T, conn *realtime.Conn, typ string) realtime.ServerEvent {
	t.Helper()
	for {
		ev, err := conn.Read(t.Context())
		if err != nil {
			t.Fatalf("read until %s: %v", typ, err)
		}
		if ev.Type == typ {
			return ev
		}
	}
}

func TestReadLargeEvent(t *testing.T) {
	delta := base64.StdEncoding.EncodeToString(make([]byte, 3<<20))
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		ev := realtime.ServerEvent{Type: realtime.ServerResponseOutputAudioDelta, ResponseID: "r1", Delta: delta}
		if err := c.Send(ctx, ev); err != nil {
			t.Errorf("send: %v", err)
		}
		drain(ctx, c)
	})
	conn := dial(t, srv)

	ev, err := conn.Read(t.Context())
	if err != nil {
		t.Fatalf("Read of a %d-byte event: %v", len(delta), err)
	}
	if len(ev.Delta) != len(delta) {
		t.Errorf("delta length = %d, want %d", len(ev.Delta), len(delta))
	}
}

func TestReadOversizedFrame(t *testing.T) {
	serverClose := make(chan websocket.StatusCode, 1)
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		frame := `{"type":"response.output_audio.delta","delta":"` + strings.Repeat("A", 20<<20) + `"}`
		if err := c.SendRaw(ctx, []byte(frame)); err != nil {
			t.Errorf("send 20 MB frame: %v", err)
		}
		_, err := c.Read(ctx)
		serverClose <- websocket.CloseStatus(err)
	})
	conn := dial(t, srv)

	_, err := conn.Read(t.Context())
	if got := realtime.CloseStatus(err); got != websocket.StatusMessageTooBig {
		t.Fatalf("Read of a 20 MB frame: CloseStatus(%v) = %d, want %d", err, got, websocket.StatusMessageTooBig)
	}
	if errors.Is(err, realtime.ErrClosed) {
		t.Errorf("Read error %v matches ErrClosed, want an abnormal end", err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("Close after the oversized frame: %v", err)
	}
	if got := <-serverClose; got != websocket.StatusMessageTooBig {
		t.Errorf("server saw close code %d, want %d", got, websocket.StatusMessageTooBig)
	}
}

func TestReadMalformedEvent(t *testing.T) {
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		if err := c.SendRaw(ctx, []byte(`{"type":"response.done","response":"oops"}`)); err != nil {
			t.Errorf("send: %v", err)
		}
		if err := c.Send(ctx, realtime.ServerEvent{Type: "response.mcp_call.completed", ItemID: "mcp_1"}); err != nil {
			t.Errorf("send: %v", err)
		}
		drain(ctx, c)
	})
	conn := dial(t, srv)

	if _, err := conn.Read(t.Context()); !errors.Is(err, realtime.ErrMalformedEvent) {
		t.Fatalf("Read of a malformed event = %v, want ErrMalformedEvent", err)
	}
	ev, err := conn.Read(t.Context())
	if err != nil || ev.Type != "response.mcp_call.completed" {
		t.Errorf("Read after a malformed event = %+v, %v; want the unknown event type", ev, err)
	}
}

func TestReadCloseCodes(t *testing.T) {
	tests := []struct {
		name       string
		code       websocket.StatusCode
		wantClosed bool
	}{
		{"normal", websocket.StatusNormalClosure, true},
		{"going away", websocket.StatusGoingAway, true},
		{"internal error", websocket.StatusInternalError, false},
		{"try again later", websocket.StatusTryAgainLater, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
				c.Close(tt.code, "bye")
			})
			conn := dial(t, srv)

			_, err := conn.Read(t.Context())
			if got := errors.Is(err, realtime.ErrClosed); got != tt.wantClosed {
				t.Errorf("errors.Is(%v, ErrClosed) = %v, want %v", err, got, tt.wantClosed)
			}
			if got := realtime.CloseStatus(err); got != tt.code {
				t.Errorf("CloseStatus(%v) = %d, want %d", err, got, tt.code)
			}
		})
	}
}

func TestCloseOnAccept(t *testing.T) {
	srv := realtimetest.NewServer(t, func(context.Context, *realtimetest.ServerConn) {
		t.Error("handler ran for a connection closed on accept")
	})
	srv.CloseOnAccept(websocket.StatusTryAgainLater)
	for range 2 {
		conn := dial(t, srv)
		_, err := conn.Read(t.Context())
		if got := realtime.CloseStatus(err); got != websocket.StatusTryAgainLater {
			t.Errorf("CloseStatus(%v) = %d, want %d", err, got, websocket.StatusTryAgainLater)
		}
	}
	if got := srv.Dials(); got != 2 {
		t.Errorf("Dials() = %d, want 2", got)
	}
}

func TestReadUnblocksOnCancel(t *testing.T) {
	srv := realtimetest.NewServer(t, drain)
	conn := dial(t, srv)

	ctx, cancel := context.WithCancel(t.Context())
	result := make(chan error, 1)
	go func() {
		_, err := conn.Read(ctx)
		result <- err
	}()
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel = %v, want context.Canceled", err)
	}
}

func TestSendConcurrent(t *testing.T) {
	const senders, perSender = 8, 50
	received := make(chan map[string]int, 1)
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		counts := make(map[string]int)
		for range senders * perSender {
			ev, err := c.Read(ctx)
			if err != nil {
				t.Errorf("server read: %v", err)
				break
			}
			counts[ev.Type]++
		}
		received <- counts
		drain(ctx, c)
	})
	conn := dial(t, srv)

	g, ctx := errgroup.WithContext(t.Context())
	audio := testAudio(frameMuLaw20ms)
	b64 := base64.StdEncoding.EncodeToString(audio)
	for i := range senders {
		g.Go(func() error {
			for range perSender {
				var err error
				switch i % 3 {
				case 0:
					err = conn.SendAudio(ctx, audio)
				case 1:
					err = conn.SendAudioBase64(ctx, b64)
				default:
					err = conn.Send(ctx, realtime.CommitAudio())
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("concurrent send: %v", err)
	}
	counts := <-received
	want := map[string]int{
		realtime.ClientInputAudioBufferAppend: 6 * perSender,
		realtime.ClientInputAudioBufferCommit: 2 * perSender,
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("server received %v, want %v", counts, want)
	}
}

func TestSendAudioBase64RejectsInvalid(t *testing.T) {
	srv := realtimetest.NewServer(t, drain)
	conn := dial(t, srv)
	if err := conn.SendAudioBase64(t.Context(), `AA","x":"y`); !errors.Is(err, realtime.ErrInvalidBase64) {
		t.Errorf("SendAudioBase64 of a quote = %v, want ErrInvalidBase64", err)
	}
	if err := conn.SendAudio(t.Context(), []byte{1, 2, 3}); err != nil {
		t.Errorf("SendAudio after a rejected append: %v", err)
	}
}

func TestCloseTwice(t *testing.T) {
	srv := realtimetest.NewServer(t, drain)
	conn := dial(t, srv)

	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := conn.Close(); err != nil {
				t.Errorf("concurrent Close: %v", err)
			}
		})
	}
	wg.Go(func() {
		if err := conn.CloseNow(); err != nil {
			t.Errorf("concurrent CloseNow: %v", err)
		}
	})
	wg.Wait()
	if err := conn.Close(); err != nil {
		t.Errorf("Close after close: %v", err)
	}
	if err := conn.CloseNow(); err != nil {
		t.Errorf("CloseNow after close: %v", err)
	}
	if err := conn.Send(t.Context(), realtime.CommitAudio()); !errors.Is(err, realtime.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if _, err := conn.Read(t.Context()); !errors.Is(err, realtime.ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
}

func TestCloseWhileReading(t *testing.T) {
	srv := realtimetest.NewServer(t, drain)
	conn := dial(t, srv)

	result := make(chan error, 1)
	go func() {
		_, err := conn.Read(t.Context())
		result <- err
	}()
	if err := conn.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-result; !errors.Is(err, realtime.ErrClosed) {
		t.Errorf("Read during Close = %v, want ErrClosed", err)
	}
}

func TestKeepalive(t *testing.T) {
	conns := make(chan *realtimetest.ServerConn, 1)
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		conns <- c
		drain(ctx, c)
	})
	conn := dial(t, srv)
	server := <-conns

	readerCtx, stopReader := context.WithCancel(t.Context())
	keepaliveCtx, stopKeepalive := context.WithCancel(t.Context())
	var g errgroup.Group
	g.Go(func() error {
		for {
			if _, err := conn.Read(readerCtx); err != nil {
				return nil
			}
		}
	})
	keepalive := make(chan error, 1)
	go func() { keepalive <- conn.Keepalive(keepaliveCtx, 50*time.Millisecond) }()

	for range 3 {
		select {
		case <-server.PingReceived():
		case err := <-keepalive:
			stopKeepalive()
			stopReader()
			g.Wait()
			t.Fatalf("Keepalive ended before the cancel: %v", err)
		}
	}
	stopKeepalive()
	if err := <-keepalive; err != nil {
		t.Errorf("Keepalive after cancel = %v, want nil", err)
	}
	if got := server.Pings(); got < 3 {
		t.Errorf("server received %d pings, want at least 3", got)
	}
	stopReader()
	g.Wait()
}

func TestKeepaliveWithoutPong(t *testing.T) {
	release := make(chan struct{})
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		<-release // does not read, so pings go unanswered
	})
	defer close(release)
	conn := dial(t, srv)

	var g errgroup.Group
	g.Go(func() error {
		for {
			if _, err := conn.Read(t.Context()); err != nil {
				return nil
			}
		}
	})
	err := conn.Keepalive(t.Context(), 20*time.Millisecond)
	if err == nil || errors.Is(err, realtime.ErrClosed) {
		t.Errorf("Keepalive without pongs = %v, want a timeout error", err)
	}
	conn.CloseNow()
	g.Wait()
}

func TestKeepaliveDisabled(t *testing.T) {
	srv := realtimetest.NewServer(t, drain)
	conn := dial(t, srv)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := conn.Keepalive(ctx, 0); err != nil {
		t.Errorf("Keepalive with interval 0 = %v, want nil", err)
	}
}

func TestScriptedResponses(t *testing.T) {
	chunks := [][]byte{testAudio(160), testAudio(160), testAudio(80)}
	srv := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		err := realtimetest.SendFunctionCall(ctx, c, realtimetest.FunctionCall{
			ResponseID: "resp_1", ItemID: "fc_1", CallID: "call_1", Name: "get_specials", Arguments: "{}",
		})
		if err != nil {
			t.Errorf("send function call: %v", err)
			return
		}
		output, err := realtimetest.ExpectType(ctx, c, realtime.ClientConversationItemCreate)
		if err != nil || output.Item.CallID != "call_1" {
			t.Errorf("function output = %+v, %v; want an item for call_1", output.Item, err)
			return
		}
		if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientResponseCreate); err != nil {
			t.Errorf("expect response.create: %v", err)
			return
		}
		err = realtimetest.SendAudioResponse(ctx, c, realtimetest.AudioResponse{
			ResponseID: "resp_2", ItemID: "msg_1", Chunks: chunks,
			Format: realtime.AudioFormat{Type: realtime.AudioPCMU}, Transcript: "Today's special is a mocha.",
		})
		if err != nil {
			t.Errorf("send audio response: %v", err)
		}
		drain(ctx, c)
	})
	conn := dial(t, srv)
	ctx := t.Context()
	responder := realtime.NewResponder(conn.Send)

	var types []string
	var audio []byte
	for {
		ev, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		types = append(types, ev.Type)
		if err := responder.Observe(ctx, &ev); err != nil {
			t.Fatalf("Observe: %v", err)
		}
		switch ev.Type {
		case realtime.ServerResponseFunctionCallArgumentsDone:
			// The tool result is ready while the response is active.
			if err := conn.Send(ctx, realtime.FunctionCallOutput(ev.CallID, `{"success":true}`)); err != nil {
				t.Fatal(err)
			}
			if err := responder.RequestResponse(ctx); err != nil {
				t.Fatal(err)
			}
		case realtime.ServerResponseOutputAudioDelta:
			audio, err = base64.StdEncoding.AppendDecode(audio, []byte(ev.Delta))
			if err != nil {
				t.Fatalf("decode delta: %v", err)
			}
		}
		if ev.Type == realtime.ServerResponseDone && ev.Response.ID == "resp_2" {
			break
		}
	}
	if want := 160 + 160 + 80; len(audio) != want {
		t.Errorf("received %d bytes of audio, want %d", len(audio), want)
	}
	wantTypes := []string{
		"response.created", "response.output_item.added", "response.function_call_arguments.done",
		"response.output_item.done", "response.done",
		"response.created", "response.output_item.added",
		"response.output_audio.delta", "response.output_audio.delta", "response.output_audio.delta",
		"response.output_audio.done", "response.output_audio_transcript.done", "response.output_item.done", "response.done",
	}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Errorf("event types =\n%v\nwant\n%v", types, wantTypes)
	}
}

// BenchmarkConnSendAudio sends 20 ms μ-law frames over loopback to a server
// that discards them, to count the allocations of the whole send path.
func BenchmarkConnSendAudio(b *testing.B) {
	srv := realtimetest.NewServer(b, func(ctx context.Context, c *realtimetest.ServerConn) {
		for {
			if _, _, err := c.WebSocket().Read(ctx); err != nil {
				return
			}
		}
	})
	conn, err := realtime.Dial(b.Context(), realtime.DialConfig{URL: srv.URL()})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.CloseNow()

	ctx := b.Context()
	audio := testAudio(frameMuLaw20ms)
	b.SetBytes(frameMuLaw20ms)
	b.ReportAllocs()
	for b.Loop() {
		if err := conn.SendAudio(ctx, audio); err != nil {
			b.Fatal(err)
		}
	}
}
