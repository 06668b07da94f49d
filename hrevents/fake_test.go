package hrevents

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/runs"
)

// fakeRuns keeps runs per workflow id the way Temporal does for runs' start options: a start
// reaches the running run (USE_EXISTING), a closed run blocks a new one unless it failed or the
// delivery runs it again, and update ids are de-duplicated per run. A new run begins in the stage
// its start options set.
type fakeRuns struct {
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
	updates  []runs.Update
}

func newFake() *fakeRuns {
	return &fakeRuns{runs: map[string][]*fakeRun{}, clock: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
}

// latest is the workflow id's latest run, nil when none.
func (f *fakeRuns) latest(id string) *fakeRun {
	if rs := f.runs[id]; len(rs) > 0 {
		return rs[len(rs)-1]
	}
	return nil
}

// seed adds a run in the given state.
func (f *fakeRuns) seed(id string, running bool, stage, outcome string, closedAt time.Time) *fakeRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &fakeRun{id: fmt.Sprintf("run-%d", len(f.runs[id])+1), running: running, stage: stage, outcome: outcome, closedAt: closedAt}
	f.runs[id] = append(f.runs[id], r)
	return r
}

func (f *fakeRuns) record(format string, args ...any) error {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	if f.down {
		return fmt.Errorf("%w: connection refused", runs.ErrUnavailable)
	}
	return nil
}

func (f *fakeRuns) Deliver(_ context.Context, d runs.Delivery) (runs.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := d.WorkflowID
	var err error
	switch {
	case d.Start == nil:
		err = f.record("update %s %s", id, d.Update.Name)
	case d.Update == nil:
		err = f.record("start %s rerun=%t", id, d.Again)
	default:
		err = f.record("update-with-start %s %s rerun=%t", id, d.Update.Name, d.Again)
	}
	if err != nil {
		return runs.Run{}, err
	}
	var r *fakeRun
	if d.Start == nil {
		if r = f.latest(id); r == nil || !r.running {
			return runs.Run{WorkflowID: id}, runs.ErrNotRunning
		}
	} else if r, err = f.start(d); r == nil {
		return runs.Run{}, err
	} else if err != nil {
		return runs.Run{WorkflowID: id, RunID: r.id}, err
	}
	run := runs.Run{WorkflowID: id, RunID: r.id}
	if d.Update == nil {
		return run, nil
	}
	return run, f.apply(r, *d.Update)
}

// start returns the run a start reaches or creates.
func (f *fakeRuns) start(d runs.Delivery) (*fakeRun, error) {
	s, err := runs.StartOf(d.Start, "fake-queue")
	if err != nil {
		return nil, err
	}
	if s.ID() != d.WorkflowID {
		return nil, fmt.Errorf("a delivery to %s carries the input of %s", d.WorkflowID, s.ID())
	}
	r := f.latest(d.WorkflowID)
	switch {
	case r != nil && r.running:
		return r, nil
	case r != nil && r.outcome != "failed" && !d.Again:
		return r, &runs.AlreadyRanError{WorkflowID: d.WorkflowID, RunID: r.id}
	}
	stage, _ := s.Options.TypedSearchAttributes.GetKeyword(lifecycle.LifecycleStageKey)
	r = &fakeRun{id: fmt.Sprintf("run-%d", len(f.runs[d.WorkflowID])+1), running: true, stage: stage, input: d.Start, started: f.clock}
	f.runs[d.WorkflowID] = append(f.runs[d.WorkflowID], r)
	return r, nil
}

func (f *fakeRuns) apply(r *fakeRun, u runs.Update) error {
	if f.reject != "" {
		return &runs.RejectedError{Reason: f.reject}
	}
	if f.stale != "" {
		return &runs.RejectedError{Reason: f.stale, Stale: true}
	}
	for _, prev := range r.updates {
		if prev.ID == u.ID {
			return nil // Temporal answers a known update id with the first result
		}
	}
	r.updates = append(r.updates, u)
	return nil
}

func (f *fakeRuns) Latest(_ context.Context, id string) (runs.RunInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("describe %s", id); err != nil {
		return runs.RunInfo{}, err
	}
	r := f.latest(id)
	if r == nil {
		return runs.RunInfo{}, runs.ErrNotFound
	}
	return runs.RunInfo{RunID: r.id, Running: r.running, Stage: r.stage, StartedAt: r.started, ClosedAt: r.closedAt, Outcome: r.outcome}, nil
}

// countRunsStarted counts the runs starts created (seeded ones aside).
func (f *fakeRuns) countRunsStarted() int {
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

func (f *fakeRuns) countRuns(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.runs[id])
}
