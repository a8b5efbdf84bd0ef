package realtime

import "encoding/base64"

// UpdateSession returns a session.update that applies s, with s.Type set to
// SessionTypeRealtime when empty.
func UpdateSession(s Session) ClientEvent {
	if s.Type == "" {
		s.Type = SessionTypeRealtime
	}
	return ClientEvent{Type: ClientSessionUpdate, Session: &s}
}

// AppendAudio returns an input_audio_buffer.append of audio, raw bytes in the
// session's input format. Conn.SendAudio sends the same event without
// building it.
func AppendAudio(audio []byte) ClientEvent {
	return ClientEvent{Type: ClientInputAudioBufferAppend, Audio: base64.StdEncoding.EncodeToString(audio)}
}

// AppendAudioBase64 returns an input_audio_buffer.append of audio that is
// already base64-encoded, such as a Twilio media payload.
func AppendAudioBase64(b64 string) ClientEvent {
	return ClientEvent{Type: ClientInputAudioBufferAppend, Audio: b64}
}

// CommitAudio returns an input_audio_buffer.commit, which turns the buffered
// input audio into a user message. Server turn detection commits on its own.
func CommitAudio() ClientEvent {
	return ClientEvent{Type: ClientInputAudioBufferCommit}
}

// ClearAudio returns an input_audio_buffer.clear.
func ClearAudio() ClientEvent {
	return ClientEvent{Type: ClientInputAudioBufferClear}
}

// UserText returns a conversation.item.create that adds a user message with
// text.
func UserText(text string) ClientEvent {
	return ClientEvent{
		Type: ClientConversationItemCreate,
		Item: &Item{
			Type:    ItemMessage,
			Role:    RoleUser,
			Content: []ContentPart{{Type: ContentInputText, Text: text}},
		},
	}
}

// FunctionCallOutput returns a conversation.item.create that adds the output
// of the function call callID. It does not ask for a response; send
// CreateResponse for that, through a Responder.
func FunctionCallOutput(callID, output string) ClientEvent {
	return ClientEvent{
		Type: ClientConversationItemCreate,
		Item: &Item{Type: ItemFunctionCallOutput, CallID: callID, Output: output},
	}
}

// CreateResponse returns a response.create with the session's configuration.
func CreateResponse() ClientEvent {
	return ClientEvent{Type: ClientResponseCreate}
}

// CancelResponse returns a response.cancel of responseID. An empty
// responseID cancels the response in progress.
func CancelResponse(responseID string) ClientEvent {
	return ClientEvent{Type: ClientResponseCancel, ResponseID: responseID}
}

// Truncate returns a conversation.item.truncate that cuts the audio of
// content part contentIndex of the assistant item itemID at audioEndMS
// milliseconds, the audio the caller heard. Both numbers are sent even when
// zero.
func Truncate(itemID string, contentIndex, audioEndMS int) ClientEvent {
	return ClientEvent{
		Type:         ClientConversationItemTruncate,
		ItemID:       itemID,
		ContentIndex: contentIndex,
		AudioEndMS:   audioEndMS,
	}
}
