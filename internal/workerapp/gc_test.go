package workerapp

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTuneGC(t *testing.T) {
	// Restore the test binary's settings afterwards.
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(name string) (string, bool) {
			v, ok := vars[name]
			return v, ok
		}
	}

	assert.Equal(t, "GOGC=400, GOMEMLIMIT=256MiB", TuneGC(env(nil)))
	assert.Equal(t, DefaultGCPercent, debug.SetGCPercent(100))
	assert.Equal(t, int64(DefaultMemoryLimit), debug.SetMemoryLimit(math.MaxInt64))

	assert.Equal(t, "GOGC from the environment, GOMEMLIMIT from the environment",
		TuneGC(env(map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"})), "an operator's settings win")
	assert.Equal(t, 100, debug.SetGCPercent(100), "left as the runtime set it")
	assert.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(math.MaxInt64))
}
