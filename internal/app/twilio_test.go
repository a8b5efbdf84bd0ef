package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/realtime"
	"github.com/voiceorder/voiceorder/internal/realtime/realtimetest"
	"github.com/voiceorder/voiceorder/internal/twilio"
)

// TestTwilioCaptureReachesModel replays a real Media Streams capture and checks that
// every inbound payload reaches the model, in order and unchanged (the model accepts
// audio/pcmu, so μ-law passes through).
func TestTwilioCaptureReachesModel(t *testing.T) {
	lines := readJSONLines(t, filepath.Join(testdataDir(t), "protocol", "twilio-media-stream-inbound.jsonl"))
	var want []byte
	for _, line := range lines {
		m, err := twilio.Decode(line)
		if err != nil {
			t.Fatalf("capture line does not decode: %v", err)
		}
		if m.Event == twilio.EventMedia {
			b, err := base64.StdEncoding.DecodeString(m.Media.Payload)
			if err != nil {
				t.Fatalf("capture payload: %v", err)
			}
			want = append(want, b...)
		}
	}

	received := make(chan []byte, 1)
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		update, err := realtimetest.ReplyToSessionUpdate(ctx, c)
		if err != nil {
			t.Errorf("session.update: %v", err)
			return
		}
		if f := update.Session.Audio.Input.Format; f.Type != realtime.AudioPCMU {
			t.Errorf("input format = %+v, want %s", f, realtime.AudioPCMU)
		}
		var got []byte
		for {
			ev, err := c.Read(ctx)
			if err != nil {
				received <- got
				return
			}
			if ev.Type == realtime.ClientInputAudioBufferAppend {
				b, err := base64.StdEncoding.DecodeString(ev.Audio)
				if err != nil {
					t.Errorf("append audio is not base64: %v", err)
				}
				got = append(got, b...)
			}
		}
	})
	g := startGateway(t, model.URL())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := dialPhone(ctx, t, g, "CAcapture")
	for i, line := range lines {
		if err := p.ws.Write(ctx, 1, line); err != nil {
			t.Fatalf("send capture line %d: %v", i, err)
		}
	}

	select {
	case got := <-received:
		if !bytes.Equal(got, want) {
			t.Errorf("model received %d bytes of audio, want the capture's %d bytes in order", len(got), len(want))
		}
	case <-ctx.Done():
		t.Fatal("the model connection did not end after the capture's stop")
	}
}

// TestTwilioFramesModelAudio checks that audio deltas of odd sizes reach Twilio as
// whole 160-byte frames, with the last partial frame padded with μ-law silence.
func TestTwilioFramesModelAudio(t *testing.T) {
	sizes := []int{37, 1001, 3}
	var chunks [][]byte
	var sent []byte
	for i, n := range sizes {
		chunk := bytes.Repeat([]byte{byte(0x10 + i)}, n)
		chunks = append(chunks, chunk)
		sent = append(sent, chunk...)
	}
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		if _, err := realtimetest.ReplyToSessionUpdate(ctx, c); err != nil {
			return
		}
		if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientResponseCreate); err != nil {
			return
		}
		realtimetest.SendAudioResponse(ctx, c, realtimetest.AudioResponse{
			ResponseID: "resp_1", ItemID: "item_1", Chunks: chunks, Transcript: "hello",
		})
		<-ctx.Done()
	})
	g := startGateway(t, model.URL())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := dialPhone(ctx, t, g, "CAframes")
	p.start(ctx)

	var got []byte
	for {
		m, err := p.read(ctx)
		if err != nil {
			t.Fatalf("read from gateway: %v", err)
		}
		if m.Event == twilio.EventMark {
			break
		}
		if m.Event != twilio.EventMedia {
			continue
		}
		frame, err := base64.StdEncoding.DecodeString(m.Media.Payload)
		if err != nil {
			t.Fatalf("media payload: %v", err)
		}
		if len(frame) != twilio.FrameSize {
			t.Errorf("media frame of %d bytes, want %d", len(frame), twilio.FrameSize)
		}
		got = append(got, frame...)
	}
	wantLen := (len(sent) + twilio.FrameSize - 1) / twilio.FrameSize * twilio.FrameSize
	if len(got) != wantLen {
		t.Fatalf("received %d bytes, want %d", len(got), wantLen)
	}
	if !bytes.Equal(got[:len(sent)], sent) {
		t.Error("audio reached Twilio changed or out of order")
	}
	if pad := got[len(sent):]; !bytes.Equal(pad, bytes.Repeat([]byte{0xFF}, len(pad))) {
		t.Errorf("padding = %x, want μ-law silence 0xff", pad)
	}
	p.stop(ctx)
}

// TestTwilioCallPlacesOrder runs a call through the Twilio transport with a scripted
// model that adds an item and submits the order, then reads the order back.
func TestTwilioCallPlacesOrder(t *testing.T) {
	scripted := make(chan struct{})
	model := realtimetest.NewServer(t, func(ctx context.Context, c *realtimetest.ServerConn) {
		if _, err := realtimetest.ReplyToSessionUpdate(ctx, c); err != nil {
			return
		}
		// The caller speaks: the model adds a large latte with oat milk.
		if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientInputAudioBufferAppend); err != nil {
			return
		}
		steps := []realtimetest.FunctionCall{
			{ResponseID: "resp_1", ItemID: "fc_1", CallID: "call_1", Name: "add_to_order",
				Arguments: `{"item_id":"latte","size":"large","quantity":1,"modifiers":[{"option":"oat milk"}]}`},
			{ResponseID: "resp_2", ItemID: "fc_2", CallID: "call_2", Name: "submit_order", Arguments: `{}`},
		}
		for _, step := range steps {
			if err := realtimetest.SendFunctionCall(ctx, c, step); err != nil {
				return
			}
			out, err := realtimetest.ExpectType(ctx, c, realtime.ClientConversationItemCreate)
			if err != nil {
				return
			}
			var res struct{ Success bool }
			if err := json.Unmarshal([]byte(out.Item.Output), &res); err != nil || !res.Success {
				t.Errorf("%s output = %s, want success", step.Name, out.Item.Output)
			}
			if _, err := realtimetest.ExpectType(ctx, c, realtime.ClientResponseCreate); err != nil {
				return
			}
		}
		// submit_order answers only after the order is stored, so it is readable now.
		close(scripted)
		<-ctx.Done()
	})
	g := startGateway(t, model.URL())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := dialPhone(ctx, t, g, "CAorder")
	p.start(ctx)
	if err := p.sendMedia(ctx, bytes.Repeat([]byte{0xFF}, 160)); err != nil {
		t.Fatal(err)
	}

	var list struct {
		Orders []struct {
			Number string
			Total  int64
			Lines  []struct {
				ItemID string `json:"item_id"`
			}
		}
	}
	select {
	case <-scripted:
	case <-ctx.Done():
		t.Fatal("the scripted model did not finish: the tool loop stalled")
	}
	resp, err := http.Get(g.URL() + "/api/v1/orders?restaurant=corner-cafe")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Orders) != 1 {
		t.Fatalf("stored orders = %d, want 1", len(list.Orders))
	}
	o := list.Orders[0]
	if len(o.Lines) != 1 || o.Lines[0].ItemID != "latte" {
		t.Errorf("order lines = %+v, want one latte", o.Lines)
	}
	if o.Number == "" || o.Total <= 0 {
		t.Errorf("order number %q total %d, want a number and a positive total", o.Number, o.Total)
	}
	p.stop(ctx)
}
