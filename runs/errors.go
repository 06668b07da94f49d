package runs

import (
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// AlreadyRanError is a start that found only a closed run of its id, which its reuse policy does
// not let it follow (Start.Again does): nothing was started.
type AlreadyRanError struct {
	WorkflowID string
	// RunID is the closed run.
	RunID string
}

func (e *AlreadyRanError) Error() string {
	return fmt.Sprintf("%s ran already (run %s)", e.WorkflowID, e.RunID)
}

// RejectedError is an update the workflow refused: nothing changed.
type RejectedError struct {
	Reason string
	// Stale: the update is a date change that HR decided before the newest the workflow applied
	// (lifecycle.ErrStaleChange), so nothing should change.
	Stale bool
}

func (e *RejectedError) Error() string {
	if e.Stale {
		return "stale: " + e.Reason
	}
	return "rejected: " + e.Reason
}

var (
	// ErrNotRunning: an update alone found no running run of its workflow id.
	ErrNotRunning = errors.New("the workflow is not running")
	// ErrNotFound: Latest found no run: the workflow never ran, or Temporal deleted its runs after
	// the namespace's retention period.
	ErrNotFound = errors.New("the workflow never ran")
	// ErrUnavailable is wrapped by the errors of Temporal (the type) that failed to reach Temporal
	// in time: delivering again later can succeed.
	ErrUnavailable = errors.New("Temporal is unavailable")
)

// alreadyRan recognises a start refused because of a closed run.
func alreadyRan(workflowID string, err error) *AlreadyRanError {
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &already) {
		return nil
	}
	return &AlreadyRanError{WorkflowID: workflowID, RunID: already.RunId}
}

// answer maps an update's result: the workflow refusing it (its validator or its handler
// returning an error) is a *RejectedError, stale when HR decided a newer change; other errors are
// the SDK's.
func answer(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return &RejectedError{Reason: app.Message(), Stale: app.Type() == lifecycle.ErrStaleChange}
	}
	return err
}
