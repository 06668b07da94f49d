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

// stepProgress is the progress of the test steps.
type stepProgress struct {
	Done int `json:"done"`
}

// The keep-alive carries an activity's progress from one attempt to the next, its own beats
// included, and counts the attempts in a row that failed transiently without progress.
func TestKeepAliveCarriesProgressAndCountsStalls(t *testing.T) {
	limited := temporal.NewApplicationError("429", ErrRateLimited)
	// Per attempt: whether it saves progress, then how it ends (429s: no quick retry).
	script := []struct {
		advance bool
		err     error
	}{{true, limited}, {false, limited}, {false, limited}, {true, limited}, {true, nil}}
	var seen []int // the progress each attempt resumed from
	step := func(ctx context.Context) error {
		n := int(activity.GetInfo(ctx).Attempt) - 1
		var p stepProgress
		loadProgress(ctx, &p)
		seen = append(seen, p.Done)
		if script[n].advance {
			p.Done++
			saveProgress(ctx, p)
		}
		time.Sleep(250 * time.Millisecond) // the keep-alive beats (every 100 ms) in between
		return script[n].err
	}
	env := progressEnv(step)
	stalls := map[int32]int{} // by attempt: the count its last heartbeat recorded
	bare := 0                 // beats without the progress attempt 1 saved, after it
	env.SetOnActivityHeartbeatListener(func(info *activity.Info, details converter.EncodedValues) {
		var b progressBeat
		if details.HasValues() && details.Get(&b) == nil {
			stalls[info.Attempt] = b.Stalls
		}
		if info.Attempt > 1 && len(b.Done) == 0 {
			bare++
		}
	})
	env.ExecuteWorkflow(progressFlow)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []int{0, 1, 1, 1, 2}, seen, "each attempt resumes from the last progress saved")
	assert.Equal(t, map[int32]int{1: 1, 2: 2, 3: 3, 4: 1, 5: 0}, stalls,
		"failures in a row without progress, reset by progress")
	assert.Zero(t, bare, "a keep-alive beat wiped the progress")
}

// A 5xx is retried within the attempt, a few times, from the progress saved; then Temporal retries.
func TestKeepAliveRetriesA5xxWithinTheAttempt(t *testing.T) {
	type call struct {
		attempt int32
		resumed int
	}
	var calls []call
	step := func(ctx context.Context) error {
		var p stepProgress
		loadProgress(ctx, &p)
		calls = append(calls, call{activity.GetInfo(ctx).Attempt, p.Done})
		if len(calls) == 1 {
			saveProgress(ctx, stepProgress{Done: 1})
		}
		if len(calls) <= 5 {
			return temporal.NewApplicationError("503", ErrUnavailable)
		}
		return nil
	}
	env := progressEnv(step)
	env.ExecuteWorkflow(progressFlow)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []call{{1, 0}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {2, 1}}, calls)
}

func progressEnv(step func(context.Context) error) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{NewKeepAlive()}})
	env.RegisterWorkflow(progressFlow)
	env.RegisterActivityWithOptions(step, activity.RegisterOptions{Name: "ProgressStep"})
	return env
}

func progressFlow(ctx workflow.Context) error {
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute, HeartbeatTimeout: 400 * time.Millisecond,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 5}}), "ProgressStep").Get(ctx, nil)
}
