package voicecall

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Transports a call can use.
const (
	TransportBrowser = "browser"
	TransportTwilio  = "twilio"
)

// Defaults of Options.
const (
	DefaultTurnTimeout = 30 * time.Second
	maxSpeed           = 1000
)

// Turn is one thing the caller says: the audio of a WAV file, or Text synthesized
// with espeak-ng. Exactly one of File and Text is set.
type Turn struct {
	File string
	Text string
}

// FileTurn returns a turn that plays the WAV file at path.
func FileTurn(path string) Turn { return Turn{File: path} }

// SpeechTurn returns a turn that speaks text with espeak-ng.
func SpeechTurn(text string) Turn { return Turn{Text: text} }

// String returns the file name or the quoted text, for logs and errors.
func (t Turn) String() string {
	if t.File != "" {
		return t.File
	}
	return fmt.Sprintf("%q", t.Text)
}

// Options configure one call.
type Options struct {
	// Server is the gateway's base URL, such as http://127.0.0.1:8080.
	Server string
	// Transport is TransportBrowser (the default) or TransportTwilio.
	Transport string
	// Speed scales pacing and simulated playback: 1 (the default) is real time, and
	// frames are sent every 20 ms / Speed. It must be above 0 and at most 1000.
	Speed float64
	// Turns are spoken in order, each after the assistant's previous turn has ended.
	// With none, the call waits for the greeting and hangs up.
	Turns []Turn
	// SaveAudio, when set, is a WAV file path that receives the assistant's audio as
	// mono PCM16 (16 kHz for the browser, 8 kHz for Twilio), streamed to disk.
	SaveAudio string
	// TurnTimeout bounds the wait for each of the assistant's replies to finish
	// arriving, counted from the end of the caller's speech. Default 30 s.
	TurnTimeout time.Duration
	// HTTPClient makes the webhook and record requests and the WebSocket dials;
	// nil uses a private client whose idle connections are closed at the end.
	HTTPClient *http.Client
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Out receives the conversation, one line per turn and tool call; nil prints
	// nothing. The browser transport prints each line as its event arrives. Media
	// Streams carry no transcripts, so the Twilio transport prints the lines of the
	// call record after hang-up.
	Out io.Writer
}

// Validate reports every invalid option at once, as Call would.
func (o Options) Validate() error {
	_, err := o.withDefaults()
	return err
}

// withDefaults fills unset fields and validates the rest.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	u, err := url.Parse(o.Server)
	switch {
	case o.Server == "":
		errs = append(errs, errors.New("server: missing; use the gateway's base URL such as http://127.0.0.1:8080"))
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs = append(errs, fmt.Errorf("server: invalid URL %q; use http:// or https:// with a host", o.Server))
	}
	o.Server = strings.TrimSuffix(o.Server, "/")

	if o.Transport == "" {
		o.Transport = TransportBrowser
	}
	if o.Transport != TransportBrowser && o.Transport != TransportTwilio {
		errs = append(errs, fmt.Errorf("transport: invalid value %q; use %s or %s", o.Transport, TransportBrowser, TransportTwilio))
	}
	if o.Speed == 0 {
		o.Speed = 1
	}
	if !(o.Speed > 0 && o.Speed <= maxSpeed) {
		errs = append(errs, fmt.Errorf("speed: %g is out of range; use a number above 0 and at most %d", o.Speed, maxSpeed))
	}
	if o.TurnTimeout == 0 {
		o.TurnTimeout = DefaultTurnTimeout
	}
	if o.TurnTimeout < 0 {
		errs = append(errs, fmt.Errorf("turn timeout: %s is negative", o.TurnTimeout))
	}
	for i, t := range o.Turns {
		if (t.File == "") == (t.Text == "") {
			errs = append(errs, fmt.Errorf("turn %d: set exactly one of File and Text", i+1))
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, errors.Join(errs...)
}

// scaled returns d of simulated time as wall-clock time at the call's speed.
func (o *Options) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / o.Speed)
}
