package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
)

// Activity-option profiles. Every activity call uses one: StartToClose bounds one attempt (a few
// API calls under the client's 30 s timeout), ScheduleToClose bounds all retries together, and
// HeartbeatTimeout notices a dead worker (activities.NewKeepAlive beats while an attempt runs):
// its attempt is retried elsewhere after seconds, not after the StartToClose.
// Permanent API errors are non-retryable ApplicationErrors and stop at once. Transient API errors
// never use the backoff below: the keep-alive retries a 5xx or network error within the attempt,
// then sets NextRetryDelay (which overrides the backoff) to a 429's Retry-After, or to a short
// base doubled only by the attempts in a row that made no progress (activities.retryDelay), so
// that a step that gets further each attempt is not left a minute behind. The backoff below is
// for the rest: state conflicts, timeouts, a dead worker.

// apiCall is a short check-then-act step over a few API calls.
func apiCall(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:       apiHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: nonRetryableTypes,
		},
		// A cancelled step still finishes its write; waiting for it lets compensation see it.
		WaitForCancellation: true,
		Summary:             summary,
	})
}

// compensation is an undo step: it must get through, so its budget is a day.
func compensation(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:       apiHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: nonRetryableTypes,
		},
		Summary: summary,
	})
}

// apiHeartbeat is how long an attempt may go without a heartbeat before Temporal retries it:
// the dead time after a worker dies. The keep-alive beats four times within it.
const apiHeartbeat = 10 * time.Second

// nonRetryableTypes repeats, as a safety net, the error types activities already mark non-retryable.
var nonRetryableTypes = []string{
	activities.ErrBadRequest, activities.ErrUnauthorized, activities.ErrForbidden, activities.ErrNotFound,
	activities.ErrConflict, activities.ErrPermanent, activities.ErrInvalidInput, activities.ErrUnknownName,
	activities.ErrNoWorkspace, activities.ErrUnknownUser,
}

// Waiting for an asset to come back into stock: backoff between tries, capped. The waits are
// timers in the history: changing one needs workflow.GetVersion and a replay fixture.
const (
	assetRetryFirst = time.Minute
	assetRetryMax   = time.Hour
)

// isPermanent reports an activity error that retrying cannot fix: non-retryable, or of a type the
// retry policies list as such.
func isPermanent(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && (appErr.NonRetryable() || slices.Contains(nonRetryableTypes, appErr.Type()))
}
