package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// stubOffboarding stands in for the real workflow under its registered name: the starter only
// needs the updates, their validators and the status query. It waits for the last day's end only
// in its status; revoke_now moves it to the grace period (or completes it when the grace is 0),
// cancel and rehire complete it.
func stubOffboarding(ctx workflow.Context, in lifecycle.OffboardingInput) (lifecycle.OffboardingResult, error) {
	at, err := lifecycle.EndOfWorkingDay(in.LastDay, in.EndOfDay, in.TimeZone)
	if err != nil {
		return lifecycle.OffboardingResult{}, err
	}
	st := lifecycle.OffboardingStatus{Stage: lifecycle.StageOffScheduled, TimeZone: in.TimeZone}
	schedule := func(t time.Time) {
		st.ScheduledAt, st.ScheduledLocal = t.UTC(), t.Format("2006-01-02 15:04")
	}
	schedule(at)
	var outcome string
	finish := func(stage, o, note string) {
		st.Stage, st.Note, outcome = stage, note, o
	}
	if err := workflow.SetQueryHandler(ctx, lifecycle.QueryStatus, func() (lifecycle.OffboardingStatus, error) { return st, nil }); err != nil {
		return lifecycle.OffboardingResult{}, err
	}
	scheduled := func() error {
		if st.Stage != lifecycle.StageOffScheduled {
			return fmt.Errorf("the offboarding is %s: too late", st.Stage)
		}
		return nil
	}
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{lifecycle.UpdateReschedule,
			func(_ workflow.Context, r lifecycle.RescheduleRequest) (lifecycle.OffboardingStatus, error) {
				t, _ := lifecycle.EndOfWorkingDay(r.LastDay, r.EndOfDay, in.TimeZone)
				schedule(t)
				return st, nil
			},
			func(ctx workflow.Context, r lifecycle.RescheduleRequest) error {
				t, err := lifecycle.EndOfWorkingDay(r.LastDay, r.EndOfDay, in.TimeZone)
				switch {
				case err != nil:
					return err
				case t.Before(workflow.Now(ctx)):
					return fmt.Errorf("last day %s is in the past: reschedule to today or later, or use revoke_now", r.LastDay)
				}
				return scheduled()
			}},
		{lifecycle.UpdateRevokeNow,
			func(_ workflow.Context, r lifecycle.RevokeNowRequest) (lifecycle.OffboardingStatus, error) {
				if in.Grace() == 0 {
					finish(lifecycle.StageOffCompleted, lifecycle.OutcomeCompleted, r.Reason)
				} else {
					finish(lifecycle.StageOffGracePeriod, "", r.Reason)
				}
				return st, nil
			},
			func(lifecycle.RevokeNowRequest) error { return scheduled() }},
		{lifecycle.UpdateCancel,
			func(_ workflow.Context, r lifecycle.CancelRequest) (lifecycle.OffboardingStatus, error) {
				finish(lifecycle.StageOffCancelled, lifecycle.OutcomeCancelled, r.Reason)
				return st, nil
			},
			func(lifecycle.CancelRequest) error { return scheduled() }},
		{lifecycle.UpdateRehire,
			func(_ workflow.Context, r lifecycle.RehireRequest) (lifecycle.OffboardingStatus, error) {
				finish(lifecycle.StageOffRehired, lifecycle.OutcomeRehired, r.Reason)
				return st, nil
			},
			func(lifecycle.RehireRequest) error {
				if st.Stage != lifecycle.StageOffGracePeriod {
					return errors.New("nothing to rehire: access was never revoked (cancel the offboarding instead)")
				}
				return nil
			}},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler, workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return lifecycle.OffboardingResult{}, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return outcome != "" && workflow.AllHandlersFinished(ctx) }); err != nil {
		return lifecycle.OffboardingResult{}, err
	}
	return lifecycle.OffboardingResult{Outcome: outcome, UserID: 42, Reason: st.Note}, nil
}

func decodeOffboard(t *testing.T, r result) offboardResult {
	t.Helper()
	var out offboardResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return out
}

func decodeOffboardUpdate(t *testing.T, r result) offboardUpdateResult {
	t.Helper()
	var out offboardUpdateResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return out
}

func TestOffboardOnTheDevServer(t *testing.T) {
	srv := devserver.ForTest(t)
	queue := "starter-offboard"
	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(stubOffboarding, workflow.RegisterOptions{Name: lifecycle.OffboardingWorkflowName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	env := devEnv(srv, queue)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()

	paris := mustZone(t, "Europe/Paris")
	day := func(d int) string { return time.Now().In(paris).AddDate(0, 0, d).Format(time.DateOnly) }
	endOf := func(date, hm string) time.Time {
		at, err := lifecycle.EndOfWorkingDay(date, hm, "Europe/Paris")
		require.NoError(t, err)
		return at.UTC()
	}
	offboard := func(extra ...string) []string {
		return append([]string{"offboard", "--employee-id", "E-01", "--email", "employee01@example.com", "--timezone", "Europe/Paris"}, extra...)
	}
	status := func(runID string) lifecycle.OffboardingStatus {
		t.Helper()
		v, err := srv.Client().QueryWorkflow(ctx, lifecycle.OffboardingID("E-01"), runID, lifecycle.QueryStatus)
		require.NoError(t, err)
		var st lifecycle.OffboardingStatus
		require.NoError(t, v.Get(&st))
		return st
	}

	// The first offboard starts one run, scheduled at the end of the last day in Paris.
	first := decodeOffboard(t, runStarter(t, env, dialTemporal, offboard("--last-day", day(10), "--json")...))
	assert.Equal(t, "offboarding-E-01", first.WorkflowID)
	assert.False(t, first.AlreadyRunning)
	assert.Equal(t, lifecycle.UpdateReschedule, first.Update)
	require.NotNil(t, first.State)
	assert.True(t, endOf(day(10), "18:00").Equal(first.State.ScheduledAt), "%s", first.State.ScheduledAt)
	desc, err := srv.Client().DescribeWorkflow(ctx, first.WorkflowID, "")
	require.NoError(t, err)
	assert.Equal(t, first.RunID, desc.WorkflowExecution.RunID)
	summary, err := desc.GetStaticSummary()
	require.NoError(t, err)
	assert.Equal(t, "Offboarding E-01 · last day "+day(10)+" Europe/Paris", summary)
	employee, _ := desc.TypedSearchAttributes.GetKeyword(lifecycle.EmployeeIDKey)
	assert.Equal(t, "E-01", employee)

	// A second offboard with a new date reaches the same run as a reschedule.
	again := runStarter(t, env, dialTemporal, offboard("--last-day", day(3), "--end-of-day", "12:00")...)
	require.Equal(t, 0, again.code, again.stderr)
	assert.Contains(t, again.stdout, "offboarding-E-01 is already running (run "+first.RunID+"): this command reached it with reschedule")
	assert.True(t, endOf(day(3), "12:00").Equal(status(first.RunID).ScheduledAt))
	desc, err = srv.Client().DescribeWorkflow(ctx, first.WorkflowID, "")
	require.NoError(t, err)
	assert.Equal(t, first.RunID, desc.WorkflowExecution.RunID, "never a second run")

	// The same command again changes nothing; another time zone is not applied to the running one.
	same := runStarter(t, env, dialTemporal, offboard("--last-day", day(3), "--end-of-day", "12:00", "--timezone", "Asia/Kolkata", "--json")...)
	require.Equal(t, 0, same.code, same.stderr)
	sameRes := decodeOffboard(t, same)
	assert.True(t, sameRes.AlreadyRunning)
	assert.Equal(t, first.RunID, sameRes.RunID)
	assert.True(t, endOf(day(3), "12:00").Equal(sameRes.State.ScheduledAt))
	assert.Contains(t, same.stderr, "keeps its time zone Europe/Paris; --timezone Asia/Kolkata was not applied")

	// A date in the past is refused before sending, in the run's own zone (read from its input):
	// exit 2, nothing changes.
	rejected := runStarter(t, env, dialTemporal, "offboard", "reschedule", "--employee-id", "E-01", "--last-day", "2001-01-01")
	assert.Equal(t, 2, rejected.code)
	assert.Contains(t, rejected.stderr, "--last-day: 2001-01-01 ended at 18:00 Europe/Paris (2001-01-01T17:00:00Z), before now")
	assert.Contains(t, rejected.stderr, "--allow-past")
	assert.True(t, endOf(day(3), "12:00").Equal(status(first.RunID).ScheduledAt))

	moved := decodeOffboardUpdate(t, runStarter(t, env, dialTemporal, "offboard", "reschedule", "--employee-id", "E-01", "--last-day", day(20), "--json"))
	assert.Equal(t, first.RunID, moved.RunID)
	assert.True(t, endOf(day(20), "18:00").Equal(moved.State.ScheduledAt))

	early := runStarter(t, env, dialTemporal, "offboard", "rehire", "--employee-id", "E-01")
	assert.Equal(t, 1, early.code)
	assert.Contains(t, early.stderr, "rejected rehire: nothing to rehire: access was never revoked")

	// offboard now, then a rehire during the grace period ends the run.
	now := runStarter(t, env, dialTemporal, "offboard", "now", "--employee-id", "E-01", "--reason", "left early")
	require.Equal(t, 0, now.code, now.stderr)
	assert.Contains(t, now.stdout, "offboarding-E-01 (run "+first.RunID+") accepted revoke_now.")
	assert.Contains(t, now.stdout, lifecycle.StageOffGracePeriod)
	assert.Contains(t, now.stdout, "left early")
	assert.Equal(t, lifecycle.StageOffGracePeriod, status(first.RunID).Stage)

	late := runStarter(t, env, dialTemporal, offboard("--last-day", day(30))...)
	assert.Equal(t, 1, late.code)
	assert.Contains(t, late.stderr, "offboarding-E-01 rejected reschedule: the offboarding is offboarding.grace-period: too late (the offboarding goes on unchanged)")

	rehired := decodeOffboardUpdate(t, runStarter(t, env, dialTemporal, "offboard", "rehire", "--employee-id", "E-01", "--json"))
	assert.Equal(t, lifecycle.StageOffRehired, rehired.State.Stage)
	var out lifecycle.OffboardingResult
	require.NoError(t, srv.Client().GetWorkflow(ctx, first.WorkflowID, first.RunID).Get(ctx, &out))
	assert.Equal(t, lifecycle.OutcomeRehired, out.Outcome)

	gone := runStarter(t, env, dialTemporal, "offboard", "cancel", "--employee-id", "E-01")
	assert.Equal(t, 1, gone.code)
	assert.Contains(t, gone.stderr, "offboarding-E-01 is completed, not running: nothing to cancel; nothing was sent")

	// A rehired employee who leaves again gets a new run; --now with no grace completes it.
	second := runStarter(t, env, dialTemporal, offboard("--now", "--grace-days", "0", "--wait", "--json")...)
	require.Equal(t, 0, second.code, second.stderr)
	secondRes := decodeOffboard(t, second)
	assert.NotEqual(t, first.RunID, secondRes.RunID)
	assert.False(t, secondRes.AlreadyRunning)
	assert.Equal(t, lifecycle.UpdateRevokeNow, secondRes.Update)
	assert.Equal(t, statusCompleted, secondRes.Status)
	require.NotNil(t, secondRes.Result)
	assert.Equal(t, lifecycle.OutcomeCompleted, secondRes.Result.Outcome)

	// A completed offboarding is not run again.
	done := runStarter(t, env, dialTemporal, offboard("--last-day", day(5), "--wait")...)
	require.Equal(t, 0, done.code, done.stderr)
	assert.Contains(t, done.stdout, "offboarding-E-01 already completed (run "+secondRes.RunID+", outcome completed): a completed offboarding is not run again.")
	assert.Contains(t, done.stdout, "Outcome:")
	desc, err = srv.Client().DescribeWorkflow(ctx, first.WorkflowID, "")
	require.NoError(t, err)
	assert.Equal(t, secondRes.RunID, desc.WorkflowExecution.RunID)
}

// TestOffboardCancelledThenScheduledAgain: a withdrawn termination completes the run with the
// cancelled outcome, and a later offboard is a new departure.
func TestOffboardCancelledThenScheduledAgain(t *testing.T) {
	srv := devserver.ForTest(t)
	queue := "starter-offboard-cancel"
	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(stubOffboarding, workflow.RegisterOptions{Name: lifecycle.OffboardingWorkflowName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	env := devEnv(srv, queue)
	args := []string{"offboard", "--employee-id", "E-02", "--email", "bo@example.com", "--last-day", "2099-06-30", "--json"}

	first := decodeOffboard(t, runStarter(t, env, dialTemporal, args...))
	cancelled := decodeOffboardUpdate(t, runStarter(t, env, dialTemporal, "offboard", "cancel", "--employee-id", "E-02", "--reason", "withdrawn", "--json"))
	assert.Equal(t, lifecycle.StageOffCancelled, cancelled.State.Stage)
	assert.Equal(t, "withdrawn", cancelled.State.Note)

	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var out lifecycle.OffboardingResult
	require.NoError(t, srv.Client().GetWorkflow(ctx, first.WorkflowID, first.RunID).Get(ctx, &out))
	assert.Equal(t, lifecycle.OutcomeCancelled, out.Outcome)

	again := decodeOffboard(t, runStarter(t, env, dialTemporal, args...))
	assert.NotEqual(t, first.RunID, again.RunID)
	assert.False(t, again.AlreadyRunning)
	assert.False(t, again.AlreadyCompleted)
	assert.Equal(t, lifecycle.StageOffScheduled, again.State.Stage)
}
