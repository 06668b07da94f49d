package hrevents

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// newEvent is a valid event of type typ for employee E-1, occurred an hour before the fake's clock.
func newEvent(f *fakeTemporal, id, typ string) Event {
	return Event{ID: id, Type: typ, OccurredAt: f.clock.Add(-time.Hour), Employee: Employee{
		EmployeeID: "E-1", Email: "ana.diaz@example.com", FirstName: "Ana", LastName: "Diaz", TimeZone: "Europe/Berlin",
		StartDate: "2026-12-01", LastWorkingDay: "2026-12-18",
	}}
}

func route(t *testing.T, f *fakeTemporal, ev Event) (Outcome, error) {
	t.Helper()
	return NewRouter(f, func() time.Time { return f.clock }, DefaultMaxPastDays).Route(context.Background(), ev)
}

func mustRoute(t *testing.T, f *fakeTemporal, ev Event, want string) Outcome {
	t.Helper()
	out, err := route(t, f, ev)
	require.NoError(t, err)
	require.Equal(t, want, out.Result, "note: %s", out.Note)
	return out
}

// requireNotYet checks the 409 that makes the HR system deliver the event again.
func requireNotYet(t *testing.T, f *fakeTemporal, ev Event) {
	t.Helper()
	_, err := route(t, f, ev)
	var p *Problem
	require.ErrorAs(t, err, &p)
	assert.Equal(t, http.StatusConflict, p.Status)
	assert.Equal(t, CodeNotStartedYet, p.Code)
}

const onID, offID = "onboarding-E-1", "offboarding-E-1"

func TestHiredStartsOnceAndRepeatsReachTheRun(t *testing.T) {
	f := newFake()
	first := mustRoute(t, f, newEvent(f, "evt-1", TypeHired), ResultApplied)
	again := mustRoute(t, f, newEvent(f, "evt-2", TypeHired), ResultApplied)
	assert.Equal(t, Outcome{Result: ResultApplied, WorkflowID: onID, RunID: "run-1"}, first)
	assert.Equal(t, first, again)
	require.Equal(t, 1, f.countRuns(onID))
	in := f.latest(onID).input.(lifecycle.OnboardingInput)
	assert.Equal(t, lifecycle.OnboardingInput{EmployeeID: "E-1", Email: "ana.diaz@example.com", FirstName: "Ana", LastName: "Diaz",
		TimeZone: "Europe/Berlin", StartDate: "2026-12-01"}, in)
}

func TestHiredAfterACancelledOnboarding(t *testing.T) {
	f := newFake()
	closed := f.clock.Add(-30 * time.Minute)
	f.seed(onID, false, lifecycle.StageCancelled, lifecycle.OutcomeCancelled, closed)

	late := newEvent(f, "evt-late", TypeHired) // occurred before the cancellation closed the run
	out := mustRoute(t, f, late, ResultIgnored)
	assert.Contains(t, out.Note, "outcome cancelled")
	assert.Equal(t, 1, f.countRuns(onID))

	rehire := newEvent(f, "evt-new", TypeHired)
	rehire.OccurredAt = closed.Add(time.Minute) // a new decision
	mustRoute(t, f, rehire, ResultApplied)
	assert.Equal(t, 2, f.countRuns(onID))
}

func TestHiredAfterACompletedOnboardingIsNotRunAgain(t *testing.T) {
	f := newFake()
	f.seed(onID, false, lifecycle.StageCompleted, lifecycle.OutcomeCompleted, f.clock.Add(-48*time.Hour))
	mustRoute(t, f, newEvent(f, "evt-1", TypeHired), ResultIgnored)
	assert.Equal(t, 1, f.countRuns(onID))
}

func TestUpdatedMovesTheStartDateOfARunningOnboarding(t *testing.T) {
	f := newFake()
	mustRoute(t, f, newEvent(f, "evt-1", TypeHired), ResultApplied)
	ev := newEvent(f, "evt-2", TypeUpdated)
	ev.Employee.StartDate = "2026-12-08"
	mustRoute(t, f, ev, ResultApplied)
	assert.Equal(t, []Update{{ID: "evt-2", Name: lifecycle.UpdateSetStartDate,
		Arg: lifecycle.SetStartDateRequest{StartDate: "2026-12-08", AsOf: ev.OccurredAt}}}, f.latest(onID).updates)
}

func TestUpdatedWithoutOnboarding(t *testing.T) {
	f := newFake()
	early := newEvent(f, "evt-1", TypeUpdated) // start date ahead: its hired event is late
	requireNotYet(t, f, early)

	mover := newEvent(f, "evt-2", TypeUpdated)
	mover.Employee.StartDate = "2019-03-01"
	assert.Contains(t, mustRoute(t, f, mover, ResultIgnored).Note, "never ran")

	noDate := newEvent(f, "evt-3", TypeUpdated)
	noDate.Employee.StartDate = ""
	mustRoute(t, f, noDate, ResultIgnored)

	f.seed(onID, false, lifecycle.StageCompleted, lifecycle.OutcomeCompleted, f.clock.Add(-time.Hour))
	assert.Contains(t, mustRoute(t, f, newEvent(f, "evt-4", TypeUpdated), ResultIgnored).Note, "already ended (outcome completed)")
	assert.Equal(t, 0, f.countRunsStarted(), "nothing was started")
}

func TestHireCancelled(t *testing.T) {
	f := newFake()
	requireNotYet(t, f, newEvent(f, "evt-cancel", TypeHireCancelled)) // before its hired
	mustRoute(t, f, newEvent(f, "evt-hire", TypeHired), ResultApplied)
	mustRoute(t, f, newEvent(f, "evt-cancel", TypeHireCancelled), ResultApplied)
	u := f.latest(onID).updates
	require.Len(t, u, 1)
	assert.Equal(t, lifecycle.UpdateCancel, u[0].Name)
	assert.Equal(t, "evt-cancel", u[0].ID)
}

func TestTerminatedAndChangesCarryTheirDecisionTime(t *testing.T) {
	f := newFake()
	changed := newEvent(f, "evt-changed", TypeTerminationChanged)
	changed.Employee.LastWorkingDay = "2026-12-23"
	mustRoute(t, f, changed, ResultApplied) // arrives first: starts the offboarding with its date
	terminated := newEvent(f, "evt-terminated", TypeTerminated)
	terminated.OccurredAt = changed.OccurredAt.Add(-24 * time.Hour)
	mustRoute(t, f, terminated, ResultApplied) // the workflow ignores it (older AsOf)

	r := f.latest(offID)
	assert.Equal(t, "2026-12-23", r.input.(lifecycle.OffboardingInput).LastDay)
	assert.Equal(t, []Update{
		{ID: "evt-changed", Name: lifecycle.UpdateReschedule, Arg: lifecycle.RescheduleRequest{LastDay: "2026-12-23", AsOf: changed.OccurredAt}},
		{ID: "evt-terminated", Name: lifecycle.UpdateReschedule, Arg: lifecycle.RescheduleRequest{LastDay: "2026-12-18", AsOf: terminated.OccurredAt}},
	}, r.updates)
	assert.Equal(t, 1, f.countRuns(offID))
}

func TestTerminatedWithAPassedLastDayOffboardsNow(t *testing.T) {
	f := newFake()
	ev := newEvent(f, "evt-1", TypeTerminated)
	ev.Employee.LastWorkingDay = "2026-11-19"
	mustRoute(t, f, ev, ResultApplied)
	u := f.latest(offID).updates
	require.Len(t, u, 1)
	assert.Equal(t, lifecycle.UpdateRevokeNow, u[0].Name)
	assert.Equal(t, ev.OccurredAt, u[0].Arg.(lifecycle.RevokeNowRequest).AsOf, "a passed date is ordered like any date")
}

func TestAccessRevokedImmediatelyAlwaysApplies(t *testing.T) {
	f := newFake()
	ev := newEvent(f, "evt-1", TypeAccessRevoked)
	ev.Employee.LastWorkingDay = ""
	mustRoute(t, f, ev, ResultApplied)
	r := f.latest(offID)
	in := r.input.(lifecycle.OffboardingInput)
	assert.True(t, in.Immediate)
	assert.Equal(t, "2026-11-20", in.LastDay, "today in Europe/Berlin")
	require.Len(t, r.updates, 1)
	assert.Equal(t, lifecycle.UpdateRevokeNow, r.updates[0].Name)
	assert.Zero(t, r.updates[0].Arg.(lifecycle.RevokeNowRequest).AsOf, "no date supersedes an immediate revocation")
}

func TestTerminationCancelled(t *testing.T) {
	f := newFake()
	requireNotYet(t, f, newEvent(f, "evt-cancel", TypeTerminationCancelled))
	mustRoute(t, f, newEvent(f, "evt-term", TypeTerminated), ResultApplied)
	mustRoute(t, f, newEvent(f, "evt-cancel", TypeTerminationCancelled), ResultApplied)
	assert.Equal(t, lifecycle.UpdateCancel, f.latest(offID).updates[1].Name)
}

func TestTerminatedAfterACancelledOffboarding(t *testing.T) {
	f := newFake()
	closed := f.clock.Add(-30 * time.Minute)
	f.seed(offID, false, lifecycle.StageOffCancelled, lifecycle.OutcomeCancelled, closed)
	mustRoute(t, f, newEvent(f, "evt-late", TypeTerminated), ResultIgnored) // the withdrawn termination, delivered late
	again := newEvent(f, "evt-again", TypeTerminated)
	again.OccurredAt = closed.Add(time.Hour)
	mustRoute(t, f, again, ResultApplied) // a new termination
	assert.Equal(t, 2, f.countRuns(offID))

	f.seed(offID, false, lifecycle.StageOffCompleted, lifecycle.OutcomeCompleted, f.clock)
	later := newEvent(f, "evt-later", TypeTerminated)
	later.OccurredAt = f.clock.Add(time.Hour)
	requireNotYet(t, f, later) // a completed offboarding runs again only after a rehire: it may be on its way
}

func TestRejectedUpdateIsAFinalAnswer(t *testing.T) {
	f := newFake()
	f.seed(offID, true, lifecycle.StageOffRevoking, "", time.Time{})
	f.reject = "the offboarding is past its scheduled time"
	out := mustRoute(t, f, newEvent(f, "evt-1", TypeTerminationChanged), ResultRejected)
	assert.Equal(t, Outcome{Result: ResultRejected, WorkflowID: offID, RunID: "run-1", Note: f.reject}, out)
}

func TestRehired(t *testing.T) {
	t.Run("pending offboarding: cancelled, no onboarding", func(t *testing.T) {
		f := newFake()
		f.seed(offID, true, lifecycle.StageOffScheduled, "", time.Time{})
		mustRoute(t, f, newEvent(f, "evt-1", TypeRehired), ResultApplied)
		assert.Equal(t, lifecycle.UpdateCancel, f.latest(offID).updates[0].Name)
		assert.Zero(t, f.countRuns(onID))
	})
	t.Run("held offboarding: cancelled, no onboarding", func(t *testing.T) {
		f := newFake()
		f.seed(offID, true, lifecycle.StageOffHeld, "", time.Time{})
		mustRoute(t, f, newEvent(f, "evt-1", TypeRehired), ResultApplied)
		assert.Equal(t, lifecycle.UpdateCancel, f.latest(offID).updates[0].Name, "nothing was revoked: withdraw it")
		assert.Zero(t, f.countRuns(onID))
	})
	t.Run("grace period: rehire, then onboarding again", func(t *testing.T) {
		f := newFake()
		f.seed(offID, true, lifecycle.StageOffGracePeriod, "", time.Time{})
		f.seed(onID, false, lifecycle.StageCompleted, lifecycle.OutcomeCompleted, f.clock.Add(-365*24*time.Hour))
		out := mustRoute(t, f, newEvent(f, "evt-1", TypeRehired), ResultApplied)
		assert.Equal(t, lifecycle.UpdateRehire, f.latest(offID).updates[0].Name)
		assert.Equal(t, onID, out.WorkflowID)
		assert.Equal(t, 2, f.countRuns(onID))
	})
	t.Run("completed offboarding: onboarding again, once", func(t *testing.T) {
		f := newFake()
		f.seed(offID, false, lifecycle.StageOffCompleted, lifecycle.OutcomeCompleted, f.clock.Add(-72*time.Hour))
		mustRoute(t, f, newEvent(f, "evt-1", TypeRehired), ResultApplied)
		f.latest(onID).running, f.latest(onID).outcome, f.latest(onID).closedAt = false, lifecycle.OutcomeCompleted, f.clock
		mustRoute(t, f, newEvent(f, "evt-1", TypeRehired), ResultIgnored) // redelivered after that onboarding finished
		assert.Equal(t, 1, f.countRuns(onID))
	})
	t.Run("revoking: later", func(t *testing.T) {
		f := newFake()
		f.seed(offID, true, lifecycle.StageOffRevoking, "", time.Time{})
		requireNotYet(t, f, newEvent(f, "evt-1", TypeRehired))
	})
	t.Run("cancelled offboarding: nothing to restore", func(t *testing.T) {
		f := newFake()
		f.seed(offID, false, lifecycle.StageOffCancelled, lifecycle.OutcomeCancelled, f.clock.Add(-time.Hour))
		mustRoute(t, f, newEvent(f, "evt-1", TypeRehired), ResultIgnored)
		assert.Zero(t, f.countRuns(onID))
	})
	t.Run("never offboarded here: onboarding", func(t *testing.T) {
		f := newFake()
		mustRoute(t, f, newEvent(f, "evt-1", TypeRehired), ResultApplied)
		assert.Equal(t, 1, f.countRuns(onID))
	})
}

func TestTemporalUnavailable(t *testing.T) {
	f := newFake()
	f.down = true
	_, err := route(t, f, newEvent(f, "evt-1", TypeHired))
	require.ErrorIs(t, err, ErrUnavailable)
}

func TestStaleChangeIsIgnoredWithANote(t *testing.T) {
	f := newFake()
	mustRoute(t, f, newEvent(f, "evt-term", TypeTerminated), ResultApplied)
	f.stale = "HR decided a newer change at 2026-11-20T11:00:00Z: this one (2026-11-20T10:00:00Z) changes nothing"
	older := newEvent(f, "evt-older", TypeTerminationChanged)
	out := mustRoute(t, f, older, ResultIgnored)
	assert.Equal(t, Outcome{Result: ResultIgnored, WorkflowID: offID, RunID: "run-1", Note: f.stale}, out)
	assert.Len(t, f.latest(offID).updates, 1, "the stale change changed nothing")

	ev := newEvent(f, "evt-older-start", TypeUpdated)
	mustRoute(t, f, newEvent(f, "evt-hire", TypeHired), ResultApplied)
	mustRoute(t, f, ev, ResultIgnored)
}

func TestLastDayPastTheLimitIsHeld(t *testing.T) {
	f := newFake() // the clock is 2026-11-20 12:00 UTC
	within := newEvent(f, "evt-within", TypeTerminated)
	within.Employee.LastWorkingDay = "2026-10-21" // 30 days ago
	mustRoute(t, f, within, ResultApplied)
	r := f.latest(offID)
	assert.Empty(t, r.input.(lifecycle.OffboardingInput).Hold)
	assert.Equal(t, lifecycle.UpdateRevokeNow, r.updates[0].Name, "within the limit: offboarded at once")

	f = newFake()
	old := newEvent(f, "evt-old", TypeTerminated)
	old.Employee.LastWorkingDay = "2026-10-20" // 31 days ago
	out := mustRoute(t, f, old, ResultApplied)
	assert.True(t, out.Held)
	r = f.latest(offID)
	reason := "HR last working day 2026-10-20 is 31 days in the past (more than ATOMICFLOW_HR_MAX_PAST_DAYS=30): " +
		"confirm with `starter offboard now --employee-id E-1` or cancel with `starter offboard cancel --employee-id E-1`"
	assert.Equal(t, reason, r.input.(lifecycle.OffboardingInput).Hold)
	assert.Equal(t, []Update{{ID: "evt-old", Name: lifecycle.UpdateHold, Arg: lifecycle.HoldRequest{Reason: reason, AsOf: old.OccurredAt}}}, r.updates,
		"nothing is revoked: the start carries the hold, ordered like any date")
}

func TestLastDayPastTheLimitHoldsARunningOffboarding(t *testing.T) {
	f := newFake()
	f.seed(offID, true, lifecycle.StageOffScheduled, "", time.Time{})
	changed := newEvent(f, "evt-changed", TypeTerminationChanged)
	changed.Employee.LastWorkingDay = "2024-01-31"
	out := mustRoute(t, f, changed, ResultApplied)
	assert.True(t, out.Held)
	r := f.latest(offID)
	require.Len(t, r.updates, 1)
	assert.Equal(t, lifecycle.UpdateHold, r.updates[0].Name, "a hold, not revoke_now")
	hold := r.updates[0].Arg.(lifecycle.HoldRequest)
	assert.Contains(t, hold.Reason, "HR last working day 2024-01-31 is 1024 days in the past")
	assert.Equal(t, changed.OccurredAt, hold.AsOf)
	assert.Equal(t, 1, f.countRuns(offID))

	f.reject = "the offboarding is revoking access: it cannot be held"
	assert.False(t, mustRoute(t, f, newEvent(f, "evt-again", TypeTerminationChanged), ResultRejected).Held)
}

func TestMaxPastDaysIsConfigurable(t *testing.T) {
	f := newFake()
	ev := newEvent(f, "evt-1", TypeTerminated)
	ev.Employee.LastWorkingDay = "2026-11-10" // 10 days ago
	out, err := NewRouter(f, func() time.Time { return f.clock }, 7).Route(context.Background(), ev)
	require.NoError(t, err)
	assert.True(t, out.Held)
	assert.Contains(t, f.latest(offID).input.(lifecycle.OffboardingInput).Hold, "(more than ATOMICFLOW_HR_MAX_PAST_DAYS=7)")

	revoked := newEvent(f, "evt-2", TypeAccessRevoked)
	revoked.Employee.EmployeeID, revoked.Employee.LastWorkingDay = "E-2", "2020-01-01"
	out, err = NewRouter(f, func() time.Time { return f.clock }, 7).Route(context.Background(), revoked)
	require.NoError(t, err)
	assert.False(t, out.Held, "an immediate revocation is never held")
	assert.Equal(t, lifecycle.UpdateRevokeNow, f.latest("offboarding-E-2").updates[0].Name)
}
