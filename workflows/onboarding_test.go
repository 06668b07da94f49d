package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// start is the test clock's start: 2026-11-26 09:00 UTC. Day one (2026-12-01 in Paris) is
// 2026-11-30T23:00Z.
var start = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func onboardingInput() lifecycle.OnboardingInput {
	return lifecycle.OnboardingInput{
		EmployeeID: "E-100", Email: "ana.diaz@example.com", FirstName: "Ana", LastName: "Diaz",
		Title: "Engineer", Department: "Engineering", ManagerEmail: "it.manager@example.com",
		TimeZone: "Europe/Paris", StartDate: "2026-12-01",
	}
}

var testPlan = lifecycle.Plan{
	Entitlements:     []lifecycle.PlannedEntitlement{{Name: "okta-base", ID: 1}, {Name: "github-engineering", ID: 2}},
	AssetTypes:       []lifecycle.PlannedAssetType{{Name: "Laptop", ID: 10}},
	EntitlementsFrom: "policy", AssetTypesFrom: "policy",
}

type onboardingSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestOnboarding(t *testing.T) { suite.Run(t, new(onboardingSuite)) }

func (s *onboardingSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(start)
	s.env.RegisterActivity(&activities.Activities{})
}

func (s *onboardingSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

// happyMocks expects one pass of every step; steps a test replaces are left out via skip.
func (s *onboardingSuite) happyMocks(skip ...string) {
	skipped := func(name string) bool {
		for _, n := range skip {
			if n == name {
				return true
			}
		}
		return false
	}
	if !skipped("ResolvePlan") {
		s.env.OnActivity(acts.ResolvePlan, mock.Anything, activities.PlanRequest{Department: "Engineering", Title: "Engineer"}).Return(testPlan, nil).Once()
	}
	if !skipped("EnsureUser") {
		s.env.OnActivity(acts.EnsureUser, mock.Anything, mock.MatchedBy(func(r activities.EnsureUserRequest) bool {
			return r.Email == "ana.diaz@example.com" && r.WorkflowID != "" && r.StartDate == "2026-12-01"
		})).Return(activities.UserRef{UserID: 501, Created: true}, nil).Once()
	}
	if !skipped("EnsureRequest") {
		s.env.OnActivity(acts.EnsureRequest, mock.Anything, mock.MatchedBy(func(r activities.RequestToOpen) bool {
			return r.RequesterID == 501 && r.CatalogItem == "New Hire Onboarding" && strings.HasSuffix(r.Marker, "/request")
		})).Return(activities.RequestRef{DisplayID: "ITSR-7", FromCatalog: true}, nil).Once()
	}
	if !skipped("EnsureGrant") {
		s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 1 })).
			Return(lifecycle.GrantRef{GrantID: 900, EntitlementID: 1, Entitlement: "okta-base"}, nil).Once()
		s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 2 })).
			Return(lifecycle.GrantRef{GrantID: 901, EntitlementID: 2, Entitlement: "github-engineering"}, nil).Once()
	}
	if !skipped("AssignAsset") {
		// Once for the claim, once for the day-one re-check.
		s.env.OnActivity(acts.AssignAsset, mock.Anything, mock.Anything).
			Return(lifecycle.AssetAssignment{AssetTypeID: 10, AssetTypeName: "Laptop", Assigned: true, AssetID: 3001}, nil).Twice()
	}
	s.env.OnActivity(acts.AddNote, mock.Anything, mock.MatchedBy(func(r activities.NoteRequest) bool { return strings.HasSuffix(r.Marker, "/plan") })).Return(nil).Once()
	if !skipped("DayOneNote") {
		s.env.OnActivity(acts.AddNote, mock.Anything, mock.MatchedBy(func(r activities.NoteRequest) bool { return strings.HasSuffix(r.Marker, "/day-one") })).Return(nil).Once()
	}
	if !skipped("ResolveRequest") {
		s.env.OnActivity(acts.ResolveRequest, mock.Anything, activities.RequestToResolve{DisplayID: "ITSR-7"}).Return(nil).Once()
	}
}

func (s *onboardingSuite) result() lifecycle.OnboardingResult {
	return completedResult[lifecycle.OnboardingResult](s.Require(), s.env)
}

func (s *onboardingSuite) status() lifecycle.OnboardingStatus {
	return queried[lifecycle.OnboardingStatus](s.Require(), s.env, lifecycle.QueryStatus)
}

func (s *onboardingSuite) TestHappyPathWaitsForLocalMidnightOfStartDate() {
	s.happyMocks("ResolveRequest")
	dayOne := time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC) // 2026-12-01 00:00 Europe/Paris
	s.env.OnActivity(acts.ResolveRequest, mock.Anything, activities.RequestToResolve{DisplayID: "ITSR-7"}).
		Run(func(mock.Arguments) { s.False(s.env.Now().Before(dayOne), "resolved before day one: %s", s.env.Now()) }).
		Return(nil).Once()
	var midway lifecycle.OnboardingStatus
	s.env.RegisterDelayedCallback(func() { midway = s.status() }, 24*time.Hour)

	s.env.ExecuteWorkflow(Onboarding, onboardingInput())

	r := s.result()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Equal(int64(501), r.UserID)
	s.Equal("ITSR-7", r.RequestID)
	s.Len(r.Grants, 2)
	s.Require().Len(r.Assets, 1)
	s.Equal(int64(3001), r.Assets[0].AssetID)

	s.Equal(lifecycle.StageWaitingStart, midway.Stage)
	s.Equal(dayOne, midway.DayOneAt)
	s.Require().NotNil(midway.Plan)
	s.Equal(testPlan, *midway.Plan)
	s.Equal([]string{"user", "request", "grant okta-base", "grant github-engineering", "asset Laptop"}, midway.Done)
	s.Empty(midway.Pending)
	s.Equal(lifecycle.StageCompleted, s.status().Stage)
}

func (s *onboardingSuite) TestPlanIsQueryableBeforeAnyWrite() {
	s.env.OnActivity(acts.ResolvePlan, mock.Anything, mock.Anything).Return(testPlan, nil).Once()
	s.env.OnActivity(acts.EnsureUser, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) {
			st := s.status()
			s.Equal(lifecycle.StageAccount, st.Stage)
			s.Require().NotNil(st.Plan, "the plan must be visible before the first write")
			s.Equal([]string{"user", "request", "grant okta-base", "grant github-engineering", "asset Laptop"}, st.Pending)
		}).
		Return(activities.UserRef{}, temporal.NewNonRetryableApplicationError("stop here", activities.ErrForbidden, nil)).Once()
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	s.Require().Error(s.env.GetWorkflowError())
}

func (s *onboardingSuite) TestStartDateMovedByUpdate() {
	s.happyMocks("ResolveRequest")
	newDayOne := time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC) // 2026-12-08 00:00 Paris
	s.env.OnActivity(acts.ResolveRequest, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) {
			s.False(s.env.Now().Before(newDayOne), "resolved at %s, before the moved day one", s.env.Now())
		}).
		Return(nil).Once()

	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(lifecycle.UpdateSetStartDate, "bad", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { s.Contains(err.Error(), "YYYY-MM-DD") },
			OnAccept: func() { s.Fail("a malformed date was accepted") },
		}, lifecycle.SetStartDateRequest{StartDate: "08/12/2026"})
		s.env.UpdateWorkflow(lifecycle.UpdateSetStartDate, "move", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { s.Fail("rejected: " + err.Error()) },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				s.NoError(err)
				s.Equal("2026-12-08", v.(lifecycle.OnboardingStatus).StartDate)
			},
		}, lifecycle.SetStartDateRequest{StartDate: "2026-12-08"})
	}, 48*time.Hour)

	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	s.Equal(lifecycle.OutcomeCompleted, s.result().Outcome)
	s.Equal("2026-12-08", s.status().StartDate)
}

func (s *onboardingSuite) TestStartDateMovedEarlierProceedsAtOnce() {
	s.happyMocks()
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(lifecycle.UpdateSetStartDate, "earlier", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { s.Fail("rejected: " + err.Error()) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, lifecycle.SetStartDateRequest{StartDate: "2026-11-27"})
	}, time.Hour)
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	s.Equal(lifecycle.OutcomeCompleted, s.result().Outcome)
	s.True(s.env.Now().Before(time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)), "finished at %s", s.env.Now())
}

func (s *onboardingSuite) TestNoAssetAvailableThenOneAppears() {
	s.happyMocks("AssignAsset")
	var tries []time.Time
	none := lifecycle.AssetAssignment{AssetTypeID: 10, AssetTypeName: "Laptop"}
	s.env.OnActivity(acts.AssignAsset, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { tries = append(tries, s.env.Now()) }).Return(none, nil).Times(3)
	s.env.OnActivity(acts.AssignAsset, mock.Anything, mock.Anything).
		Return(lifecycle.AssetAssignment{AssetTypeID: 10, AssetTypeName: "Laptop", Assigned: true, AssetID: 3002}, nil).Twice()
	s.env.OnActivity(acts.AddNote, mock.Anything, mock.MatchedBy(func(r activities.NoteRequest) bool {
		return strings.HasSuffix(r.Marker, "/no-asset-Laptop")
	})).Return(nil).Once() // noted once, not at every try
	var waiting lifecycle.OnboardingStatus
	s.env.RegisterDelayedCallback(func() { waiting = s.status() }, 30*time.Second)

	s.env.ExecuteWorkflow(Onboarding, onboardingInput())

	r := s.result()
	s.Equal(int64(3002), r.Assets[0].AssetID)
	s.Equal(lifecycle.StageWaitingForAsset, waiting.Stage)
	s.Contains(waiting.Waiting, "no Laptop available")
	s.Require().Len(tries, 3)
	s.GreaterOrEqual(tries[1].Sub(tries[0]), assetRetryFirst)
	s.GreaterOrEqual(tries[2].Sub(tries[1]), 2*assetRetryFirst, "backoff grows")
}

func (s *onboardingSuite) TestPermanentErrorFailsFastWithItsType() {
	s.env.OnActivity(acts.ResolvePlan, mock.Anything, mock.Anything).Return(testPlan, nil).Once()
	s.env.OnActivity(acts.EnsureUser, mock.Anything, mock.Anything).
		Return(activities.UserRef{}, temporal.NewNonRetryableApplicationError("atomicwork users.create: HTTP 400 BAD_REQUEST", activities.ErrBadRequest, nil)).Once()
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())

	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(err, &appErr), "%v", err)
	s.Equal(activities.ErrBadRequest, appErr.Type())
	s.Less(s.env.Now().Sub(start), time.Minute, "a permanent error must not be retried")
}

func (s *onboardingSuite) TestInvalidInputFailsBeforeAnyActivity() {
	in := onboardingInput()
	in.StartDate, in.Email = "tomorrow", "ana"
	s.env.ExecuteWorkflow(Onboarding, in)
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	s.Contains(err.Error(), "email is not an email address")
	s.Contains(err.Error(), "YYYY-MM-DD")
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(err, &appErr))
	s.Equal(activities.ErrInvalidInput, appErr.Type())
}

func (s *onboardingSuite) TestRateLimitHonoursRetryAfter() {
	s.happyMocks("EnsureGrant")
	var attempts []time.Time
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 1 })).
		Run(func(mock.Arguments) { attempts = append(attempts, s.env.Now()) }).
		Return(lifecycle.GrantRef{}, temporal.NewApplicationErrorWithOptions("HTTP 429", activities.ErrRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: 7 * time.Second})).Once()
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 1 })).
		Run(func(mock.Arguments) { attempts = append(attempts, s.env.Now()) }).
		Return(lifecycle.GrantRef{GrantID: 900, EntitlementID: 1, Entitlement: "okta-base"}, nil).Once()
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 2 })).
		Return(lifecycle.GrantRef{GrantID: 901, EntitlementID: 2, Entitlement: "github-engineering"}, nil).Once()

	s.env.ExecuteWorkflow(Onboarding, onboardingInput())

	s.Equal(lifecycle.OutcomeCompleted, s.result().Outcome)
	s.Require().Len(attempts, 2)
	s.GreaterOrEqual(attempts[1].Sub(attempts[0]), 7*time.Second, "the retry waited less than Retry-After")
}

// cancelAt cancels through the cancel update when the workflow reaches a point.
func (s *onboardingSuite) cancelByUpdate(after time.Duration) {
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(lifecycle.UpdateCancel, "cancel", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { s.Fail("cancel rejected: " + err.Error()) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, lifecycle.CancelRequest{Reason: "offer withdrawn"})
	}, after)
}

// expectCompensation expects the undo of every started step: assets (by type), grants (by
// entitlement), the request and the user. Each undo activity finds by itself what its step did.
func (s *onboardingSuite) expectCompensation(entitlements, assetTypes []int64, request, user bool, reason string) {
	for _, id := range assetTypes {
		s.env.OnActivity(acts.UndoAsset, mock.Anything, mock.MatchedBy(func(r activities.UndoAssetRequest) bool {
			return r.AssetTypeID == id && r.UserID == 501 && r.Since.Equal(start)
		})).Return(nil).Once()
	}
	for _, id := range entitlements {
		s.env.OnActivity(acts.UndoGrant, mock.Anything, mock.MatchedBy(func(r activities.UndoGrantRequest) bool {
			return r.EntitlementID == id && r.UserID == 501 && r.Since.Equal(start) && strings.Contains(r.Reason, reason)
		})).Return(nil).Once()
	}
	if request {
		s.env.OnActivity(acts.CloseRequest, mock.Anything, mock.MatchedBy(func(r activities.RequestToClose) bool {
			return strings.HasSuffix(r.Marker, "/request") && strings.HasSuffix(r.NoteMarker, "/cancelled") &&
				r.RequesterID == 501 && strings.Contains(r.Note, reason)
		})).Return(nil).Once()
	}
	if user {
		s.env.OnActivity(acts.DeactivateUser, mock.Anything, mock.MatchedBy(func(r activities.DeactivateUserRequest) bool {
			return r.Email == "ana.diaz@example.com" && r.WorkflowID != ""
		})).Return(nil).Once()
	}
}

func (s *onboardingSuite) assertCancelled() {
	r := s.result()
	s.Equal(lifecycle.OutcomeCancelled, r.Outcome)
	s.Equal("offer withdrawn", r.Reason)
	s.Equal(lifecycle.StageCancelled, s.status().Stage)
}

func (s *onboardingSuite) TestCancelWhilePlanning() {
	s.env.OnActivity(acts.ResolvePlan, mock.Anything, mock.Anything).After(time.Minute).Return(testPlan, nil).Once()
	s.cancelByUpdate(10 * time.Second)
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	s.assertCancelled() // nothing was written, so nothing is compensated (no other mock may be called)
}

func (s *onboardingSuite) TestCancelWhileGrantingUndoesUserRequestAndGrants() {
	s.happyMocks("EnsureGrant", "AssignAsset", "DayOneNote", "ResolveRequest")
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 1 })).
		Return(lifecycle.GrantRef{GrantID: 900, EntitlementID: 1, Entitlement: "okta-base"}, nil).Once()
	// The second grant is in flight when the cancel arrives; it still completes and is undone.
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 2 })).
		After(time.Minute).Return(lifecycle.GrantRef{GrantID: 901, EntitlementID: 2, Entitlement: "github-engineering"}, nil).Once()
	s.expectCompensation([]int64{2, 1}, nil, true, true, "offer withdrawn")
	s.cancelByUpdate(30 * time.Second)
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	s.assertCancelled()
}

func (s *onboardingSuite) TestCancelWhileWaitingForAsset() {
	s.happyMocks("AssignAsset", "DayOneNote", "ResolveRequest")
	s.env.OnActivity(acts.AssignAsset, mock.Anything, mock.Anything).Return(lifecycle.AssetAssignment{AssetTypeID: 10, AssetTypeName: "Laptop"}, nil)
	s.env.OnActivity(acts.AddNote, mock.Anything, mock.MatchedBy(func(r activities.NoteRequest) bool {
		return strings.HasSuffix(r.Marker, "/no-asset-Laptop")
	})).Return(nil).Once()
	s.expectCompensation([]int64{2, 1}, []int64{10}, true, true, "offer withdrawn")
	s.cancelByUpdate(3 * time.Hour)
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	s.assertCancelled()
}

func (s *onboardingSuite) TestWorkflowCancelWhileWaitingForDayOneUndoesEverything() {
	s.happyMocks("AssignAsset", "DayOneNote", "ResolveRequest")
	s.env.OnActivity(acts.AssignAsset, mock.Anything, mock.Anything).
		Return(lifecycle.AssetAssignment{AssetTypeID: 10, AssetTypeName: "Laptop", Assigned: true, AssetID: 3001}, nil).Once()
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 24*time.Hour)
	s.expectCompensation([]int64{2, 1}, []int64{10}, true, true, "cancelled")
	s.env.ExecuteWorkflow(Onboarding, onboardingInput())
	r := s.result()
	s.Equal(lifecycle.OutcomeCancelled, r.Outcome)
	s.Equal(lifecycle.StageCancelled, s.status().Stage)
}

func TestStartOfDay(t *testing.T) {
	got, err := lifecycle.StartOfDay("2026-12-01", "Europe/Paris")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), got.UTC())

	got, err = lifecycle.StartOfDay("2026-07-01", "America/Los_Angeles")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC), got.UTC(), "daylight saving time")

	got, err = lifecycle.StartOfDay("2026-12-01", "")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), got)

	_, err = lifecycle.StartOfDay("2026-13-01", "UTC")
	assert.ErrorContains(t, err, "YYYY-MM-DD")
	_, err = lifecycle.StartOfDay("2026-12-01", "Mars/Olympus")
	assert.ErrorContains(t, err, "IANA")
}

func TestOnboardingInputValidate(t *testing.T) {
	require.NoError(t, onboardingInput().Validate())
	for name, mut := range map[string]func(*lifecycle.OnboardingInput){
		"employee id":   func(in *lifecycle.OnboardingInput) { in.EmployeeID = "" },
		"opaque id":     func(in *lifecycle.OnboardingInput) { in.EmployeeID = "ana@example.com" },
		"email":         func(in *lifecycle.OnboardingInput) { in.Email = "ana" },
		"first name":    func(in *lifecycle.OnboardingInput) { in.FirstName = " " },
		"manager email": func(in *lifecycle.OnboardingInput) { in.ManagerEmail = "bo" },
		"date":          func(in *lifecycle.OnboardingInput) { in.StartDate = "2026-02-30" },
		"zone":          func(in *lifecycle.OnboardingInput) { in.TimeZone = "CET+1" },
	} {
		t.Run(name, func(t *testing.T) {
			in := onboardingInput()
			mut(&in)
			assert.Error(t, in.Validate())
		})
	}
}

// A step's failure counts as the cancellation it raced with only once a cancel was asked for; the
// run-level path (the server reports the failure of an activity whose cancellation was requested)
// is exercised on the dev server by starter's TestHRTemporalMapsTemporalsAnswers under load.
func TestCancelRaced(t *testing.T) {
	failed := temporal.NewApplicationError("unable to find activityType=ResolvePlan", "ActivityNotRegisteredError")
	assert.True(t, cancelRaced(failed, "offer withdrawn"))
	assert.False(t, cancelRaced(failed, ""), "a failure without a cancel is a failure")
	assert.False(t, cancelRaced(nil, "offer withdrawn"))
}
