package workflows

import (
	"context"
	"strings"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// A step that fails for good (not a cancellation) blocks the onboarding with a note on the
// request until an operator retries it or cancels: the run never ends half done.

func badRequest() error {
	return temporal.NewNonRetryableApplicationError("atomicwork grants.create: HTTP 400 VALIDATION_ERROR: entitlement is not assignable",
		activities.ErrBadRequest, nil)
}

// failingGrant answers the github-engineering grant with a 400 while *broken, then grants it;
// calls counts the tries.
func (s *onboardingSuite) failingGrant(broken *bool, calls *int) {
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 2 })).
		Return(func(context.Context, activities.GrantRequest) (lifecycle.GrantRef, error) {
			*calls++
			if *broken {
				return lifecycle.GrantRef{}, badRequest()
			}
			return lifecycle.GrantRef{GrantID: 901, EntitlementID: 2, Entitlement: "github-engineering"}, nil
		})
}

// failureNotes captures the notes of failed steps by marker step ("failed-1", ...).
func (s *onboardingSuite) failureNotes() map[string]string {
	notes := map[string]string{}
	s.env.OnActivity(acts.AddNote, mock.Anything, mock.MatchedBy(func(r activities.NoteRequest) bool {
		return strings.Contains(r.Marker, "/failed-")
	})).Return(func(_ context.Context, r activities.NoteRequest) error {
		s.Equal("ITSR-7", r.DisplayID)
		notes[r.Marker[strings.LastIndex(r.Marker, "/")+1:]] = r.Description
		return nil
	})
	return notes
}

func (s *onboardingSuite) update(name string, arg any) {
	s.env.UpdateWorkflow(name, name+s.env.Now().String(), &testsuite.TestUpdateCallback{
		OnReject: func(err error) { s.Fail(name + " rejected: " + err.Error()) }, OnAccept: func() {}, OnComplete: func(any, error) {},
	}, arg)
}

func (s *onboardingSuite) rejected(name string, arg any, want string) {
	s.env.UpdateWorkflow(name, name+s.env.Now().String(), &testsuite.TestUpdateCallback{
		OnReject: func(err error) { s.Contains(err.Error(), want) },
		OnAccept: func() { s.Fail(name + " was accepted") }, OnComplete: func(any, error) {},
	}, arg)
}

// assertBlockedOnGrant checks the blocked run: stage, failing step and error, the note, and
// that the step is not retried by itself.
func (s *onboardingSuite) assertBlockedOnGrant(notes map[string]string, calls int) {
	st := s.status()
	s.Equal(lifecycle.StageBlocked, st.Stage)
	s.Require().NotNil(st.Failed)
	s.Equal("grant github-engineering", st.Failed.Step)
	s.Contains(st.Failed.Error, "ATOMICWORK_BAD_REQUEST: atomicwork grants.create: HTTP 400")
	s.True(strings.HasSuffix(st.Failed.Note, "/failed-1"), st.Failed.Note)
	s.Contains(st.Blocked, `step "grant github-engineering" failed: ATOMICWORK_BAD_REQUEST`)
	s.Contains(st.Blocked, "noted on request ITSR-7")
	s.Contains(st.Blocked, "starter onboard retry --employee-id E-100")
	s.Contains(st.Blocked, "starter onboard cancel --employee-id E-100")
	s.Contains(notes["failed-1"], "grant github-engineering")
	s.Contains(notes["failed-1"], "ATOMICWORK_BAD_REQUEST")
	s.Contains(notes["failed-1"], "starter onboard retry --employee-id E-100")
	s.Equal([]string{"user", "request", "grant okta-base"}, st.Done)
	s.Equal(1, calls, "a failed step waits for the operator: it is not retried by itself")
}

func (s *onboardingSuite) TestFailedGrantBlocksWithANoteThenRetryCompletes() {
	seen := stages(s.env)
	s.happyMocks("EnsureGrant")
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 1 })).
		Return(lifecycle.GrantRef{GrantID: 900, EntitlementID: 1, Entitlement: "okta-base"}, nil).Once()
	broken, calls := true, 0
	s.failingGrant(&broken, &calls)
	notes := s.failureNotes()
	s.env.RegisterDelayedCallback(func() {
		s.assertBlockedOnGrant(notes, calls)
		broken = false // the operator fixed the entitlement in Atomicwork
		s.update(lifecycle.UpdateRetry, lifecycle.RetryRequest{})
	}, 48*time.Hour)
	s.env.RegisterDelayedCallback(func() {
		s.rejected(lifecycle.UpdateRetry, lifecycle.RetryRequest{}, "not blocked on a failed step")
	}, 49*time.Hour)

	s.env.ExecuteWorkflow(Onboarding, onboardingInput())

	r := s.result()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Len(r.Grants, 2)
	s.Nil(r.Failed)
	s.Equal(2, calls)
	st := s.status()
	s.Equal(lifecycle.StageCompleted, st.Stage)
	s.Empty(st.Blocked)
	s.Nil(st.Failed)
	assertBlockedThenResumed(s.T(), *seen, lifecycle.StageBlocked, lifecycle.StageAccess)
}

func (s *onboardingSuite) TestCancelWhileBlockedOnAFailedStepCompensatesEverything() {
	s.happyMocks("EnsureGrant", "AssignAsset", "DayOneNote", "ResolveRequest")
	s.env.OnActivity(acts.EnsureGrant, mock.Anything, mock.MatchedBy(func(r activities.GrantRequest) bool { return r.EntitlementID == 1 })).
		Return(lifecycle.GrantRef{GrantID: 900, EntitlementID: 1, Entitlement: "okta-base"}, nil).Once()
	broken, calls := true, 0
	s.failingGrant(&broken, &calls)
	notes := s.failureNotes()
	s.expectCompensation([]int64{2, 1}, nil, true, true, "offer withdrawn")
	s.env.RegisterDelayedCallback(func() { s.assertBlockedOnGrant(notes, calls) }, time.Hour)
	s.cancelByUpdate(2 * time.Hour)

	s.env.ExecuteWorkflow(Onboarding, onboardingInput())

	s.assertCancelled()
	r := s.result()
	s.Require().NotNil(r.Failed, "the result names the step the run was blocked on")
	s.Equal("grant github-engineering", r.Failed.Step)
	s.Contains(r.Failed.Error, "ATOMICWORK_BAD_REQUEST")
	s.Empty(s.status().Blocked)
	s.Equal(1, calls)
}
