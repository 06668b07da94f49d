package hrevents

import (
	"context"
	"errors"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Temporal is what routing needs from Temporal. The starter implements it over the SDK client,
// with the start options of `starter onboard` and `starter offboard`; tests use a fake.
type Temporal interface {
	// StartOnboarding starts onboarding-<employee id>, or reaches its running run. When only a
	// closed run exists it returns that run and ErrClosed, unless rerun allows a new run.
	StartOnboarding(ctx context.Context, in lifecycle.OnboardingInput, rerun bool) (Run, error)
	// UpdateWithStartOffboarding sends u to the running offboarding-<employee id>, starting it
	// with in when none runs (Update-with-Start). ErrClosed as for StartOnboarding.
	UpdateWithStartOffboarding(ctx context.Context, in lifecycle.OffboardingInput, u Update, rerun bool) (Run, error)
	// Update sends u to the running run of workflowID: ErrNotRunning when none runs.
	Update(ctx context.Context, workflowID string, u Update) (Run, error)
	// Describe returns the latest run of workflowID: ErrNotFound when there is none (it never
	// ran, or Temporal deleted it after the namespace's retention period).
	Describe(ctx context.Context, workflowID string) (RunInfo, error)
}

// Update is a workflow update. ID is the HR event id, so a redelivery attaches to the update the
// first delivery made instead of making another (Temporal de-duplicates update ids per run).
type Update struct {
	ID   string
	Name string
	Arg  any
}

// Run names a workflow run.
type Run struct {
	WorkflowID string
	RunID      string
}

// RunInfo is the latest run of a workflow id.
type RunInfo struct {
	RunID   string
	Running bool
	// Stage is the run's LifecycleStage search attribute.
	Stage string
	// StartedAt is when the run started: a rehire's onboarding run tells when atomicflow learnt
	// of the rehire.
	StartedAt time.Time
	// ClosedAt and Outcome describe a closed run. Outcome is the result's outcome (completed,
	// cancelled, rehired), or the status of a run that did not complete (failed, terminated, ...).
	ClosedAt time.Time
	Outcome  string
}

// Errors of a Temporal implementation.
var (
	ErrClosed     = errors.New("the workflow has closed")
	ErrNotRunning = errors.New("the workflow is not running")
	ErrNotFound   = errors.New("the workflow never ran")
	// ErrUnavailable wraps failures to reach Temporal in time: the delivery is answered 503 and
	// the HR system delivers it again.
	ErrUnavailable = errors.New("Temporal is unavailable")
)

// RejectedError is an update the workflow's validator refused; nothing changed.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "rejected: " + e.Reason }

// StaleError is a date change the workflow's validator refused because HR decided a newer one
// (lifecycle.ErrStaleChange): nothing changed, and nothing should.
type StaleError struct{ Reason string }

func (e *StaleError) Error() string { return "stale: " + e.Reason }
