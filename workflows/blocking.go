package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
)

// A refused key (401/403) blocks a lifecycle run instead of failing it: a leaver whose offboarding
// failed would keep access. The run waits in its blocked stage, retries the same step and goes on
// by itself once the key works again. The waits below shape the history: changing one changes
// the timers a blocked run records, so it needs workflow.GetVersion and a replay fixture.
const (
	// authBlocksChange versions the blocking: histories recorded before it failed on a refused key.
	authBlocksChange = "auth-blocks"
	// The first retries come soon, so a key fixed at once is picked up at once; then every 5
	// minutes for a day, then hourly: each retry adds about 11 events to the history, and 30 days
	// at 5 minutes (95,000 events) would pass the server's limit of 51,200.
	authRetryFirst   = 15 * time.Second
	authRetryEvery   = 5 * time.Minute
	authRetryFastFor = 24 * time.Hour
	authRetrySlow    = time.Hour
	// AuthBlockBudget is how long one step stays blocked before the run fails with ATOMICWORK_AUTH.
	AuthBlockBudget = 30 * 24 * time.Hour
)

// keyBlocking runs a lifecycle workflow's activities so that one refused for the worker's key
// blocks the run: it holds the run's stage while blocked.
type keyBlocking struct {
	blockedStage string // lifecycle.StageBlocked or lifecycle.StageOffBlocked
	workspaceID  int64
	stage        *string // the run's status.Stage
	blocked      *string // the run's status.Blocked
	setStage     func(workflow.Context, string)
	// stepFailed, when set, takes a step's failure other than a refused key or a cancellation
	// (executeStep): nil runs the step again, an error ends the step with it.
	stepFailed func(ctx workflow.Context, step string, err error) error
	// from is the stage the run was blocked in, "" while it is not blocked.
	from string
}

// current is the run's stage, the one it was blocked in while blocked: validators decide by it.
func (b *keyBlocking) current() string {
	if b.from != "" {
		return b.from
	}
	return *b.stage
}

// execute starts an activity like workflow.ExecuteActivity; while the key is refused, the future's
// Get blocks the run and starts the activity again.
func (b *keyBlocking) execute(ctx workflow.Context, activity any, args ...any) *blockingFuture {
	return &blockingFuture{b: b, actx: ctx, activity: activity, args: args, future: workflow.ExecuteActivity(ctx, activity, args...)}
}

// executeStep is execute for a step whose permanent failure waits for an operator (stepFailed)
// instead of ending the run half done.
func (b *keyBlocking) executeStep(ctx workflow.Context, activity any, args ...any) *blockingFuture {
	f := b.execute(ctx, activity, args...)
	f.failed = b.stepFailed
	return f
}

type blockingFuture struct {
	b        *keyBlocking
	failed   func(ctx workflow.Context, step string, err error) error
	actx     workflow.Context // carries the activity options
	activity any
	args     []any
	future   workflow.Future
}

// Get waits for the activity's result, retrying it while the key is refused.
func (f *blockingFuture) Get(ctx workflow.Context, out any) error {
	var since time.Time
	for {
		err := f.future.Get(ctx, out)
		if f.stepFails(err) {
			if err := f.failed(ctx, workflow.GetActivityOptions(f.actx).Summary, err); err != nil {
				f.b.unblock(ctx)
				return err
			}
			f.future = workflow.ExecuteActivity(f.actx, f.activity, f.args...)
			continue
		}
		refused := keyRefused(err)
		if refused == nil {
			f.b.unblock(ctx)
			return err
		}
		if since.IsZero() {
			if workflow.GetVersion(ctx, authBlocksChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
				return err
			}
			since = workflow.Now(ctx)
		}
		blockedFor := workflow.Now(ctx).Sub(since)
		if blockedFor >= AuthBlockBudget {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s for %s: giving up; %s, then start the run again",
				f.b.refusal(refused), shortDuration(blockedFor), keyFix), activities.ErrAtomicworkAuth, err)
		}
		wait := authRetryWait(blockedFor)
		f.b.block(ctx, f.b.reason(refused))
		if err := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "key refused: retry in " + shortDuration(wait)}).Get(ctx, nil); err != nil {
			f.b.cancelled()
			return err
		}
		f.future = workflow.ExecuteActivity(f.actx, f.activity, f.args...)
	}
}

// stepFails reports whether err is a step's failure for stepFailed: not a cancellation (what
// comes next compensates), not a refused key (retried here).
func (f *blockingFuture) stepFails(err error) bool {
	return err != nil && f.failed != nil && !temporal.IsCanceledError(err) && keyRefused(err) == nil
}

// authRetryWait is the wait before the next try, after blockedFor blocked.
func authRetryWait(blockedFor time.Duration) time.Duration {
	switch {
	case blockedFor >= authRetryFastFor:
		return authRetrySlow
	case blockedFor < authRetryEvery:
		// 15 s, 30 s, 1 m, 2 m, 4 m: each wait about doubles the time blocked so far.
		return min(blockedFor+authRetryFirst, authRetryEvery)
	}
	return authRetryEvery
}

// block moves the run to its blocked stage and says why; retries only refresh the reason, so
// they add no search-attribute update to the history.
func (b *keyBlocking) block(ctx workflow.Context, reason string) {
	*b.blocked = reason
	if b.from == "" {
		b.from = *b.stage
		b.setStage(ctx, b.blockedStage)
	}
}

// cancelled ends a block without restoring the stage: what comes next (compensation) sets it.
func (b *keyBlocking) cancelled() {
	b.from, *b.blocked = "", ""
}

// unblock restores the stage the run was blocked in.
func (b *keyBlocking) unblock(ctx workflow.Context) {
	if b.from == "" {
		return
	}
	from := b.from
	b.from, *b.blocked = "", ""
	b.setStage(ctx, from)
}

const keyFix = "fix ATOMICWORK_API_KEY or ATOMICWORK_KEYS_FILE and restart the worker"

// reason is what status.Blocked and the UI say: the error, whose key, and the fix.
func (b *keyBlocking) reason(refused *temporal.ApplicationError) string {
	return b.refusal(refused) + ": " + keyFix + "; the run retries by itself and goes on when the key works"
}

// refusal is the error and whose key it is about.
func (b *keyBlocking) refusal(refused *temporal.ApplicationError) string {
	ws := fmt.Sprintf("workspace %d", b.workspaceID)
	if b.workspaceID == 0 {
		ws = "the default workspace (ATOMICWORK_WORKSPACE_ID)"
	}
	return fmt.Sprintf("%s: %s: the worker's key for %s is refused", activities.ErrAtomicworkAuth, refused.Message(), ws)
}

// keyRefused is the error of an activity refused for the worker's key (401/403), nil otherwise.
func keyRefused(err error) *temporal.ApplicationError {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && (appErr.Type() == activities.ErrUnauthorized || appErr.Type() == activities.ErrForbidden) {
		return appErr
	}
	return nil
}

// shortDuration prints 5m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
