package monitor

import (
	"errors"
	"io"
	"os"
)

// CountOpenFDs returns the number of file descriptors the process has open,
// counted from /proc/self/fd, or -1 when that directory cannot be read.
func CountOpenFDs() int {
	dir, err := os.Open("/proc/self/fd")
	if err != nil {
		return -1
	}
	defer dir.Close()

	count := 0
	for {
		names, err := dir.Readdirnames(256)
		count += len(names)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return -1
		}
	}
	// The listing includes the descriptor that reads it.
	return count - 1
}
