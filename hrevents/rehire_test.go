package hrevents

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// boomerang seeds an offboarding that completed three days before the fake's clock and routes the
// rehire that followed it; the fake's clock then moves a day on. It returns the offboarding's close.
func boomerang(t *testing.T, f *fakeTemporal) time.Time {
	t.Helper()
	closed := f.clock.Add(-72 * time.Hour)
	off := f.seed(offID, false, lifecycle.StageOffCompleted, lifecycle.OutcomeCompleted, closed)
	off.started = closed.Add(-30 * 24 * time.Hour)
	rehire := newEvent(f, "evt-rehire", TypeRehired)
	rehire.OccurredAt = closed.Add(time.Hour)
	mustRoute(t, f, rehire, ResultApplied)
	require.Equal(t, 1, f.countRuns(onID))
	f.clock = f.clock.Add(24 * time.Hour)
	return closed
}

func TestTerminatedAgainAfterARehireOffboardsAgain(t *testing.T) {
	for _, typ := range []string{TypeTerminated, TypeAccessRevoked} {
		t.Run(typ, func(t *testing.T) {
			f := newFake()
			boomerang(t, f)
			again := newEvent(f, "evt-again", typ) // occurred after the rehire
			out := mustRoute(t, f, again, ResultApplied)
			assert.Equal(t, Outcome{Result: ResultApplied, WorkflowID: offID, RunID: "run-2"}, out)
			require.Equal(t, 2, f.countRuns(offID), "a new offboarding run")
			assert.True(t, f.latest(offID).running)
			assert.Equal(t, "evt-again", f.latest(offID).updates[0].ID)
			assert.Equal(t, again.OffboardingInput(f.clock), f.latest(offID).input)
		})
	}
}

func TestLateTerminationFromBeforeTheRehireStaysIgnored(t *testing.T) {
	f := newFake()
	closed := boomerang(t, f)
	late := newEvent(f, "evt-first", TypeTerminated) // the termination that offboarding answered
	late.OccurredAt = closed.Add(-31 * 24 * time.Hour)
	assert.Contains(t, mustRoute(t, f, late, ResultIgnored).Note, "already ran (outcome completed)")
	assert.Equal(t, 1, f.countRuns(offID))
}

func TestTerminationAfterACompletedOffboardingWaitsForItsRehire(t *testing.T) {
	f := newFake()
	closed := f.clock.Add(-72 * time.Hour)
	f.seed(offID, false, lifecycle.StageOffCompleted, lifecycle.OutcomeCompleted, closed).started = closed.Add(-30 * 24 * time.Hour)
	rehire := newEvent(f, "evt-rehire", TypeRehired)
	rehire.OccurredAt = closed.Add(time.Hour)
	again := newEvent(f, "evt-again", TypeTerminated)
	again.OccurredAt = closed.Add(2 * time.Hour) // overtook the rehire it follows

	requireNotYet(t, f, again)
	assert.Zero(t, f.countRunsStarted(), "nothing started")
	mustRoute(t, f, rehire, ResultApplied)
	mustRoute(t, f, again, ResultApplied) // delivered again
	assert.Equal(t, 2, f.countRuns(offID))
}

func TestRehireBeforeItsTermination(t *testing.T) {
	t.Run("onboarded, never offboarded: 409, then it cancels the termination", func(t *testing.T) {
		f := newFake()
		on := f.seed(onID, false, lifecycle.StageCompleted, lifecycle.OutcomeCompleted, f.clock.Add(-300*24*time.Hour))
		on.started = f.clock.Add(-310 * 24 * time.Hour)
		rehire := newEvent(f, "evt-rehire", TypeRehired)
		term := newEvent(f, "evt-term", TypeTerminated)
		term.OccurredAt = rehire.OccurredAt.Add(-time.Hour)

		requireNotYet(t, f, rehire)
		assert.Zero(t, f.countRunsStarted(), "no onboarding for an employed person")
		mustRoute(t, f, term, ResultApplied)
		mustRoute(t, f, rehire, ResultApplied) // delivered again
		assert.Equal(t, lifecycle.UpdateCancel, f.latest(offID).updates[1].Name, "the rehire withdraws the termination")
		assert.Equal(t, 1, f.countRuns(onID))
	})
	t.Run("after a boomerang: the next rehire waits for its termination", func(t *testing.T) {
		f := newFake()
		boomerang(t, f)
		requireNotYet(t, f, newEvent(f, "evt-rehire-2", TypeRehired))
		assert.Equal(t, 1, f.countRuns(onID))

		term := newEvent(f, "evt-term-2", TypeTerminated)
		term.OccurredAt = f.clock.Add(-2 * time.Hour)
		mustRoute(t, f, term, ResultApplied)
		mustRoute(t, f, newEvent(f, "evt-rehire-2", TypeRehired), ResultApplied)
		assert.Equal(t, lifecycle.UpdateCancel, f.latest(offID).updates[1].Name)
	})
	t.Run("after a grace-period rehire: the next rehire waits for its termination", func(t *testing.T) {
		f := newFake()
		off := f.seed(offID, true, lifecycle.StageOffGracePeriod, "", time.Time{})
		off.started = f.clock.Add(-10 * 24 * time.Hour)
		mustRoute(t, f, newEvent(f, "evt-rehire", TypeRehired), ResultApplied)
		// the rehired offboarding closes just after the onboarding started
		off.running, off.outcome, off.closedAt = false, lifecycle.OutcomeRehired, f.clock.Add(time.Second)
		f.clock = f.clock.Add(24 * time.Hour)
		requireNotYet(t, f, newEvent(f, "evt-rehire-2", TypeRehired))
		assert.Equal(t, 1, f.countRuns(onID))
	})
	t.Run("a redelivered rehire still reaches its own onboarding", func(t *testing.T) {
		f := newFake()
		boomerang(t, f)
		first := newEvent(f, "evt-rehire", TypeRehired)
		first.OccurredAt = f.clock.Add(-95 * time.Hour) // as in boomerang
		assert.Equal(t, "run-1", mustRoute(t, f, first, ResultApplied).RunID)
		assert.Equal(t, 1, f.countRuns(onID))
	})
	t.Run("a cancelled onboarding employs no one: the rehire onboards", func(t *testing.T) {
		f := newFake()
		on := f.seed(onID, false, lifecycle.StageCancelled, lifecycle.OutcomeCancelled, f.clock.Add(-2*time.Hour))
		on.started = f.clock.Add(-3 * time.Hour)
		mustRoute(t, f, newEvent(f, "evt-rehire", TypeRehired), ResultApplied)
		assert.Equal(t, 2, f.countRuns(onID))
	})
}

// A rehire that came first gets the same 409 from a receiver that restarted: the answer comes
// from Temporal, and only final answers are remembered.
func TestEarlyRehireIsAnsweredTheSameAfterARestart(t *testing.T) {
	f := newFake()
	f.seed(onID, false, lifecycle.StageCompleted, lifecycle.OutcomeCompleted, f.clock.Add(-300*24*time.Hour)).started = f.clock.Add(-310 * 24 * time.Hour)
	rehire := newEvent(f, "evt-rehire", TypeRehired)
	term := newEvent(f, "evt-term", TypeTerminated)
	term.OccurredAt = rehire.OccurredAt.Add(-time.Hour)

	r := newReceiver(t, f, f)
	assert.Equal(t, http.StatusConflict, r.deliver(eventBody(t, rehire)).Code)
	assert.Equal(t, http.StatusConflict, r.deliver(eventBody(t, rehire)).Code, "a 409 is not remembered")
	restarted := newReceiver(t, f, f)
	rec := restarted.deliver(eventBody(t, rehire))
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))

	assert.Equal(t, http.StatusAccepted, restarted.deliver(eventBody(t, term)).Code)
	assert.Equal(t, http.StatusAccepted, r.deliver(eventBody(t, rehire)).Code)
	assert.Equal(t, http.StatusAccepted, restarted.deliver(eventBody(t, rehire)).Code, "Temporal answers the known update id again")
	assert.Equal(t, lifecycle.UpdateCancel, f.latest(offID).updates[1].Name)
	assert.Len(t, f.latest(offID).updates, 2, "the rehire cancelled once")
	assert.Zero(t, f.countRuns(onID)-1, "no onboarding for an employed person")
}

func eventBody(t *testing.T, ev Event) string {
	t.Helper()
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return string(b)
}
