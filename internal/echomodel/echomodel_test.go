package echomodel

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

func TestSessionUpdateFormats(t *testing.T) {
	url, _ := startServer(t, Config{})
	tests := []struct {
		name      string
		in, out   realtime.AudioFormat
		wantIn    realtime.AudioFormat
		wantOut   realtime.AudioFormat
		wantParam string // non-empty when the update is rejected
	}{
		{name: "pcmu both ways", in: wirePCMU, out: wirePCMU, wantIn: wirePCMU, wantOut: wirePCMU},
		{name: "pcm 16 kHz in, 24 kHz out", in: wirePCM16, out: wirePCM24, wantIn: wirePCM16, wantOut: wirePCM24},
		{name: "pcm without rate", in: realtime.AudioFormat{Type: realtime.AudioPCM}, out: wirePCMU, wantIn: wirePCM24, wantOut: wirePCMU},
		{name: "pcma rejected", in: realtime.AudioFormat{Type: realtime.AudioPCMA}, out: wirePCMU, wantParam: "session.audio.input.format"},
		{name: "rate out of range rejected", in: wirePCMU, out: realtime.AudioFormat{Type: realtime.AudioPCM, Rate: 1 << 30}, wantParam: "session.audio.output.format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, url)
			c.send(realtime.UpdateSession(realtime.Session{Audio: &realtime.AudioConfig{
				Input:  &realtime.AudioInput{Format: &tt.in},
				Output: &realtime.AudioOutput{Format: &tt.out},
			}}))
			ev := c.read()
			if tt.wantParam != "" {
				if ev.Type != realtime.ServerError || ev.Error.Param != tt.wantParam {
					t.Fatalf("got %s %+v, want an error event with param %s", ev.Type, ev.Error, tt.wantParam)
				}
				return
			}
			if ev.Type != realtime.ServerSessionUpdated {
				t.Fatalf("got %s %+v, want %s", ev.Type, ev.Error, realtime.ServerSessionUpdated)
			}
			if got := *ev.Session.Audio.Input.Format; got != tt.wantIn {
				t.Errorf("input format = %+v, want %+v", got, tt.wantIn)
			}
			if got := *ev.Session.Audio.Output.Format; got != tt.wantOut {
				t.Errorf("output format = %+v, want %+v", got, tt.wantOut)
			}
		})
	}
}

func TestGreetingInOutputFormat(t *testing.T) {
	url, _ := startServer(t, Config{GreetingLength: time.Second})
	tests := []struct {
		name   string
		wire   realtime.AudioFormat
		format audio.Format
	}{
		{"pcmu", wirePCMU, mulaw8k},
		{"pcm 24 kHz", wirePCM24, pcm24k},
		{"pcm 16 kHz", wirePCM16, pcm16k},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, url)
			c.configure(tt.wire, tt.wire)
			c.send(realtime.CreateResponse())
			r := c.collectResponse()

			if got, want := len(r.audio), tt.format.FrameSize(time.Second); got != want {
				t.Errorf("greeting audio = %d bytes, want %d (1 s of %s)", got, want, tt.format)
			}
			for i, n := range r.deltas {
				if max := tt.format.FrameSize(deltaDuration); n > max {
					t.Errorf("delta %d = %d bytes, want at most %d", i, n, max)
				}
			}
			if r.text != greetingTranscript {
				t.Errorf("transcript = %q, want %q", r.text, greetingTranscript)
			}
			if r.done.Status != realtime.ResponseCompleted {
				t.Errorf("status = %s, want %s", r.done.Status, realtime.ResponseCompleted)
			}
		})
	}
}

func TestEchoesCallerTurn(t *testing.T) {
	url, _ := startServer(t, Config{MinTurn: time.Second, MaxEcho: 2 * time.Second})
	tests := []struct {
		name          string
		inWire        realtime.AudioFormat
		outWire       realtime.AudioFormat
		in, out       audio.Format
		toneFrames    int
		wantEchoAbout time.Duration // audio of the turn, capped by MaxEcho
	}{
		{"pcmu to pcmu", wirePCMU, wirePCMU, mulaw8k, mulaw8k, 60, 1220 * time.Millisecond},
		{"pcm 16 kHz to pcm 24 kHz", wirePCM16, wirePCM24, pcm16k, pcm24k, 60, 1220 * time.Millisecond},
		{"pcmu to pcm 24 kHz", wirePCMU, wirePCM24, mulaw8k, pcm24k, 30, time.Second},
		{"long turn keeps 2 s", wirePCMU, wirePCMU, mulaw8k, mulaw8k, 200, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, url)
			c.configure(tt.inWire, tt.outWire)
			c.speakTurn(tt.in, tt.toneFrames, 20)

			started := c.expect(realtime.ServerInputAudioBufferSpeechStarted)
			if started.AudioStartMS != 0 {
				t.Errorf("speech_started audio_start_ms = %d, want 0", started.AudioStartMS)
			}
			stopped := c.expect(realtime.ServerInputAudioBufferSpeechStopped)
			wantEnd := max(tt.toneFrames*20+20, 1000)
			if stopped.AudioEndMS < wantEnd || stopped.AudioEndMS > wantEnd+20 {
				t.Errorf("speech_stopped audio_end_ms = %d, want %d to %d", stopped.AudioEndMS, wantEnd, wantEnd+20)
			}
			r := c.collectResponse()
			if r.text != echoTranscript {
				t.Errorf("transcript = %q, want %q", r.text, echoTranscript)
			}
			want := tt.out.FrameSize(tt.wantEchoAbout)
			slack := tt.out.FrameSize(20 * time.Millisecond) // resampler delay
			if len(r.audio) < want-slack || len(r.audio) > want+slack {
				t.Errorf("echo = %d bytes, want %d ± %d (%v of %s)", len(r.audio), want, slack, tt.wantEchoAbout, tt.out)
			}
		})
	}
}

func TestSecondResponseRejected(t *testing.T) {
	url, _ := startServer(t, Config{ResponseDelay: time.Hour})
	c := dial(t, url)
	c.send(realtime.CreateResponse())
	created := c.expect(realtime.ServerResponseCreated)

	second := realtime.CreateResponse()
	second.EventID = "create_2"
	c.send(second)
	ev := c.expect(realtime.ServerError)
	if ev.Error.Code != errActiveResponse || ev.Error.EventID != "create_2" {
		t.Errorf("error = %+v, want code %s for event create_2", *ev.Error, errActiveResponse)
	}

	c.send(realtime.CancelResponse(created.Response.ID))
	done := c.expect(realtime.ServerResponseDone)
	if done.Response.Status != realtime.ResponseCancelled {
		t.Errorf("status = %s, want %s", done.Response.Status, realtime.ResponseCancelled)
	}
	if got := done.Response.StatusDetails.Reason; got != cancelReasonClient {
		t.Errorf("reason = %s, want %s", got, cancelReasonClient)
	}

	c.send(realtime.CreateResponse())
	if next := c.expect(realtime.ServerResponseCreated); next.Response.ID == created.Response.ID {
		t.Errorf("new response has the cancelled one's id %s", next.Response.ID)
	}
}

func TestCancelWithoutActiveResponse(t *testing.T) {
	url, _ := startServer(t, Config{})
	c := dial(t, url)
	c.send(realtime.CancelResponse(""))
	ev := c.expect(realtime.ServerError)
	if ev.Error.Code != errCancelNotActive {
		t.Errorf("error code = %s, want %s", ev.Error.Code, errCancelNotActive)
	}
}

func TestBargeInCancelsResponse(t *testing.T) {
	url, _ := startServer(t, Config{ResponseDelay: time.Hour})
	c := dial(t, url)
	c.configure(wirePCMU, wirePCMU)
	c.send(realtime.CreateResponse())
	greetingID := c.expect(realtime.ServerResponseCreated).Response.ID

	c.speakTurn(mulaw8k, 60, 5)
	c.expect(realtime.ServerInputAudioBufferSpeechStarted)
	done := c.expect(realtime.ServerResponseDone)
	if done.Response.ID != greetingID || done.Response.Status != realtime.ResponseCancelled {
		t.Fatalf("response.done = %s %s, want %s cancelled", done.Response.ID, done.Response.Status, greetingID)
	}
	if got := done.Response.StatusDetails.Reason; got != cancelReasonTurnOver {
		t.Errorf("reason = %s, want %s", got, cancelReasonTurnOver)
	}

	c.expect(realtime.ServerInputAudioBufferSpeechStopped)
	echo := c.expect(realtime.ServerResponseCreated)
	c.send(realtime.CancelResponse(echo.Response.ID))
	if done := c.expect(realtime.ServerResponseDone); done.Response.ID != echo.Response.ID {
		t.Errorf("response.done for %s, want the echo %s", done.Response.ID, echo.Response.ID)
	}
}

func TestTruncate(t *testing.T) {
	url, _ := startServer(t, Config{GreetingLength: time.Second})
	c := dial(t, url)
	c.send(realtime.CreateResponse())
	r := c.collectResponse()

	tests := []struct {
		name      string
		ev        realtime.ClientEvent
		wantParam string // empty when the truncate succeeds
	}{
		{name: "within the audio", ev: realtime.Truncate(r.itemID, 0, 400)},
		{name: "at zero", ev: realtime.Truncate(r.itemID, 0, 0)},
		{name: "beyond the audio", ev: realtime.Truncate(r.itemID, 0, 5000), wantParam: "audio_end_ms"},
		{name: "unknown item", ev: realtime.Truncate("item_unknown", 0, 100), wantParam: "item_id"},
		{name: "second content part", ev: realtime.Truncate(r.itemID, 1, 100), wantParam: "content_index"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.send(tt.ev)
			ev := c.read()
			if tt.wantParam != "" {
				if ev.Type != realtime.ServerError || ev.Error.Param != tt.wantParam {
					t.Fatalf("got %s %+v, want an error with param %s", ev.Type, ev.Error, tt.wantParam)
				}
				return
			}
			if ev.Type != realtime.ServerConversationItemTruncated {
				t.Fatalf("got %s %+v, want %s", ev.Type, ev.Error, realtime.ServerConversationItemTruncated)
			}
			if ev.ItemID != tt.ev.ItemID || ev.AudioEndMS != tt.ev.AudioEndMS {
				t.Errorf("truncated %s at %d, want %s at %d", ev.ItemID, ev.AudioEndMS, tt.ev.ItemID, tt.ev.AudioEndMS)
			}
		})
	}
}

func TestCommitWaitsForResponseCreate(t *testing.T) {
	url, _ := startServer(t, Config{MinTurn: time.Second})
	c := dial(t, url)
	no := false
	c.send(realtime.UpdateSession(realtime.Session{Audio: &realtime.AudioConfig{
		Input: &realtime.AudioInput{Format: &wirePCMU, TurnDetection: &realtime.TurnDetection{
			Type: realtime.TurnDetectionServerVAD, CreateResponse: &no,
		}},
		Output: &realtime.AudioOutput{Format: &wirePCMU},
	}}))
	c.expect(realtime.ServerSessionUpdated)

	c.send(realtime.CommitAudio())
	if ev := c.expect(realtime.ServerError); ev.Error.Code != "input_audio_buffer_commit_empty" {
		t.Errorf("empty commit: error code %s, want input_audio_buffer_commit_empty", ev.Error.Code)
	}

	c.speakTurn(mulaw8k, 10, 0)
	c.send(realtime.CommitAudio())
	c.expect(realtime.ServerInputAudioBufferCommitted)
	c.send(realtime.CreateResponse())
	r := c.collectResponse()
	if r.text != echoTranscript {
		t.Errorf("transcript = %q, want the echo %q", r.text, echoTranscript)
	}
	if want := mulaw8k.FrameSize(200 * time.Millisecond); len(r.audio) != want {
		t.Errorf("echo = %d bytes, want %d", len(r.audio), want)
	}
}

func TestMaxConnections(t *testing.T) {
	url, srv := startServer(t, Config{MaxConnections: 1})
	dial(t, url)
	if got := srv.Connections(); got != 1 {
		t.Errorf("Connections() = %d, want 1", got)
	}
	_, err := realtime.Dial(context.Background(), realtime.DialConfig{URL: url})
	var dialErr *realtime.DialError
	if !errors.As(err, &dialErr) || dialErr.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second dial: %v, want HTTP 503", err)
	}
}

func TestServeClosesConnections(t *testing.T) {
	tests := []struct {
		name  string
		reads bool // whether the client reads, and so answers the close handshake
	}{
		{"client reading", true},
		{"client not reading", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatalf("listen: %v", err)
			}
			srv := New(Config{Logger: slog.New(slog.DiscardHandler)})
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ctx, ln) }()

			c := dial(t, "ws://"+ln.Addr().String()+Path)
			readErr := make(chan error, 1)
			if tt.reads {
				go func() {
					for {
						if _, err := c.conn.Read(context.Background()); err != nil {
							readErr <- err
							return
						}
					}
				}()
			}
			cancel()
			if err := <-served; err != nil {
				t.Errorf("Serve = %v, want nil", err)
			}
			if got := srv.Connections(); got != 0 {
				t.Errorf("Connections() after Serve = %d, want 0", got)
			}
			if tt.reads {
				err := <-readErr
				if status := realtime.CloseStatus(err); status != websocket.StatusGoingAway {
					t.Errorf("client read ended with %v (status %d), want status %d", err, status, websocket.StatusGoingAway)
				}
			}
		})
	}
}
