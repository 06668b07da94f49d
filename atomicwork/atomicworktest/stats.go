package atomicworktest

import (
	"maps"
	"sync"
)

// statsRecorder counts what the simulator saw; it is safe for concurrent use.
type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func newStatsRecorder() *statsRecorder {
	r := &statsRecorder{}
	r.reset()
	return r
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s = Stats{Calls: map[string]map[int]int{}, FaultsInjected: map[string]int{}}
}

// call counts one answered /api/v1 request under its operation and final status.
func (r *statsRecorder) call(op string, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byStatus := r.s.Calls[op]
	if byStatus == nil {
		byStatus = map[int]int{}
		r.s.Calls[op] = byStatus
	}
	byStatus[status]++
}

func (r *statsRecorder) writeApplied() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.WritesApplied++
}

func (r *statsRecorder) fault(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.FaultsInjected[name]++
}

func (r *statsRecorder) rateLimited() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.RateLimited++
}

// snapshot returns a deep copy, so callers can keep and compare it while requests go on.
func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.s
	s.Calls = make(map[string]map[int]int, len(r.s.Calls))
	for op, byStatus := range r.s.Calls {
		s.Calls[op] = maps.Clone(byStatus)
	}
	s.FaultsInjected = maps.Clone(r.s.FaultsInjected)
	return s
}
