package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/atomicflow/atomicflow/lifecycle"
)

func TestOnboardRetrySendsTheRetryUpdate(t *testing.T) {
	c := mocks.NewClient(t)
	steerable(c, 1)
	var opts client.UpdateWorkflowOptions
	c.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(func(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
		opts = o
		<-ctx.Done() // the worker never accepts
		return nil, ctx.Err()
	})
	c.On("Close").Return()
	r := runStarter(t, map[string]string{}, mockDial(c), "onboard", "retry", "--employee-id", "E-01", "--timeout", "50ms")
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Equal(t, "onboarding-E-01", opts.WorkflowID)
	assert.Equal(t, lifecycle.UpdateRetry, opts.UpdateName)
	assert.Equal(t, []any{lifecycle.RetryRequest{}}, opts.Args)
	assert.Equal(t, client.WorkflowUpdateStageAccepted, opts.WaitForStage)
	assert.Contains(t, r.stderr, "retry was sent to onboarding-E-01, which did not accept it within 50ms")
}

func TestOnboardRetryFollowsTheSteeringRules(t *testing.T) {
	c := mocks.NewClient(t) // UpdateWorkflow is not expected: it fails the test if called
	steerable(c, 0)
	c.On("Close").Return()
	r := runStarter(t, map[string]string{}, mockDial(c), "onboard", "retry", "--employee-id", "E-01")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "no worker polls task queue atomicflow: nothing was sent")

	r = runStarter(t, map[string]string{}, mockDial(mocks.NewClient(t)), "onboard", "retry", "--employee-id", "E 01", "--timeout", "0s")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--employee-id")
	assert.Contains(t, r.stderr, "--timeout 0s: give a positive duration")
}

var failedGrant = &lifecycle.StepFailure{Step: "grant github-engineering", Error: "ATOMICWORK_BAD_REQUEST: HTTP 400 VALIDATION_ERROR"}

func TestStatusNamesTheFailedStep(t *testing.T) {
	out := printed(t, snapshotOf(t, "onboarding", lifecycle.OnboardingStatus{Stage: lifecycle.StageBlocked, Failed: failedGrant,
		Blocked: `step "grant github-engineering" failed: ...`}))
	assert.Regexp(t, `Failed step:\s+grant github-engineering: ATOMICWORK_BAD_REQUEST: HTTP 400 VALIDATION_ERROR\n`, out)

	raw, err := json.Marshal(lifecycle.OnboardingResult{Outcome: lifecycle.OutcomeCancelled, Reason: "offer withdrawn", Failed: failedGrant})
	require.NoError(t, err)
	s := snapshotOf(t, "onboarding", lifecycle.OnboardingStatus{Stage: lifecycle.StageCancelled})
	s.Status, s.Result = "completed", raw
	assert.Regexp(t, `Failed step:\s+grant github-engineering: ATOMICWORK_BAD_REQUEST`, printed(t, s))

	var b bytes.Buffer
	printOnboardingState(&b, lifecycle.OnboardingStatus{Stage: lifecycle.StageBlocked, Failed: failedGrant})
	assert.Regexp(t, `Failed step:\s+grant github-engineering: ATOMICWORK_BAD_REQUEST`, b.String())
}
