package workflows

import (
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

const holdReason = "HR last working day 2025-11-03 is 68 days past, more than 30"

// heldInput is an offboarding whose last day is long past, held as the webhook starts it.
func heldInput() lifecycle.OffboardingInput {
	in := leaverInput("2025-11-03", "Europe/Paris")
	in.Hold = holdReason
	return in
}

// stages records every LifecycleStage the workflow upserts, in order.
func stages(env *testsuite.TestWorkflowEnvironment) *[]string {
	var seen []string
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if st, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(lifecycle.LifecycleStageKey); ok {
			seen = append(seen, st)
		}
	}).Return(nil)
	return &seen
}

// assertHeld checks a held run: held stage and reason, the note, nothing revoked or reclaimed.
func (s *offboardingSuite) assertHeld() {
	st := s.status()
	s.Equal(lifecycle.StageOffHeld, st.Stage)
	s.Equal(holdReason, st.Hold)
	s.Equal("ITSR-9", st.RequestID, "the request is open with the plan")
	s.Contains(s.fake.notes, "plan")
	s.Contains(s.fake.noteBodies["held-1"], holdReason)
	s.Contains(s.fake.noteBodies["held-1"], "starter offboard now --employee-id E-7")
	s.Contains(s.fake.noteBodies["held-1"], "starter offboard cancel --employee-id E-7")
	s.Empty(s.fake.revokedAt, "a held offboarding revokes nothing")
	s.Empty(s.fake.reclaimed, "a held offboarding reclaims nothing")
	s.Len(s.fake.access().Grants, 3)
}

func (s *offboardingSuite) TestHeldStartRevokesNothingUntilRevokeNow() {
	seen := stages(s.env)
	// Ten days pass with no timer: only the operator's revoke_now moves the run.
	s.env.RegisterDelayedCallback(func() {
		s.assertHeld()
		s.update(lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{Reason: "checked with HR"})
	}, 10*24*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, heldInput())
	s.assertFullyOffboarded(s.result())
	s.True(s.fake.revokedAt[0].Equal(offStart.Add(10*24*time.Hour)), "revoked at %s", s.fake.revokedAt[0])
	s.Contains(*seen, lifecycle.StageOffHeld)
	s.Empty(s.status().Hold)
}

func (s *offboardingSuite) TestHeldStartCancelWithdraws() {
	s.env.RegisterDelayedCallback(func() {
		s.assertHeld()
		s.update(lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "HR sent the wrong date"})
	}, 3*24*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, heldInput())
	r := s.result()
	s.Equal(lifecycle.OutcomeCancelled, r.Outcome)
	s.Empty(s.fake.revokedAt)
	s.Empty(s.fake.reclaimed)
	s.Equal(1, s.fake.resolved)
	s.Contains(s.fake.notes, "cancelled")
	s.Equal(lifecycle.StageOffCancelled, s.status().Stage)
}

func (s *offboardingSuite) TestHeldStartRescheduleToTheFutureSchedulesIt() {
	want := time.Date(2026, 2, 24, 17, 0, 0, 0, time.UTC) // 2026-02-24 18:00 CET
	s.env.RegisterDelayedCallback(func() {
		s.assertHeld()
		s.rejected(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-01-02"}, "before today")
		s.update(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-24"})
	}, 24*time.Hour)
	s.env.RegisterDelayedCallback(func() {
		st := s.status()
		s.Equal(lifecycle.StageOffScheduled, st.Stage)
		s.Empty(st.Hold)
		s.True(st.ScheduledAt.Equal(want))
		s.Empty(s.fake.revokedAt)
	}, 2*24*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, heldInput())
	s.assertFullyOffboarded(s.result())
	s.True(s.fake.revokedAt[0].Equal(want), "revoked at %s, want the timer's %s", s.fake.revokedAt[0].UTC(), want)
	s.Contains(s.fake.noteBodies["reschedule-1"], "Hold released")
}

func (s *offboardingSuite) TestHoldUpdateOnAScheduledRun() {
	seen := stages(s.env)
	s.env.RegisterDelayedCallback(func() {
		s.rejected(lifecycle.UpdateHold, lifecycle.HoldRequest{}, "needs a reason")
		s.update(lifecycle.UpdateHold, lifecycle.HoldRequest{Reason: holdReason, AsOf: offStart})
	}, time.Hour)
	// Long past the original date (2026-02-24): still held, nothing revoked.
	s.env.RegisterDelayedCallback(func() {
		s.assertHeld()
		s.update(lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{Reason: "checked with HR"})
	}, 60*24*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, leaverInput("2026-02-24", "Europe/Paris"))
	s.assertFullyOffboarded(s.result())
	s.True(s.fake.revokedAt[0].Equal(offStart.Add(60*24*time.Hour)), "revoked at %s", s.fake.revokedAt[0])
	s.Equal([]string{lifecycle.StageOffPlanning, lifecycle.StageOffPlanning, lifecycle.StageOffScheduled, lifecycle.StageOffHeld}, (*seen)[:4])
}

func (s *offboardingSuite) TestHoldUpdateReleasedByRescheduleToTheSameDate() {
	want := time.Date(2026, 2, 24, 17, 0, 0, 0, time.UTC)
	s.env.RegisterDelayedCallback(func() { s.update(lifecycle.UpdateHold, lifecycle.HoldRequest{Reason: holdReason}) }, time.Hour)
	s.env.RegisterDelayedCallback(func() {
		s.assertHeld()
		s.update(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-24"})
	}, 2*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, leaverInput("2026-02-24", "Europe/Paris"))
	s.assertFullyOffboarded(s.result())
	s.True(s.fake.revokedAt[0].Equal(want), "revoked at %s", s.fake.revokedAt[0])
	s.Contains(s.fake.noteBodies["reschedule-1"], "Hold released")
}

func (s *offboardingSuite) TestHoldGivenDuringARescheduleNoteIsKept() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(offStart)
	s.env.RegisterActivity(&activities.Activities{})
	s.fake = newFakeLeaver(s.env)
	s.fake.slowNotes = map[string]time.Duration{"reschedule-1": time.Minute}
	s.fake.mock()
	s.env.RegisterDelayedCallback(func() { s.update(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-20"}) }, time.Hour)
	s.env.RegisterDelayedCallback(func() { s.update(lifecycle.UpdateHold, lifecycle.HoldRequest{Reason: holdReason}) }, time.Hour+30*time.Second)
	s.env.RegisterDelayedCallback(func() {
		s.assertHeld()
		s.update(lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "HR sent the wrong date"})
	}, 60*24*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, leaverInput("2026-02-24", "Europe/Paris"))
	s.Equal(lifecycle.OutcomeCancelled, s.result().Outcome)
	s.Empty(s.fake.revokedAt)
}

// A cancel or revoke_now accepted while a reschedule note is written applies at once, not at the
// old timer (which here is weeks away).
func (s *offboardingSuite) TestSteeringDuringARescheduleNoteAppliesAtOnce() {
	for _, tc := range []struct {
		name   string
		update string
		arg    any
	}{
		{"cancel", lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "resignation withdrawn"}},
		{"revoke now", lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{Reason: "security"}},
	} {
		s.Run(tc.name, func() {
			s.env = s.NewTestWorkflowEnvironment()
			s.env.SetStartTime(offStart)
			s.env.RegisterActivity(&activities.Activities{})
			s.fake = newFakeLeaver(s.env)
			s.fake.slowNotes = map[string]time.Duration{"reschedule-1": time.Minute}
			s.fake.mock()
			s.env.RegisterDelayedCallback(func() { s.update(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-20"}) }, time.Hour)
			s.env.RegisterDelayedCallback(func() { s.update(tc.update, tc.arg) }, time.Hour+30*time.Second)
			s.env.ExecuteWorkflow(Offboarding, leaverInput("2026-02-24", "Europe/Paris"))
			r := s.result()
			soon := offStart.Add(2 * time.Hour)
			s.True(s.env.Now().Before(soon), "the run ended at %s: want right after the note (before %s), not at the old timer", s.env.Now(), soon)
			if tc.update == lifecycle.UpdateCancel {
				s.Equal(lifecycle.OutcomeCancelled, r.Outcome)
				s.Empty(s.fake.revokedAt)
				return
			}
			s.assertFullyOffboarded(r)
			s.True(s.fake.revokedAt[0].Before(soon), "revoked at %s, want right after the note (before %s)", s.fake.revokedAt[0], soon)
		})
	}
}

func (s *offboardingSuite) TestHoldOverridesImmediateInput() {
	in := heldInput()
	in.Immediate = true
	s.env.RegisterDelayedCallback(func() {
		s.assertHeld()
		s.update(lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "HR sent the wrong date"})
	}, time.Hour)
	s.env.ExecuteWorkflow(Offboarding, in)
	s.Equal(lifecycle.OutcomeCancelled, s.result().Outcome)
	s.Empty(s.fake.revokedAt)
}

func (s *offboardingSuite) TestHoldRefusedOnceRevokingOrRevokingNow() {
	s.ErrorContains(offboardingIn(lifecycle.StageOffRevoking).validateHold(nil, lifecycle.HoldRequest{Reason: holdReason}), "past its scheduled time")
	now := offboardingIn(lifecycle.StageOffPlanning)
	now.revokeNow = true
	s.ErrorContains(now.validateHold(nil, lifecycle.HoldRequest{Reason: holdReason}), "revoke at once")
	s.NoError(offboardingIn(lifecycle.StageOffHeld).validateBeforeRevoking(nil, lifecycle.RevokeNowRequest{}), "revoke_now and cancel apply while held")
}
