package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Signature computes X-Twilio-Signature for a form POST: base64 of HMAC-SHA1, keyed by
// the account's auth token, over the full request URL followed by each form parameter
// name and value, sorted by name.
func Signature(authToken, fullURL string, form url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		values := append([]string(nil), form[k]...)
		sort.Strings(values)
		for _, v := range values {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports whether signature matches the request, in constant time.
func ValidSignature(authToken, fullURL string, form url.Values, signature string) bool {
	want := Signature(authToken, fullURL, form)
	return hmac.Equal([]byte(want), []byte(signature))
}
