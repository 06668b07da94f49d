// Package version says which build of atomicflow is running, for every binary's --version.
package version

import (
	"fmt"
	"runtime/debug"
)

// String is "<binary> <module version> (<vcs revision>[, modified], <go version>)", read from the
// build information Go embeds; "(devel)" and "unknown" where the build carries none (go run, tests).
func String(binary string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return binary + " (no build information)"
	}
	revision, modified := "unknown", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified {
		revision += ", modified"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("%s %s (%s, %s)", binary, v, revision, info.GoVersion)
}
