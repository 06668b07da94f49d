package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/lifecycle"
)

func TestNewestIntent(t *testing.T) {
	t1 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	var last time.Time
	assert.True(t, newestIntent(&last, t2), "the first HR change applies")
	assert.Equal(t, t2, last)
	assert.False(t, newestIntent(&last, t1), "an older HR change is stale")
	assert.Equal(t, t2, last)
	assert.True(t, newestIntent(&last, t2), "the same instant applies (a redelivery changes nothing anyway)")
	assert.True(t, newestIntent(&last, time.Time{}), "an operator's change always applies")
	assert.Equal(t, t2, last, "and leaves the HR order alone")
}

// TestOutOfOrderHRChangesKeepTheNewestStartDate: the newer change arrives first.
func (s *onboardingSuite) TestOutOfOrderHRChangesKeepTheNewestStartDate() {
	s.happyMocks()
	decided := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s.env.RegisterDelayedCallback(func() {
		s.setStartDate("newer", lifecycle.SetStartDateRequest{StartDate: "2026-12-08", AsOf: decided.Add(time.Hour)}, "2026-12-08")
		staleRejected(s.Assertions, s.env, lifecycle.UpdateSetStartDate, lifecycle.SetStartDateRequest{StartDate: "2026-12-03", AsOf: decided})
		s.setStartDate("same instant", lifecycle.SetStartDateRequest{StartDate: "2026-12-08", AsOf: decided.Add(time.Hour)}, "2026-12-08")
		s.setStartDate("operator", lifecycle.SetStartDateRequest{StartDate: "2026-12-04"}, "2026-12-04")
	}, time.Hour)
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	s.Equal(lifecycle.OutcomeCompleted, s.result().Outcome)
	s.Equal("2026-12-04", s.status().StartDate)
}

// staleRejected sends an update that the validator must refuse as a stale HR change.
func staleRejected(a *assert.Assertions, env *testsuite.TestWorkflowEnvironment, name string, arg any) {
	env.UpdateWorkflow(name, name+"-stale-"+env.Now().String(), &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			var appErr *temporal.ApplicationError
			if a.ErrorAs(err, &appErr) {
				a.Equal(lifecycle.ErrStaleChange, appErr.Type())
			}
			a.Contains(err.Error(), "HR decided a newer change at")
			a.Contains(err.Error(), "changes nothing")
		},
		OnAccept:   func() { a.Fail(name + ": a stale change was accepted") },
		OnComplete: func(any, error) {},
	}, arg)
}

// setStartDate sends set_start_date and checks the start date it answers.
func (s *onboardingSuite) setStartDate(id string, req lifecycle.SetStartDateRequest, want string) {
	s.env.UpdateWorkflow(lifecycle.UpdateSetStartDate, id, &testsuite.TestUpdateCallback{
		OnReject: func(err error) { s.Fail(id + " rejected: " + err.Error()) },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			s.NoError(err)
			s.Equal(want, v.(lifecycle.OnboardingStatus).StartDate, id)
		},
	}, req)
}

// TestOutOfOrderHRChangesKeepTheNewestDate: a termination_changed arrives before the termination
// it changes, then a stale date that has passed; only the newest decision counts.
func (s *offboardingSuite) TestOutOfOrderHRChangesKeepTheNewestDate() {
	decided := offStart.Add(-24 * time.Hour)
	want := time.Date(2026, 2, 3, 2, 0, 0, 0, time.UTC) // 2026-02-02 18:00 PST
	// s.update names each update by the test clock: one per callback.
	s.env.RegisterDelayedCallback(func() {
		s.update(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-02", EndOfDay: "18:00", AsOf: decided.Add(2 * time.Hour)})
	}, time.Hour)
	s.env.RegisterDelayedCallback(func() {
		staleRejected(s.Assertions, s.env, lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-10", EndOfDay: "18:00", AsOf: decided})
	}, 2*time.Hour)
	s.env.RegisterDelayedCallback(func() {
		staleRejected(s.Assertions, s.env, lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{Reason: "a passed date", AsOf: decided.Add(time.Hour)})
		staleRejected(s.Assertions, s.env, lifecycle.UpdateHold, lifecycle.HoldRequest{Reason: "a date too far past", AsOf: decided.Add(time.Hour)})
	}, 3*time.Hour)
	s.env.RegisterDelayedCallback(func() { s.Equal("2026-02-02 18:00 PST", s.status().ScheduledLocal) }, 4*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, leaverInput("2026-02-24", "America/Los_Angeles"))
	s.assertFullyOffboarded(s.result())
	s.True(s.fake.revokedAt[0].Equal(want), "revoked at %s, want %s", s.fake.revokedAt[0].UTC(), want)
}
