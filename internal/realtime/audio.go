package realtime

import (
	"encoding/base64"
	"errors"
	"fmt"
)

// The encoding of input_audio_buffer.append is written by hand because a
// call sends about 50 of these events a second: appending into a reused
// buffer costs no allocation, where encoding/json allocates per event.
const (
	appendAudioPrefix = `{"type":"` + ClientInputAudioBufferAppend + `","audio":"`
	appendAudioSuffix = `"}`
)

// ErrInvalidBase64 reports audio passed as base64 that contains a byte
// outside the standard base64 alphabet.
var ErrInvalidBase64 = errors.New("invalid base64 audio")

// AppendAudioEvent appends to dst the encoded input_audio_buffer.append of
// audio, raw bytes in the session's input format, and returns the extended
// buffer.
func AppendAudioEvent(dst, audio []byte) []byte {
	dst = append(dst, appendAudioPrefix...)
	dst = base64.StdEncoding.AppendEncode(dst, audio)
	return append(dst, appendAudioSuffix...)
}

// AppendAudioEventBase64 appends to dst the encoded input_audio_buffer.append
// of audio that is already base64-encoded, and returns the extended buffer.
// It copies b64 without decoding it, after checking that every byte is in
// the standard base64 alphabet, so that input from a caller cannot add
// fields to the event. On error it returns dst unchanged.
func AppendAudioEventBase64(dst []byte, b64 string) ([]byte, error) {
	for i := 0; i < len(b64); i++ {
		if !isBase64Byte(b64[i]) {
			return dst, fmt.Errorf("%w: byte %#x at offset %d", ErrInvalidBase64, b64[i], i)
		}
	}
	dst = append(dst, appendAudioPrefix...)
	dst = append(dst, b64...)
	return append(dst, appendAudioSuffix...), nil
}

func isBase64Byte(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return c == '+' || c == '/' || c == '='
}
