package twilio

import (
	"strconv"

	"github.com/voiceorder/voiceorder/internal/audio"
)

const (
	// bytesPerMS is the size of one millisecond of 8 kHz μ-law.
	bytesPerMS = 8
	// maxGapFillMS bounds the silence inserted for one gap in the inbound timestamps.
	maxGapFillMS = 1000
	// minGapMS is the smallest gap filled; smaller differences are timestamp jitter.
	minGapMS = 40
)

// gapFiller keeps the caller's audio on the timeline of media.timestamp. When media
// goes missing, the timestamps jump. The model's turn detection measures silence in
// the audio it receives, so the missing time is filled with μ-law silence, at most
// maxGapFillMS per gap.
type gapFiller struct {
	next    int64 // timestamp, in ms, at which the next media is expected
	started bool
	filled  int64 // total milliseconds of silence inserted
}

// fill returns the silence to insert before media with the given timestamp and
// payload length, appended to dst. A timestamp that does not parse inserts nothing.
func (g *gapFiller) fill(dst []byte, timestamp string, payloadBytes int) []byte {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || ts < 0 {
		return dst
	}
	duration := int64(payloadBytes / bytesPerMS)
	if !g.started {
		g.started = true
		g.next = ts + duration
		return dst
	}
	gap := ts - g.next
	g.next = max(g.next, ts+duration)
	if gap < minGapMS {
		return dst
	}
	gap = min(gap, maxGapFillMS)
	g.filled += gap
	n := int(gap) * bytesPerMS
	for range n {
		dst = append(dst, audio.MulawSilence)
	}
	return dst
}
