package realtime

// requiredFields is a set of fields that an event type carries on the wire
// even when their value is zero. The event structs tag these fields
// omitempty because most event types leave them out.
type requiredFields uint8

const (
	requireOutputIndex requiredFields = 1 << iota
	requireContentIndex
	requireAudioStartMS
	requireAudioEndMS
	requireTranscript
	requireAudio
)

const requireContentPosition = requireOutputIndex | requireContentIndex

var serverRequired = map[string]requiredFields{
	ServerInputAudioBufferSpeechStarted:                    requireAudioStartMS,
	ServerInputAudioBufferSpeechStopped:                    requireAudioEndMS,
	ServerConversationItemInputAudioTranscriptionCompleted: requireContentIndex | requireTranscript,
	ServerConversationItemTruncated:                        requireContentIndex | requireAudioEndMS,
	ServerResponseOutputItemAdded:                          requireOutputIndex,
	ServerResponseOutputItemDone:                           requireOutputIndex,
	ServerResponseContentPartAdded:                         requireContentPosition,
	ServerResponseContentPartDone:                          requireContentPosition,
	ServerResponseOutputTextDelta:                          requireContentPosition,
	ServerResponseOutputTextDone:                           requireContentPosition,
	ServerResponseOutputAudioDelta:                         requireContentPosition,
	ServerResponseOutputAudioDone:                          requireContentPosition,
	ServerResponseOutputAudioTranscriptDelta:               requireContentPosition,
	ServerResponseOutputAudioTranscriptDone:                requireContentPosition | requireTranscript,
	ServerResponseFunctionCallArgumentsDelta:               requireOutputIndex,
	ServerResponseFunctionCallArgumentsDone:                requireOutputIndex,
}

var clientRequired = map[string]requiredFields{
	ClientInputAudioBufferAppend:   requireAudio,
	ClientConversationItemTruncate: requireContentIndex | requireAudioEndMS,
}

// fieldValues holds the values of the fields that requiredFields can name.
type fieldValues struct {
	outputIndex  int
	contentIndex int
	audioStartMS int
	audioEndMS   int
	transcript   string
	audio        string
}

// appendMissing adds to the encoded object b each required field whose value
// is zero, which omitempty has left out.
func appendMissing(b []byte, required requiredFields, v fieldValues) []byte {
	missing := []struct {
		field requiredFields
		zero  bool
		json  string
	}{
		{requireOutputIndex, v.outputIndex == 0, `"output_index":0`},
		{requireContentIndex, v.contentIndex == 0, `"content_index":0`},
		{requireAudioStartMS, v.audioStartMS == 0, `"audio_start_ms":0`},
		{requireAudioEndMS, v.audioEndMS == 0, `"audio_end_ms":0`},
		{requireTranscript, v.transcript == "", `"transcript":""`},
		{requireAudio, v.audio == "", `"audio":""`},
	}
	for _, m := range missing {
		if required&m.field != 0 && m.zero {
			b = appendObjectField(b, m.json)
		}
	}
	return b
}

// appendObjectField inserts member, an encoded "name":value pair, before the
// closing brace of the encoded object b.
func appendObjectField(b []byte, member string) []byte {
	b = b[:len(b)-1]
	if len(b) > 1 {
		b = append(b, ',')
	}
	b = append(b, member...)
	return append(b, '}')
}
