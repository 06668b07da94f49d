package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

const (
	boID     = int64(77)
	laptopID = int64(12)
)

func reassignInput() lifecycle.ReassignmentInput {
	return lifecycle.ReassignmentInput{
		BatchID:   "b-1",
		Selector:  lifecycle.AssetSelector{AssigneeEmail: "bo.li@example.com"},
		Target:    lifecycle.AssetTarget{Stock: true},
		Confirmed: true, Concurrency: 3,
	}
}

type reassignSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	started  []int64     // ReassignAsset calls, in order
	startAt  []time.Time // their workflow times
	maxFlyin int
	flying   int
	updates  int
	matching int64 // expectListing's assets 1..matching, which ranges list too when asked
	// verifyAnswers are the answers of VerifyReassignment in turn (then: nothing left);
	// verifyReqs the requests it got.
	verifyAnswers []activities.VerifyReassignmentResult
	verifyReqs    []activities.VerifyReassignmentRequest
	verifyErr     error // when set, the next verification fails with it
}

func TestReassignment(t *testing.T) { suite.Run(t, new(reassignSuite)) }

func (s *reassignSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(start)
	s.env.RegisterActivity(&activities.Activities{})
	s.env.RegisterWorkflowWithOptions(Reassignment, workflow.RegisterOptions{Name: lifecycle.ReassignmentWorkflowName})
	s.started, s.startAt, s.maxFlyin, s.flying = nil, nil, 0, 0
	s.verifyAnswers, s.verifyReqs, s.verifyErr = nil, nil, nil
	s.env.OnActivity(acts.VerifyReassignment, mock.Anything, mock.Anything).Maybe().
		Return(func(_ context.Context, req activities.VerifyReassignmentRequest) (activities.VerifyReassignmentResult, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.verifyReqs = append(s.verifyReqs, req)
			if err := s.verifyErr; err != nil {
				s.verifyErr = nil
				return activities.VerifyReassignmentResult{}, err
			}
			if len(s.verifyAnswers) == 0 {
				return activities.VerifyReassignmentResult{}, nil
			}
			res := s.verifyAnswers[0]
			s.verifyAnswers = s.verifyAnswers[1:]
			return res, nil
		})
}

// stillToDo is a verification that finds the given assets still to do.
func stillToDo(ids []int64) activities.VerifyReassignmentResult {
	return activities.VerifyReassignmentResult{Remaining: len(ids), AssetIDs: ids}
}

func (s *reassignSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func ids(from, to int64) []int64 {
	var out []int64
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

// expectPlan expects the resolve and plan activities once.
func (s *reassignSuite) expectPlan(matched int) {
	s.env.OnActivity(acts.ResolveReassignment, mock.Anything, activities.ResolveReassignmentRequest{AssigneeEmail: "bo.li@example.com"}).
		Return(lifecycle.ResolvedReassignment{AssigneeID: boID}, nil).Once()
	s.env.OnActivity(acts.PlanReassignment, mock.Anything, mock.MatchedBy(func(r activities.PlanReassignmentRequest) bool {
		return r.Filter.AssigneeID == boID && r.SampleSize == ReassignSampleSize
	})).Return(lifecycle.ReassignmentPlan{Matched: matched, Sample: []lifecycle.AssetSample{{AssetID: 1, Label: "MBP-1"}}}, nil).Once()
}

// expectPages serves the given pages in order from NextAssetPage, each after the previous one's
// last id, then "done".
func (s *reassignSuite) expectPages(after int64, pages ...[]int64) {
	for i, p := range pages {
		want := after
		s.env.OnActivity(acts.NextAssetPage, mock.Anything, mock.MatchedBy(func(r activities.AssetPageRequest) bool {
			return r.After == want && r.Filter.AssigneeID == boID && r.PageSize == ReassignPageSize
		})).Return(activities.AssetPage{AssetIDs: p, Page: 1, Done: i == len(pages)-1}, nil).Once()
		after = p[len(p)-1]
	}
}

// expectMoves answers ReassignAsset for every asset with outcome, each taking d of workflow time.
func (s *reassignSuite) expectMoves(d time.Duration, outcome func(id int64) (string, error)) {
	s.env.OnActivity(acts.ReassignAsset, mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) {
			req := args.Get(1).(activities.ReassignAssetRequest)
			s.mu.Lock()
			defer s.mu.Unlock()
			s.started = append(s.started, req.AssetID)
			s.startAt = append(s.startAt, s.env.Now())
		}).
		After(d).
		Return(func(_ context.Context, req activities.ReassignAssetRequest) (activities.ReassignAssetResult, error) {
			o, err := outcome(req.AssetID)
			return activities.ReassignAssetResult{AssetID: req.AssetID, Outcome: o}, err
		})
}

func moved(int64) (string, error) { return activities.AssetMoved, nil }

func (s *reassignSuite) report() lifecycle.ReassignmentReport {
	return completedResult[lifecycle.ReassignmentReport](s.Require(), s.env)
}

func (s *reassignSuite) progress() lifecycle.ReassignmentProgress {
	return queried[lifecycle.ReassignmentProgress](s.Require(), s.env, lifecycle.QueryProgress)
}

func (s *reassignSuite) update(name string, arg any, check func(any, error)) {
	s.updates++
	s.env.UpdateWorkflow(name, fmt.Sprintf("%s-%d", name, s.updates), &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { check(nil, err) },
		OnAccept:   func() {},
		OnComplete: func(v any, err error) { check(v, err) },
	}, arg)
}

func (s *reassignSuite) mustAccept(name string, arg any) {
	s.update(name, arg, func(_ any, err error) { s.NoError(err, "%s rejected", name) })
}

func (s *reassignSuite) TestMovesEveryAssetOfEveryPage() {
	s.expectPlan(7)
	s.expectPages(0, ids(1, 4), ids(5, 7))
	s.expectMoves(time.Second, moved)
	var mid lifecycle.ReassignmentProgress
	s.env.RegisterDelayedCallback(func() { mid = s.progress() }, 1500*time.Millisecond)

	s.env.ExecuteWorkflow(Reassignment, reassignInput())

	r := s.report()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Equal(7, r.Total)
	s.Equal(7, r.Done)
	s.Zero(r.Failed)
	s.Empty(r.Failures)
	s.ElementsMatch(ids(1, 7), s.started, "each asset once")
	s.Equal(1, r.Runs)
	s.Equal(lifecycle.StageReassignRunning, mid.Stage)
	s.Equal(7, mid.Total)
	s.Equal(3, mid.Done, "3 in flight at a time, 1 s each")
	s.Equal(3, mid.InFlight)
	s.Equal(4, mid.Remaining)
	s.InDelta(2.0, mid.Rate, 0.01, "3 assets in 1.5 s")
	s.InDelta(2.0, mid.ETASeconds, 0.01)
	s.Equal(lifecycle.StageReassignCompleted, s.progress().Stage)
}

func (s *reassignSuite) TestConcurrencyIsBounded() {
	s.expectPlan(40)
	s.expectPages(0, ids(1, 20), ids(21, 40))
	s.env.OnActivity(acts.ReassignAsset, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) {
			s.mu.Lock()
			s.flying++
			s.maxFlyin = max(s.maxFlyin, s.flying)
			s.mu.Unlock()
		}).
		After(time.Second).
		Return(func(_ context.Context, req activities.ReassignAssetRequest) (activities.ReassignAssetResult, error) {
			s.mu.Lock()
			s.flying--
			s.mu.Unlock()
			return activities.ReassignAssetResult{AssetID: req.AssetID, Outcome: activities.AssetMoved}, nil
		})
	in := reassignInput()
	in.Concurrency = 5
	s.env.ExecuteWorkflow(Reassignment, in)
	s.Equal(40, s.report().Done)
	s.LessOrEqual(s.maxFlyin, 5)
}

func (s *reassignSuite) TestDryRunReturnsThePlanAndWritesNothing() {
	s.expectPlan(250) // no page or ReassignAsset mock: a call to either fails the test
	in := reassignInput()
	in.DryRun, in.Confirmed = true, false
	s.env.ExecuteWorkflow(Reassignment, in)
	r := s.report()
	s.Equal(lifecycle.OutcomeDryRun, r.Outcome)
	s.Equal(250, r.Plan.Matched)
	s.Equal(250, r.Total)
	s.Equal(250, r.NotProcessed)
	s.Zero(r.Done)
	s.Equal(lifecycle.StageReassignDryRun, s.progress().Stage)
}

func (s *reassignSuite) TestAboveThresholdWaitsForConfirmation() {
	s.expectPlan(150)
	s.expectPages(0, ids(1, 150))
	s.expectMoves(time.Millisecond, moved)
	in := reassignInput()
	in.Confirmed = false
	var waiting lifecycle.ReassignmentProgress
	s.env.RegisterDelayedCallback(func() {
		waiting = s.progress()
		s.update(lifecycle.UpdateConfirm, lifecycle.ConfirmRequest{Total: 100}, func(_ any, err error) {
			s.ErrorContains(err, "now matches 150 assets, not 100")
		})
		s.mustAccept(lifecycle.UpdateConfirm, lifecycle.ConfirmRequest{Total: 150})
	}, time.Hour)

	s.env.ExecuteWorkflow(Reassignment, in)

	r := s.report()
	s.Equal(150, r.Done)
	s.Equal(lifecycle.StageReassignConfirming, waiting.Stage)
	s.Require().NotNil(waiting.Plan)
	s.Equal(150, waiting.Plan.Matched)
	s.Zero(waiting.Done)
	s.False(s.startAt[0].Before(start.Add(time.Hour)), "an asset moved before the confirmation")
	s.Less(r.ActiveSeconds, 60.0, "the wait for confirmation is not running time")
}

func (s *reassignSuite) TestCancelWhileAwaitingConfirmation() {
	s.expectPlan(150) // nothing is written
	in := reassignInput()
	in.Confirmed = false
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "wrong selector"}) }, time.Minute)
	s.env.ExecuteWorkflow(Reassignment, in)
	r := s.report()
	s.Equal(lifecycle.OutcomeCancelled, r.Outcome)
	s.Equal("wrong selector", r.Reason)
	s.Equal(150, r.NotProcessed)
	s.Zero(r.Done)
}

func (s *reassignSuite) TestBelowThresholdStartsWithoutConfirmation() {
	s.expectPlan(5)
	s.expectPages(0, ids(1, 5))
	s.expectMoves(time.Second, moved)
	in := reassignInput()
	in.Confirmed, in.ConfirmAbove = false, 5
	s.env.ExecuteWorkflow(Reassignment, in)
	s.Equal(5, s.report().Done)
}

func (s *reassignSuite) TestPauseAndResume() {
	s.expectPlan(12)
	s.expectPages(0, ids(1, 12))
	s.expectMoves(time.Second, moved)
	var paused lifecycle.ReassignmentProgress
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdatePause, lifecycle.PauseRequest{Reason: "change freeze"}) }, 1500*time.Millisecond)
	s.env.RegisterDelayedCallback(func() {
		paused = s.progress()
		s.update(lifecycle.UpdatePause, lifecycle.PauseRequest{}, func(_ any, err error) { s.NoError(err, "pausing twice is harmless") })
	}, time.Hour)
	s.env.RegisterDelayedCallback(func() {
		s.mustAccept(lifecycle.UpdateResume, lifecycle.ResumeRequest{})
		s.update(lifecycle.UpdateResume, lifecycle.ResumeRequest{}, func(_ any, err error) { s.ErrorContains(err, "not paused") })
	}, 2*time.Hour)

	s.env.ExecuteWorkflow(Reassignment, reassignInput())

	r := s.report()
	s.Equal(12, r.Done)
	s.Equal(lifecycle.StageReassignPaused, paused.Stage)
	s.True(paused.Paused)
	s.Equal("change freeze", paused.PauseReason)
	s.Equal(6, paused.Done, "the 3 in flight at the pause finished")
	s.Zero(paused.InFlight)
	for i, at := range s.startAt {
		s.False(at.After(start.Add(2*time.Second)) && at.Before(start.Add(2*time.Hour)), "asset %d started during the pause", s.started[i])
	}
	s.Less(r.ActiveSeconds, 60.0, "the pause is not running time")
}

func (s *reassignSuite) TestCancelStopsCleanlyAndReturnsTheReportSoFar() {
	s.expectPlan(30)
	s.expectPages(0, ids(1, 30))
	s.expectMoves(time.Second, moved)
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "wrong target"}) }, 2500*time.Millisecond)
	s.env.ExecuteWorkflow(Reassignment, reassignInput())
	r := s.report()
	s.Equal(lifecycle.OutcomeCancelled, r.Outcome)
	s.Equal("wrong target", r.Reason)
	s.Equal(9, r.Done, "two rounds of 3, plus the 3 in flight at the cancel")
	s.Len(s.started, 9)
	s.Equal(21, r.NotProcessed)
	s.Equal(30, r.Total)
	s.update(lifecycle.UpdateCancel, lifecycle.CancelRequest{}, func(_ any, err error) { s.Error(err) })
}

func (s *reassignSuite) TestWorkflowCancellationAlsoReturnsTheReport() {
	s.expectPlan(30)
	s.expectPages(0, ids(1, 30))
	s.expectMoves(time.Second, moved)
	s.env.RegisterDelayedCallback(s.env.CancelWorkflow, 1500*time.Millisecond)
	s.env.ExecuteWorkflow(Reassignment, reassignInput())
	r := s.report()
	s.Equal(lifecycle.OutcomeCancelled, r.Outcome)
	s.Equal(6, r.Done, "the assets in flight finished")
}

func (s *reassignSuite) TestPermanentFailuresAreRecordedAndTheBatchGoesOn() {
	s.expectPlan(6)
	s.expectPages(0, ids(1, 6))
	s.expectMoves(time.Second, func(id int64) (string, error) {
		switch id {
		case 2:
			return "", temporal.NewNonRetryableApplicationError("atomicwork assets.get: GET /api/v1/assets/2: HTTP 404 NOT_FOUND", activities.ErrNotFound, nil)
		case 4:
			return "", temporal.NewNonRetryableApplicationError("HTTP 403 FORBIDDEN", activities.ErrForbidden, nil)
		case 5:
			return activities.AssetAlready, nil
		case 6:
			return activities.AssetNotMatching, nil
		}
		return activities.AssetMoved, nil
	})
	s.env.ExecuteWorkflow(Reassignment, reassignInput())
	r := s.report()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Equal(2, r.Done)
	s.Equal(2, r.Failed)
	s.Equal(2, r.Skipped)
	s.Equal(1, r.AlreadyAtTarget)
	s.Equal(1, r.NoLongerMatching)
	s.Equal([]lifecycle.AssetFailure{
		{AssetID: 2, Type: activities.ErrNotFound, Reason: "atomicwork assets.get: GET /api/v1/assets/2: HTTP 404 NOT_FOUND"},
		{AssetID: 4, Type: activities.ErrForbidden, Reason: "HTTP 403 FORBIDDEN"},
	}, r.Failures)
	s.ElementsMatch([]lifecycle.FailureCount{{Type: activities.ErrNotFound, Count: 1}, {Type: activities.ErrForbidden, Count: 1}}, r.FailureTypes)
	s.Less(s.env.Now().Sub(start), time.Minute, "permanent errors are not retried")
}

func (s *reassignSuite) TestRateLimitHonoursRetryAfter() {
	s.expectPlan(1)
	s.expectPages(0, []int64{1})
	var attempts []time.Time
	s.env.OnActivity(acts.ReassignAsset, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { attempts = append(attempts, s.env.Now()) }).
		Return(activities.ReassignAssetResult{}, temporal.NewApplicationErrorWithOptions("HTTP 429", activities.ErrRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: 7 * time.Second})).Once()
	s.env.OnActivity(acts.ReassignAsset, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { attempts = append(attempts, s.env.Now()) }).
		Return(activities.ReassignAssetResult{AssetID: 1, Outcome: activities.AssetMoved}, nil).Once()
	s.env.ExecuteWorkflow(Reassignment, reassignInput())
	s.Equal(1, s.report().Done)
	s.Require().Len(attempts, 2)
	s.GreaterOrEqual(attempts[1].Sub(attempts[0]), 7*time.Second)
}

func (s *reassignSuite) TestARejectedKeyPausesTheBatchUntilResumed() {
	s.expectPlan(4)
	s.expectPages(0, ids(1, 4))
	calls := map[int64]int{}
	s.expectMoves(time.Second, func(id int64) (string, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		calls[id]++
		if id == 2 && calls[id] == 1 {
			return "", temporal.NewNonRetryableApplicationError("HTTP 401 UNAUTHORIZED", activities.ErrUnauthorized, nil)
		}
		return activities.AssetMoved, nil
	})
	var paused lifecycle.ReassignmentProgress
	s.env.RegisterDelayedCallback(func() { paused = s.progress() }, time.Hour)
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdateResume, lifecycle.ResumeRequest{}) }, 2*time.Hour)
	s.env.ExecuteWorkflow(Reassignment, reassignInput())
	r := s.report()
	s.Equal(4, r.Done, "asset 2 was started again after the resume")
	s.Zero(r.Failed)
	s.Equal(2, calls[2])
	s.True(paused.Paused)
	s.Contains(paused.PauseReason, activities.ErrUnauthorized)
}

func (s *reassignSuite) TestMaxAssetsStopsTheBatch() {
	s.expectPlan(50)
	s.expectPages(0, ids(1, 50))
	s.expectMoves(time.Second, moved)
	in := reassignInput()
	in.MaxAssets = 10
	s.env.ExecuteWorkflow(Reassignment, in)
	r := s.report()
	s.Equal(10, r.Done)
	s.Equal(10, r.Total)
	s.Equal(ids(1, 10), sortedCopy(s.started))
}

// TestContinueAsNewCarriesState: when the server suggests it, the run drains its assets in flight
// and continues as new with the cursor, counters, failures, confirmation and pause, not the list.
func (s *reassignSuite) TestContinueAsNewCarriesState() {
	s.expectPlan(500)
	s.expectPages(0, ids(1, 100))
	s.expectMoves(time.Second, func(id int64) (string, error) {
		if id == 2 {
			return "", temporal.NewNonRetryableApplicationError("gone", activities.ErrNotFound, nil)
		}
		return activities.AssetMoved, nil
	})
	in := reassignInput()
	in.Confirmed = false
	in.ConfirmAbove = 400
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdateConfirm, lifecycle.ConfirmRequest{}) }, time.Minute)
	s.env.RegisterDelayedCallback(func() {
		s.env.SetContinueAsNewSuggested(true)
		s.mustAccept(lifecycle.UpdatePause, lifecycle.PauseRequest{Reason: "lunch"})
	}, time.Minute+1500*time.Millisecond)

	s.env.ExecuteWorkflow(Reassignment, in)

	s.Require().True(s.env.IsWorkflowCompleted())
	err := s.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(err, &can), "want continue-as-new, got %v", err)
	s.Equal(lifecycle.ReassignmentWorkflowName, can.WorkflowType.Name)
	var next lifecycle.ReassignmentInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	st := next.Continued
	s.Require().NotNil(st)
	s.Equal(6, len(s.started), "two rounds of 3: the suggestion stopped new starts, the 3 in flight were drained")
	s.Equal(int64(6), st.After)
	s.Equal(5, st.Done)
	s.Equal(1, st.Failed)
	s.Equal([]lifecycle.AssetFailure{{AssetID: 2, Type: activities.ErrNotFound, Reason: "gone"}}, st.Failures)
	s.True(st.Confirmed)
	s.True(st.Paused)
	s.Equal("lunch", st.PauseReason)
	s.Equal(500, st.Total)
	s.Equal(1, st.Runs)
	s.Equal(boID, st.Resolved.AssigneeID)
	s.Require().Len(st.History, 1)
	s.Equal(lifecycle.ReassignmentRunLog{Run: 1, Assets: 6, After: 6}, st.History[0], "events: the test environment counts none")
	s.Empty(st.Requeue)
	s.Equal(start, st.StartedAt)
	next.Continued = nil
	s.Equal(in.Normalized(), next, "the input itself is carried unchanged")
}

// TestContinuedRunResumesFromTheCursor: a run started with carried state does not plan again,
// starts after the cursor and adds to the counters.
func (s *reassignSuite) TestContinuedRunResumesFromTheCursor() {
	in := reassignInput()
	in.Continued = &lifecycle.ReassignmentState{
		Resolved: lifecycle.ResolvedReassignment{AssigneeID: boID}, Plan: lifecycle.ReassignmentPlan{Matched: 9}, Total: 9,
		Confirmed: true, After: 6, Page: 1, Done: 5, Failed: 1, Runs: 1, StartedAt: start.Add(-time.Hour),
		Failures: []lifecycle.AssetFailure{{AssetID: 2, Type: activities.ErrNotFound, Reason: "gone"}}, ActiveTime: 6 * time.Second,
		FailureTypes: []lifecycle.FailureCount{{Type: activities.ErrNotFound, Count: 1}},
		History:      []lifecycle.ReassignmentRunLog{{Run: 1, Assets: 6, Events: 40, After: 6}},
	}
	s.expectPages(6, ids(7, 9))
	s.expectMoves(time.Second, moved)
	s.env.ExecuteWorkflow(Reassignment, in)
	r := s.report()
	s.Equal(8, r.Done)
	s.Equal(1, r.Failed)
	s.Equal(9, r.Total)
	s.Equal(2, r.Runs)
	s.Len(r.RunLog, 1)
	s.Equal(ids(7, 9), sortedCopy(s.started))
	s.Equal(start.Add(-time.Hour), r.StartedAt)
}

func (s *reassignSuite) TestContinuedRunStaysPaused() {
	in := reassignInput()
	in.Continued = &lifecycle.ReassignmentState{Resolved: lifecycle.ResolvedReassignment{AssigneeID: boID}, Total: 9, Confirmed: true,
		After: 6, Page: 1, Done: 6, Runs: 1, Paused: true, PauseReason: "lunch", StartedAt: start}
	s.expectPages(6, ids(7, 9))
	s.expectMoves(time.Second, moved)
	var p lifecycle.ReassignmentProgress
	s.env.RegisterDelayedCallback(func() { p = s.progress() }, time.Hour)
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdateResume, lifecycle.ResumeRequest{}) }, 2*time.Hour)
	s.env.ExecuteWorkflow(Reassignment, in)
	s.Equal(9, s.report().Done)
	s.Equal(lifecycle.StageReassignPaused, p.Stage)
	s.False(s.startAt[0].Before(start.Add(2 * time.Hour)))
}

func (s *reassignSuite) TestAssetsPerRunContinuesAsNew() {
	s.expectPlan(100)
	s.expectPages(0, ids(1, 100))
	s.expectMoves(time.Second, moved)
	in := reassignInput()
	in.AssetsPerRun = 10
	s.env.ExecuteWorkflow(Reassignment, in)
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can))
	s.Len(s.started, 10)
}

func (s *reassignSuite) TestExplicitAssetIDs() {
	s.env.OnActivity(acts.ResolveReassignment, mock.Anything, activities.ResolveReassignmentRequest{TargetEmail: "ana.diaz@example.com"}).
		Return(lifecycle.ResolvedReassignment{TargetUserID: 5}, nil).Once()
	s.env.OnActivity(acts.PlanReassignment, mock.Anything, mock.MatchedBy(func(r activities.PlanReassignmentRequest) bool {
		return len(r.AssetIDs) == 3 && r.Filter.Status == "IN_USE"
	})).Return(lifecycle.ReassignmentPlan{Matched: 3}, nil).Once()
	var reqs []activities.ReassignAssetRequest
	s.env.OnActivity(acts.ReassignAsset, mock.Anything, mock.Anything).
		Return(func(_ context.Context, req activities.ReassignAssetRequest) (activities.ReassignAssetResult, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			reqs = append(reqs, req)
			return activities.ReassignAssetResult{AssetID: req.AssetID, Outcome: activities.AssetMoved}, nil
		}).Times(3)
	in := lifecycle.ReassignmentInput{BatchID: "ids", Selector: lifecycle.AssetSelector{AssetIDs: []int64{30, 10, 20, 10}, Status: "in use"},
		Target: lifecycle.AssetTarget{AssigneeEmail: "ana.diaz@example.com"}, SetStatus: "In Use"}
	s.env.ExecuteWorkflow(Reassignment, in)
	s.Equal(3, s.report().Done)
	s.Require().Len(reqs, 3)
	for _, r := range reqs {
		s.Equal(int64(5), r.TargetUserID)
		s.Equal("IN_USE", r.Status)
		s.Equal("IN_USE", r.Filter.Status)
		s.Equal(start, r.Since)
	}
}

func (s *reassignSuite) TestInvalidInputFailsBeforeAnyActivity() {
	in := reassignInput()
	in.BatchID, in.Target = "bo.li@example.com", lifecycle.AssetTarget{}
	s.env.ExecuteWorkflow(Reassignment, in)
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(err, &appErr))
	s.Equal(activities.ErrInvalidInput, appErr.Type())
	s.Contains(err.Error(), "batch id")
	s.Contains(err.Error(), "target is missing")
}

func sortedCopy(in []int64) []int64 {
	out := append([]int64(nil), in...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestReassignmentInputValidate(t *testing.T) {
	require.NoError(t, reassignInput().Normalized().Validate())
	for name, c := range map[string]struct {
		mut  func(*lifecycle.ReassignmentInput)
		want string
	}{
		"empty selector": {func(in *lifecycle.ReassignmentInput) { in.Selector = lifecycle.AssetSelector{} }, "selector is empty"},
		"bad assignee":   {func(in *lifecycle.ReassignmentInput) { in.Selector.AssigneeEmail = "bo" }, "current assignee is not an email"},
		"no target":      {func(in *lifecycle.ReassignmentInput) { in.Target = lifecycle.AssetTarget{} }, "target is missing"},
		"both targets":   {func(in *lifecycle.ReassignmentInput) { in.Target.AssigneeEmail = "ana@example.com" }, "either a user or stock"},
		"same user": {func(in *lifecycle.ReassignmentInput) {
			in.Target = lifecycle.AssetTarget{AssigneeEmail: "Bo.Li@example.com"}
		}, "nothing to move"},
		"stock with a status": {func(in *lifecycle.ReassignmentInput) { in.SetStatus = "retired" }, "AVAILABLE, not RETIRED"},
		"batch id with email": {func(in *lifecycle.ReassignmentInput) { in.BatchID = "bo@example.com" }, "batch id"},
		"concurrency":         {func(in *lifecycle.ReassignmentInput) { in.Concurrency = 5000 }, "concurrency 5000"},
		"too many ids":        {func(in *lifecycle.ReassignmentInput) { in.Selector.AssetIDs = ids(1, lifecycle.MaxExplicitAssetIDs+1) }, "more than 1000"},
		"negative id":         {func(in *lifecycle.ReassignmentInput) { in.Selector.AssetIDs = []int64{-1} }, "positive"},
		"negative max":        {func(in *lifecycle.ReassignmentInput) { in.MaxAssets = -1 }, "max assets"},
	} {
		t.Run(name, func(t *testing.T) {
			in := reassignInput()
			c.mut(&in)
			assert.ErrorContains(t, in.Normalized().Validate(), c.want)
		})
	}
}

func TestDeriveBatchID(t *testing.T) {
	a := reassignInput()
	a.BatchID = ""
	b := a
	b.Selector.AssigneeEmail = " BO.LI@example.com "
	b.Concurrency = 50 // does not change what moves
	assert.Equal(t, lifecycle.DeriveBatchID(a), lifecycle.DeriveBatchID(b), "the same request gets the same batch")
	c := a
	c.Target = lifecycle.AssetTarget{AssigneeEmail: "ana@example.com"}
	assert.NotEqual(t, lifecycle.DeriveBatchID(a), lifecycle.DeriveBatchID(c))
	d := a
	d.DryRun = true
	assert.NotEqual(t, lifecycle.DeriveBatchID(a), lifecycle.DeriveBatchID(d), "a dry run is its own batch")
	assert.True(t, strings.HasPrefix(lifecycle.DeriveBatchID(d), "dry"))
	a.BatchID = lifecycle.DeriveBatchID(a)
	require.NoError(t, a.Normalized().Validate())
	assert.NotContains(t, lifecycle.ReassignmentID(a.BatchID), "@")
	assert.NotContains(t, lifecycle.ReassignmentID(a.BatchID), "bo")
}

// expectListing answers NextAssetPage over assets 1..n assigned to bo: the ids above After, up to
// Max (or a page). It returns the requests, in order.
func (s *reassignSuite) expectListing(n int64) *[]activities.AssetPageRequest {
	s.matching = n
	var reqs []activities.AssetPageRequest
	s.env.OnActivity(acts.NextAssetPage, mock.Anything, mock.Anything).
		Return(func(_ context.Context, req activities.AssetPageRequest) (activities.AssetPage, error) {
			s.mu.Lock()
			reqs = append(reqs, req)
			s.mu.Unlock()
			return s.listing(req), nil
		})
	return &reqs
}

// listing is the answer of a listing over assets 1..s.matching.
func (s *reassignSuite) listing(req activities.AssetPageRequest) activities.AssetPage {
	out := activities.AssetPage{Page: 1}
	for id := req.After + 1; id <= s.matching && len(out.AssetIDs) < max(req.Max, req.PageSize); id++ {
		out.AssetIDs = append(out.AssetIDs, id)
	}
	out.Done = len(out.AssetIDs) == 0 || out.AssetIDs[len(out.AssetIDs)-1] == s.matching
	return out
}

// expectRanges answers ReassignRange with outcome for each asset, and the listing it asks for
// (see expectListing); a range takes d. It returns the requests, in order.
func (s *reassignSuite) expectRanges(d time.Duration, outcome func(id int64) activities.AssetResult) *[]activities.ReassignRangeRequest {
	var reqs []activities.ReassignRangeRequest
	s.env.OnActivity(acts.ReassignRange, mock.Anything, mock.Anything).After(d).
		Return(func(_ context.Context, req activities.ReassignRangeRequest) (activities.ReassignRangeResult, error) {
			s.mu.Lock()
			reqs = append(reqs, req)
			s.mu.Unlock()
			var res activities.ReassignRangeResult
			for _, id := range req.AssetIDs {
				res.Assets = append(res.Assets, outcome(id))
			}
			if req.Next != nil {
				next := s.listing(*req.Next)
				res.Next = &next
			}
			return res, nil
		})
	return &reqs
}

func movedAsset(id int64) activities.AssetResult {
	return activities.AssetResult{AssetID: id, Outcome: activities.AssetMoved}
}

func (s *reassignSuite) TestRangesMoveEveryAssetOnceAndCountAsPerAsset() {
	s.expectPlan(2500)
	pages := s.expectListing(2500)
	reqs := s.expectRanges(time.Second, func(id int64) activities.AssetResult {
		switch id {
		case 7:
			return activities.AssetResult{AssetID: id, ErrorType: activities.ErrNotFound, Error: "HTTP 404"}
		case 12:
			return activities.AssetResult{AssetID: id, Outcome: activities.AssetAlready}
		case 13:
			return activities.AssetResult{AssetID: id, Outcome: activities.AssetNotMatching}
		}
		return movedAsset(id)
	})
	var mid lifecycle.ReassignmentProgress
	s.env.RegisterDelayedCallback(func() { mid = s.progress() }, 1500*time.Millisecond)
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), reassignInput())
	r := s.report()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Equal(2497, r.Done)
	s.Equal(1, r.AlreadyAtTarget)
	s.Equal(1, r.NoLongerMatching)
	s.Equal(1, r.Failed)
	s.Equal([]lifecycle.AssetFailure{{AssetID: 7, Type: activities.ErrNotFound, Reason: "HTTP 404"}}, r.Failures)
	s.Equal(2500, r.Total)
	s.Zero(r.NotProcessed)
	s.Equal(1, r.Runs)

	s.Require().Len(*reqs, 3, "ranges of ReassignRangeSize")
	var all []int64
	for _, req := range *reqs {
		s.LessOrEqual(len(req.AssetIDs), ReassignRangeSize)
		s.False(req.Again)
		s.Equal(3, req.Concurrency, "the batch's concurrency")
		s.Equal(ReassignRangeBudget, req.Budget)
		s.Equal(activities.AssetFilter{AssigneeID: boID}, req.Filter)
		s.Equal("AVAILABLE", req.Status)
		s.Equal(start, req.Since)
		all = append(all, req.AssetIDs...)
	}
	s.Equal(ids(1, 2500), all, "every asset once, in order")
	s.Require().Len(*pages, 1, "only the first range's ids from a page listing")
	s.Equal(ReassignRangeSize+ReassignRangeTail, (*pages)[0].Max, "a range's worth of ids per listing, and a tail")
	// The ids listed and not started yet stay in the selection: the next page skips them.
	for i, want := range []struct {
		after int64
		page  int
	}{{1100, 2}, {2200, 3}} {
		next := (*reqs)[i].Next
		s.Require().NotNil(next, "range %d lists the next one's ids", i+1)
		s.Equal(activities.AssetPageRequest{Filter: activities.AssetFilter{AssigneeID: boID}, After: want.after, Page: want.page,
			PageSize: ReassignPageSize, Max: ReassignRangeSize + ReassignRangeTail}, *next)
	}
	s.Nil((*reqs)[2].Next, "nothing is left to list")
	s.Equal(1000, mid.Total-mid.Remaining, "the first range is counted when it ends")
	s.Equal(1000, mid.InFlight, "the second range")
}

// TestTheLastRangeTakesASmallTail: the last few assets go with the range before them, not in a
// range of their own; with MaxAssets the ranges stop at the cap.
func (s *reassignSuite) TestTheLastRangeTakesASmallTail() {
	s.expectPlan(2050)
	s.expectListing(2050)
	reqs := s.expectRanges(0, movedAsset)
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), reassignInput())
	s.Equal(2050, s.report().Done)
	s.Require().Len(*reqs, 2)
	s.Equal(ids(1, 1000), (*reqs)[0].AssetIDs)
	s.Equal(ids(1001, 2050), (*reqs)[1].AssetIDs, "a range and its tail of %d", 50)
}

func (s *reassignSuite) TestNoTailPastMaxAssets() {
	s.expectPlan(2050)
	s.expectListing(2050)
	reqs := s.expectRanges(0, movedAsset)
	in := reassignInput()
	in.MaxAssets = 2040
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), in)
	s.Equal(2040, s.report().Done)
	s.Require().Len(*reqs, 3)
	s.Equal(ids(1001, 2000), (*reqs)[1].AssetIDs)
	s.Equal(ids(2001, 2040), (*reqs)[2].AssetIDs, "up to the cap")
}

func (s *reassignSuite) TestARangesPendingAssetsGoFirstInTheNext() {
	s.expectPlan(10)
	s.expectListing(10)
	var reqs []activities.ReassignRangeRequest
	s.env.OnActivity(acts.ReassignRange, mock.Anything, mock.Anything).
		Return(func(_ context.Context, req activities.ReassignRangeRequest) (activities.ReassignRangeResult, error) {
			reqs = append(reqs, req)
			var res activities.ReassignRangeResult
			for _, id := range req.AssetIDs {
				if len(reqs) == 1 && id > 4 { // the budget ran out before these started
					res.Pending = append(res.Pending, id)
				} else {
					res.Assets = append(res.Assets, movedAsset(id))
				}
			}
			return res, nil
		})
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), reassignInput())
	r := s.report()
	s.Equal(10, r.Done)
	s.Require().Len(reqs, 2)
	s.Equal(ids(1, 10), reqs[0].AssetIDs)
	s.Equal(ids(5, 10), reqs[1].AssetIDs)
	s.True(reqs[1].Again, "they may have been written: an answer lost counts as moved")
}

func (s *reassignSuite) TestARangeRetriesAfterRetryAfter() {
	s.expectPlan(8)
	s.expectListing(8)
	var attempts []time.Time
	s.env.OnActivity(acts.ReassignRange, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { attempts = append(attempts, s.env.Now()) }).
		Return(activities.ReassignRangeResult{}, temporal.NewApplicationErrorWithOptions("2 asset(s) of the range still to do: HTTP 429",
			activities.ErrRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: 7 * time.Second})).Once()
	reqs := s.expectRanges(0, movedAsset)
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), reassignInput())
	s.Equal(8, s.report().Done)
	s.Require().Len(attempts, 1)
	s.Require().Len(*reqs, 1)
	s.GreaterOrEqual(s.env.Now().Sub(attempts[0]), 7*time.Second, "the retry waits for Retry-After")
}

// TestARejectedKeyStopsARangeAndPausesWithItsAssetsQueued: the range's error carries what it
// did; the batch counts that, queues the rest, pauses, and on resume starts with them.
func (s *reassignSuite) TestARejectedKeyStopsARangeAndPausesWithItsAssetsQueued() {
	s.expectPlan(6)
	s.expectListing(6)
	s.env.OnActivity(acts.ReassignRange, mock.Anything, mock.Anything).
		Return(func(_ context.Context, req activities.ReassignRangeRequest) (activities.ReassignRangeResult, error) {
			done := activities.ReassignRangeResult{Assets: []activities.AssetResult{movedAsset(1), movedAsset(2), movedAsset(3)}, Pending: ids(4, 6)}
			return activities.ReassignRangeResult{}, temporal.NewApplicationErrorWithOptions("HTTP 401: bad key (3 asset(s) of the range left)",
				activities.ErrUnauthorized, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{done}})
		}).Once()
	reqs := s.expectRanges(0, movedAsset)
	var paused lifecycle.ReassignmentProgress
	s.env.RegisterDelayedCallback(func() {
		paused = s.progress()
		s.mustAccept(lifecycle.UpdateResume, lifecycle.ResumeRequest{})
	}, time.Minute)
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), reassignInput())
	r := s.report()
	s.Equal(6, r.Done)
	s.Zero(r.Failed)
	s.True(paused.Paused)
	s.Contains(paused.PauseReason, activities.ErrUnauthorized)
	s.Equal(3, paused.Done, "what the range did before the 401 is counted")
	s.Zero(paused.Failed, "not a failure of the assets")
	s.Require().Len(*reqs, 1, "one range after the resume")
	s.Equal(ids(4, 6), (*reqs)[0].AssetIDs)
	s.True((*reqs)[0].Again)
}

// TestARangeWithoutProgressQueuesAllItsAssets: a failure that says nothing of what the range did
// (no details) queues every asset of it again, to be redone as possibly written.
func (s *reassignSuite) TestARangeWithoutProgressQueuesAllItsAssets() {
	s.expectPlan(5)
	s.expectListing(5)
	s.env.OnActivity(acts.ReassignRange, mock.Anything, mock.Anything).
		Return(activities.ReassignRangeResult{}, temporal.NewNonRetryableApplicationError("worker gone", activities.ErrUnavailable, nil)).Once()
	reqs := s.expectRanges(0, movedAsset)
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdateResume, lifecycle.ResumeRequest{}) }, time.Minute)
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), reassignInput())
	s.Equal(5, s.report().Done)
	s.Require().Len(*reqs, 1)
	s.Equal(ids(1, 5), (*reqs)[0].AssetIDs)
	s.True((*reqs)[0].Again)
}

// TestAFailedRangeLeavesTheNextListingToAPageActivity: a range that fails lists nothing, so a
// page activity lists the next ids, while the range's assets are redone.
func (s *reassignSuite) TestAFailedRangeLeavesTheNextListingToAPageActivity() {
	s.expectPlan(1500)
	pages := s.expectListing(1500)
	s.env.OnActivity(acts.ReassignRange, mock.Anything, mock.Anything).
		Return(activities.ReassignRangeResult{}, temporal.NewNonRetryableApplicationError("worker gone", activities.ErrUnavailable, nil)).Once()
	reqs := s.expectRanges(0, movedAsset)
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdateResume, lifecycle.ResumeRequest{}) }, time.Minute)
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), reassignInput())
	r := s.report()
	s.Equal(1500, r.Done)
	s.Zero(r.Failed)
	s.Require().Len(*pages, 2, "the first listing, then the one the failed range did not do")
	s.Equal(int64(1100), (*pages)[1].After, "after the ids listed with the first")
	s.Require().Len(*reqs, 2)
	s.Equal(ids(1, 1000), (*reqs)[0].AssetIDs, "the failed range's assets, again")
	s.True((*reqs)[0].Again)
	s.Equal(ids(1001, 1500), (*reqs)[1].AssetIDs)
}

func (s *reassignSuite) TestPauseLetsTheRangeInFlightEndAndStartsNoOther() {
	s.expectPlan(2500)
	s.expectListing(2500)
	reqs := s.expectRanges(time.Second, movedAsset)
	var p lifecycle.ReassignmentProgress
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdatePause, lifecycle.PauseRequest{}) }, 500*time.Millisecond)
	s.env.RegisterDelayedCallback(func() { p = s.progress() }, time.Hour)
	s.env.RegisterDelayedCallback(func() { s.mustAccept(lifecycle.UpdateResume, lifecycle.ResumeRequest{}) }, 2*time.Hour)
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), reassignInput())
	s.Equal(2500, s.report().Done)
	s.Equal(lifecycle.StageReassignPaused, p.Stage)
	s.Equal(1000, p.Done, "the range in flight ended and was counted")
	s.Zero(p.InFlight)
	s.Len(*reqs, 3)
}

func (s *reassignSuite) TestRangesOfExplicitAssetIDs() {
	s.env.OnActivity(acts.ResolveReassignment, mock.Anything, mock.Anything).Return(lifecycle.ResolvedReassignment{}, nil).Once()
	s.env.OnActivity(acts.PlanReassignment, mock.Anything, mock.Anything).Return(lifecycle.ReassignmentPlan{Matched: 3}, nil).Once()
	reqs := s.expectRanges(0, movedAsset)
	in := lifecycle.ReassignmentInput{BatchID: "ids", Selector: lifecycle.AssetSelector{AssetIDs: []int64{30, 10, 20}}, Target: lifecycle.AssetTarget{Stock: true}}
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), in)
	s.Equal(3, s.report().Done)
	s.Require().Len(*reqs, 1, "explicit ids are not listed")
	s.Equal([]int64{10, 20, 30}, (*reqs)[0].AssetIDs)
	s.False((*reqs)[0].Again)
}

func (s *reassignSuite) TestRangesContinueAsNewWithTheCursor() {
	s.expectPlan(2500)
	s.expectListing(2500)
	reqs := s.expectRanges(0, movedAsset)
	in := reassignInput()
	in.AssetsPerRun = 1500
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), in)
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can))
	var next lifecycle.ReassignmentInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Require().Len(*reqs, 2)
	s.Len((*reqs)[1].AssetIDs, 500, "the run's share")
	s.Equal(int64(1500), next.Continued.After)
	s.Equal(1500, next.Continued.Done)
	s.Empty(next.Continued.Requeue)
}

// TestAListingThatEndsEarlyIsFinishedByTheVerification: the listing ended after 100 of 302
// assets (an empty page before the last); the verification finds the other 202, a round moves
// them, and the next verification finds nothing: completed, every asset once.
func (s *reassignSuite) TestAListingThatEndsEarlyIsFinishedByTheVerification() {
	s.expectPlan(302)
	s.expectPages(0, ids(1, 100))
	s.expectMoves(time.Second, func(id int64) (string, error) {
		if id == 150 {
			return "", temporal.NewNonRetryableApplicationError("HTTP 403", activities.ErrForbidden, nil)
		}
		return activities.AssetMoved, nil
	})
	s.verifyAnswers = []activities.VerifyReassignmentResult{stillToDo(ids(101, 302))}
	in := reassignInput()
	in.Concurrency = 20
	s.env.ExecuteWorkflow(Reassignment, in)
	r := s.report()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Equal(301, r.Done)
	s.Equal(1, r.Failed)
	s.Equal(302, r.Total)
	s.Zero(r.NotProcessed)
	s.Zero(r.Unfinished)
	s.Equal(2, r.Verifications)
	s.Equal(ids(1, 302), sortedCopy(s.started), "every asset once")
	s.Require().Len(s.verifyReqs, 2)
	for _, req := range s.verifyReqs {
		s.Equal(activities.AssetFilter{AssigneeID: boID}, req.Filter)
		s.Equal("AVAILABLE", req.Status)
		s.Equal(ReassignVerifyBatch, req.Max)
	}
	s.Empty(s.verifyReqs[0].Exclude)
	s.Equal([]int64{150}, s.verifyReqs[1].Exclude, "a failed asset is not retried")
	s.Require().NotEmpty(r.Notes)
	s.Contains(r.Notes[0], "found 202 assets")
}

// TestAVerificationThatDoesNotConvergeEndsIncomplete: the same assets stay to do whatever the
// rounds do (the list disagrees with the asset reads): the batch ends incomplete, with the count.
func (s *reassignSuite) TestAVerificationThatDoesNotConvergeEndsIncomplete() {
	s.expectPlan(10)
	s.expectPages(0, ids(1, 10))
	s.expectMoves(time.Second, func(id int64) (string, error) {
		if id > 7 {
			return activities.AssetNotMatching, nil
		}
		return activities.AssetMoved, nil
	})
	for range MaxVerifyRounds {
		s.verifyAnswers = append(s.verifyAnswers, stillToDo(ids(8, 10)))
	}
	s.env.ExecuteWorkflow(Reassignment, reassignInput())
	r := s.report()
	s.Equal(lifecycle.OutcomeIncomplete, r.Outcome)
	s.Equal(3, r.Unfinished)
	s.GreaterOrEqual(r.NotProcessed, 3)
	s.Equal(7, r.Done)
	s.Equal(1+VerifyStallRounds, r.Verifications, "stopped after %d verifications without fewer", VerifyStallRounds)
	s.Require().NotEmpty(r.Notes)
	s.Contains(r.Notes[len(r.Notes)-1], "incomplete")
	p := s.progress()
	s.Equal(lifecycle.StageReassignIncomplete, p.Stage)
	s.Equal(3, p.Unfinished)
}

// TestAnUnorderedListGoesOnInRoundsWithoutPausing: the list cannot be had in id order
// (ErrAssetOrder): the batch does not pause for an operator; it moves what the verification
// finds, round after round, with a note.
func (s *reassignSuite) TestAnUnorderedListGoesOnInRoundsWithoutPausing() {
	s.expectPlan(2500)
	s.env.OnActivity(acts.NextAssetPage, mock.Anything, mock.Anything).
		Return(activities.AssetPage{}, temporal.NewNonRetryableApplicationError("the assets list refuses sort=id:ASC", activities.ErrAssetOrder, nil)).Once()
	s.expectMoves(0, moved)
	s.verifyAnswers = []activities.VerifyReassignmentResult{
		{Remaining: 2500, AssetIDs: ids(1, 1000)}, {Remaining: 1500, AssetIDs: ids(1001, 2000)}, {Remaining: 500, AssetIDs: ids(2001, 2500)},
	}
	var paused bool
	s.env.RegisterDelayedCallback(func() { paused = s.progress().Paused }, time.Second)
	in := reassignInput()
	in.AssetsPerRun = 5000
	s.env.ExecuteWorkflow(Reassignment, in)
	r := s.report()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Equal(2500, r.Done)
	s.Equal(ids(1, 2500), sortedCopy(s.started))
	s.False(paused)
	s.Equal(4, r.Verifications)
	s.Require().NotEmpty(r.Notes)
	s.Contains(r.Notes[0], "cannot be had in id order")
	s.Contains(r.Notes[0], "refuses sort=id:ASC")
}

// TestRangesVerifyToo: in ranges the verification's assets go in ranges, never listed again.
func (s *reassignSuite) TestRangesVerifyToo() {
	s.expectPlan(1500)
	pages := s.expectListing(1000) // the listing sees only the first 1000
	reqs := s.expectRanges(0, movedAsset)
	s.verifyAnswers = []activities.VerifyReassignmentResult{stillToDo(ids(1001, 1500))}
	s.env.ExecuteWorkflow(NewReassignment(ReassignInRanges), reassignInput())
	r := s.report()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Equal(1500, r.Done)
	s.Len(*pages, 1)
	var all []int64
	for _, req := range *reqs {
		all = append(all, req.AssetIDs...)
		if req.AssetIDs[0] > 1000 {
			s.Nil(req.Next, "a round's ids are not listed")
			s.False(req.Again)
		}
	}
	s.Equal(ids(1, 1500), all)
}

// TestExplicitAssetIDsAreVerifiedEach: an --asset-ids batch verifies each of its ids.
func (s *reassignSuite) TestExplicitAssetIDsAreVerifiedEach() {
	s.env.OnActivity(acts.ResolveReassignment, mock.Anything, mock.Anything).Return(lifecycle.ResolvedReassignment{}, nil).Once()
	s.env.OnActivity(acts.PlanReassignment, mock.Anything, mock.Anything).Return(lifecycle.ReassignmentPlan{Matched: 3}, nil).Once()
	s.expectMoves(0, moved)
	s.verifyAnswers = []activities.VerifyReassignmentResult{stillToDo([]int64{20})}
	in := lifecycle.ReassignmentInput{BatchID: "ids", Selector: lifecycle.AssetSelector{AssetIDs: []int64{30, 10, 20}}, Target: lifecycle.AssetTarget{Stock: true}}
	s.env.ExecuteWorkflow(Reassignment, in)
	r := s.report()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Require().Len(s.started, 4)
	s.ElementsMatch([]int64{10, 20, 30}, s.started[:3])
	s.Equal(int64(20), s.started[3], "20 again after the first verification")
	s.Require().Len(s.verifyReqs, 2)
	s.Equal([]int64{10, 20, 30}, s.verifyReqs[0].AssetIDs)
}

// TestAVerificationThatFailsPausesUntilResumed: a batch that cannot verify does not complete:
// it pauses, and on resume verifies again.
func (s *reassignSuite) TestAVerificationThatFailsPausesUntilResumed() {
	s.expectPlan(3)
	s.expectPages(0, ids(1, 3))
	s.expectMoves(0, moved)
	s.verifyErr = temporal.NewNonRetryableApplicationError("HTTP 403", activities.ErrForbidden, nil)
	var p lifecycle.ReassignmentProgress
	s.env.RegisterDelayedCallback(func() {
		p = s.progress()
		s.mustAccept(lifecycle.UpdateResume, lifecycle.ResumeRequest{})
	}, time.Hour)
	s.env.ExecuteWorkflow(Reassignment, reassignInput())
	r := s.report()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Equal(lifecycle.StageReassignPaused, p.Stage)
	s.Contains(p.PauseReason, "verifying what the selector still holds failed: HTTP 403")
	s.Equal(1, r.Verifications, "the one that answered")
	s.Len(s.verifyReqs, 2)
}
