package localmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// minCommitMS is the least audio a manual commit accepts, as the hosted API
// requires.
const minCommitMS = 100

var decodeFormat = audio.Format{Encoding: audio.PCM16, Rate: SampleRate}

// sessionState is the configuration a client set with session.update.
type sessionState struct {
	instructions string
	input        realtime.AudioFormat
	output       realtime.AudioFormat
	inFormat     audio.Format
	outFormat    audio.Format
	// turn detection; vad is nil when the client turned it off
	vad               *realtime.TurnDetection
	createResponse    bool
	interruptResponse bool
	tools             []realtime.Tool
}

func defaultSessionState() sessionState {
	pcm := realtime.AudioFormat{Type: realtime.AudioPCM, Rate: realtime.PCMRate}
	f := audio.Format{Encoding: audio.PCM16, Rate: realtime.PCMRate}
	return sessionState{
		input: pcm, output: pcm, inFormat: f, outFormat: f,
		vad: &realtime.TurnDetection{
			Type:              realtime.TurnDetectionServerVAD,
			Threshold:         DefaultVADThreshold,
			PrefixPaddingMS:   int(DefaultPrefixPadding.Milliseconds()),
			SilenceDurationMS: int(DefaultSilenceDuration.Milliseconds()),
		},
		createResponse:    true,
		interruptResponse: true,
	}
}

// processor owns a connection's state: session configuration, voice activity
// detection, the decoder, the dialogue policy and the active response. Only its
// goroutine touches them.
type processor struct {
	c      *conn
	state  sessionState
	conv   *audio.Converter
	vad    *VAD
	rec    *Recognizer
	policy *Policy
	dither *ditherer

	pcm     []byte  // scratch: converted input bytes
	samples []int16 // scratch: converted input samples
	events  []VADEvent

	// manual holds input audio while turn detection is off, up to
	// MaxUtterance; the rest is dropped.
	manual   []int16
	position int // input samples received

	speechItem string // item id of the utterance in progress
	lastItem   string
	utterances int

	active      *activeResponse
	pendingAuto bool // a response waits for the active one to end
}

func newProcessor(c *conn) *processor {
	p := &processor{
		c:      c,
		dither: newDitherer(),
		state:  defaultSessionState(),
		policy: NewPolicy(PolicyConfig{
			Catalog:             c.s.cfg.Catalog,
			ConfidenceThreshold: c.s.cfg.ScoreThreshold,
			CallIDPrefix:        c.prefix + "_",
		}),
	}
	p.vad = NewVAD(vadConfig(p.state.vad))
	return p
}

// close frees the decoder; run calls it after every goroutine has exited.
func (p *processor) close() {
	if p.rec != nil {
		p.rec.Close()
	}
}

func (p *processor) run(ctx context.Context) error {
	if !p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerSessionCreated, Session: p.sessionView()}) {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			p.cancelActive("")
			return nil
		case <-p.c.inbox.ready:
			for {
				it, ok := p.c.inbox.pop()
				if !ok {
					break
				}
				if err := p.handle(ctx, it); err != nil {
					return err
				}
			}
		case done := <-p.c.spoken:
			p.finishSpeech(ctx, done)
		}
	}
}

func (p *processor) handle(ctx context.Context, it inboundItem) error {
	ev := it.event
	switch ev.Type {
	case realtime.ClientInputAudioBufferAppend:
		return p.appendAudio(ctx, it.audio)
	case realtime.ClientSessionUpdate:
		return p.updateSession(ctx, ev, it.raw)
	case realtime.ClientInputAudioBufferCommit:
		return p.commit(ctx, ev.EventID)
	case realtime.ClientInputAudioBufferClear:
		p.vad.Reset()
		p.manual = p.manual[:0]
		p.c.send(ctx, realtime.ServerEvent{Type: "input_audio_buffer.cleared"})
	case realtime.ClientConversationItemCreate:
		p.createItem(ctx, ev)
	case realtime.ClientConversationItemTruncate:
		p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerConversationItemTruncated,
			ItemID: ev.ItemID, ContentIndex: ev.ContentIndex, AudioEndMS: ev.AudioEndMS})
	case realtime.ClientResponseCreate:
		if p.active != nil {
			p.c.sendError(ctx, ev.EventID, "conversation_already_has_active_response", "",
				fmt.Sprintf("Conversation already has an active response in progress: %s. Wait until the response is finished before creating a new one.", p.active.id))
			return nil
		}
		p.startResponse(ctx)
	case realtime.ClientResponseCancel:
		if p.active == nil || (ev.ResponseID != "" && ev.ResponseID != p.active.id) {
			p.c.sendError(ctx, ev.EventID, "response_cancel_not_active", "", "Cancellation failed: no active response found.")
			return nil
		}
		p.cancelActive("client_cancelled")
	}
	return nil
}

// updateSession applies a session.update and replies session.updated, or an
// error event that leaves the session unchanged.
func (p *processor) updateSession(ctx context.Context, ev realtime.ClientEvent, raw []byte) error {
	next := p.state
	if problem, param := applySession(&next, ev.Session, raw); problem != "" {
		p.c.sendError(ctx, ev.EventID, "invalid_value", param, problem)
		return nil
	}
	if next.inFormat != p.state.inFormat {
		p.conv = nil
	}
	if vadChanged(p.state.vad, next.vad) && !p.vad.Speaking() {
		p.vad = NewVAD(vadConfig(next.vad))
	}
	p.state = next
	names := make([]string, len(next.tools))
	for i, t := range next.tools {
		names[i] = t.Name
	}
	p.policy.SetTools(names)
	if err := p.ensureRecognizer(); err != nil {
		p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerError, Error: &realtime.ErrorDetail{
			Type: "server_error", Message: "The speech recognizer could not be loaded.", EventID: ev.EventID}})
		return err
	}
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerSessionUpdated, Session: p.sessionView()})
	return nil
}

// applySession merges an update into st and returns a problem and its parameter
// when the update is invalid.
func applySession(st *sessionState, s *realtime.Session, raw []byte) (string, string) {
	if s.Instructions != "" {
		st.instructions = s.Instructions
	}
	if s.Tools != nil {
		names := make([]string, 0, len(s.Tools))
		for _, t := range s.Tools {
			if t.Type == "function" {
				names = append(names, t.Name)
			}
		}
		if missing := MissingTools(names); len(missing) > 0 {
			return "The offline model needs these function tools: " + strings.Join(missing, ", ") + ".", "session.tools"
		}
		st.tools = s.Tools
	}
	if s.Audio != nil && s.Audio.Input != nil && s.Audio.Input.Format != nil {
		f, problem := wireFormat(*s.Audio.Input.Format)
		if problem != "" {
			return problem, "session.audio.input.format"
		}
		st.input, st.inFormat = *s.Audio.Input.Format, f
	}
	if s.Audio != nil && s.Audio.Output != nil && s.Audio.Output.Format != nil {
		f, problem := wireFormat(*s.Audio.Output.Format)
		if problem != "" {
			return problem, "session.audio.output.format"
		}
		st.output, st.outFormat = *s.Audio.Output.Format, f
	}
	return applyTurnDetection(st, raw)
}

// applyTurnDetection reads turn_detection from the raw event, because a JSON null
// (detection off) and an absent field (unchanged) decode alike.
func applyTurnDetection(st *sessionState, raw []byte) (string, string) {
	var wire struct {
		Session struct {
			Audio struct {
				Input struct {
					TurnDetection json.RawMessage `json:"turn_detection"`
				} `json:"input"`
			} `json:"audio"`
		} `json:"session"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return "Invalid 'session.audio.input.turn_detection': " + err.Error(), "session.audio.input.turn_detection"
	}
	td := wire.Session.Audio.Input.TurnDetection
	switch {
	case len(td) == 0:
		return "", ""
	case string(td) == "null":
		st.vad = nil
		return "", ""
	}
	var v realtime.TurnDetection
	if err := json.Unmarshal(td, &v); err != nil {
		return "Invalid 'session.audio.input.turn_detection': " + err.Error(), "session.audio.input.turn_detection"
	}
	if v.Type != realtime.TurnDetectionServerVAD && v.Type != realtime.TurnDetectionSemanticVAD {
		return fmt.Sprintf("Invalid 'session.audio.input.turn_detection.type': %q; expected server_vad or semantic_vad.", v.Type), "session.audio.input.turn_detection.type"
	}
	if v.Threshold < 0 || v.Threshold > 1 {
		return "Invalid 'session.audio.input.turn_detection.threshold': must be between 0 and 1.", "session.audio.input.turn_detection.threshold"
	}
	// Semantic detection is served by the same energy detector.
	v.Type = realtime.TurnDetectionServerVAD
	if v.Threshold == 0 {
		v.Threshold = DefaultVADThreshold
	}
	if v.PrefixPaddingMS <= 0 {
		v.PrefixPaddingMS = int(DefaultPrefixPadding.Milliseconds())
	}
	if v.SilenceDurationMS <= 0 {
		v.SilenceDurationMS = int(DefaultSilenceDuration.Milliseconds())
	}
	st.createResponse = v.CreateResponse == nil || *v.CreateResponse
	st.interruptResponse = v.InterruptResponse == nil || *v.InterruptResponse
	v.CreateResponse, v.InterruptResponse = nil, nil
	st.vad = &v
	return "", ""
}

// wireFormat maps a protocol audio format to the formats this engine reads and
// writes: PCM16 at 16 or 24 kHz, and μ-law at 8 kHz. It returns a problem for
// the client when the format is not one of them.
func wireFormat(f realtime.AudioFormat) (audio.Format, string) {
	switch f.Type {
	case realtime.AudioPCM:
		rate := f.Rate
		if rate == 0 {
			rate = realtime.PCMRate
		}
		if rate != 16000 && rate != 24000 {
			return audio.Format{}, fmt.Sprintf("Invalid audio rate %d: audio/pcm must be 16000 or 24000 Hz.", f.Rate)
		}
		return audio.Format{Encoding: audio.PCM16, Rate: rate}, ""
	case realtime.AudioPCMU:
		return audio.Format{Encoding: audio.Mulaw, Rate: 8000}, ""
	}
	return audio.Format{}, fmt.Sprintf("Invalid audio format %q: supported are audio/pcm and audio/pcmu.", f.Type)
}

func vadConfig(td *realtime.TurnDetection) VADConfig {
	if td == nil {
		return VADConfig{}
	}
	return VADConfig{
		Threshold:       td.Threshold,
		PrefixPadding:   time.Duration(td.PrefixPaddingMS) * time.Millisecond,
		SilenceDuration: time.Duration(td.SilenceDurationMS) * time.Millisecond,
	}
}

func vadChanged(a, b *realtime.TurnDetection) bool {
	if (a == nil) != (b == nil) {
		return true
	}
	return a != nil && (a.Threshold != b.Threshold || a.PrefixPaddingMS != b.PrefixPaddingMS || a.SilenceDurationMS != b.SilenceDurationMS)
}

func (p *processor) sessionView() *realtime.Session {
	st := p.state
	input, output := st.input, st.output
	s := &realtime.Session{
		Type:             realtime.SessionTypeRealtime,
		ID:               "sess_" + p.c.prefix,
		Model:            p.c.model,
		Instructions:     st.instructions,
		OutputModalities: []string{"audio"},
		Tools:            st.tools,
		Audio: &realtime.AudioConfig{
			Input:  &realtime.AudioInput{Format: &input},
			Output: &realtime.AudioOutput{Format: &output, Voice: p.c.s.voice.Name},
		},
	}
	if st.vad != nil {
		td := *st.vad
		create, interrupt := st.createResponse, st.interruptResponse
		td.CreateResponse, td.InterruptResponse = &create, &interrupt
		s.Audio.Input.TurnDetection = &td
	}
	return s
}

// ensureRecognizer loads the connection's decoder the first time it is needed.
func (p *processor) ensureRecognizer() error {
	if p.rec != nil {
		return nil
	}
	r, err := p.c.s.newRecognizer()
	if err != nil {
		return fmt.Errorf("load recognizer: %w", err)
	}
	p.rec = r
	return nil
}
