//go:build !linux

package monitor

// CountOpenFDs returns -1: counting open file descriptors is implemented
// only on Linux.
func CountOpenFDs() int { return -1 }
