package echomodel

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// silenceLevel is the largest sample magnitude of digital silence. It is
// above zero because resampling and μ-law coding turn zeros into values a
// few steps from zero.
const silenceLevel = 16

// turnDetector finds the caller's turns in the input audio without measuring
// energy. A turn starts at the first append that is not digital silence and
// ends at the first silent append once it holds MinTurn of audio, or when it
// reaches MaxTurn. It keeps the last MaxEcho of the turn for the echo.
type turnDetector struct {
	format      audio.Format
	bytesPerSec int64
	minBytes    int
	maxBytes    int
	echo        *ring

	inputBytes int64 // all input since the session started
	inTurn     bool
	turnBytes  int
	itemID     string
	turns      int
	samples    []int16 // scratch for the silence check
}

func newTurnDetector(cfg Config, format audio.Format) turnDetector {
	return turnDetector{
		format:      format,
		bytesPerSec: int64(format.FrameSize(time.Second)),
		minBytes:    format.FrameSize(cfg.MinTurn),
		maxBytes:    format.FrameSize(cfg.MaxTurn),
		echo:        newRing(format.FrameSize(cfg.MaxEcho)),
	}
}

// turnStep is what one append changed.
type turnStep struct {
	started, ended bool
}

// feed adds one append's audio. Its length must be whole samples.
func (t *turnDetector) feed(chunk []byte) turnStep {
	var step turnStep
	silent := t.silent(chunk)
	t.inputBytes += int64(len(chunk))
	if !t.inTurn {
		if silent {
			return step
		}
		t.inTurn, t.turnBytes, step.started = true, 0, true
		t.echo.reset()
	}
	t.echo.write(chunk)
	t.turnBytes += len(chunk)
	if (silent && t.turnBytes >= t.minBytes) || t.turnBytes >= t.maxBytes {
		t.inTurn, step.ended = false, true
		t.turns++
	}
	return step
}

// end ends the current turn at once, as a commit does. It reports whether a
// turn was in progress.
func (t *turnDetector) end() bool {
	if !t.inTurn {
		return false
	}
	t.inTurn = false
	t.turns++
	return true
}

// clear drops the current turn and its audio.
func (t *turnDetector) clear() {
	t.inTurn = false
	t.turnBytes = 0
	t.echo.reset()
}

func (t *turnDetector) silent(chunk []byte) bool {
	switch t.format.Encoding {
	case audio.Mulaw:
		t.samples = audio.DecodeMulaw(t.samples[:0], chunk)
	default:
		t.samples = audio.PCM16FromBytes(t.samples[:0], chunk)
	}
	for _, s := range t.samples {
		if s > silenceLevel || s < -silenceLevel {
			return false
		}
	}
	return true
}

// nowMS returns the input audio received so far, in milliseconds.
func (t *turnDetector) nowMS() int {
	if t.bytesPerSec == 0 {
		return 0
	}
	return int(t.inputBytes * 1000 / t.bytesPerSec)
}

// turnMS returns the start of the current or last turn, in milliseconds.
func (t *turnDetector) turnStartMS() int {
	if t.bytesPerSec == 0 {
		return 0
	}
	return int((t.inputBytes - int64(t.turnBytes)) * 1000 / t.bytesPerSec)
}

// appendAudio handles input_audio_buffer.append: it feeds the turn detector
// and announces the start and end of turns.
func (c *conn) appendAudio(ctx context.Context, ev *realtime.ClientEvent, buf []byte) ([]byte, error) {
	buf, err := base64.StdEncoding.AppendDecode(buf[:0], []byte(ev.Audio))
	if err != nil {
		return buf, c.sendError(ctx, ev.EventID, "invalid_value", "audio", "Invalid 'audio': not valid base64.")
	}
	if c.turn.format.Encoding == audio.PCM16 && len(buf)%2 != 0 {
		buf = buf[:len(buf)-1] // a split sample; clients send whole ones
	}
	step := c.turn.feed(buf)
	if step.started {
		c.turn.itemID = c.newID("item")
		err := c.send(ctx, realtime.ServerEvent{
			Type: realtime.ServerInputAudioBufferSpeechStarted, ItemID: c.turn.itemID, AudioStartMS: c.turn.turnStartMS(),
		})
		if err != nil {
			return buf, err
		}
		if c.session.interruptResponse {
			c.cancelActive("turn_detected")
		}
	}
	if step.ended {
		return buf, c.endTurn(ctx, true)
	}
	return buf, nil
}

// commit handles input_audio_buffer.commit: it ends the current turn without
// starting a response, as with turn detection off.
func (c *conn) commit(ctx context.Context, ev *realtime.ClientEvent) error {
	if !c.turn.end() {
		return c.sendError(ctx, ev.EventID, "input_audio_buffer_commit_empty", "",
			"Error committing input audio buffer: the buffer holds no speech.")
	}
	return c.endTurn(ctx, false)
}

// endTurn announces the end of the turn and answers it with the echo: at once
// when automatic is set and the session creates responses, otherwise on the
// next response.create.
func (c *conn) endTurn(ctx context.Context, automatic bool) error {
	item := c.turn.itemID
	events := []realtime.ServerEvent{
		{Type: realtime.ServerInputAudioBufferCommitted, ItemID: item},
		{Type: realtime.ServerConversationItemAdded, Item: &realtime.Item{
			ID: item, Type: realtime.ItemMessage, Role: realtime.RoleUser, Status: realtime.ItemCompleted,
			Content: []realtime.ContentPart{{Type: realtime.ContentInputAudio}},
		}},
	}
	if automatic {
		stopped := realtime.ServerEvent{Type: realtime.ServerInputAudioBufferSpeechStopped, ItemID: item, AudioEndMS: c.turn.nowMS()}
		events = append([]realtime.ServerEvent{stopped}, events...)
	}
	if c.session.transcribe {
		events = append(events, realtime.ServerEvent{
			Type: realtime.ServerConversationItemInputAudioTranscriptionCompleted, ItemID: item, Transcript: echoTranscript,
		})
	}
	for _, ev := range events {
		if err := c.send(ctx, ev); err != nil {
			return err
		}
	}

	echo, err := c.echoAudio()
	if err != nil {
		return c.sendError(ctx, "", "server_error", "", "Cannot convert the input audio: "+err.Error())
	}
	if !automatic || !c.session.createResponse {
		c.setPendingEcho(echo)
		return nil
	}
	c.startOrDefer(ctx, c.newResponse(ctx, echo, echoTranscript))
	return nil
}

// echoAudio returns the kept audio of the last turn in the output format.
func (c *conn) echoAudio() ([]byte, error) {
	conv, err := audio.NewConverter(c.turn.format, c.session.output)
	if err != nil {
		return nil, err
	}
	in := c.turn.echo.appendTo(nil)
	out := conv.Convert(nil, in)
	return conv.Flush(out), nil
}

// ring keeps the last bytes written to it, at most its capacity.
type ring struct {
	buf   []byte
	start int // index of the oldest byte
	n     int // bytes held
}

func newRing(capacity int) *ring {
	return &ring{buf: make([]byte, max(capacity, 1))}
}

func (r *ring) reset() { r.start, r.n = 0, 0 }

// write adds p, dropping the oldest bytes beyond the capacity.
func (r *ring) write(p []byte) {
	if len(p) >= len(r.buf) {
		copy(r.buf, p[len(p)-len(r.buf):])
		r.start, r.n = 0, len(r.buf)
		return
	}
	end := (r.start + r.n) % len(r.buf)
	k := copy(r.buf[end:], p)
	copy(r.buf, p[k:])
	r.n += len(p)
	if over := r.n - len(r.buf); over > 0 {
		r.start = (r.start + over) % len(r.buf)
		r.n = len(r.buf)
	}
}

// appendTo appends the bytes held, oldest first, to dst.
func (r *ring) appendTo(dst []byte) []byte {
	first := min(r.n, len(r.buf)-r.start)
	dst = append(dst, r.buf[r.start:r.start+first]...)
	return append(dst, r.buf[:r.n-first]...)
}
