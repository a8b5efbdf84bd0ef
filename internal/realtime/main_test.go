package realtime_test

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// protocolLines returns the lines of a JSON Lines file of recorded protocol
// events, or skips the test when the shared test data is absent.
func protocolLines(t *testing.T, name string) [][]byte {
	t.Helper()
	lines, path := readProtocolLines(t, name)
	if lines == nil {
		t.Skipf("test data %s not found; set VOICEORDER_TESTDATA to the shared test data directory", path)
	}
	return lines
}

// readProtocolLines returns the non-empty lines of a file of recorded protocol
// events and its path, or nil lines when the file does not exist.
func readProtocolLines(tb testing.TB, name string) ([][]byte, string) {
	tb.Helper()
	dir := testdataDir(tb)
	if dir == "" {
		return nil, filepath.Join("$VOICEORDER_TESTDATA", "protocol", name)
	}
	path := filepath.Join(dir, "protocol", name)
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, path
	}
	if err != nil {
		tb.Fatalf("open test data: %v", err)
	}
	defer f.Close()

	var lines [][]byte
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		if len(scanner.Bytes()) > 0 {
			lines = append(lines, append([]byte(nil), scanner.Bytes()...))
		}
	}
	if err := scanner.Err(); err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return lines, path
}

// testdataDir returns $VOICEORDER_TESTDATA, or else the directory
// ../shared/testdata next to the module root, or "" when there is no module
// root above the working directory.
func testdataDir(tb testing.TB) string {
	if dir := os.Getenv("VOICEORDER_TESTDATA"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("get working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "testdata")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
