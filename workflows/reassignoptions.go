package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
)

// Activity options. Reading and writing one asset is two short calls: an attempt gets 30 s (a
// stuck call is cut and retried), and retries go on for an hour (429s wait for Retry-After) before
// the batch pauses itself with the asset queued again.

func assetCall(ctx workflow.Context, assetID int64) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		HeartbeatTimeout:       apiHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: nonRetryableTypes,
		},
		Summary: "asset " + strconv.FormatInt(assetID, 10),
	})
}

// rangeCall: a range's attempt stops starting assets after its budget, and those in flight
// then end within assetCall's 30 s; it heartbeats every second, so a lost worker is noticed in
// 10 s. Retries (only for what is left, after Retry-After) share the same hour.
func rangeCall(ctx workflow.Context, req activities.ReassignRangeRequest) workflow.Context {
	ctx = assetCall(ctx, 0)
	opts := workflow.GetActivityOptions(ctx)
	opts.StartToCloseTimeout = req.Budget + 30*time.Second
	opts.HeartbeatTimeout = 10 * time.Second
	opts.Summary = fmt.Sprintf("%d assets from %d", len(req.AssetIDs), req.AssetIDs[0])
	return workflow.WithActivityOptions(ctx, opts)
}

// read runs a read-only activity with ctx's activity options: as a local activity, within the
// workflow task, when local (see leanRangesChange), else as an activity of its own.
func read(ctx workflow.Context, local bool, activity, arg any) workflow.Future {
	if !local {
		return workflow.ExecuteActivity(ctx, activity, arg)
	}
	o := workflow.GetActivityOptions(ctx)
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: o.StartToCloseTimeout, ScheduleToCloseTimeout: o.ScheduleToCloseTimeout,
		RetryPolicy: o.RetryPolicy, Summary: o.Summary}), activity, arg)
}

func pageCall(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		HeartbeatTimeout:       apiHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: append(slices.Clone(nonRetryableTypes), activities.ErrAssetOrder),
		},
		Summary: summary,
	})
}

func planCall(ctx workflow.Context, summary string) workflow.Context { return apiCall(ctx, summary) }

// verifyCall reads a whole selection (a call per 100 assets), heartbeating (the worker's
// keep-alive) so that a lost worker is noticed soon.
func verifyCall(ctx workflow.Context) workflow.Context {
	ctx = pageCall(ctx, "verify what the selector still holds")
	opts := workflow.GetActivityOptions(ctx)
	opts.StartToCloseTimeout = 15 * time.Minute
	opts.RetryPolicy.NonRetryableErrorTypes = nonRetryableTypes
	return workflow.WithActivityOptions(ctx, opts)
}
