package runs

import (
	"context"
	"errors"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// Run names the run a start or an update reached.
type Run struct {
	WorkflowID string
	RunID      string
	// AlreadyRunning: the start reached a running run; nothing new was started. Known on a client
	// dialed with ReportStarts only.
	AlreadyRunning bool
}

// Update is a message to a workflow's running run: the update's name and argument. ID is the
// update id: Temporal answers an id it knows with that update's first answer (per run); empty
// lets the SDK choose one, which it keeps across its own retries of the call.
type Update struct {
	ID   string
	Name string
	Arg  any
}

// options are the update's options: it is sent to workflowID ("" with Update-with-Start) and
// waited for until the workflow has applied it.
func (u Update) options(workflowID string) client.UpdateWorkflowOptions {
	return client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateID:     u.ID,
		UpdateName:   u.Name,
		Args:         []any{u.Arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
}

// Execute starts s, or reaches its running run. A closed run that s may not follow is an
// *AlreadyRanError; other errors are the SDK's.
func Execute(ctx context.Context, c client.Client, s Start) (Run, error) {
	ctx, report := withStartReport(ctx)
	run, err := c.ExecuteWorkflow(ctx, s.Options, s.Workflow, s.Input)
	if ran := alreadyRan(s.ID(), err); ran != nil {
		return Run{WorkflowID: s.ID(), RunID: ran.RunID}, ran
	}
	if err != nil {
		return Run{}, err
	}
	return Run{WorkflowID: run.GetID(), RunID: run.GetRunID(), AlreadyRunning: report.reached()}, nil
}

// UpdateWithStart sends u to s's running run, starting s first when none runs
// (Update-with-Start), and decodes the update's answer into result (nil: none). A closed run that
// s may not follow is an *AlreadyRanError. Until the run is known the returned Run is zero; an
// error with a Run is the update's (a *RejectedError when the workflow refused it), and the run
// goes on.
func UpdateWithStart(ctx context.Context, c client.Client, s Start, u Update, result any) (Run, error) {
	ctx, report := withStartReport(ctx)
	op := c.NewWithStartWorkflowOperation(s.Options, s.Workflow, s.Input)
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions:          u.options(""),
	})
	if ran := alreadyRan(s.ID(), err); ran != nil {
		return Run{WorkflowID: s.ID(), RunID: ran.RunID}, ran
	}
	if err != nil {
		return Run{}, err
	}
	started, err := op.Get(ctx)
	if err != nil {
		return Run{}, err
	}
	run := Run{WorkflowID: started.GetID(), RunID: started.GetRunID(), AlreadyRunning: report.reached()}
	return run, answer(h.Get(ctx, result))
}

// update sends u to the running run of workflowID: ErrNotRunning when none runs. An error with a
// Run is the update's, as in UpdateWithStart.
func update(ctx context.Context, c client.Client, workflowID string, u Update) (Run, error) {
	h, err := c.UpdateWorkflow(ctx, u.options(workflowID))
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return Run{WorkflowID: workflowID}, ErrNotRunning
	}
	if err != nil {
		return Run{}, err
	}
	return Run{WorkflowID: workflowID, RunID: h.RunID()}, answer(h.Get(ctx, nil))
}
