package soak

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ending is the way a call ends.
type Ending string

// The endings a soak mixes.
const (
	// EndNormal speaks the clip, waits for the assistant's reply to end and
	// hangs up with session.stop or a Twilio stop.
	EndNormal Ending = "normal"
	// EndAbrupt speaks half the clip and drops the TCP connection without a
	// close handshake.
	EndAbrupt Ending = "abrupt"
	// EndSpeaking hangs up as soon as the assistant's first audio arrives.
	EndSpeaking Ending = "speaking"
	// EndDial sends the start message and drops the connection at once,
	// while the gateway dials the model.
	EndDial Ending = "dial"
)

// Endings lists every Ending in report order.
var Endings = []Ending{EndNormal, EndAbrupt, EndSpeaking, EndDial}

// Transport is the caller protocol of a call.
type Transport string

// Transports a soak can use.
const (
	TransportBrowser Transport = "browser"
	TransportTwilio  Transport = "twilio"
)

// Mix weighs the endings: with weights normal=4 and dial=1, four calls in
// five end normally. Calls follow the weights in a fixed interleaved order,
// so any run of calls as long as the weights' sum has the exact proportions.
type Mix map[Ending]int

// DefaultMix is the mix of `voiceorder soak` without -mix.
func DefaultMix() Mix {
	return Mix{EndNormal: 4, EndAbrupt: 2, EndSpeaking: 2, EndDial: 1}
}

// ParseMix parses "normal=4,abrupt=2,speaking=2,dial=1". Endings left out
// get weight zero.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, weight, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("invalid mix entry %q: use ending=weight, such as normal=4", part)
		}
		ending := Ending(strings.TrimSpace(name))
		if !slices.Contains(Endings, ending) {
			return nil, fmt.Errorf("invalid mix entry %q: unknown ending %q; use normal, abrupt, speaking or dial", part, ending)
		}
		n, err := strconv.Atoi(strings.TrimSpace(weight))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid mix entry %q: the weight must be a whole number of at least 0", part)
		}
		m[ending] = n
	}
	return m, m.validate()
}

func (m Mix) validate() error {
	total := 0
	for ending, w := range m {
		if !slices.Contains(Endings, ending) {
			return fmt.Errorf("invalid mix: unknown ending %q", ending)
		}
		if w < 0 {
			return fmt.Errorf("invalid mix: negative weight %d for %s", w, ending)
		}
		total += w
	}
	if total == 0 {
		return errors.New("invalid mix: every weight is zero; give at least one ending a weight above 0")
	}
	return nil
}

// String returns the mix in the form ParseMix reads.
func (m Mix) String() string {
	var parts []string
	for _, e := range Endings {
		if m[e] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", e, m[e]))
		}
	}
	return strings.Join(parts, ",")
}

// ParseTransports parses "browser", "twilio" or "both".
func ParseTransports(s string) ([]Transport, error) {
	switch s {
	case "browser":
		return []Transport{TransportBrowser}, nil
	case "twilio":
		return []Transport{TransportTwilio}, nil
	case "both":
		return []Transport{TransportBrowser, TransportTwilio}, nil
	}
	return nil, fmt.Errorf("invalid transport %q: use browser, twilio or both", s)
}

// Margins are how far a figure may end above its value before the calls and
// still pass. Zero fields allow no growth at all; DefaultMargins returns the
// margins of `voiceorder soak`.
type Margins struct {
	// Goroutines is an allowed increase in goroutines.
	Goroutines int
	// GoroutinePercent is an allowed increase in percent of the value
	// before; the larger of the two allowances applies.
	GoroutinePercent float64
	// HeapPercent is the allowed increase of heap in use, in percent.
	HeapPercent float64
	// HeapBytes is an allowed increase of heap in use in bytes, which
	// applies when it is larger than HeapPercent of the value before.
	HeapBytes int64
	// OpenFDs is the allowed increase in open file descriptors.
	OpenFDs int
}

// DefaultMargins returns the margins of `voiceorder soak`. The heap margin
// is loose because heap in use after a collection still holds pools and
// caches that vary from one collection to the next.
func DefaultMargins() Margins {
	return Margins{Goroutines: 5, HeapPercent: 25, HeapBytes: 2 << 20, OpenFDs: 5}
}

// Defaults for the zero values of Config.
const (
	DefaultConcurrency       = 10
	DefaultTurnTimeout       = 15 * time.Second
	DefaultCallTimeout       = 2 * time.Minute
	DefaultSettleTimeout     = 30 * time.Second
	DefaultProgressInterval  = 5 * time.Second
	DefaultMaxFailurePercent = 1.0
)

// Config configures Run.
type Config struct {
	// Server is the gateway's base URL, such as http://127.0.0.1:8080.
	// Required.
	Server string
	// AdminURL is the gateway's admin listener, such as
	// http://127.0.0.1:8081, to which Run sends a garbage collection request
	// before each baseline scrape. Empty skips the collection, which makes
	// the heap figures noisier.
	AdminURL string
	// Restaurant is sent in the browser's session.start; empty leaves the
	// gateway's default.
	Restaurant string

	// Calls is how many calls to place. Zero means no limit; then Duration
	// must be set. Run stops starting calls at whichever limit comes first.
	Calls int
	// Warmup is a number of calls placed before the first scrape and
	// reported apart, so that caches the calls fill up to a bound (such as
	// the gateway's record of recent conversations) are full in the
	// baseline too. Default 0.
	Warmup int
	// Concurrency bounds the calls in progress. Default DefaultConcurrency.
	Concurrency int
	// Duration stops starting new calls once it has passed. Zero means no
	// limit; then Calls must be set.
	Duration time.Duration
	// Mix weighs the endings. Default DefaultMix().
	Mix Mix
	// Transports are used in turn, call by call. Default browser and twilio.
	Transports []Transport
	// Speed is the pacing factor of the caller's 20 ms frames: 1 sends in
	// real time, 10 ten times as fast. Large values make churn. Default 1.
	Speed float64
	// CallAudio is the caller's audio: a WAV file (PCM16 or μ-law, any
	// rate). Empty uses a built-in clip of a 1.5 s tone.
	CallAudio string

	// Margins are the allowances of the baseline checks, used as they are.
	Margins Margins
	// MaxFailurePercent is the share of failed calls, in percent, above
	// which Report.OK is false. Default DefaultMaxFailurePercent; a negative
	// value tolerates no failure.
	MaxFailurePercent float64

	// TurnTimeout bounds each wait for the gateway during a call: for the
	// session to start, for the greeting, for the reply. Default
	// DefaultTurnTimeout.
	TurnTimeout time.Duration
	// CallTimeout bounds a whole call. Default DefaultCallTimeout.
	CallTimeout time.Duration
	// SettleTimeout bounds the wait after the calls for the gateway's
	// sessions to end and its figures to come back. Default
	// DefaultSettleTimeout.
	SettleTimeout time.Duration
	// ProgressInterval is the time between progress lines. Default
	// DefaultProgressInterval.
	ProgressInterval time.Duration
	// Progress receives a line every ProgressInterval; nil prints none.
	Progress io.Writer
	// HTTPClient performs the webhook, metric and admin requests and the
	// WebSocket handshakes. Default: a client of its own, whose idle
	// connections Run closes before it returns.
	HTTPClient *http.Client
}

func (c Config) withDefaults() (Config, error) {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Mix == nil {
		c.Mix = DefaultMix()
	}
	if len(c.Transports) == 0 {
		c.Transports = []Transport{TransportBrowser, TransportTwilio}
	}
	if c.Speed == 0 {
		c.Speed = 1
	}
	if c.MaxFailurePercent == 0 {
		c.MaxFailurePercent = DefaultMaxFailurePercent
	}
	if c.TurnTimeout <= 0 {
		c.TurnTimeout = DefaultTurnTimeout
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.SettleTimeout <= 0 {
		c.SettleTimeout = DefaultSettleTimeout
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = DefaultProgressInterval
	}
	return c, c.validate()
}

func (c Config) validate() error {
	if err := checkBaseURL("server", c.Server); err != nil {
		return err
	}
	if c.AdminURL != "" {
		if err := checkBaseURL("admin", c.AdminURL); err != nil {
			return err
		}
	}
	if c.Calls < 0 {
		return fmt.Errorf("invalid number of calls %d: must be at least 0", c.Calls)
	}
	if c.Warmup < 0 {
		return fmt.Errorf("invalid number of warm-up calls %d: must be at least 0", c.Warmup)
	}
	if c.Calls == 0 && c.Duration <= 0 {
		return errors.New("set a number of calls or a duration, or both")
	}
	if c.Speed < 0 {
		return fmt.Errorf("invalid speed %g: must be above 0", c.Speed)
	}
	for _, t := range c.Transports {
		if t != TransportBrowser && t != TransportTwilio {
			return fmt.Errorf("invalid transport %q: use browser or twilio", t)
		}
	}
	return c.Mix.validate()
}

func checkBaseURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid %s URL %q: %w", name, raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid %s URL %q: use http://host:port or https://host:port", name, raw)
	}
	return nil
}

// schedule returns the ending of each call in turn by smooth weighted round
// robin: over any stretch of calls as long as the weights' sum, each ending
// occurs exactly its weight's number of times, spread out rather than
// bunched.
type schedule struct {
	endings []Ending
	weights []int
	current []int
	total   int
}

func newSchedule(m Mix) *schedule {
	s := &schedule{}
	for _, e := range Endings {
		if w := m[e]; w > 0 {
			s.endings = append(s.endings, e)
			s.weights = append(s.weights, w)
			s.total += w
		}
	}
	s.current = make([]int, len(s.endings))
	return s
}

func (s *schedule) next() Ending {
	best := 0
	for i, w := range s.weights {
		s.current[i] += w
		if s.current[i] > s.current[best] {
			best = i
		}
	}
	s.current[best] -= s.total
	return s.endings[best]
}
