package runs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Delivery is one message to one lifecycle workflow: start a run, update the running run, or both
// (Update-with-Start: the update goes to the run the start reached or started).
type Delivery struct {
	WorkflowID string
	// Start is the input of the run to start when none runs (a lifecycle input StartOf knows, whose
	// id is WorkflowID); nil when the delivery only reaches a running run.
	Start any
	// Again lets Start follow a closed run (the rerun rules say when).
	Again bool
	// Update is the message; nil when the delivery only starts a run.
	Update *Update
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
	// cancelled, rehired, ...), or the status of a run that did not complete (failed, terminated,
	// ...).
	ClosedAt time.Time
	Outcome  string
}

// Temporal delivers to and describes the lifecycle runs on one task queue, for a caller that
// answers someone else in time (the HR receiver): errors other than the typed ones name the
// workflow and wrap ErrUnavailable when Temporal could not be reached in time.
type Temporal struct {
	Client    client.Client
	TaskQueue string
	// StartedBy names in the UI what starts the runs (Start.StartedBy); empty keeps the starter
	// command's name.
	StartedBy string
}

// Deliver carries d out. It returns the run it reached also with a refusal: an *AlreadyRanError
// (a closed run that d may not follow) or a *RejectedError; ErrNotRunning is an update alone that
// found no running run.
func (t Temporal) Deliver(ctx context.Context, d Delivery) (Run, error) {
	run, err := t.deliver(ctx, d)
	return run, classify(d.WorkflowID, err)
}

func (t Temporal) deliver(ctx context.Context, d Delivery) (Run, error) {
	if d.Start == nil {
		if d.Update == nil {
			return Run{}, fmt.Errorf("runs: a delivery to %s neither starts nor updates it", d.WorkflowID)
		}
		return update(ctx, t.Client, d.WorkflowID, *d.Update)
	}
	s, err := StartOf(d.Start, t.TaskQueue)
	if err != nil {
		return Run{}, err
	}
	if s.ID() != d.WorkflowID {
		return Run{}, fmt.Errorf("runs: a delivery to %s carries the input of %s", d.WorkflowID, s.ID())
	}
	if t.StartedBy != "" {
		s = s.StartedBy(t.StartedBy)
	}
	if d.Again {
		s = s.Again()
	}
	if d.Update == nil {
		return Execute(ctx, t.Client, s)
	}
	return UpdateWithStart(ctx, t.Client, s, *d.Update, nil)
}

// Latest describes the latest run of workflowID: ErrNotFound when there is none.
func (t Temporal) Latest(ctx context.Context, workflowID string) (RunInfo, error) {
	d, err := t.Client.DescribeWorkflow(ctx, workflowID, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return RunInfo{}, ErrNotFound
	}
	if err != nil {
		return RunInfo{}, classify(workflowID, err)
	}
	info := RunInfo{RunID: d.WorkflowExecution.RunID, Running: d.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		StartedAt: d.WorkflowStartTime}
	info.Stage, _ = d.TypedSearchAttributes.GetKeyword(lifecycle.LifecycleStageKey)
	if info.Running {
		return info, nil
	}
	if d.WorkflowCloseTime != nil {
		info.ClosedAt = *d.WorkflowCloseTime
	}
	info.Outcome = strings.ToLower(strings.TrimPrefix(d.Status.String(), "WORKFLOW_EXECUTION_STATUS_"))
	if d.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		// Every lifecycle workflow's result carries its outcome.
		var res struct{ Outcome string }
		if err := t.Client.GetWorkflow(ctx, workflowID, info.RunID).Get(ctx, &res); err != nil {
			return RunInfo{}, classify(workflowID, err)
		}
		info.Outcome = res.Outcome
	}
	return info, nil
}

// classify names the workflow in an SDK error and marks the failures to reach Temporal in time;
// the typed errors pass as they are.
func classify(workflowID string, err error) error {
	var (
		ran         *AlreadyRanError
		rejected    *RejectedError
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
		exhausted   *serviceerror.ResourceExhausted
		canceled    *serviceerror.Canceled
	)
	switch {
	case err == nil, errors.As(err, &ran), errors.As(err, &rejected), errors.Is(err, ErrNotRunning), errors.Is(err, ErrNotFound):
		return err
	case errors.As(err, &unavailable), errors.As(err, &deadline), errors.As(err, &exhausted), errors.As(err, &canceled),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, workflowID, err)
	}
	return fmt.Errorf("%s: %w", workflowID, err)
}
