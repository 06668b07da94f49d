package runs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/runs"
)

var hire = lifecycle.OnboardingInput{EmployeeID: "E-1", Email: "e1@example.com", FirstName: "One", StartDate: "2026-12-01"}

var leaver = lifecycle.OffboardingInput{EmployeeID: "E-1", Email: "e1@example.com", LastDay: "2026-12-18"}

func TestExecuteStartsWithTheStartsOptions(t *testing.T) {
	c := mocks.NewClient(t)
	run := mocks.NewWorkflowRun(t)
	run.On("GetID").Return("onboarding-E-1")
	run.On("GetRunID").Return("run-1")
	s := runs.Onboarding(hire, "q")
	c.On("ExecuteWorkflow", mock.Anything, s.Options, lifecycle.OnboardingWorkflowName, hire).Return(run, nil)
	got, err := runs.Execute(context.Background(), c, s)
	require.NoError(t, err)
	assert.Equal(t, runs.Run{WorkflowID: "onboarding-E-1", RunID: "run-1"}, got, "no ReportStarts on a mock: reported as started")
}

func TestExecuteAfterAClosedRunIsAlreadyRan(t *testing.T) {
	c := mocks.NewClient(t)
	c.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewWorkflowExecutionAlreadyStarted("already", "req", "run-0"))
	got, err := runs.Execute(context.Background(), c, runs.Onboarding(hire, "q"))
	var ran *runs.AlreadyRanError
	require.ErrorAs(t, err, &ran)
	assert.Equal(t, runs.AlreadyRanError{WorkflowID: "onboarding-E-1", RunID: "run-0"}, *ran)
	assert.Equal(t, runs.Run{WorkflowID: "onboarding-E-1", RunID: "run-0"}, got)

	other := errors.New("connection refused")
	c = mocks.NewClient(t)
	c.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil, other)
	got, err = runs.Execute(context.Background(), c, runs.Onboarding(hire, "q"))
	assert.Same(t, other, err, "the SDK's error, for the caller to word")
	assert.Zero(t, got)
}

// withStartOp stands in for the SDK's operation: it returns the run the call reached.
type withStartOp struct{ run client.WorkflowRun }

func (o withStartOp) Get(context.Context) (client.WorkflowRun, error) { return o.run, nil }

// updateWithStart expects one Update-with-Start of s that the workflow answers with answer (a
// status) or refuses with refusal; it records the update options.
func updateWithStart(t *testing.T, s runs.Start, answer lifecycle.OffboardingStatus, refusal error) (*mocks.Client, *client.UpdateWorkflowOptions) {
	c := mocks.NewClient(t)
	run := mocks.NewWorkflowRun(t)
	run.On("GetID").Return(s.ID())
	run.On("GetRunID").Return("run-1")
	h := mocks.NewWorkflowUpdateHandle(t)
	h.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		if refusal == nil {
			*args.Get(1).(*lifecycle.OffboardingStatus) = answer
		}
	}).Return(refusal)
	c.On("NewWithStartWorkflowOperation", s.Options, s.Workflow, s.Input).Return(withStartOp{run})
	var sent client.UpdateWorkflowOptions
	c.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		sent = args.Get(1).(client.UpdateWithStartWorkflowOptions).UpdateOptions
	}).Return(h, nil)
	return c, &sent
}

func TestUpdateWithStartSendsTheUpdateAndDecodesItsAnswer(t *testing.T) {
	s := runs.Offboarding(leaver, "q")
	c, sent := updateWithStart(t, s, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffScheduled}, nil)
	var st lifecycle.OffboardingStatus
	u := runs.Update{Name: lifecycle.UpdateReschedule, Arg: lifecycle.RescheduleRequest{LastDay: "2026-12-18"}}
	got, err := runs.UpdateWithStart(context.Background(), c, s, u, &st)
	require.NoError(t, err)
	assert.Equal(t, runs.Run{WorkflowID: "offboarding-E-1", RunID: "run-1"}, got)
	assert.Equal(t, lifecycle.StageOffScheduled, st.Stage)
	assert.Equal(t, client.UpdateWorkflowOptions{UpdateName: lifecycle.UpdateReschedule, Args: []any{u.Arg},
		WaitForStage: client.WorkflowUpdateStageCompleted}, *sent, "no update id: the SDK's, kept across its retries")
}

func TestUpdateWithStartRefusals(t *testing.T) {
	s := runs.Offboarding(leaver, "q")
	u := runs.Update{ID: "evt-1", Name: lifecycle.UpdateReschedule, Arg: lifecycle.RescheduleRequest{LastDay: "2020-01-01"}}
	for _, tc := range []struct {
		name    string
		refusal error
		want    runs.RejectedError
	}{
		{"rejected", temporal.NewApplicationError("the last day is before today", ""), runs.RejectedError{Reason: "the last day is before today"}},
		{"stale", temporal.NewApplicationError("HR decided a newer change", lifecycle.ErrStaleChange),
			runs.RejectedError{Reason: "HR decided a newer change", Stale: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sent := updateWithStart(t, s, lifecycle.OffboardingStatus{}, tc.refusal)
			got, err := runs.UpdateWithStart(context.Background(), c, s, u, nil)
			var rejected *runs.RejectedError
			require.ErrorAs(t, err, &rejected)
			assert.Equal(t, tc.want, *rejected)
			assert.Equal(t, runs.Run{WorkflowID: "offboarding-E-1", RunID: "run-1"}, got, "the refusal names the run that refused")
			assert.Equal(t, "evt-1", sent.UpdateID)
		})
	}

	c := mocks.NewClient(t)
	c.On("NewWithStartWorkflowOperation", mock.Anything, mock.Anything, mock.Anything).Return(withStartOp{})
	// The SDK wraps the start operation's failure.
	already := fmt.Errorf("failed workflow start: %w", serviceerror.NewWorkflowExecutionAlreadyStarted("already", "req", "run-0"))
	c.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(nil, already)
	got, err := runs.UpdateWithStart(context.Background(), c, s, u, nil)
	var ran *runs.AlreadyRanError
	require.ErrorAs(t, err, &ran)
	assert.Equal(t, "run-0", ran.RunID)
	assert.Equal(t, runs.Run{WorkflowID: "offboarding-E-1", RunID: "run-0"}, got)
}
