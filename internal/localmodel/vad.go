package localmodel

import (
	"math"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
)

// VAD defaults, matching the server_vad defaults of the OpenAI Realtime API where
// it has them.
const (
	DefaultVADThreshold    = 0.5
	DefaultPrefixPadding   = 300 * time.Millisecond
	DefaultSilenceDuration = 500 * time.Millisecond
	DefaultMaxUtterance    = 15 * time.Second
	DefaultMinSpeech       = 150 * time.Millisecond
)

const (
	vadFrameSamples = SampleRate / 100 // 10 ms frames
	vadFrameMS      = 10
	// vadMinLevelDB is the level of the quietest frame that can start speech,
	// whatever the noise floor. -50 dBFS is well below conversational speech
	// (about -30 dBFS RMS in the recorded orders) and above the hiss of a quiet
	// line.
	vadMinLevelDB = -50.0
	// vadHysteresisDB lowers the level that keeps speech going below the level
	// that starts it, so that soft word endings do not end the utterance.
	vadHysteresisDB = 4.0
	// vadMaxGapFrames is how many quiet frames a speech start may contain before
	// it is dropped as a click.
	vadMaxGapFrames = 3
	// Noise floor tracking: it falls fast and rises slowly (time constants of
	// about 50 ms and 1 s), so speech barely lifts it but a louder room does.
	vadFloorFall  = 0.2
	vadFloorRise  = 0.01
	vadFloorStart = -70.0
	// vadFloorFirst caps the floor taken from the first frame: about the level of a
	// quiet room, 20 dB under conversational speech.
	vadFloorFirst = -50.0
	vadFloorMin   = -90.0
	vadFloorMax   = -25.0
)

// VADConfig sets the voice activity detector; zero fields take the defaults.
type VADConfig struct {
	// Threshold is turn_detection.threshold, from 0 to 1: a frame is speech when
	// it is 20×Threshold dB (at least 3 dB) above the noise floor.
	Threshold float64
	// PrefixPadding is audio kept before the detected start of speech.
	PrefixPadding time.Duration
	// SilenceDuration is how long speech must stay quiet to end.
	SilenceDuration time.Duration
	// MaxUtterance ends an utterance that runs this long.
	MaxUtterance time.Duration
	// MinSpeech is the speech a start needs before it counts, so that clicks
	// and pops start nothing.
	MinSpeech time.Duration
}

func (c VADConfig) withDefaults() VADConfig {
	if c.Threshold <= 0 || c.Threshold > 1 {
		c.Threshold = DefaultVADThreshold
	}
	if c.PrefixPadding <= 0 {
		c.PrefixPadding = DefaultPrefixPadding
	}
	if c.SilenceDuration <= 0 {
		c.SilenceDuration = DefaultSilenceDuration
	}
	if c.MaxUtterance <= 0 {
		c.MaxUtterance = DefaultMaxUtterance
	}
	if c.MinSpeech <= 0 {
		c.MinSpeech = DefaultMinSpeech
	}
	return c
}

// VADEventKind is a change in voice activity.
type VADEventKind uint8

// Voice activity events.
const (
	SpeechStarted VADEventKind = iota + 1
	SpeechStopped
)

// VADEvent reports a start or end of speech. Times are milliseconds of input audio
// since the detector started; Reset does not restart them.
type VADEvent struct {
	Kind VADEventKind
	// AudioStartMS is the start of the utterance's audio, prefix padding
	// included.
	AudioStartMS int
	// AudioEndMS is the end of the utterance, trailing silence included. It is
	// set in SpeechStopped.
	AudioEndMS int
	// Audio is the whole utterance at 16 kHz, set in SpeechStopped. The caller
	// owns it.
	Audio []int16
}

// VAD is an energy-based voice activity detector with an adaptive noise floor for
// 16 kHz audio. Its buffers are bounded by PrefixPadding plus MaxUtterance. It is
// not safe for concurrent use.
type VAD struct {
	cfg VADConfig

	position   int // samples consumed
	partial    []int16
	floor      float64
	floorReady bool

	// recent holds the latest audio while no utterance is open, for the prefix.
	recent      []int16
	recentStart int // position of recent[0]

	speaking    bool
	candidate   bool
	candStart   int // position of the first speech frame of the candidate
	voiced      int // speech frames in the candidate
	gap         int // quiet frames in a row in the candidate
	utterance   []int16
	uttStart    int // position of utterance[0]
	silenceRun  int // quiet samples in a row while speaking
	lastEnd     int // position where the last utterance ended
	prefixLen   int
	silenceLen  int
	maxLen      int
	minVoiced   int
	startMargin float64
}

// NewVAD returns a detector in the silent state.
func NewVAD(cfg VADConfig) *VAD {
	cfg = cfg.withDefaults()
	v := &VAD{
		cfg:         cfg,
		prefixLen:   samplesOf(cfg.PrefixPadding),
		silenceLen:  samplesOf(cfg.SilenceDuration),
		maxLen:      samplesOf(cfg.MaxUtterance),
		minVoiced:   max(1, int(cfg.MinSpeech/(vadFrameMS*time.Millisecond))),
		startMargin: max(3, 20*cfg.Threshold),
		floor:       vadFloorStart,
	}
	return v
}

func samplesOf(d time.Duration) int {
	return int(d.Milliseconds()) * SampleRate / 1000
}

// Speaking reports whether an utterance is open.
func (v *VAD) Speaking() bool { return v.speaking }

// PositionMS returns the milliseconds of audio consumed.
func (v *VAD) PositionMS() int { return v.position * 1000 / SampleRate }

// Write consumes 16 kHz samples and appends the events they complete to dst.
func (v *VAD) Write(dst []VADEvent, samples []int16) []VADEvent {
	for len(samples) > 0 {
		need := vadFrameSamples - len(v.partial)
		if len(v.partial) == 0 && len(samples) >= vadFrameSamples {
			dst = v.frame(dst, samples[:vadFrameSamples])
			samples = samples[vadFrameSamples:]
			continue
		}
		n := min(need, len(samples))
		v.partial = append(v.partial, samples[:n]...)
		samples = samples[n:]
		if len(v.partial) == vadFrameSamples {
			dst = v.frame(dst, v.partial)
			v.partial = v.partial[:0]
		}
	}
	return dst
}

// End closes the open utterance, if any, as a commit does, and returns its stop
// event.
func (v *VAD) End() (VADEvent, bool) {
	if !v.speaking {
		return VADEvent{}, false
	}
	return v.stop(), true
}

// Reset drops buffered audio and any open utterance, as input_audio_buffer.clear
// does. The position and the noise floor are kept.
func (v *VAD) Reset() {
	v.speaking, v.candidate = false, false
	v.utterance = nil
	v.recent = v.recent[:0]
	v.recentStart = v.position
	v.silenceRun = 0
	v.lastEnd = v.position
}

func (v *VAD) frame(dst []VADEvent, f []int16) []VADEvent {
	level := audio.DBFS(f)
	if math.IsInf(level, -1) || level < -100 {
		level = -100
	}
	start := v.position
	v.position += len(f)

	if v.speaking {
		v.utterance = append(v.utterance, f...)
		if level < v.stopLevel() {
			v.silenceRun += len(f)
		} else {
			v.silenceRun = 0
		}
		if v.silenceRun >= v.silenceLen || len(v.utterance) >= v.maxLen {
			dst = append(dst, v.stop())
		}
		return dst
	}

	v.remember(f, start)
	v.track(level)
	if level >= v.startLevel() {
		if !v.candidate {
			v.candidate, v.candStart, v.voiced = true, start, 0
		}
		v.voiced++
		v.gap = 0
		if v.voiced >= v.minVoiced {
			dst = append(dst, v.start())
		}
		return dst
	}
	if v.candidate {
		v.gap++
		if v.gap > vadMaxGapFrames {
			v.candidate = false
		}
	}
	return dst
}

func (v *VAD) startLevel() float64 { return max(v.floor+v.startMargin, vadMinLevelDB) }

func (v *VAD) stopLevel() float64 { return v.startLevel() - vadHysteresisDB }

// track moves the noise floor toward the level of a frame outside speech.
func (v *VAD) track(level float64) {
	if !v.floorReady {
		// A stream may open with speech (a caller who talks at once, a synthetic
		// voice): starting the floor at that level would hide the speech. Start no
		// higher than a quiet room and let a louder one lift the floor.
		v.floor, v.floorReady = min(level, vadFloorFirst), true
	} else if level < v.floor {
		v.floor += vadFloorFall * (level - v.floor)
	} else {
		v.floor += vadFloorRise * (level - v.floor)
	}
	v.floor = min(max(v.floor, vadFloorMin), vadFloorMax)
}

// remember keeps the latest audio for the prefix: the padding plus the candidate
// so far, which is at most a second.
func (v *VAD) remember(f []int16, start int) {
	if len(v.recent) == 0 {
		v.recentStart = start
	}
	v.recent = append(v.recent, f...)
	keep := v.prefixLen + SampleRate
	if len(v.recent) > 2*keep {
		drop := len(v.recent) - keep
		v.recent = append(v.recent[:0], v.recent[drop:]...)
		v.recentStart += drop
	}
}

func (v *VAD) start() VADEvent {
	from := max(v.candStart-v.prefixLen, v.recentStart, v.lastEnd)
	v.utterance = make([]int16, 0, min(v.maxLen, v.prefixLen+2*SampleRate))
	v.utterance = append(v.utterance, v.recent[from-v.recentStart:]...)
	v.uttStart = from
	v.speaking, v.candidate = true, false
	v.silenceRun = 0
	v.recent = v.recent[:0]
	return VADEvent{Kind: SpeechStarted, AudioStartMS: from * 1000 / SampleRate}
}

func (v *VAD) stop() VADEvent {
	ev := VADEvent{
		Kind:         SpeechStopped,
		AudioStartMS: v.uttStart * 1000 / SampleRate,
		AudioEndMS:   v.position * 1000 / SampleRate,
		Audio:        v.utterance,
	}
	v.utterance = nil
	v.speaking = false
	v.silenceRun = 0
	v.lastEnd = v.position
	v.recentStart = v.position
	return ev
}
