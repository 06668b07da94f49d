package workflows

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

func unauthorized() error {
	return temporal.NewNonRetryableApplicationError("atomicwork grants.create: HTTP 401 UNAUTHORIZED: Invalid API key", activities.ErrUnauthorized, nil)
}

// refusedTimes answers the first n calls with a 401, then ok.
func refusedTimes[Req, T any](n int, ok T, calls *[]time.Time, now func() time.Time) func(context.Context, Req) (T, error) {
	return func(context.Context, Req) (T, error) {
		*calls = append(*calls, now())
		if len(*calls) <= n {
			var zero T
			return zero, unauthorized()
		}
		return ok, nil
	}
}

// assertBlockedThenResumed checks the stages went blocked and back to the stage the run was in.
func assertBlockedThenResumed(t *testing.T, seen []string, blocked, from string) {
	i := slices.Index(seen, blocked)
	if assert.GreaterOrEqual(t, i, 1, "never blocked: %v", seen) && assert.Less(t, i+1, len(seen)) {
		assert.Equal(t, from, seen[i-1], "blocked from %v", seen)
		assert.Equal(t, from, seen[i+1], "resumed in %v", seen)
	}
}

func (s *onboardingSuite) TestRefusedKeyBlocksThenResumes() {
	seen := stages(s.env)
	s.happyMocks("EnsureGrant")
	var tries []time.Time
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 1 })).
		Return(refusedTimes[activities.GrantRequest](2, lifecycle.GrantRef{GrantID: 900, EntitlementID: 1, Entitlement: "okta-base"}, &tries, s.env.Now)).Times(3)
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 2 })).
		Return(lifecycle.GrantRef{GrantID: 901, EntitlementID: 2, Entitlement: "github-engineering"}, nil).Once()
	var blocked lifecycle.OnboardingStatus
	s.env.RegisterDelayedCallback(func() {
		blocked = s.status()
		s.setStartDate("while blocked", lifecycle.SetStartDateRequest{StartDate: "2026-12-02"}, "2026-12-02")
	}, 10*time.Second)

	s.env.ExecuteWorkflow(Onboarding, onboardingInput())

	r := s.result()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Len(r.Grants, 2)
	s.Equal(lifecycle.StageBlocked, blocked.Stage)
	s.Contains(blocked.Blocked, "ATOMICWORK_AUTH: atomicwork grants.create: HTTP 401 UNAUTHORIZED")
	s.Contains(blocked.Blocked, "the worker's key for the default workspace (ATOMICWORK_WORKSPACE_ID) is refused")
	s.Contains(blocked.Blocked, "ATOMICWORK_API_KEY or ATOMICWORK_KEYS_FILE")
	s.Require().Len(tries, 3)
	s.GreaterOrEqual(tries[1].Sub(tries[0]), authRetryFirst, "retried after a durable wait")
	assertBlockedThenResumed(s.T(), *seen, lifecycle.StageBlocked, lifecycle.StageAccess)
	st := s.status()
	s.Equal(lifecycle.StageCompleted, st.Stage)
	s.Empty(st.Blocked)
}

func (s *onboardingSuite) TestCancelWhileBlockedCompensatesThroughARefusedKey() {
	seen := stages(s.env)
	s.happyMocks("EnsureGrant", "AssignAsset", "DayOneNote", "ResolveRequest")
	var tries, undos []time.Time
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 1 })).
		Return(lifecycle.GrantRef{GrantID: 900, EntitlementID: 1, Entitlement: "okta-base"}, nil).Once()
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 2 })).
		Return(refusedTimes[activities.GrantRequest](100, lifecycle.GrantRef{}, &tries, s.env.Now))
	s.expectCompensation(nil, nil, true, true, "offer withdrawn")
	s.env.OnActivity(acts.UndoGrant, mock.Anything, mock.Anything).Return(func(context.Context, activities.UndoGrantRequest) error {
		undos = append(undos, s.env.Now())
		if len(undos) == 1 {
			return unauthorized()
		}
		return nil
	}).Times(3) // grant 2: refused once, then undone; grant 1: undone
	s.cancelByUpdate(time.Hour)
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	s.assertCancelled()
	s.Greater(len(tries), 2, "kept retrying while blocked")
	// Cancelled while blocked granting, then blocked again undoing a grant, then resumed.
	i := slices.Index(*seen, lifecycle.StageBlocked)
	s.Require().GreaterOrEqual(i, 1, "%v", *seen)
	s.Equal([]string{lifecycle.StageAccess, lifecycle.StageBlocked, lifecycle.StageCompensating, lifecycle.StageBlocked, lifecycle.StageCompensating, lifecycle.StageCancelled}, (*seen)[i-1:])
}

func (s *onboardingSuite) TestRefusedKeyForTheWholeBudgetFails() {
	s.env.OnActivity(acts.ResolvePlan, mock.Anything, mock.Anything).Return(lifecycle.Plan{}, unauthorized())
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(err, &appErr), "%v", err)
	s.Equal(activities.ErrAtomicworkAuth, appErr.Type())
	s.True(appErr.NonRetryable())
	s.Contains(appErr.Message(), "giving up")
	s.GreaterOrEqual(s.env.Now().Sub(start), AuthBlockBudget)
	s.Less(s.env.Now().Sub(start), AuthBlockBudget+2*authRetrySlow)
	s.Equal(lifecycle.StageBlocked, s.status().Stage)
}

func (s *offboardingSuite) TestRefusedKeyDuringRevocationBlocksThenOffboards() {
	seen := stages(s.env)
	s.fake.refuseRevokes = 2
	var blocked lifecycle.OffboardingStatus
	s.env.RegisterDelayedCallback(func() {
		blocked = s.status()
		s.rejected(lifecycle.UpdateCancel, lifecycle.CancelRequest{}, "past its scheduled time (stage offboarding.revoking)")
		s.rejected(lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{}, "past its scheduled time")
	}, 10*time.Second)
	in := leaverInput("2026-01-10", "UTC")
	in.Immediate = true
	s.env.ExecuteWorkflow(Offboarding, in)
	s.assertFullyOffboarded(s.result())
	s.Equal(lifecycle.StageOffBlocked, blocked.Stage)
	s.Contains(blocked.Blocked, "ATOMICWORK_AUTH: atomicwork grants.revoke: HTTP 403 FORBIDDEN: the worker's key for the default workspace")
	assertBlockedThenResumed(s.T(), *seen, lifecycle.StageOffBlocked, lifecycle.StageOffRevoking)
	s.Empty(s.status().Blocked)
}

func (s *offboardingSuite) TestRefusedKeyWhilePlanningKeepsUpdatesWorking() {
	s.fake.refuseRequests = 3
	s.env.RegisterDelayedCallback(func() {
		s.Equal(lifecycle.StageOffBlocked, s.status().Stage)
		s.update(lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "resignation withdrawn"})
	}, 20*time.Second)
	s.env.ExecuteWorkflow(Offboarding, leaverInput("2026-02-24", "UTC"))
	r := s.result()
	s.Equal(lifecycle.OutcomeCancelled, r.Outcome)
	s.Empty(s.fake.revokedAt)
	s.Equal(1, s.fake.resolved)
}

func TestBlockedReasonNamesTheWorkspace(t *testing.T) {
	b := keyBlocking{workspaceID: 3}
	assert.Equal(t, "ATOMICWORK_AUTH: HTTP 401: the worker's key for workspace 3 is refused: fix ATOMICWORK_API_KEY or ATOMICWORK_KEYS_FILE "+
		"and restart the worker; the run retries by itself and goes on when the key works",
		b.reason(keyRefused(temporal.NewNonRetryableApplicationError("HTTP 401", activities.ErrUnauthorized, nil))))
}

func TestAuthRetryWaitGrowsToFiveMinutesThenHourly(t *testing.T) {
	var blockedFor time.Duration
	var waits []time.Duration
	for blockedFor < 10*time.Minute {
		w := authRetryWait(blockedFor)
		waits = append(waits, w)
		blockedFor += w
	}
	assert.Equal(t, []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute}, waits)
	assert.Equal(t, authRetryEvery, authRetryWait(23*time.Hour))
	assert.Equal(t, authRetrySlow, authRetryWait(authRetryFastFor))
	assert.Equal(t, "5m", shortDuration(5*time.Minute))
	assert.Equal(t, "15s", shortDuration(15*time.Second))
	assert.Equal(t, "720h", shortDuration(AuthBlockBudget))
}
