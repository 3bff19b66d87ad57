package apitest

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium finds the browser for tests that drive one, or skips the test
// without one unless FLEETGATE_BROWSER_TEST=1 (CI) says it must run.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("FLEETGATE_BROWSER_TEST") == "1" {
		t.Fatal("FLEETGATE_BROWSER_TEST=1 but no chromium on PATH")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); FLEETGATE_BROWSER_TEST=1 makes this a failure")
	return ""
}
