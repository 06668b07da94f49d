// Package deadtime measures how long an activity stays unattended after its worker dies: from
// the kill to its next attempt's start, read off the pending activities Temporal describes.
// The e2e test and `bench crash` share it.
package deadtime

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"
)

// pollEvery is how often the run is described: well under one API call of the slowed simulator,
// so an attempt is seen while it runs.
const pollEvery = 50 * time.Millisecond

// Started waits until an activity of activityType of the workflow's latest run is running.
func Started(ctx context.Context, c client.Client, workflowID, activityType string) (*workflowpb.PendingActivityInfo, error) {
	return poll(ctx, c, workflowID, func(a *workflowpb.PendingActivityInfo) bool {
		return a.GetActivityType().GetName() == activityType && a.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED
	}, "no "+activityType+" activity started")
}

// NextAttempt waits until the activity runs an attempt after the one given (which was running
// on the killed worker) and returns it: its LastStartedTime is the new attempt's start and its
// LastFailure why the old attempt ended.
func NextAttempt(ctx context.Context, c client.Client, workflowID string, killed *workflowpb.PendingActivityInfo) (*workflowpb.PendingActivityInfo, error) {
	return poll(ctx, c, workflowID, func(a *workflowpb.PendingActivityInfo) bool {
		return a.GetActivityId() == killed.GetActivityId() && a.GetAttempt() > killed.GetAttempt() &&
			a.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED
	}, "activity "+killed.GetActivityId()+" was not retried")
}

// TimeoutType names the timeout that ended an attempt ("" when it was not a timeout).
func TimeoutType(a *workflowpb.PendingActivityInfo) string {
	info := a.GetLastFailure().GetTimeoutFailureInfo()
	if info == nil {
		return ""
	}
	return info.GetTimeoutType().String()
}

func poll(ctx context.Context, c client.Client, workflowID string, match func(*workflowpb.PendingActivityInfo) bool, missing string) (*workflowpb.PendingActivityInfo, error) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		desc, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("describe %s: %w", workflowID, err)
		}
		for _, a := range desc.GetPendingActivities() {
			if match(a) {
				return a, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s of %s: %w", missing, workflowID, ctx.Err())
		case <-t.C:
		}
	}
}
