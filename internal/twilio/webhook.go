package twilio

import (
	"encoding/xml"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxWebhookBytes bounds the webhook's form body; Twilio's are a few kilobytes.
const maxWebhookBytes = 64 << 10

// Webhook answers Twilio's incoming-call request with TwiML that connects the call to
// the media stream.
type Webhook struct {
	// AuthToken, when set, makes the webhook reject requests whose X-Twilio-Signature
	// does not match, with 403.
	AuthToken string
	// PublicURL is the base URL Twilio used (https://host); empty derives it from the
	// request's Host and X-Forwarded-Proto.
	PublicURL string
	// StreamPath is the path of the media stream WebSocket.
	StreamPath   string
	RestaurantID string
	// Busy, when set and true, makes the webhook answer that the line is busy instead
	// of connecting the call.
	Busy func() bool
	// Incoming, when set, is called with the CallSid of every call the webhook
	// connects, before the TwiML is written. session.Starter.Predial starts dialing
	// the model there, so the greeting is ready when the media stream arrives. It must
	// not block.
	Incoming func(callSID string)
	Logger   *slog.Logger
}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid form body", http.StatusBadRequest)
		return
	}
	base := h.baseURL(r)
	if h.AuthToken != "" {
		full := base + r.URL.RequestURI()
		if !ValidSignature(h.AuthToken, full, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
			h.Logger.Warn("rejected webhook with an invalid signature", "url", full, "call_sid", r.PostForm.Get("CallSid"))
			http.Error(w, "invalid X-Twilio-Signature", http.StatusForbidden)
			return
		}
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if h.Busy != nil && h.Busy() {
		h.Logger.Warn("incoming call turned away: too many conversations", "call_sid", r.PostForm.Get("CallSid"))
		w.Write(BusyTwiML("Sorry, all our lines are busy right now. Please call again in a few minutes."))
		return
	}
	callSID := r.PostForm.Get("CallSid")
	h.Logger.Info("incoming call", "call_sid", callSID)
	if h.Incoming != nil && callSID != "" {
		h.Incoming(callSID)
	}
	w.Write(ConnectTwiML(streamURL(base, h.StreamPath), map[string]string{"restaurant": h.RestaurantID}))
}

func (h *Webhook) baseURL(r *http.Request) string {
	if h.PublicURL != "" {
		return strings.TrimSuffix(h.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func streamURL(base, path string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base + path
	}
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	return u.String()
}

// ConnectTwiML returns TwiML that connects the call to a bidirectional media stream
// at streamURL, passing params as custom parameters of the start message.
func ConnectTwiML(streamURL string, params map[string]string) []byte {
	type parameter struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	type stream struct {
		URL        string      `xml:"url,attr"`
		Parameters []parameter `xml:"Parameter"`
	}
	type response struct {
		XMLName xml.Name `xml:"Response"`
		Stream  stream   `xml:"Connect>Stream"`
	}
	resp := response{Stream: stream{URL: streamURL}}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		resp.Stream.Parameters = append(resp.Stream.Parameters, parameter{k, params[k]})
	}
	out, _ := xml.Marshal(resp) // these types always marshal
	return append([]byte(xml.Header), out...)
}

// BusyTwiML returns TwiML that tells the caller the line is busy and hangs up.
func BusyTwiML(message string) []byte {
	type response struct {
		XMLName xml.Name `xml:"Response"`
		Say     string   `xml:"Say"`
		Hangup  struct{} `xml:"Hangup"`
	}
	out, _ := xml.Marshal(response{Say: message})
	return append([]byte(xml.Header), out...)
}
