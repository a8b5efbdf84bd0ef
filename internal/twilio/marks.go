package twilio

import (
	"strconv"
	"strings"
)

// markName names a playback mark: "p<generation>:<item>:<sequence>". The generation
// separates marks sent before a clear from later ones, the item names the assistant item
// whose audio precedes the mark, and the sequence orders marks within a generation.
func markName(gen uint64, item string, seq int) string {
	var b strings.Builder
	b.Grow(len(item) + 24)
	b.WriteByte('p')
	b.WriteString(strconv.FormatUint(gen, 10))
	b.WriteByte(':')
	b.WriteString(item)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(seq))
	return b.String()
}

// parseMarkName returns the parts of a name made by markName. The item may itself
// contain colons. ok is false for any other name, such as a mark this gateway did
// not send.
func parseMarkName(name string) (gen uint64, item string, seq int, ok bool) {
	rest, found := strings.CutPrefix(name, "p")
	if !found {
		return 0, "", 0, false
	}
	first := strings.IndexByte(rest, ':')
	last := strings.LastIndexByte(rest, ':')
	if first < 0 || last == first {
		return 0, "", 0, false
	}
	gen, err := strconv.ParseUint(rest[:first], 10, 64)
	if err != nil {
		return 0, "", 0, false
	}
	seq, err = strconv.Atoi(rest[last+1:])
	if err != nil || seq < 0 {
		return 0, "", 0, false
	}
	return gen, rest[first+1 : last], seq, true
}
