package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

type reconciliationSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestReconciliation(t *testing.T) { suite.Run(t, new(reconciliationSuite)) }

func (s *reconciliationSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(start)
	s.env.RegisterActivity(&activities.Activities{})
	s.env.RegisterWorkflowWithOptions(Reassignment, workflow.RegisterOptions{Name: lifecycle.ReassignmentWorkflowName})
}

func (s *reconciliationSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

var drift = activities.DriftScan{
	Assets:           []activities.LeaverAsset{{AssetID: 8001, UserID: 11}, {AssetID: 8002, UserID: 12}},
	Grants:           []activities.LeaverGrant{{GrantID: 3001, UserID: 11}, {GrantID: 3002, UserID: 12}},
	Handling:         []activities.LeaverGrant{{GrantID: 3003, UserID: 12, Revocation: "FAILED"}},
	StaleOnboardings: []activities.StaleRequest{{DisplayID: "ITSR-4", UserID: 13, StartDate: "2026-01-05", DaysLate: 325}},
}

func (s *reconciliationSuite) report() lifecycle.ReconciliationReport {
	return completedResult[lifecycle.ReconciliationReport](s.Require(), s.env)
}

func (s *reconciliationSuite) TestDryRunReportsAndChangesNothing() {
	s.env.OnActivity(acts.ScanDrift, mock.Anything, mock.MatchedBy(func(r activities.DriftScanRequest) bool {
		return r.Now.Equal(start) && r.StaleAfter == lifecycle.DefaultStaleOnboardingDays*24*time.Hour
	})).Return(drift, nil).Once()
	s.env.ExecuteWorkflow(Reconciliation, lifecycle.ReconciliationInput{DryRun: true})
	r := s.report()
	s.True(r.DryRun)
	s.Len(r.Drift, 6)
	s.Zero(r.Fixed)
	for _, d := range r.Drift {
		s.False(d.Fixed)
	}
}

func (s *reconciliationSuite) TestFixesThroughIdempotentPathsAndReports() {
	s.env.OnActivity(acts.ScanDrift, mock.Anything, mock.Anything).Return(drift, nil).Once()
	s.env.OnActivity(acts.RevokeGrant, mock.Anything, activities.RevokeRequest{GrantID: 3001, Reason: "reconciliation: the user has left"}).
		Return(activities.RevokeResult{GrantID: 3001}, nil).Once()
	// A grant deleted meanwhile: a permanent error is reported, and the run goes on.
	s.env.OnActivity(acts.RevokeGrant, mock.Anything, activities.RevokeRequest{GrantID: 3002, Reason: "reconciliation: the user has left"}).
		Return(activities.RevokeResult{}, temporal.NewNonRetryableApplicationError("HTTP 404", activities.ErrNotFound, nil)).Once()
	s.env.OnWorkflow(lifecycle.ReassignmentWorkflowName, mock.Anything, mock.MatchedBy(func(in lifecycle.ReassignmentInput) bool {
		return in.Target.Stock && in.Confirmed && len(in.Selector.AssetIDs) == 2 && in.BatchID != ""
	})).Return(lifecycle.ReassignmentReport{Outcome: lifecycle.OutcomeCompleted, Total: 2, Done: 1, Failed: 1,
		Failures: []lifecycle.AssetFailure{{AssetID: 8002, Reason: "asset deleted meanwhile"}}}, nil).Once()
	s.env.OnActivity(acts.AddNote, mock.Anything, mock.MatchedBy(func(r activities.NoteRequest) bool {
		return r.DisplayID == "ITSR-4" && len(r.Description) > 0
	})).Return(nil).Once()
	s.env.OnActivity(acts.UserID, mock.Anything, activities.UserIDRequest{Email: "it.manager@example.com"}).Return(int64(1001), nil).Once()
	s.env.OnActivity(acts.EnsureRequest, mock.Anything, mock.MatchedBy(func(r activities.RequestToOpen) bool { return r.RequesterID == 1001 })).
		Return(activities.RequestRef{DisplayID: "ITSR-5"}, nil).Once()
	s.env.OnActivity(acts.AddNote, mock.Anything, mock.MatchedBy(func(r activities.NoteRequest) bool { return r.DisplayID == "ITSR-5" })).Return(nil).Once()
	s.env.OnActivity(acts.ResolveRequest, mock.Anything, activities.RequestToResolve{DisplayID: "ITSR-5"}).Return(nil).Once()

	s.env.ExecuteWorkflow(Reconciliation, lifecycle.ReconciliationInput{ReportTo: "it.manager@example.com"})
	r := s.report()
	s.Equal(2, r.Fixed)  // grant 3001, asset 8001
	s.Equal(2, r.Failed) // grant 3002, asset 8002
	s.Equal("ITSR-5", r.RequestID)
	for _, d := range r.Drift {
		switch {
		case d.ID == 3001 || d.ID == 8001:
			s.True(d.Fixed, "%+v", d)
		case d.ID == 3002 || d.ID == 8002:
			s.False(d.Fixed)
			s.Contains(d.Detail, "not fixed")
		case d.ID == 3003:
			s.False(d.Fixed)
			s.Contains(d.Detail, "already being handled")
		}
	}
}

// Access given after the user's terminated_on (a rehire whose account still looks terminated)
// is reported, never revoked nor reclaimed: no RevokeGrant, no reassignment (either would run the
// unmocked activity or child and fail the test).
func (s *reconciliationSuite) TestAccessGivenAfterTerminatedOnIsReportedNotRevoked() {
	s.env.OnActivity(acts.ScanDrift, mock.Anything, mock.Anything).Return(activities.DriftScan{
		NewSinceLeft: []activities.NewAccess{{Kind: "grant", ID: 3009, UserID: 14}, {Kind: "asset", ID: 8009, UserID: 14}},
	}, nil).Once()
	s.env.ExecuteWorkflow(Reconciliation, lifecycle.ReconciliationInput{ReportTo: "it.manager@example.com"})
	r := s.report()
	s.Require().Len(r.Drift, 2)
	s.Zero(r.Fixed)
	s.Zero(r.Failed)
	s.Equal(lifecycle.Drift{Kind: lifecycle.DriftGrantOfLeaver, UserID: 14, ID: 3009, Detail: r.Drift[0].Detail}, r.Drift[0])
	s.Equal(lifecycle.Drift{Kind: lifecycle.DriftAssetOfLeaver, UserID: 14, ID: 8009, Detail: r.Drift[1].Detail}, r.Drift[1])
	for _, d := range r.Drift {
		s.Contains(d.Detail, "left alone")
	}
}

func (s *reconciliationSuite) TestNothingFoundDoesNothing() {
	s.env.OnActivity(acts.ScanDrift, mock.Anything, mock.Anything).Return(activities.DriftScan{}, nil).Once()
	s.env.ExecuteWorkflow(Reconciliation, lifecycle.ReconciliationInput{ReportTo: "it.manager@example.com"})
	r := s.report()
	s.Empty(r.Drift)
	s.Empty(r.RequestID)
}

func (s *reconciliationSuite) TestInvalidInput() {
	s.env.ExecuteWorkflow(Reconciliation, lifecycle.ReconciliationInput{StaleOnboardingDays: -1, ReportTo: "it"})
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	s.Contains(err.Error(), "stale onboarding days")
	s.Contains(err.Error(), "report_to")
}

func TestBatchIDFrom(t *testing.T) {
	for _, id := range []string{
		"reconciliation-fix-0",
		"nightly-reconciliation-2026-11-26T01:30:00Z-0",
		"reconciliation-" + strings.Repeat("x", 80) + "-2026-11-26T01:30:00Z-3",
		"-------------------------------------------------------------------------a:b",
	} {
		got := batchIDFrom(id)
		if !lifecycle.ValidBatchID(got) {
			t.Errorf("batchIDFrom(%q) = %q: not a valid batch id", id, got)
		}
	}
	if got := batchIDFrom("reconciliation-" + strings.Repeat("x", 80) + "-T01:30:00Z-3"); !strings.HasSuffix(got, "-T01-30-00Z-3") {
		t.Errorf("the end of the id, which tells batches apart, is lost: %q", got)
	}
}
