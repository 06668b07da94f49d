package workerapp

import (
	"fmt"
	"runtime/debug"
)

// The worker's garbage collector settings when the environment sets none. A worker decodes
// every API answer (a few kB each, thousands a second in a bulk reassignment) over a small live
// heap and many goroutines, so at Go's default GOGC=100 it collects many times a second, each
// time scanning every goroutine's stack; at 400 it trades some memory for throughput (the figures
// are in bench/BASELINE.md). The soft memory limit makes the collector work harder as the heap
// nears it, well under the worker's 300 MB budget, rather than let it grow there.
const (
	DefaultGCPercent   = 400
	DefaultMemoryLimit = 256 << 20
)

// TuneGC applies DefaultGCPercent and DefaultMemoryLimit unless GOGC or GOMEMLIMIT is set (the Go
// runtime has applied those already), and says what holds, for the start-up log.
func TuneGC(lookup func(string) (string, bool)) string {
	gogc, limit := "GOGC from the environment", "GOMEMLIMIT from the environment"
	if _, ok := lookup("GOGC"); !ok {
		debug.SetGCPercent(DefaultGCPercent)
		gogc = fmt.Sprintf("GOGC=%d", DefaultGCPercent)
	}
	if _, ok := lookup("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(DefaultMemoryLimit)
		limit = fmt.Sprintf("GOMEMLIMIT=%dMiB", DefaultMemoryLimit>>20)
	}
	return gogc + ", " + limit
}
