package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// reschedulableOnboarding stands in for the onboarding: it answers status, moves its start date
// with set_start_date and ends cancelled with cancel.
func reschedulableOnboarding(ctx workflow.Context, in lifecycle.OnboardingInput) (lifecycle.OnboardingResult, error) {
	st := lifecycle.OnboardingStatus{Stage: lifecycle.StageWaitingStart, StartDate: in.StartDate, TimeZone: in.TimeZone}
	if err := workflow.SetQueryHandler(ctx, lifecycle.QueryStatus, func() (lifecycle.OnboardingStatus, error) { return st, nil }); err != nil {
		return lifecycle.OnboardingResult{}, err
	}
	if err := workflow.SetUpdateHandler(ctx, lifecycle.UpdateSetStartDate, func(_ workflow.Context, r lifecycle.SetStartDateRequest) (lifecycle.OnboardingStatus, error) {
		st.StartDate = r.StartDate
		return st, nil
	}); err != nil {
		return lifecycle.OnboardingResult{}, err
	}
	if err := workflow.SetUpdateHandler(ctx, lifecycle.UpdateCancel, func(_ workflow.Context, r lifecycle.CancelRequest) (lifecycle.OnboardingStatus, error) {
		st.Stage, st.Cancelled, st.CancelNote = lifecycle.StageCancelled, true, r.Reason
		return st, nil
	}); err != nil {
		return lifecycle.OnboardingResult{}, err
	}
	if err := workflow.Await(ctx, func() bool { return st.Cancelled && workflow.AllHandlersFinished(ctx) }); err != nil {
		return lifecycle.OnboardingResult{}, err
	}
	return lifecycle.OnboardingResult{Outcome: lifecycle.OutcomeCancelled, Reason: st.CancelNote}, nil
}

// TestSteeringWithoutAWorkerOnTheDevServer: a cancel with no worker returns at once and sends
// nothing; sent anyway, it says it may still apply (exit 3), and it applies once a worker starts.
func TestSteeringWithoutAWorkerOnTheDevServer(t *testing.T) {
	srv := devserver.ForTest(t)
	queue := "starter-steer-offline"
	env := devEnv(srv, queue)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := srv.Client()
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: lifecycle.OffboardingID("E-77"), TaskQueue: queue},
		lifecycle.OffboardingWorkflowName, lifecycle.OffboardingInput{EmployeeID: "E-77", Email: "e77@example.com", LastDay: "2099-12-18"})
	require.NoError(t, err)
	running := func() enumspb.WorkflowExecutionStatus {
		desc, err := c.DescribeWorkflowExecution(ctx, lifecycle.OffboardingID("E-77"), "")
		require.NoError(t, err)
		return desc.GetWorkflowExecutionInfo().GetStatus()
	}

	// A long --timeout: the answer comes from the poller check, not from waiting.
	refused := runStarterCtx(ctx, t, env, "", "offboard", "cancel", "--employee-id", "E-77", "--reason", "not sent", "--timeout", "10m")
	assert.Equal(t, 1, refused.code, refused.stderr)
	assert.Contains(t, refused.stderr, "no worker polls task queue "+queue+": nothing was sent; start a worker and retry")
	assert.NotContains(t, refused.stderr, "failed")
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, running())

	sent := runStarterCtx(ctx, t, env, "", "offboard", "cancel", "--employee-id", "E-77", "--reason", "withdrawn", "--timeout", "2s", "--send-without-worker")
	assert.Equal(t, 3, sent.code, sent.stderr)
	assert.Contains(t, sent.stderr, "No worker polls task queue "+queue+": sending cancel anyway; it applies when a worker returns.")
	assert.Contains(t, sent.stderr, "cancel was sent to offboarding-E-77, which did not accept it within 2s")
	assert.Contains(t, sent.stderr, "it may still apply when a worker gets to it; check with: starter status offboarding-E-77")
	assert.NotContains(t, sent.stderr, "failed")
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, running())

	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(stubOffboarding, workflow.RegisterOptions{Name: lifecycle.OffboardingWorkflowName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	var out lifecycle.OffboardingResult
	require.NoError(t, c.GetWorkflow(ctx, lifecycle.OffboardingID("E-77"), "").Get(ctx, &out))
	assert.Equal(t, lifecycle.OutcomeCancelled, out.Outcome)
	assert.Equal(t, "withdrawn", out.Reason, "the sent cancel applied, the refused one never did")
}

// TestOnboardSteeringOnTheDevServer: onboard with another start date moves the running
// onboarding, the same date sends nothing (no worker needed), reschedule and cancel steer it.
func TestOnboardSteeringOnTheDevServer(t *testing.T) {
	srv := devserver.ForTest(t)
	queue := "starter-onboard-steer"
	env := devEnv(srv, queue)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	onboard := func(date string) []string {
		return []string{"onboard", "--employee-id", "E-1001", "--email", "ada@example.com", "--first-name", "Ada",
			"--last-name", "Lovelace", "--start-date", date, "--timezone", "Europe/London", "--timeout", "30s"}
	}
	first := runStarterCtx(ctx, t, env, "", onboard("2099-12-01")...)
	require.Equal(t, 0, first.code, first.stderr)

	// Without a worker: the same date needs nothing, another date is not sent.
	same := runStarterCtx(ctx, t, env, "", onboard("2099-12-01")...)
	require.Equal(t, 0, same.code, same.stderr)
	assert.Contains(t, same.stdout, "is already running")
	moveOffline := runStarterCtx(ctx, t, env, "", onboard("2099-12-08")...)
	assert.Equal(t, 1, moveOffline.code)
	assert.Contains(t, moveOffline.stderr, "onboarding-E-1001 is already running with start date 2099-12-01; moving it to 2099-12-08: no worker polls task queue "+queue+": nothing was sent")

	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(reschedulableOnboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	moved := runStarterCtx(ctx, t, env, "", append(onboard("2099-12-08"), "--json")...)
	require.Equal(t, 0, moved.code, moved.stderr)
	res := decode(t, moved)
	assert.True(t, res.AlreadyRunning)
	require.NotNil(t, res.State)
	assert.Equal(t, "2099-12-08", res.State.StartDate)

	// The history now says 2099-12-08: the same command again sends nothing.
	again := runStarterCtx(ctx, t, env, "", onboard("2099-12-08")...)
	require.Equal(t, 0, again.code, again.stderr)
	assert.NotContains(t, again.stderr, "Moved")

	re := runStarterCtx(ctx, t, env, "", "onboard", "reschedule", "--employee-id", "E-1001", "--start-date", "2099-12-15", "--timeout", "30s")
	require.Equal(t, 0, re.code, re.stderr)
	assert.Contains(t, re.stdout, "accepted set_start_date")
	assert.Contains(t, re.stdout, "2099-12-15 (Europe/London)")

	cancelled := runStarterCtx(ctx, t, env, "", "onboard", "cancel", "--employee-id", "E-1001", "--reason", "offer withdrawn", "--timeout", "30s")
	require.Equal(t, 0, cancelled.code, cancelled.stderr)
	var out lifecycle.OnboardingResult
	require.NoError(t, srv.Client().GetWorkflow(ctx, lifecycle.OnboardingID("E-1001"), "").Get(ctx, &out))
	assert.Equal(t, lifecycle.OutcomeCancelled, out.Outcome)
	assert.Equal(t, "offer withdrawn", out.Reason)
}
