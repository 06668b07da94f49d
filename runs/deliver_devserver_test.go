package runs_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/internal/testkit"
	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/runs"
	"github.com/atomicflow/atomicflow/workflows"
)

// runDeadline bounds a workflow run on the dev server to its end.
const runDeadline = 5 * time.Minute

// update is a delivery of u alone to workflowID.
func update(workflowID string, u runs.Update) runs.Delivery {
	return runs.Delivery{WorkflowID: workflowID, Update: &u}
}

// TestTemporalMapsTemporalsAnswers runs the real workflows without activities: starts, updates
// and their validators answer from the workflow task alone.
func TestTemporalMapsTemporalsAnswers(t *testing.T) {
	srv := testkit.NewDevServer(t)
	const queue = "runs-temporal"
	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: lifecycle.OffboardingWorkflowName})
	require.NoError(t, w.Start())
	defer w.Stop()
	tc := runs.Temporal{Client: srv.Client(), TaskQueue: queue}
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()

	const id = "onboarding-E-9"
	_, err := tc.Latest(ctx, id)
	require.ErrorIs(t, err, runs.ErrNotFound)
	_, err = tc.Deliver(ctx, update(id, runs.Update{ID: "evt-0", Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{}}))
	require.ErrorIs(t, err, runs.ErrNotRunning)

	in := lifecycle.OnboardingInput{EmployeeID: "E-9", Email: "e9@example.com", FirstName: "Nine", StartDate: "2031-01-06"}
	run, err := tc.Deliver(ctx, runs.Delivery{WorkflowID: id, Start: in})
	require.NoError(t, err)
	again, err := tc.Deliver(ctx, runs.Delivery{WorkflowID: id, Start: in})
	require.NoError(t, err)
	assert.Equal(t, run, again, "a repeated start reaches the running run")

	_, err = tc.Deliver(ctx, update(id, runs.Update{ID: "evt-1", Name: lifecycle.UpdateSetStartDate, Arg: lifecycle.SetStartDateRequest{StartDate: "2031-02-30"}}))
	var rejected *runs.RejectedError
	require.ErrorAs(t, err, &rejected)
	assert.Contains(t, rejected.Reason, "YYYY-MM-DD")
	info, err := tc.Latest(ctx, id)
	require.NoError(t, err)
	started := info.StartedAt
	assert.WithinDuration(t, time.Now(), started, runDeadline, "the run started during this test")
	info.StartedAt = time.Time{}
	assert.Equal(t, runs.RunInfo{RunID: run.RunID, Running: true, Stage: lifecycle.StagePlanning}, info)

	upd, err := tc.Deliver(ctx, update(id, runs.Update{ID: "evt-2", Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{Reason: "offer withdrawn"}}))
	require.NoError(t, err)
	assert.Equal(t, run, upd)
	require.NoError(t, srv.Client().GetWorkflow(ctx, id, run.RunID).Get(ctx, nil))
	info, err = tc.Latest(ctx, id)
	require.NoError(t, err)
	assert.False(t, info.Running)
	assert.Equal(t, lifecycle.OutcomeCancelled, info.Outcome)
	assert.WithinDuration(t, time.Now(), info.ClosedAt, runDeadline, "the run closed during this test")
	assert.Equal(t, started, info.StartedAt, "a closed run keeps its start time")

	redelivered, err := tc.Deliver(ctx, update(id, runs.Update{ID: "evt-2", Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{}}))
	require.NoError(t, err, "a known update id gets its first answer, even from a closed run")
	assert.Equal(t, run, redelivered)
	_, err = tc.Deliver(ctx, update(id, runs.Update{ID: "evt-5", Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{}}))
	require.ErrorIs(t, err, runs.ErrNotRunning, "a closed run takes no new update")
	closed, err := tc.Deliver(ctx, runs.Delivery{WorkflowID: id, Start: in})
	var ran *runs.AlreadyRanError
	require.ErrorAs(t, err, &ran)
	assert.Equal(t, run.RunID, ran.RunID)
	assert.Equal(t, run, closed)
	rerun, err := tc.Deliver(ctx, runs.Delivery{WorkflowID: id, Start: in, Again: true})
	require.NoError(t, err)
	assert.NotEqual(t, run.RunID, rerun.RunID)

	off := lifecycle.OffboardingInput{EmployeeID: "E-9", Email: "e9@example.com", LastDay: "2031-03-07", TimeZone: "Europe/Paris"}
	later := runs.Update{ID: "evt-3", Name: lifecycle.UpdateReschedule, Arg: lifecycle.RescheduleRequest{LastDay: "2031-03-14", AsOf: time.Now()}}
	offRun, err := tc.Deliver(ctx, runs.Delivery{WorkflowID: "offboarding-E-9", Start: off, Update: &later})
	require.NoError(t, err)
	assert.Equal(t, "offboarding-E-9", offRun.WorkflowID)
	past := runs.Update{ID: "evt-4", Name: lifecycle.UpdateReschedule, Arg: lifecycle.RescheduleRequest{LastDay: "2020-01-01"}}
	same, err := tc.Deliver(ctx, runs.Delivery{WorkflowID: "offboarding-E-9", Start: off, Update: &past})
	require.ErrorAs(t, err, &rejected)
	assert.Contains(t, rejected.Reason, "before today")
	assert.Equal(t, offRun, same, "the rejection names the run that refused it")
	info, err = tc.Latest(ctx, offRun.WorkflowID)
	require.NoError(t, err)
	assert.True(t, info.Running)
	assert.Equal(t, lifecycle.StageOffPlanning, info.Stage)
}

func TestTemporalUnreachableIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	c, err := client.NewLazyClient(client.Options{HostPort: addr})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = runs.Temporal{Client: c, TaskQueue: "q"}.Deliver(ctx, runs.Delivery{WorkflowID: "onboarding-E-1", Start: lifecycle.OnboardingInput{EmployeeID: "E-1"}})
	require.ErrorIs(t, err, runs.ErrUnavailable)
}
