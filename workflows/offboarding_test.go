package workflows

import (
	"context"
	"errors"
	"slices"
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

// fakeLeaver is the Atomicwork state of one leaver, behind the mocked activities: revocations,
// reclaims and escalations change it the way the API would.
type fakeLeaver struct {
	env         *testsuite.TestWorkflowEnvironment
	grants      map[int64]string // grant id -> revocation: "" active, IN_PROGRESS, COMPLETED, FAILED
	names       map[int64]string
	assets      []activities.HeldAsset
	failGrant   int64 // its deprovisioning fails
	escalations map[string]bool
	notes       []string
	noteBodies  map[string]string // by marker step
	// refuseRevokes is how many RevokeGrant calls the key is refused for (403) before it works.
	refuseRevokes int
	// refuseRequests: the same for EnsureRequest (401).
	refuseRequests int
	// slowNotes delays the note of a step (its marker's last part).
	slowNotes map[string]time.Duration
	revokedAt []time.Time
	reclaimed []activities.ReclaimRequest
	deleted   bool
	restored  bool
	resolved  int
}

func newFakeLeaver(env *testsuite.TestWorkflowEnvironment) *fakeLeaver {
	return &fakeLeaver{
		env:         env,
		grants:      map[int64]string{301: "", 302: "", 303: ""},
		names:       map[int64]string{301: "okta-base", 302: "github-engineering", 303: "slack-member"},
		assets:      []activities.HeldAsset{{AssetID: 801, Label: "MBP-1", Type: "Laptop"}, {AssetID: 802, Label: "MON-1", Type: "Monitor"}},
		escalations: map[string]bool{},
		noteBodies:  map[string]string{},
	}
}

func (f *fakeLeaver) access() activities.Access {
	out := activities.Access{Grants: []activities.HeldGrant{}, Assets: slices.Clone(f.assets)}
	for _, id := range []int64{301, 302, 303} {
		if st, ok := f.grants[id]; ok && st != lifecycle.RevocationCompleted {
			out.Grants = append(out.Grants, activities.HeldGrant{GrantID: id, Entitlement: f.names[id], Revocation: st})
		}
	}
	return out
}

// mock wires every offboarding activity to the fake.
func (f *fakeLeaver) mock() {
	e := f.env
	e.OnActivity(acts.LookupLeaver, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.LeaverRequest) (activities.Leaver, error) {
		if r.Email != "leaver@example.com" {
			return activities.Leaver{}, temporal.NewNonRetryableApplicationError("no Atomicwork user has the leaver's email", activities.ErrUnknownUser, nil)
		}
		to := int64(0)
		if r.Disposition == lifecycle.AssetsManager {
			to = 77
		}
		return activities.Leaver{UserID: 501, RecipientID: to}, nil
	})
	e.OnActivity(acts.ListAccess, mock.Anything, activities.AccessRequest{UserID: 501}).Return(func(context.Context, activities.AccessRequest) (activities.Access, error) {
		return f.access(), nil
	})
	e.OnActivity(acts.EnsureRequest, mock.Anything, mock.MatchedBy(func(r activities.RequestToOpen) bool {
		return r.CatalogItem == "Employee Offboarding" && r.RequesterID == 501 && strings.HasSuffix(r.Marker, "/request")
	})).Return(func(context.Context, activities.RequestToOpen) (activities.RequestRef, error) {
		if f.refuseRequests > 0 {
			f.refuseRequests--
			return activities.RequestRef{}, temporal.NewNonRetryableApplicationError("atomicwork requests.create: HTTP 401 UNAUTHORIZED", activities.ErrUnauthorized, nil)
		}
		return activities.RequestRef{DisplayID: "ITSR-9", FromCatalog: true}, nil
	})
	addNote := func(_ context.Context, r activities.NoteRequest) error {
		step := r.Marker[strings.LastIndex(r.Marker, "/")+1:]
		f.notes = append(f.notes, step)
		f.noteBodies[step] = r.Description
		return nil
	}
	for step, d := range f.slowNotes {
		e.OnActivity(acts.AddNote, mock.Anything, mock.MatchedBy(func(r activities.NoteRequest) bool { return strings.HasSuffix(r.Marker, "/"+step) })).
			After(d).Return(addNote)
	}
	e.OnActivity(acts.AddNote, mock.Anything, mock.Anything).Return(addNote)
	e.OnActivity(acts.RevokeGrant, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.RevokeRequest) (activities.RevokeResult, error) {
		if f.refuseRevokes > 0 {
			f.refuseRevokes--
			return activities.RevokeResult{}, temporal.NewNonRetryableApplicationError("atomicwork grants.revoke: HTTP 403 FORBIDDEN", activities.ErrForbidden, nil)
		}
		f.revokedAt = append(f.revokedAt, e.Now())
		f.grants[r.GrantID] = lifecycle.RevocationInProgress
		return activities.RevokeResult{GrantID: r.GrantID, Status: lifecycle.GrantStatusGranted, Revocation: lifecycle.RevocationInProgress}, nil
	})
	e.OnActivity(acts.RevocationStates, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.RevocationStatesRequest) ([]activities.RevocationState, error) {
		var out []activities.RevocationState
		for _, id := range r.GrantIDs {
			st := activities.RevocationState{GrantID: id, Status: lifecycle.GrantStatusRevoked, Revocation: lifecycle.RevocationCompleted}
			if id == f.failGrant {
				st = activities.RevocationState{GrantID: id, Status: lifecycle.GrantStatusGranted, Revocation: lifecycle.RevocationFailed}
			}
			f.grants[id] = st.Revocation
			out = append(out, st)
		}
		return out, nil
	})
	e.OnActivity(acts.ReclaimAsset, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.ReclaimRequest) (activities.ReclaimResult, error) {
		f.reclaimed = append(f.reclaimed, r)
		f.assets = slices.DeleteFunc(f.assets, func(a activities.HeldAsset) bool { return a.AssetID == r.AssetID })
		return activities.ReclaimResult{AssetID: r.AssetID, Moved: true, ToUserID: r.ToUserID}, nil
	})
	e.OnActivity(acts.RecordTermination, mock.Anything, mock.Anything).Return(nil)
	e.OnActivity(acts.OpenEscalation, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.EscalationRequest) (activities.RequestRef, error) {
		f.escalations["ITINC-1"] = false
		return activities.RequestRef{DisplayID: "ITINC-1"}, nil
	})
	e.OnActivity(acts.RequestDone, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.RequestStatusRequest) (bool, error) {
		return f.escalations[r.DisplayID], nil
	})
	e.OnActivity(acts.ConfirmRevoked, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.ConfirmRevokedRequest) error {
		f.grants[r.GrantID] = lifecycle.RevocationCompleted
		return nil
	})
	e.OnActivity(acts.ResolveRequest, mock.Anything, activities.RequestToResolve{DisplayID: "ITSR-9"}).Return(func(context.Context, activities.RequestToResolve) error {
		f.resolved++
		return nil
	})
	e.OnActivity(acts.DeleteLeaver, mock.Anything, activities.UserRequest{UserID: 501}).Return(func(context.Context, activities.UserRequest) error {
		f.deleted = true
		return nil
	})
	e.OnActivity(acts.RestoreLeaver, mock.Anything, activities.UserRequest{UserID: 501}).Return(func(context.Context, activities.UserRequest) error {
		f.restored = true
		return nil
	})
}

type offboardingSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env  *testsuite.TestWorkflowEnvironment
	fake *fakeLeaver
}

func TestOffboarding(t *testing.T) { suite.Run(t, new(offboardingSuite)) }

// offStart is the test clock's start; 45 days later is 2026-02-24.
var offStart = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)

func (s *offboardingSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(offStart)
	s.env.RegisterActivity(&activities.Activities{})
	s.fake = newFakeLeaver(s.env)
	s.fake.mock()
}

func leaverInput(lastDay, tz string) lifecycle.OffboardingInput {
	noGrace := 0
	return lifecycle.OffboardingInput{EmployeeID: "E-7", Email: "leaver@example.com", LastDay: lastDay, TimeZone: tz, GraceDays: &noGrace}
}

func (s *offboardingSuite) result() lifecycle.OffboardingResult {
	return completedResult[lifecycle.OffboardingResult](s.Require(), s.env)
}

func (s *offboardingSuite) status() lifecycle.OffboardingStatus {
	return queried[lifecycle.OffboardingStatus](s.Require(), s.env, lifecycle.QueryStatus)
}

// update sends an update and fails the test on rejection.
func (s *offboardingSuite) update(name string, arg any) {
	s.env.UpdateWorkflow(name, name+"-"+s.env.Now().String(), &testsuite.TestUpdateCallback{
		OnReject: func(err error) { s.Fail(name + " rejected: " + err.Error()) }, OnAccept: func() {}, OnComplete: func(any, error) {},
	}, arg)
}

// rejected sends an update that must be rejected with a message containing want.
func (s *offboardingSuite) rejected(name string, arg any, want string) {
	s.env.UpdateWorkflow(name, name+"-rejected-"+s.env.Now().String(), &testsuite.TestUpdateCallback{
		OnReject: func(err error) { s.Contains(err.Error(), want) }, OnAccept: func() { s.Fail(name + " accepted") }, OnComplete: func(any, error) {},
	}, arg)
}

func (s *offboardingSuite) assertFullyOffboarded(r lifecycle.OffboardingResult) {
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.Equal("ITSR-9", r.RequestID)
	s.Empty(s.fake.access().Grants, "active grants remain")
	s.Empty(s.fake.access().Assets, "assets remain")
	s.Len(s.fake.revokedAt, 3)
	s.Len(s.fake.reclaimed, 2)
	s.Equal(1, s.fake.resolved)
	s.Contains(s.fake.notes, "plan")
	s.Contains(s.fake.notes, "summary")
	for _, g := range r.Grants {
		s.Equal(lifecycle.GrantStateRevoked, g.State, "grant %d", g.GrantID)
	}
	for _, a := range r.Assets {
		s.Equal(lifecycle.AssetStateReturned, a.State, "asset %d", a.AssetID)
	}
}

func (s *offboardingSuite) TestFortyFiveDayWaitFiresAtLocalEndOfDay() {
	for _, tc := range []struct {
		tz   string
		day  string
		want time.Time
	}{
		{"America/Los_Angeles", "2026-02-24", time.Date(2026, 2, 25, 2, 0, 0, 0, time.UTC)}, // 18:00 PST
		{"Asia/Kolkata", "2026-02-24", time.Date(2026, 2, 24, 12, 30, 0, 0, time.UTC)},      // 18:00 IST
		{"America/Los_Angeles", "2026-03-20", time.Date(2026, 3, 21, 1, 0, 0, 0, time.UTC)}, // 18:00 PDT: DST began 8 March
		{"Europe/Berlin", "2026-03-30", time.Date(2026, 3, 30, 16, 0, 0, 0, time.UTC)},      // 18:00 CEST: DST began 29 March
	} {
		s.Run(tc.tz+" "+tc.day, func() {
			s.SetupTest()
			var midway lifecycle.OffboardingStatus
			s.env.RegisterDelayedCallback(func() { midway = s.status() }, 24*time.Hour)
			s.env.ExecuteWorkflow(Offboarding, leaverInput(tc.day, tc.tz))
			r := s.result()
			s.assertFullyOffboarded(r)
			s.Require().NotEmpty(s.fake.revokedAt)
			s.True(s.fake.revokedAt[0].Equal(tc.want), "first revocation at %s, want %s", s.fake.revokedAt[0].UTC(), tc.want)
			s.Equal(lifecycle.StageOffScheduled, midway.Stage)
			s.True(midway.ScheduledAt.Equal(tc.want))
			s.Contains(midway.ScheduledLocal, "18:00")
			s.Len(midway.Grants, 3)
			s.Len(midway.Assets, 2)
			s.Equal("ITSR-9", midway.RequestID)
		})
	}
}

func (s *offboardingSuite) TestRescheduleEarlierLaterAndTwice() {
	want := time.Date(2026, 2, 3, 2, 0, 0, 0, time.UTC) // 2026-02-02 18:00 PST
	s.env.RegisterDelayedCallback(func() {
		s.rejected(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-30"}, "YYYY-MM-DD")
		s.rejected(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-01-02"}, "before today")
		s.update(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-01"}) // earlier
	}, time.Hour)
	s.env.RegisterDelayedCallback(func() {
		s.Equal("2026-02-01 18:00 PST", s.status().ScheduledLocal)
		s.update(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-03-01"}) // later
	}, 2*time.Hour)
	s.env.RegisterDelayedCallback(func() {
		s.update(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-02"}) // and again
		s.update(lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-02-02"}) // a repeated event changes nothing
	}, 3*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, leaverInput("2026-02-24", "America/Los_Angeles"))
	s.assertFullyOffboarded(s.result())
	s.True(s.fake.revokedAt[0].Equal(want), "revoked at %s, want %s", s.fake.revokedAt[0].UTC(), want)
	s.Equal(3, countPrefix(s.fake.notes, "reschedule-"), "one note per real change: %v", s.fake.notes)
}

func (s *offboardingSuite) TestCancelBeforeTheDateRevokesNothing() {
	s.env.RegisterDelayedCallback(func() { s.update(lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "resignation withdrawn"}) }, 48*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, leaverInput("2026-02-24", "Asia/Kolkata"))
	r := s.result()
	s.Equal(lifecycle.OutcomeCancelled, r.Outcome)
	s.Equal("resignation withdrawn", r.Reason)
	s.Empty(s.fake.revokedAt)
	s.Empty(s.fake.reclaimed)
	s.Equal(1, s.fake.resolved)
	s.Contains(s.fake.notes, "cancelled")
	s.Equal(lifecycle.StageOffCancelled, s.status().Stage)
	s.False(s.fake.deleted)
}

func (s *offboardingSuite) TestRevokeNow() {
	s.env.RegisterDelayedCallback(func() { s.update(lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{Reason: "security"}) }, 5*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, leaverInput("2026-02-24", "Europe/Paris"))
	s.assertFullyOffboarded(s.result())
	s.True(s.fake.revokedAt[0].Equal(offStart.Add(5*time.Hour)), "revoked at %s", s.fake.revokedAt[0])
	s.rejectedAfterCompletion()
}

// rejectedAfterCompletion: once revoking started, schedule changes are refused (checked via the validator).
func (s *offboardingSuite) rejectedAfterCompletion() {
	o := offboardingIn(lifecycle.StageOffRevoking)
	s.ErrorContains(o.validateBeforeRevoking(nil, lifecycle.RevokeNowRequest{}), "past its scheduled time")
}

// offboardingIn is an offboarding in a stage, for its validators.
func offboardingIn(stage string) *offboarding {
	o := &offboarding{status: lifecycle.OffboardingStatus{Stage: stage}}
	o.calls = &keyBlocking{stage: &o.status.Stage, blocked: &o.status.Blocked}
	return o
}

func (s *offboardingSuite) TestImmediateInput() {
	in := leaverInput("2026-02-24", "")
	in.Immediate = true
	s.env.ExecuteWorkflow(Offboarding, in)
	s.assertFullyOffboarded(s.result())
	s.True(s.fake.revokedAt[0].Before(offStart.Add(time.Minute)))
}

func (s *offboardingSuite) TestFailedDeprovisioningEscalatesThenResolves() {
	s.fake.failGrant = 302
	var during lifecycle.OffboardingStatus
	s.env.RegisterDelayedCallback(func() {
		during = s.status()
		s.fake.escalations["ITINC-1"] = true // IT removed the access by hand and resolved the incident
	}, 6*time.Hour)
	in := leaverInput("2026-01-10", "UTC")
	in.Immediate = true
	s.env.ExecuteWorkflow(Offboarding, in)
	r := s.result()
	s.Equal(lifecycle.StageOffEscalated, during.Stage)
	s.Equal([]string{"ITINC-1"}, during.Escalations)
	s.Equal(1, s.fake.resolved, "the offboarding request is resolved only after the escalation")
	s.Contains(s.fake.notes, "escalated-302")
	s.Empty(s.fake.access().Grants)
	for _, g := range r.Grants {
		s.Equal(lifecycle.GrantStateRevoked, g.State)
	}
	s.GreaterOrEqual(s.env.Now().Sub(offStart), 6*time.Hour, "it waited for IT")
}

func (s *offboardingSuite) TestRehireDuringGracePeriodCancelsDeletion() {
	in := leaverInput("2026-01-12", "UTC")
	days := 30
	in.GraceDays = &days
	s.env.RegisterDelayedCallback(func() {
		s.Equal(lifecycle.StageOffGracePeriod, s.status().Stage)
		s.update(lifecycle.UpdateRehire, lifecycle.RehireRequest{Reason: "came back"})
	}, 10*24*time.Hour)
	s.env.ExecuteWorkflow(Offboarding, in)
	r := s.result()
	s.Equal(lifecycle.OutcomeRehired, r.Outcome)
	s.True(s.fake.restored)
	s.False(s.fake.deleted)
	s.Contains(s.fake.notes, "rehired")
}

func (s *offboardingSuite) TestAccountDeletedAfterGracePeriod() {
	in := leaverInput("2026-01-12", "UTC")
	days := 30
	in.GraceDays = &days
	s.env.RegisterDelayedCallback(func() {
		s.rejected(lifecycle.UpdateRehire, lifecycle.RehireRequest{}, "grace period only")
	}, time.Hour)
	s.env.ExecuteWorkflow(Offboarding, in)
	r := s.result()
	s.Equal(lifecycle.OutcomeCompleted, r.Outcome)
	s.True(r.Deleted)
	s.True(s.fake.deleted)
	s.GreaterOrEqual(s.env.Now().Sub(time.Date(2026, 1, 12, 18, 0, 0, 0, time.UTC)), 30*24*time.Hour)
}

func (s *offboardingSuite) TestManagerDisposition() {
	in := leaverInput("2026-01-10", "UTC")
	in.Immediate, in.Assets = true, lifecycle.AssetsManager
	s.env.ExecuteWorkflow(Offboarding, in)
	r := s.result()
	for _, rq := range s.fake.reclaimed {
		s.Equal(int64(77), rq.ToUserID)
	}
	for _, a := range r.Assets {
		s.Equal(lifecycle.AssetStateReassigned, a.State)
		s.Equal(int64(77), a.ToUserID)
	}
}

func (s *offboardingSuite) TestUnknownUserFailsAtOnceTouchingNothing() {
	in := leaverInput("2026-02-24", "UTC")
	in.Email = "nobody@example.com"
	s.env.ExecuteWorkflow(Offboarding, in)
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(err, &appErr))
	s.Equal(activities.ErrUnknownUser, appErr.Type())
	s.Empty(s.fake.notes)
	s.Empty(s.fake.revokedAt)
	s.Less(s.env.Now().Sub(offStart), time.Minute)
}

func (s *offboardingSuite) TestInvalidInput() {
	in := leaverInput("24/02/2026", "Nowhere/City")
	in.Assets = "user"
	s.env.ExecuteWorkflow(Offboarding, in)
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	for _, want := range []string{"IANA", "recipient"} {
		s.Contains(err.Error(), want)
	}
}

func countPrefix(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

func TestEndOfWorkingDay(t *testing.T) {
	got, err := lifecycle.EndOfWorkingDay("2026-11-27", "", "America/Los_Angeles")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC), got.UTC())
	got, err = lifecycle.EndOfWorkingDay("2026-11-27", "17:30", "Asia/Kolkata")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), got.UTC())
	_, err = lifecycle.EndOfWorkingDay("2026-11-27", "6pm", "UTC")
	assert.ErrorContains(t, err, "HH:MM")
	_, err = lifecycle.EndOfWorkingDay("27/11/2026", "", "UTC")
	assert.ErrorContains(t, err, "last day")
}

func TestOffboardingGrace(t *testing.T) {
	assert.Equal(t, 30*24*time.Hour, lifecycle.OffboardingInput{}.Grace())
	zero, two := 0, 2
	assert.Equal(t, time.Duration(0), lifecycle.OffboardingInput{GraceDays: &zero}.Grace())
	assert.Equal(t, 48*time.Hour, lifecycle.OffboardingInput{GraceDays: &two}.Grace())
	assert.Equal(t, time.Minute, lifecycle.OffboardingInput{GraceDays: &two, GracePeriod: time.Minute}.Grace())
}
