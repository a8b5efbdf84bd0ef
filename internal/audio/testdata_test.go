package audio

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// testdataPath returns the path of a shared recording, from
// VOICEORDER_TESTDATA or else ../shared/testdata beside the repository root,
// and skips the test when the file is absent.
func testdataPath(tb testing.TB, rel string) string {
	tb.Helper()
	path, err := findTestdata(rel)
	if err != nil {
		tb.Skipf("test data %s not available (%v); set VOICEORDER_TESTDATA to the shared testdata folder", rel, err)
	}
	return path
}

// findTestdata returns the path of a shared file, or an error saying why it
// is unavailable.
func findTestdata(rel string) (string, error) {
	dir := os.Getenv("VOICEORDER_TESTDATA")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "..", "shared", "testdata")
	}
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	return path, nil
}

// testdataGlob returns the shared files matching pattern, skipping the test
// when there are none.
func testdataGlob(tb testing.TB, dirRel, pattern string) []string {
	tb.Helper()
	dir := testdataPath(tb, dirRel)
	paths, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		tb.Fatalf("glob %s: %v", pattern, err)
	}
	if len(paths) == 0 {
		tb.Skipf("no %s files in %s", pattern, dir)
	}
	return paths
}

// moduleRoot walks up from the working directory to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
