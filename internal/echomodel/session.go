package echomodel

import (
	"context"
	"fmt"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// sessionState is the configuration that session.update changed, as far as
// the echo model uses it.
type sessionState struct {
	input, output audio.Format
	voice         string
	// createResponse and interruptResponse are the turn detection settings
	// of the same names; both default to true, as in the hosted API.
	createResponse    bool
	interruptResponse bool
	// transcribe is set when input transcription is configured; each turn
	// then gets a transcription event.
	transcribe bool
}

func defaultSession() sessionState {
	pcm24k := audio.Format{Encoding: audio.PCM16, Rate: realtime.PCMRate}
	return sessionState{input: pcm24k, output: pcm24k, createResponse: true, interruptResponse: true}
}

// wire returns the session as session.created and session.updated report it.
func (s *sessionState) wire(id string) *realtime.Session {
	input := &realtime.AudioInput{
		Format:        wireFormat(s.input),
		TurnDetection: &realtime.TurnDetection{Type: realtime.TurnDetectionServerVAD, CreateResponse: &s.createResponse, InterruptResponse: &s.interruptResponse},
	}
	if s.transcribe {
		input.Transcription = &realtime.Transcription{Model: "echo"}
	}
	return &realtime.Session{
		Type:             realtime.SessionTypeRealtime,
		ID:               "sess_" + id,
		Model:            "echo",
		OutputModalities: []string{"audio"},
		Audio: &realtime.AudioConfig{
			Input:  input,
			Output: &realtime.AudioOutput{Format: wireFormat(s.output), Voice: s.voice},
		},
	}
}

func wireFormat(f audio.Format) *realtime.AudioFormat {
	if f.Encoding == audio.Mulaw {
		return &realtime.AudioFormat{Type: realtime.AudioPCMU}
	}
	return &realtime.AudioFormat{Type: realtime.AudioPCM, Rate: f.Rate}
}

// parseFormat returns the audio format of a session's wire format: audio/pcm
// at any rate the resampler accepts (24000 Hz when the rate is left out) or
// audio/pcmu.
func parseFormat(f *realtime.AudioFormat) (audio.Format, error) {
	switch f.Type {
	case realtime.AudioPCMU:
		return audio.Format{Encoding: audio.Mulaw, Rate: 8000}, nil
	case realtime.AudioPCM:
		format := audio.Format{Encoding: audio.PCM16, Rate: f.Rate}
		if format.Rate == 0 {
			format.Rate = realtime.PCMRate
		}
		if err := format.Validate(); err != nil {
			return audio.Format{}, err
		}
		return format, nil
	default:
		return audio.Format{}, fmt.Errorf("unsupported audio format %q; use %s or %s", f.Type, realtime.AudioPCM, realtime.AudioPCMU)
	}
}

// updateSession applies a session.update and answers with session.updated,
// or with an error event that leaves the session unchanged.
func (c *conn) updateSession(ctx context.Context, ev *realtime.ClientEvent) error {
	if ev.Session == nil {
		return c.sendError(ctx, ev.EventID, "missing_required_parameter", "session", "Missing required parameter: 'session'.")
	}
	next, param, err := applySession(c.session, ev.Session)
	if err != nil {
		return c.sendError(ctx, ev.EventID, "invalid_value", param, "Invalid value: "+err.Error())
	}
	if next.input != c.session.input {
		c.turn = newTurnDetector(c.cfg, next.input)
	}
	c.session = next
	return c.send(ctx, realtime.ServerEvent{Type: realtime.ServerSessionUpdated, Session: c.session.wire(c.prefix)})
}

// applySession returns s with update applied, or the parameter that is
// invalid and why.
func applySession(s sessionState, update *realtime.Session) (sessionState, string, error) {
	if update.Audio == nil {
		return s, "", nil
	}
	if in := update.Audio.Input; in != nil {
		if in.Format != nil {
			f, err := parseFormat(in.Format)
			if err != nil {
				return s, "session.audio.input.format", err
			}
			s.input = f
		}
		if td := in.TurnDetection; td != nil {
			if td.CreateResponse != nil {
				s.createResponse = *td.CreateResponse
			}
			if td.InterruptResponse != nil {
				s.interruptResponse = *td.InterruptResponse
			}
		}
		if in.Transcription != nil {
			s.transcribe = true
		}
	}
	if out := update.Audio.Output; out != nil {
		if out.Format != nil {
			f, err := parseFormat(out.Format)
			if err != nil {
				return s, "session.audio.output.format", err
			}
			s.output = f
		}
		if out.Voice != "" {
			s.voice = out.Voice
		}
	}
	return s, "", nil
}
