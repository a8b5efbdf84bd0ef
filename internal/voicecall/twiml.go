package voicecall

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

const (
	// incomingCallPath is the gateway's Twilio voice webhook.
	incomingCallPath = "/voice/incoming"
	// maxTwiMLBytes bounds the webhook's response. The gateway's is a few hundred bytes.
	maxTwiMLBytes = 64 << 10
	// maxErrorBodyBytes bounds how much of an error response goes into a message.
	maxErrorBodyBytes = 512
)

// Phone numbers of the simulated call, from the range reserved for fiction.
const (
	callerNumber     = "+15555550100"
	restaurantNumber = "+15555550199"
)

// twiml is the part of a TwiML response the caller acts on.
type twiml struct {
	XMLName xml.Name     `xml:"Response"`
	Say     []string     `xml:"Say"`
	Stream  *twimlStream `xml:"Connect>Stream"`
}

type twimlStream struct {
	URL        string           `xml:"url,attr"`
	Parameters []twimlParameter `xml:"Parameter"`
}

type twimlParameter struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

func (s *twimlStream) parameters() map[string]string {
	params := make(map[string]string, len(s.Parameters))
	for _, p := range s.Parameters {
		params[p.Name] = p.Value
	}
	return params
}

// postIncomingCall sends the webhook request Twilio sends when a call comes in and
// returns the media stream that the TwiML response connects the call to.
func postIncomingCall(ctx context.Context, client *http.Client, server string, ids twilioIDs) (*twimlStream, error) {
	form := url.Values{
		"CallSid":    {ids.call},
		"AccountSid": {ids.account},
		"From":       {callerNumber},
		"To":         {restaurantNumber},
		"CallStatus": {"ringing"},
		"Direction":  {"inbound"},
		"ApiVersion": {"2010-04-01"},
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server+incomingCallPath, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("incoming-call webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("incoming-call webhook: %w", err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("incoming-call webhook %s: %s: %s", req.URL, resp.Status, errorBody(resp.Body))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTwiMLBytes))
	if err != nil {
		return nil, fmt.Errorf("incoming-call webhook: read TwiML: %w", err)
	}
	return parseTwiML(body)
}

// parseTwiML returns the stream of a <Connect><Stream> response. A response without
// one, such as the busy response that speaks a message and hangs up, is an error that
// quotes the message.
func parseTwiML(body []byte) (*twimlStream, error) {
	var t twiml
	if err := xml.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("incoming-call webhook: invalid TwiML: %w", err)
	}
	if t.Stream == nil || t.Stream.URL == "" {
		if len(t.Say) > 0 {
			return nil, fmt.Errorf("incoming-call webhook: the gateway did not connect the call; it said %q", strings.Join(t.Say, " "))
		}
		return nil, fmt.Errorf("incoming-call webhook: the TwiML has no <Connect><Stream url=...>")
	}
	return t.Stream, nil
}

// streamDialURL returns the URL to dial for the TwiML's stream: its path and query on
// the server's host. A gateway behind a proxy names its public host in the TwiML,
// which this caller, talking to the gateway directly, must not use.
func streamDialURL(server, stream string) (string, error) {
	s, err := url.Parse(stream)
	if err != nil {
		return "", fmt.Errorf("incoming-call webhook: invalid stream URL %q: %w", stream, err)
	}
	if s.Scheme != "ws" && s.Scheme != "wss" {
		return "", fmt.Errorf("incoming-call webhook: stream URL %q is not ws:// or wss://", stream)
	}
	pathAndQuery := s.EscapedPath()
	if s.RawQuery != "" {
		pathAndQuery += "?" + s.RawQuery
	}
	return webSocketURL(server, pathAndQuery)
}

// errorBody returns the start of an error response's body for a message.
func errorBody(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxErrorBodyBytes)) // a partial body still explains
	return strings.TrimSpace(string(b))
}

// drainClose reads what is left of a response body, up to a bound, and closes it,
// so the connection can be reused.
func drainClose(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, maxTwiMLBytes))
	body.Close()
}
