package twilio

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSignatureKnownVector(t *testing.T) {
	// The example request of Twilio's webhook security guide and helper libraries.
	form := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
	got := Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form)
	if want := "RSOYDt4T1cUTdK1PDd93/VVr8B8="; got != want {
		t.Errorf("Signature() = %q, want %q", got, want)
	}
}

func newWebhook(token string) *Webhook {
	return &Webhook{
		AuthToken: token, PublicURL: "https://voice.example.com", StreamPath: "/voice/stream",
		RestaurantID: "corner-cafe", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func postWebhook(t *testing.T, h http.Handler, form url.Values, signature string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/voice/incoming", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		r.Header.Set("X-Twilio-Signature", signature)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestWebhookSignature(t *testing.T) {
	form := url.Values{"CallSid": {"CA0001"}, "From": {"+15550100"}}
	valid := Signature("secret", "https://voice.example.com/voice/incoming", form)
	tests := []struct {
		name      string
		token     string
		signature string
		want      int
	}{
		{"valid signature", "secret", valid, http.StatusOK},
		{"wrong signature", "secret", "AAAA", http.StatusForbidden},
		{"missing signature", "secret", "", http.StatusForbidden},
		{"validation off without token", "", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := postWebhook(t, newWebhook(tt.token), form, tt.signature)
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d (body %q)", w.Code, tt.want, w.Body.String())
			}
		})
	}
}

func TestWebhookTwiML(t *testing.T) {
	w := postWebhook(t, newWebhook(""), url.Values{"CallSid": {"CA0001"}}, "")
	body := w.Body.String()
	for _, want := range []string{
		`<Connect><Stream url="wss://voice.example.com/voice/stream">`,
		`<Parameter name="restaurant" value="corner-cafe"></Parameter>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("TwiML %q does not contain %q", body, want)
		}
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Errorf("Content-Type = %q, want text/xml", ct)
	}
}

func TestWebhookRejectsGet(t *testing.T) {
	w := httptest.NewRecorder()
	newWebhook("").ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/voice/incoming", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("status = %d, want %d", w.Code, http.StatusMethodNotAllowed)
	}
}
