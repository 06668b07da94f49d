package hrevents

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// fakeTemporal keeps runs per workflow id the way Temporal does for our start options: a start
// reaches the running run (USE_EXISTING), a closed run blocks a new one unless it failed or rerun
// allows it, and update ids are de-duplicated per run.
type fakeTemporal struct {
	mu     sync.Mutex
	runs   map[string][]*fakeRun
	calls  []string
	down   bool
	reject string // the validator's answer to every update, when set
	stale  string // the validator's STALE_HR_CHANGE answer to every update, when set
	clock  time.Time
}

type fakeRun struct {
	id       string
	running  bool
	stage    string
	outcome  string
	closedAt time.Time
	started  time.Time
	input    any
	updates  []Update
}

func newFake() *fakeTemporal {
	return &fakeTemporal{runs: map[string][]*fakeRun{}, clock: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
}

// latest is the workflow id's latest run, nil when none.
func (f *fakeTemporal) latest(id string) *fakeRun {
	if rs := f.runs[id]; len(rs) > 0 {
		return rs[len(rs)-1]
	}
	return nil
}

// seed adds a run in the given state.
func (f *fakeTemporal) seed(id string, running bool, stage, outcome string, closedAt time.Time) *fakeRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &fakeRun{id: fmt.Sprintf("run-%d", len(f.runs[id])+1), running: running, stage: stage, outcome: outcome, closedAt: closedAt}
	f.runs[id] = append(f.runs[id], r)
	return r
}

func (f *fakeTemporal) record(format string, args ...any) error {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	if f.down {
		return fmt.Errorf("%w: connection refused", ErrUnavailable)
	}
	return nil
}

// start returns the run a start reaches or creates.
func (f *fakeTemporal) start(id, stage string, in any, rerun bool) (*fakeRun, error) {
	r := f.latest(id)
	switch {
	case r != nil && r.running:
		return r, nil
	case r != nil && r.outcome != "failed" && !rerun:
		return r, ErrClosed
	}
	r = &fakeRun{id: fmt.Sprintf("run-%d", len(f.runs[id])+1), running: true, stage: stage, input: in, started: f.clock}
	f.runs[id] = append(f.runs[id], r)
	return r, nil
}

func (f *fakeTemporal) apply(r *fakeRun, u Update) error {
	if f.reject != "" {
		return &RejectedError{Reason: f.reject}
	}
	if f.stale != "" {
		return &StaleError{Reason: f.stale}
	}
	for _, prev := range r.updates {
		if prev.ID == u.ID {
			return nil // Temporal answers a known update id with the first result
		}
	}
	r.updates = append(r.updates, u)
	return nil
}

func (f *fakeTemporal) StartOnboarding(_ context.Context, in lifecycle.OnboardingInput, rerun bool) (Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := lifecycle.OnboardingID(in.EmployeeID)
	if err := f.record("start %s rerun=%t", id, rerun); err != nil {
		return Run{}, err
	}
	r, err := f.start(id, lifecycle.StagePlanning, in, rerun)
	return Run{WorkflowID: id, RunID: r.id}, err
}

func (f *fakeTemporal) UpdateWithStartOffboarding(_ context.Context, in lifecycle.OffboardingInput, u Update, rerun bool) (Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := lifecycle.OffboardingID(in.EmployeeID)
	if err := f.record("update-with-start %s %s rerun=%t", id, u.Name, rerun); err != nil {
		return Run{}, err
	}
	r, err := f.start(id, lifecycle.StageOffPlanning, in, rerun)
	if err != nil {
		return Run{WorkflowID: id, RunID: r.id}, err
	}
	return Run{WorkflowID: id, RunID: r.id}, f.apply(r, u)
}

func (f *fakeTemporal) Update(_ context.Context, id string, u Update) (Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("update %s %s", id, u.Name); err != nil {
		return Run{}, err
	}
	r := f.latest(id)
	if r == nil || !r.running {
		return Run{WorkflowID: id}, ErrNotRunning
	}
	return Run{WorkflowID: id, RunID: r.id}, f.apply(r, u)
}

func (f *fakeTemporal) Describe(_ context.Context, id string) (RunInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("describe %s", id); err != nil {
		return RunInfo{}, err
	}
	r := f.latest(id)
	if r == nil {
		return RunInfo{}, ErrNotFound
	}
	return RunInfo{RunID: r.id, Running: r.running, Stage: r.stage, StartedAt: r.started, ClosedAt: r.closedAt, Outcome: r.outcome}, nil
}

// countRunsStarted counts the runs starts created (seeded ones aside).
func (f *fakeTemporal) countRunsStarted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, rs := range f.runs {
		for _, r := range rs {
			if r.input != nil {
				n++
			}
		}
	}
	return n
}

func (f *fakeTemporal) countRuns(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.runs[id])
}
