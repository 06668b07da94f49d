package version

import (
	"strings"
	"testing"
)

func TestStringNamesTheBinaryAndGoVersion(t *testing.T) {
	got := String("worker")
	if !strings.HasPrefix(got, "worker ") || !strings.Contains(got, "go1.") {
		t.Fatalf("String(worker) = %q: want the binary's name, a version and the Go version", got)
	}
}
