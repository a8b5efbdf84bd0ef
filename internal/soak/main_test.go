package soak

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// timeoutScale is the unit of the timeouts the tests give the soak: long
// enough for a loaded machine running the race detector, short enough that
// a failing wait does not stall the test run.
const timeoutScale = time.Second
