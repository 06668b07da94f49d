package testkit

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

// WaitForActivityStart waits until an activity of activityType of the workflow's latest run is
// running.
func WaitForActivityStart(ctx context.Context, c client.Client, workflowID, activityType string) (*workflowpb.PendingActivityInfo, error) {
	return pollPendingActivities(ctx, c, workflowID, func(a *workflowpb.PendingActivityInfo) bool {
		return a.GetActivityType().GetName() == activityType && a.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED
	}, "no "+activityType+" activity started")
}

// WaitForNextAttempt waits until the activity runs an attempt after the one given (which was
// running on the killed worker) and returns it: its LastStartedTime is the new attempt's start and
// its LastFailure why the old attempt ended.
func WaitForNextAttempt(ctx context.Context, c client.Client, workflowID string, killed *workflowpb.PendingActivityInfo) (*workflowpb.PendingActivityInfo, error) {
	return pollPendingActivities(ctx, c, workflowID, func(a *workflowpb.PendingActivityInfo) bool {
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

func pollPendingActivities(ctx context.Context, c client.Client, workflowID string, match func(*workflowpb.PendingActivityInfo) bool, missing string) (*workflowpb.PendingActivityInfo, error) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		desc, err := c.DescribeWorkflow(ctx, workflowID, "")
		switch {
		case err == nil:
			for _, a := range desc.RawResponse.GetPendingActivities() {
				if match(a) {
					return a, nil
				}
			}
		case ctx.Err() == nil:
			return nil, fmt.Errorf("describe %s: %w", workflowID, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s of %s: %w", missing, workflowID, ctx.Err())
		case <-t.C:
		}
	}
}
