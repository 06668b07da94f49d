package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// devEnv is the environment of a starter command against srv: never the developer's own
// temporal.toml, which could name another namespace, TLS or an API key.
func devEnv(srv *testsuite.DevServer, queue string) map[string]string {
	return map[string]string{"TEMPORAL_ADDRESS": srv.FrontendHostPort(), "ATOMICFLOW_TASK_QUEUE": queue,
		"TEMPORAL_CONFIG_FILE": os.DevNull}
}

func decode(t *testing.T, r result) onboardResult {
	t.Helper()
	var out onboardResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return out
}

// TestOnboardStartIsIdempotent needs no worker: it checks what the start itself does.
func TestOnboardStartIsIdempotent(t *testing.T) {
	srv := devserver.ForTest(t)
	env := devEnv(srv, "starter-idempotent")

	first := runStarter(t, env, dialTemporal, with("--json")...)
	require.Equal(t, 0, first.code, first.stderr)
	one := decode(t, first)
	assert.Equal(t, "onboarding-E-1001", one.WorkflowID)
	assert.False(t, one.AlreadyRunning)
	assert.Equal(t, statusRunning, one.Status)

	again := runStarter(t, env, dialTemporal, validArgs...)
	require.Equal(t, 0, again.code, again.stderr)
	assert.Contains(t, again.stdout, "onboarding-E-1001 is already running (run "+one.RunID+")")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	desc, err := srv.Client().DescribeWorkflow(ctx, one.WorkflowID, "")
	require.NoError(t, err)
	assert.Equal(t, one.RunID, desc.WorkflowExecution.RunID)
	assert.Equal(t, "starter-idempotent", desc.TaskQueueName)
	summary, err := desc.GetStaticSummary()
	require.NoError(t, err)
	assert.Equal(t, "Onboarding E-1001 · day one 2099-12-01", summary)
	employee, _ := desc.TypedSearchAttributes.GetKeyword(lifecycle.EmployeeIDKey)
	assert.Equal(t, "E-1001", employee)

	// A terminated onboarding did not complete, so a new start runs it again.
	require.NoError(t, srv.Client().TerminateWorkflow(ctx, one.WorkflowID, one.RunID, "test"))
	retry := decode(t, runStarter(t, env, dialTemporal, with("--json")...))
	assert.NotEqual(t, one.RunID, retry.RunID)
	assert.False(t, retry.AlreadyRunning)
}

// stubOnboarding stands in for the real workflow under its registered name: the starter only
// needs a result or a failure to report.
func stubOnboarding(_ workflow.Context, in lifecycle.OnboardingInput) (lifecycle.OnboardingResult, error) {
	if in.Department == "Fail" {
		return lifecycle.OnboardingResult{}, temporal.NewNonRetryableApplicationError("no laptop will ever be in stock", "TEST_NO_STOCK", nil)
	}
	return lifecycle.OnboardingResult{Outcome: lifecycle.OutcomeCompleted, UserID: 42, RequestID: "REQ-7"}, nil
}

func TestOnboardWait(t *testing.T) {
	srv := devserver.ForTest(t)
	queue := "starter-wait"
	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(stubOnboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	env := devEnv(srv, queue)

	t.Run("completed", func(t *testing.T) {
		r := runStarter(t, env, dialTemporal, with("--wait", "--json")...)
		require.Equal(t, 0, r.code, r.stderr)
		out := decode(t, r)
		assert.Equal(t, statusCompleted, out.Status)
		require.NotNil(t, out.Result)
		assert.Equal(t, int64(42), out.Result.UserID)
		assert.Empty(t, out.Failure)

		// A completed onboarding is not run again; --wait returns the same result.
		again := runStarter(t, env, dialTemporal, with("--wait")...)
		require.Equal(t, 0, again.code, again.stderr)
		assert.Contains(t, again.stdout, "onboarding-E-1001 already completed (run "+out.RunID+")")
		assert.Contains(t, again.stdout, "REQ-7")
	})
	t.Run("failed", func(t *testing.T) {
		args := with("--employee-id", "E-2002", "--department", "Fail", "--wait")
		r := runStarter(t, env, dialTemporal, args...)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "onboarding-E-2002 failed: no laptop will ever be in stock [TEST_NO_STOCK]")

		js := runStarter(t, env, dialTemporal, append(args, "--json")...)
		assert.Equal(t, 1, js.code)
		out := decode(t, js)
		assert.Equal(t, statusFailed, out.Status)
		assert.Equal(t, "no laptop will ever be in stock [TEST_NO_STOCK]", out.Failure)
		assert.Nil(t, out.Result)
	})
}
