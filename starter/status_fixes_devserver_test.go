package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// TestStatusOfEncryptedRunsWithoutKeys: a run whose payloads are encrypted, read without the
// keys, says which variable to set; its result is not shown as a failure.
func TestStatusOfEncryptedRunsWithoutKeys(t *testing.T) {
	srv := devserver.ForTest(t)
	queue := "starter-status-codec"
	startCodecWorker(t, srv, queue)

	keyed := devEnv(srv, queue)
	keyed[codec.EnvKeys] = "k1:" + codecKey
	require.Equal(t, 0, runStarter(t, keyed, dialTemporal, with("--wait")...).code)
	require.Equal(t, 1, runStarter(t, keyed, dialTemporal, with("--employee-id", "E-2002", "--department", "Fail", "--wait")...).code)

	plain := devEnv(srv, queue)
	done := runStarter(t, plain, dialTemporal, "status", "onboarding-E-1001")
	require.Equal(t, 0, done.code, done.stderr)
	assert.Regexp(t, `Result:\s+encrypted: set ATOMICFLOW_CODEC_KEYS or ATOMICFLOW_CODEC_KEYS_FILE`, done.stdout)
	assert.NotContains(t, done.stdout, "Failure")

	failed := runStarter(t, plain, dialTemporal, "status", "onboarding-E-2002")
	require.Equal(t, 0, failed.code, failed.stderr)
	assert.Regexp(t, `Failure:\s+encrypted \[TEST_NO_STOCK\]: set ATOMICFLOW_CODEC_KEYS or ATOMICFLOW_CODEC_KEYS_FILE`, failed.stdout)
	assert.NotContains(t, failed.stdout, "Encoded failure")
}

// flakyWorkflow runs one activity that keeps failing on a transient error.
func flakyWorkflow(ctx workflow.Context, _ lifecycle.OnboardingInput) (lifecycle.OnboardingResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 1, MaximumInterval: time.Second},
	})
	err := workflow.ExecuteActivity(ctx, "CreateUser").Get(ctx, nil)
	return lifecycle.OnboardingResult{}, err
}

// TestStatusShowsTheLastErrorOfARetryingActivity: not only "Pending", but which activity, its
// attempt, its last error and its next try.
func TestStatusShowsTheLastErrorOfARetryingActivity(t *testing.T) {
	srv := devserver.ForTest(t)
	queue := "starter-status-flaky"
	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(flakyWorkflow, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	w.RegisterActivityWithOptions(func(context.Context) error {
		return errors.New("atomicwork: POST /api/v1/users: 503 Service Unavailable")
	}, activity.RegisterOptions{Name: "CreateUser"})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	env := devEnv(srv, queue)
	_, err := srv.Client().ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "onboarding-E-5", TaskQueue: queue},
		lifecycle.OnboardingWorkflowName, lifecycle.OnboardingInput{EmployeeID: "E-5", StartDate: "2099-01-01"})
	require.NoError(t, err)

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		st := runStarter(t, env, dialTemporal, "status", "onboarding-E-5")
		// "next try" is shown while the activity waits for its retry; an attempt running at that
		// moment (a busy machine) has none.
		assert.Regexp(ct, `Retrying:\s+CreateUser, attempt \d+, last error: atomicwork: POST /api/v1/users: 503 Service Unavailable(, next try \d{4}-|\n)`, st.stdout)
	}, settle, 200*time.Millisecond)
}
