package activities

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// A cancel request delivered by a heartbeat leaves the step running (it finishes its write, as
// before heartbeats); any other end of the activity's context, and its deadline, end it.
func TestIgnoreCancelRequestsKeepsOnlyTheCancelRequestOut(t *testing.T) {
	t.Run("cancel request", func(t *testing.T) {
		parent, cancel := context.WithCancelCause(context.Background())
		ctx, stop := ignoreCancelRequests(parent)
		defer stop()
		cancel(temporal.NewCanceledError())
		assert.Never(t, func() bool { return ctx.Err() != nil }, 100*time.Millisecond, 10*time.Millisecond)
	})
	t.Run("other cause", func(t *testing.T) {
		parent, cancel := context.WithCancelCause(context.Background())
		ctx, stop := ignoreCancelRequests(parent)
		defer stop()
		shutdown := errors.New("worker stopping")
		cancel(shutdown)
		require.Eventually(t, func() bool { return ctx.Err() != nil }, 5*time.Second, time.Millisecond)
		assert.ErrorIs(t, context.Cause(ctx), shutdown)
	})
	t.Run("deadline after a cancel request", func(t *testing.T) {
		withDeadline, cancelDeadline := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancelDeadline()
		parent, cancel := context.WithCancelCause(withDeadline)
		ctx, stop := ignoreCancelRequests(parent)
		defer stop()
		cancel(temporal.NewCanceledError())
		<-ctx.Done()
		assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	})
}

// slowStep outlasts its heartbeat timeout without heartbeating itself.
func slowStep(context.Context) error { time.Sleep(600 * time.Millisecond); return nil }

func keepAliveFlow(ctx workflow.Context, name string) error {
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute, HeartbeatTimeout: 400 * time.Millisecond,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}}), name).Get(ctx, nil)
}

// The keep-alive heartbeats for an activity that does not, and leaves alone those that heartbeat
// with their own progress details.
func TestKeepAliveHeartbeatsForActivitiesThatDoNot(t *testing.T) {
	for name, wantBeats := range map[string]bool{"SlowStep": true, "ReassignRange": false} {
		t.Run(name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{NewKeepAlive()}})
			env.RegisterWorkflow(keepAliveFlow)
			env.RegisterActivityWithOptions(slowStep, activity.RegisterOptions{Name: name})
			var beats atomic.Int32
			env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
			env.ExecuteWorkflow(keepAliveFlow, name)
			require.True(t, env.IsWorkflowCompleted())
			assert.Equal(t, wantBeats, beats.Load() > 0, "heartbeats recorded: %d", beats.Load())
		})
	}
}
