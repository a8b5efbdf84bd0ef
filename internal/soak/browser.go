package soak

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"
)

// browserPath is the gateway's browser voice WebSocket.
const browserPath = "/voice-stream"

// Browser protocol messages the caller sends and handles.
const (
	browserSessionStart   = "session.start"
	browserSessionStarted = "session.started"
	browserSessionStop    = "session.stop"
	browserAudio          = "audio"
	browserAudioDone      = "audio.done"
	browserError          = "error"
)

// The encoding of an audio message is written by hand because a call sends
// fifty a second.
const (
	browserAudioPrefix = `{"type":"audio","audio":"`
	browserAudioSuffix = `"}`
)

type browserFormatMessage struct {
	Format string `json:"format"`
	Rate   int    `json:"rate"`
}

type browserStartMessage struct {
	Type       string               `json:"type"`
	Restaurant string               `json:"restaurant,omitempty"`
	Format     browserFormatMessage `json:"format"`
}

// browserServerMessage holds the fields of a gateway message that the caller
// uses; audio payloads are not decoded.
type browserServerMessage struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// browserLeg is a call over the browser voice WebSocket.
type browserLeg struct {
	ws         *websocket.Conn
	restaurant string
	buf        []byte // encoding scratch, used by the script only
}

func dialBrowser(ctx context.Context, client *http.Client, base *url.URL, restaurant string) (*browserLeg, error) {
	ws, _, err := websocket.Dial(ctx, webSocketURL(base, browserPath, ""), &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", browserPath, err)
	}
	ws.SetReadLimit(maxMessageBytes)
	return &browserLeg{ws: ws, restaurant: restaurant}, nil
}

func (b *browserLeg) begin(ctx context.Context) error {
	msg, err := json.Marshal(browserStartMessage{
		Type:       browserSessionStart,
		Restaurant: b.restaurant,
		Format:     browserFormatMessage{Format: "pcm16", Rate: browserFormat.Rate},
	})
	if err != nil {
		return fmt.Errorf("encode session.start: %w", err)
	}
	return b.write(ctx, msg)
}

func (b *browserLeg) send(ctx context.Context, frame []byte) error {
	b.buf = append(b.buf[:0], browserAudioPrefix...)
	b.buf = base64.StdEncoding.AppendEncode(b.buf, frame)
	b.buf = append(b.buf, browserAudioSuffix...)
	return b.write(ctx, b.buf)
}

func (b *browserLeg) hangUp(ctx context.Context) error {
	return b.write(ctx, []byte(`{"type":"`+browserSessionStop+`"}`))
}

func (b *browserLeg) write(ctx context.Context, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return b.ws.Write(ctx, websocket.MessageText, msg)
}

func (b *browserLeg) read(ctx context.Context, st *callState) {
	for {
		_, data, err := b.ws.Read(ctx)
		if err != nil {
			st.onClosed(closeError(err))
			return
		}
		now := time.Now()
		var msg browserServerMessage
		if err := json.Unmarshal(data, &msg); err != nil {
			st.onGatewayError("invalid_message", "message is not valid JSON: "+err.Error())
			continue
		}
		switch msg.Type {
		case browserSessionStarted:
			st.onReady(now)
		case browserAudio:
			st.onAudio(now)
		case browserAudioDone:
			st.onAudioEnd()
		case browserError:
			st.onGatewayError(msg.Code, msg.Message)
		}
	}
}

func (b *browserLeg) closeNow() {
	b.ws.CloseNow() // the error of a second call carries nothing new
}

// webSocketURL returns the WebSocket URL of path and query on the host of
// base: ws for http and wss for https.
func webSocketURL(base *url.URL, path, rawQuery string) string {
	u := *base
	u.Scheme = "ws"
	if base.Scheme == "https" {
		u.Scheme = "wss"
	}
	u.Path = path
	u.RawPath = ""
	u.RawQuery = rawQuery
	return u.String()
}
