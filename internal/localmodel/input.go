package localmodel

import (
	"context"
	"strings"
	"time"

	"github.com/voiceorder/voiceorder/internal/audio"
	"github.com/voiceorder/voiceorder/internal/realtime"
)

// appendAudio converts appended audio to 16 kHz and runs turn detection on it, or
// buffers it for a manual commit when detection is off.
func (p *processor) appendAudio(ctx context.Context, data []byte) error {
	if p.conv == nil {
		conv, err := audio.NewConverter(p.state.inFormat, decodeFormat)
		if err != nil {
			return err // formats were validated by session.update
		}
		p.conv = conv
	}
	p.pcm = p.conv.Convert(p.pcm[:0], data)
	p.samples = audio.PCM16FromBytes(p.samples[:0], p.pcm)
	p.position += len(p.samples)

	if p.state.vad == nil {
		room := samplesOf(DefaultMaxUtterance) - len(p.manual)
		p.manual = append(p.manual, p.samples[:min(room, len(p.samples))]...)
		return nil
	}
	p.events = p.vad.Write(p.events[:0], p.samples)
	for _, e := range p.events {
		switch e.Kind {
		case SpeechStarted:
			p.speechStarted(ctx, e)
		case SpeechStopped:
			if err := p.speechStopped(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *processor) speechStarted(ctx context.Context, e VADEvent) {
	p.speechItem = p.c.newID("item")
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerInputAudioBufferSpeechStarted,
		AudioStartMS: e.AudioStartMS, ItemID: p.speechItem})
	if p.active != nil && p.state.interruptResponse {
		p.cancelActive("turn_detected")
	}
}

func (p *processor) speechStopped(ctx context.Context, e VADEvent) error {
	item := p.speechItem
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerInputAudioBufferSpeechStopped,
		AudioEndMS: e.AudioEndMS, ItemID: item})
	if err := p.transcribe(ctx, item, e.Audio); err != nil {
		return err
	}
	if p.state.createResponse {
		if p.active != nil {
			p.pendingAuto = true
		} else {
			p.startResponse(ctx)
		}
	}
	return nil
}

// commit ends the buffered utterance on the client's request.
func (p *processor) commit(ctx context.Context, eventID string) error {
	var samples []int16
	if p.state.vad != nil {
		e, ok := p.vad.End()
		if !ok {
			p.c.sendError(ctx, eventID, "input_audio_buffer_commit_empty", "",
				"Error committing input audio buffer: the buffer has no speech.")
			return nil
		}
		samples = e.Audio
	} else {
		samples = p.manual
		p.manual = nil
	}
	if len(samples)*1000/SampleRate < minCommitMS {
		p.c.sendError(ctx, eventID, "input_audio_buffer_commit_empty", "",
			"Error committing input audio buffer: buffer too small. Expected at least 100ms of audio.")
		return nil
	}
	item := p.speechItem
	if item == "" || p.state.vad == nil {
		item = p.c.newID("item")
	}
	return p.transcribe(ctx, item, samples)
}

// transcribe commits an utterance as a user item, decodes it and gives the words
// to the policy.
func (p *processor) transcribe(ctx context.Context, item string, samples []int16) error {
	p.speechItem = ""
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerInputAudioBufferCommitted, PreviousItemID: p.lastItem, ItemID: item})
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerConversationItemAdded, PreviousItemID: p.lastItem,
		Item: &realtime.Item{ID: item, Type: realtime.ItemMessage, Role: realtime.RoleUser, Status: realtime.ItemCompleted,
			Content: []realtime.ContentPart{{Type: realtime.ContentInputAudio}}}})
	p.lastItem = item

	if err := p.ensureRecognizer(); err != nil {
		return err
	}
	start := time.Now()
	p.dither.apply(samples)
	h, err := p.rec.Decode(samples)
	if err != nil {
		p.c.log.Warn("decode utterance", "item_id", item, "err", err)
	}
	p.utterances++
	p.c.log.Debug("utterance decoded", "item_id", item, "words", h.Text, "word_score_per_frame", h.WordScorePerFrame,
		"audio_ms", len(samples)*1000/SampleRate, "decode_ms", time.Since(start).Milliseconds())
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerConversationItemInputAudioTranscriptionCompleted,
		ItemID: item, Transcript: h.Text})
	p.policy.Hear(Utterance{Text: h.Text, Confidence: h.WordScorePerFrame})
	return nil
}

// createItem records a function call's output, or a typed user message as an
// utterance, and confirms the item.
func (p *processor) createItem(ctx context.Context, ev realtime.ClientEvent) {
	item := *ev.Item
	if item.ID == "" {
		item.ID = p.c.newID("item")
	}
	item.Status = realtime.ItemCompleted
	switch item.Type {
	case realtime.ItemFunctionCallOutput:
		if !p.policy.ToolOutput(item.CallID, item.Output) {
			p.c.log.Debug("output for a call the policy is not waiting for", "call_id", item.CallID)
		}
	case realtime.ItemMessage:
		if item.Role == realtime.RoleUser {
			var text []string
			for _, part := range item.Content {
				if part.Type == realtime.ContentInputText || part.Type == realtime.ContentText {
					text = append(text, part.Text)
				}
			}
			if len(text) > 0 {
				p.policy.Hear(Utterance{Text: strings.Join(text, " "), Typed: true})
			}
		}
	}
	prev := ev.PreviousItemID
	if prev == "" {
		prev = p.lastItem
	}
	p.lastItem = item.ID
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerConversationItemAdded, PreviousItemID: prev, Item: &item})
	p.c.send(ctx, realtime.ServerEvent{Type: realtime.ServerConversationItemDone, PreviousItemID: prev, Item: &item})
}
