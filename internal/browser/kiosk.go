package browser

import (
	_ "embed"
	"net/http"
)

//go:embed kiosk/index.html
var kioskPage []byte

// Kiosk serves the embedded kiosk page: it records the microphone at 16 kHz, streams
// it over /voice-stream and plays the assistant's audio. Browsers allow microphone
// access only on https:// pages or on localhost.
var Kiosk http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(kioskPage)
})
