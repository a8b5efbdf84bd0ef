package soak

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// webhookPath is the gateway's incoming-call webhook.
const webhookPath = "/voice/incoming"

// maxTwiMLBytes bounds the webhook response that the caller reads.
const maxTwiMLBytes = 64 << 10

// twimlResponse is the part of the webhook's TwiML that the caller uses.
type twimlResponse struct {
	Stream struct {
		URL        string `xml:"url,attr"`
		Parameters []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"Parameter"`
	} `xml:"Connect>Stream"`
}

// Media Streams messages in the shape Twilio sends them.
type (
	twilioMessage struct {
		Event          string       `json:"event"`
		SequenceNumber string       `json:"sequenceNumber,omitempty"`
		StreamSID      string       `json:"streamSid,omitempty"`
		Protocol       string       `json:"protocol,omitempty"`
		Version        string       `json:"version,omitempty"`
		Start          *twilioStart `json:"start,omitempty"`
		Mark           *twilioMark  `json:"mark,omitempty"`
		Stop           *twilioStop  `json:"stop,omitempty"`
	}
	twilioStart struct {
		AccountSID       string            `json:"accountSid"`
		StreamSID        string            `json:"streamSid"`
		CallSID          string            `json:"callSid"`
		Tracks           []string          `json:"tracks"`
		CustomParameters map[string]string `json:"customParameters"`
		MediaFormat      twilioMediaFormat `json:"mediaFormat"`
	}
	twilioMediaFormat struct {
		Encoding   string `json:"encoding"`
		SampleRate int    `json:"sampleRate"`
		Channels   int    `json:"channels"`
	}
	twilioMark struct {
		Name string `json:"name"`
	}
	twilioStop struct {
		AccountSID string `json:"accountSid"`
		CallSID    string `json:"callSid"`
	}
)

// twilioLeg is a call over the Twilio webhook and Media Streams, playing
// Twilio's part.
type twilioLeg struct {
	ws         *websocket.Conn
	accountSID string
	callSID    string
	streamSID  string
	params     map[string]string

	seq atomic.Int64 // sequence numbers; the reader sends marks too

	// Used by the script only.
	chunks int
	buf    []byte
}

// dialTwilio posts the incoming-call webhook and connects to the stream its
// TwiML names, on the host of base whatever host the TwiML names.
func dialTwilio(ctx context.Context, client *http.Client, base *url.URL) (*twilioLeg, error) {
	t := &twilioLeg{accountSID: newSID("AC"), callSID: newSID("CA"), streamSID: newSID("MZ")}
	streamURL, err := t.postWebhook(ctx, client, base)
	if err != nil {
		return nil, err
	}
	ws, _, err := websocket.Dial(ctx, streamURL, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		return nil, fmt.Errorf("dial media stream: %w", err)
	}
	ws.SetReadLimit(maxMessageBytes)
	t.ws = ws
	return t, nil
}

func (t *twilioLeg) postWebhook(ctx context.Context, client *http.Client, base *url.URL) (string, error) {
	form := url.Values{
		"AccountSid": {t.accountSID}, "CallSid": {t.callSID}, "CallStatus": {"ringing"},
		"Direction": {"inbound"}, "From": {"+15005550006"}, "To": {"+15005550001"},
	}
	u := *base
	u.Path = webhookPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("post webhook: %w", err)
	}
	body, err := readAndClose(resp.Body, maxTwiMLBytes)
	if err != nil {
		return "", fmt.Errorf("read webhook response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("webhook returned HTTP %d: %s", resp.StatusCode, firstLine(body))
	}

	var twiml twimlResponse
	if err := xml.Unmarshal(body, &twiml); err != nil {
		return "", fmt.Errorf("webhook response is not TwiML: %w", err)
	}
	if twiml.Stream.URL == "" {
		return "", fmt.Errorf("webhook TwiML has no <Connect><Stream url>: %s", firstLine(body))
	}
	stream, err := url.Parse(twiml.Stream.URL)
	if err != nil {
		return "", fmt.Errorf("webhook TwiML stream URL: %w", err)
	}
	t.params = make(map[string]string, len(twiml.Stream.Parameters))
	for _, p := range twiml.Stream.Parameters {
		t.params[p.Name] = p.Value
	}
	return webSocketURL(base, stream.Path, stream.RawQuery), nil
}

func (t *twilioLeg) begin(ctx context.Context) error {
	connected := twilioMessage{Event: "connected", Protocol: "Call", Version: "1.0.0"}
	start := twilioMessage{
		Event: "start", SequenceNumber: t.nextSeq(), StreamSID: t.streamSID,
		Start: &twilioStart{
			AccountSID: t.accountSID, StreamSID: t.streamSID, CallSID: t.callSID,
			Tracks: []string{"inbound"}, CustomParameters: t.params,
			MediaFormat: twilioMediaFormat{Encoding: "audio/x-mulaw", SampleRate: twilioFormat.Rate, Channels: 1},
		},
	}
	if err := t.writeJSON(ctx, connected); err != nil {
		return err
	}
	return t.writeJSON(ctx, start)
}

// send sends one media message; its encoding is written by hand because a
// call sends fifty a second.
func (t *twilioLeg) send(ctx context.Context, frame []byte) error {
	t.chunks++
	timestamp := (time.Duration(t.chunks-1) * frameDuration).Milliseconds()
	b := append(t.buf[:0], `{"event":"media","sequenceNumber":"`...)
	b = strconv.AppendInt(b, t.seq.Add(1), 10)
	b = append(b, `","streamSid":"`...)
	b = append(b, t.streamSID...)
	b = append(b, `","media":{"track":"inbound","chunk":"`...)
	b = strconv.AppendInt(b, int64(t.chunks), 10)
	b = append(b, `","timestamp":"`...)
	b = strconv.AppendInt(b, timestamp, 10)
	b = append(b, `","payload":"`...)
	b = base64.StdEncoding.AppendEncode(b, frame)
	b = append(b, `"}}`...)
	t.buf = b
	return t.write(ctx, b)
}

func (t *twilioLeg) hangUp(ctx context.Context) error {
	return t.writeJSON(ctx, twilioMessage{
		Event: "stop", SequenceNumber: t.nextSeq(), StreamSID: t.streamSID,
		Stop: &twilioStop{AccountSID: t.accountSID, CallSID: t.callSID},
	})
}

// read handles the gateway's messages. Each mark is echoed at once, as
// Twilio does once the audio before it has played; the caller plays nothing,
// so all of it has.
func (t *twilioLeg) read(ctx context.Context, st *callState) {
	for {
		_, data, err := t.ws.Read(ctx)
		if err != nil {
			st.onClosed(closeError(err))
			return
		}
		now := time.Now()
		var msg twilioMessage
		if err := json.Unmarshal(data, &msg); err != nil {
			st.onGatewayError("invalid_message", "message is not valid JSON: "+err.Error())
			continue
		}
		switch msg.Event {
		case "media":
			st.onAudio(now)
		case "mark":
			if msg.Mark != nil {
				// A failed echo means the socket is closing; the next read reports it.
				_ = t.writeJSON(ctx, twilioMessage{Event: "mark", SequenceNumber: t.nextSeq(), StreamSID: t.streamSID, Mark: msg.Mark})
			}
			st.onAudioEnd()
		}
	}
}

func (t *twilioLeg) closeNow() {
	t.ws.CloseNow() // the error of a second call carries nothing new
}

func (t *twilioLeg) nextSeq() string {
	return strconv.FormatInt(t.seq.Add(1), 10)
}

func (t *twilioLeg) writeJSON(ctx context.Context, m twilioMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.Event, err)
	}
	return t.write(ctx, b)
}

func (t *twilioLeg) write(ctx context.Context, b []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return t.ws.Write(ctx, websocket.MessageText, b)
}

// newSID returns a Twilio-style id: the prefix and 32 random hex digits.
func newSID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return prefix + hex.EncodeToString(b[:])
}

// readAndClose reads at most limit bytes of body, drains what is left so the
// connection can be reused, and closes it.
func readAndClose(body io.ReadCloser, limit int64) ([]byte, error) {
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, limit))
	// Draining is best effort; a body left unread only costs the connection.
	_, _ = io.Copy(io.Discard, io.LimitReader(body, limit))
	return b, err
}

// firstLine returns the first line of b, shortened, for an error message.
func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
