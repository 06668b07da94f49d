package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// hrTemporal carries HR events to Temporal with the start options of `starter onboard` and
// `starter offboard`, so a run the receiver starts is the run those commands would start.
type hrTemporal struct {
	c     client.Client
	queue string
}

var _ hrevents.Temporal = hrTemporal{}

func (t hrTemporal) StartOnboarding(ctx context.Context, in lifecycle.OnboardingInput, rerun bool) (hrevents.Run, error) {
	opts := onboardingStartOptions(in, t.queue)
	opts.StaticDetails = startedByListen(opts.StaticDetails)
	if rerun {
		opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	}
	run, err := t.c.ExecuteWorkflow(ctx, opts, lifecycle.OnboardingWorkflowName, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return hrevents.Run{WorkflowID: opts.ID, RunID: already.RunId}, hrevents.ErrClosed
	}
	if err != nil {
		return hrevents.Run{}, classify(opts.ID, err)
	}
	return hrevents.Run{WorkflowID: run.GetID(), RunID: run.GetRunID()}, nil
}

func (t hrTemporal) UpdateWithStartOffboarding(ctx context.Context, in lifecycle.OffboardingInput, u hrevents.Update, rerun bool) (hrevents.Run, error) {
	opts := offboardingStartOptions(in, t.queue)
	opts.StaticDetails = startedByListen(opts.StaticDetails)
	if rerun {
		opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	}
	op := t.c.NewWithStartWorkflowOperation(opts, lifecycle.OffboardingWorkflowName, in)
	h, err := t.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions:          updateOptions("", u),
	})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return hrevents.Run{WorkflowID: opts.ID, RunID: already.RunId}, hrevents.ErrClosed
	}
	if err != nil {
		return hrevents.Run{}, classify(opts.ID, err)
	}
	run, err := op.Get(ctx)
	if err != nil {
		return hrevents.Run{}, classify(opts.ID, err)
	}
	r := hrevents.Run{WorkflowID: run.GetID(), RunID: run.GetRunID()}
	return r, updateOutcome(opts.ID, h.Get(ctx, nil))
}

func (t hrTemporal) Update(ctx context.Context, workflowID string, u hrevents.Update) (hrevents.Run, error) {
	h, err := t.c.UpdateWorkflow(ctx, updateOptions(workflowID, u))
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return hrevents.Run{WorkflowID: workflowID}, hrevents.ErrNotRunning
	}
	if err != nil {
		return hrevents.Run{}, classify(workflowID, err)
	}
	r := hrevents.Run{WorkflowID: workflowID, RunID: h.RunID()}
	return r, updateOutcome(workflowID, h.Get(ctx, nil))
}

func (t hrTemporal) Describe(ctx context.Context, workflowID string) (hrevents.RunInfo, error) {
	d, err := t.c.DescribeWorkflow(ctx, workflowID, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return hrevents.RunInfo{}, hrevents.ErrNotFound
	}
	if err != nil {
		return hrevents.RunInfo{}, classify(workflowID, err)
	}
	info := hrevents.RunInfo{RunID: d.WorkflowExecution.RunID, Running: d.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
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
		// Both workflows' results carry the outcome: completed, cancelled or rehired.
		var res struct{ Outcome string }
		if err := t.c.GetWorkflow(ctx, workflowID, info.RunID).Get(ctx, &res); err != nil {
			return hrevents.RunInfo{}, classify(workflowID, err)
		}
		info.Outcome = res.Outcome
	}
	return info, nil
}

// updateOptions sends u with the event id as update id and waits until the workflow applied it.
func updateOptions(workflowID string, u hrevents.Update) client.UpdateWorkflowOptions {
	return client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateID:     u.ID,
		UpdateName:   u.Name,
		Args:         []any{u.Arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
}

// updateOutcome maps an update's result: the workflow's validator refusing it is a rejection,
// or a stale change when HR decided a newer one (answered 200 ignored).
func updateOutcome(workflowID string, err error) error {
	var app *temporal.ApplicationError
	switch {
	case errors.As(err, &app) && app.Type() == lifecycle.ErrStaleChange:
		return &hrevents.StaleError{Reason: app.Message()}
	case errors.As(err, &app):
		return &hrevents.RejectedError{Reason: app.Message()}
	}
	if err != nil {
		return classify(workflowID, err)
	}
	return nil
}

// classify marks the failures to reach Temporal in time, which the HR system retries (503).
func classify(workflowID string, err error) error {
	var (
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
		exhausted   *serviceerror.ResourceExhausted
		canceled    *serviceerror.Canceled
	)
	if errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &exhausted) || errors.As(err, &canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: %s: %w", hrevents.ErrUnavailable, workflowID, err)
	}
	return fmt.Errorf("%s: %w", workflowID, err)
}

// startedByListen says in the UI that an HR event, not an operator, started the run.
func startedByListen(details string) string {
	for _, cmd := range []string{"`starter onboard`", "`starter offboard`"} {
		details = strings.Replace(details, "**Started by:** "+cmd, "**Started by:** `starter listen` (HR event)", 1)
	}
	return details
}
