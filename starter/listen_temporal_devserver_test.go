package main

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

	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/workflows"
)

// TestHRTemporalMapsTemporalsAnswers runs the real workflows without activities: starts, updates
// and their validators answer from the workflow task alone.
func TestHRTemporalMapsTemporalsAnswers(t *testing.T) {
	srv := devserver.ForTest(t)
	const queue = "listen-adapter"
	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: workflows.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: workflows.OffboardingWorkflowName})
	require.NoError(t, w.Start())
	defer w.Stop()
	tc := hrTemporal{c: srv.Client(), queue: queue}
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()

	const id = "onboarding-E-9"
	_, err := tc.Describe(ctx, id)
	require.ErrorIs(t, err, hrevents.ErrNotFound)
	_, err = tc.Update(ctx, id, hrevents.Update{ID: "evt-0", Name: workflows.UpdateCancel, Arg: workflows.CancelRequest{}})
	require.ErrorIs(t, err, hrevents.ErrNotRunning)

	in := workflows.OnboardingInput{EmployeeID: "E-9", Email: "e9@example.com", FirstName: "Nine", StartDate: "2031-01-06"}
	run, err := tc.StartOnboarding(ctx, in, false)
	require.NoError(t, err)
	again, err := tc.StartOnboarding(ctx, in, false)
	require.NoError(t, err)
	assert.Equal(t, run, again, "a repeated start reaches the running run")

	_, err = tc.Update(ctx, id, hrevents.Update{ID: "evt-1", Name: workflows.UpdateSetStartDate, Arg: workflows.SetStartDateRequest{StartDate: "2031-02-30"}})
	var rejected *hrevents.RejectedError
	require.ErrorAs(t, err, &rejected)
	assert.Contains(t, rejected.Reason, "YYYY-MM-DD")
	info, err := tc.Describe(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, hrevents.RunInfo{RunID: run.RunID, Running: true, Stage: workflows.StagePlanning}, info)

	upd, err := tc.Update(ctx, id, hrevents.Update{ID: "evt-2", Name: workflows.UpdateCancel, Arg: workflows.CancelRequest{Reason: "offer withdrawn"}})
	require.NoError(t, err)
	assert.Equal(t, run, upd)
	require.NoError(t, srv.Client().GetWorkflow(ctx, id, run.RunID).Get(ctx, nil))
	info, err = tc.Describe(ctx, id)
	require.NoError(t, err)
	assert.False(t, info.Running)
	assert.Equal(t, workflows.OutcomeCancelled, info.Outcome)
	assert.WithinDuration(t, time.Now(), info.ClosedAt, runDeadline, "the run closed during this test")

	redelivered, err := tc.Update(ctx, id, hrevents.Update{ID: "evt-2", Name: workflows.UpdateCancel, Arg: workflows.CancelRequest{}})
	require.NoError(t, err, "a known update id gets its first answer, even from a closed run")
	assert.Equal(t, run, redelivered)
	_, err = tc.Update(ctx, id, hrevents.Update{ID: "evt-5", Name: workflows.UpdateCancel, Arg: workflows.CancelRequest{}})
	require.ErrorIs(t, err, hrevents.ErrNotRunning, "a closed run takes no new update")
	closed, err := tc.StartOnboarding(ctx, in, false)
	require.ErrorIs(t, err, hrevents.ErrClosed)
	assert.Equal(t, run, closed)
	rerun, err := tc.StartOnboarding(ctx, in, true)
	require.NoError(t, err)
	assert.NotEqual(t, run.RunID, rerun.RunID)

	off := workflows.OffboardingInput{EmployeeID: "E-9", Email: "e9@example.com", LastDay: "2031-03-07", TimeZone: "Europe/Paris"}
	later := hrevents.Update{ID: "evt-3", Name: workflows.UpdateReschedule, Arg: workflows.RescheduleRequest{LastDay: "2031-03-14", AsOf: time.Now()}}
	offRun, err := tc.UpdateWithStartOffboarding(ctx, off, later, false)
	require.NoError(t, err)
	assert.Equal(t, "offboarding-E-9", offRun.WorkflowID)
	past := hrevents.Update{ID: "evt-4", Name: workflows.UpdateReschedule, Arg: workflows.RescheduleRequest{LastDay: "2020-01-01"}}
	same, err := tc.UpdateWithStartOffboarding(ctx, off, past, false)
	require.ErrorAs(t, err, &rejected)
	assert.Contains(t, rejected.Reason, "before today")
	assert.Equal(t, offRun, same, "the rejection names the run that refused it")
	info, err = tc.Describe(ctx, offRun.WorkflowID)
	require.NoError(t, err)
	assert.True(t, info.Running)
	assert.Equal(t, workflows.StageOffPlanning, info.Stage)
}

func TestHRTemporalUnreachableIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	c, err := client.NewLazyClient(client.Options{HostPort: addr})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = hrTemporal{c: c, queue: "q"}.StartOnboarding(ctx, workflows.OnboardingInput{EmployeeID: "E-1"}, false)
	require.ErrorIs(t, err, hrevents.ErrUnavailable)
}
