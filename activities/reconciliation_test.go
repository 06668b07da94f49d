package activities

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// reconSim is the in-process simulator behind a test middleware that records every request and
// can fail chosen ones, with a clock the test moves.
type reconSim struct {
	*atomicworktest.Handler
	url  string
	now  atomic.Pointer[time.Time]
	mu   sync.Mutex
	seen []string              // "METHOD path?query body" of every request
	fail func(req string) bool // answers 500 when true, before the simulator sees the request
}

func newReconSim(t *testing.T, start time.Time) *reconSim {
	t.Helper()
	s := &reconSim{}
	s.now.Store(&start)
	s.Handler = atomicworktest.NewHandler(atomicworktest.Options{Now: func() time.Time { return *s.now.Load() }})
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() { srv.Close(); s.Close() })
	s.url = srv.URL
	return s
}

func (s *reconSim) serve(w http.ResponseWriter, r *http.Request) {
	var body strings.Builder
	if r.Body != nil {
		b := make([]byte, 4096)
		n, _ := r.Body.Read(b)
		body.Write(b[:n])
		r.Body = readCloser{strings.NewReader(body.String())}
	}
	req := r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + " " + body.String()
	s.mu.Lock()
	s.seen = append(s.seen, req)
	fail := s.fail != nil && s.fail(req)
	s.mu.Unlock()
	if fail {
		http.Error(w, `{"error":"injected","code":"INTERNAL"}`, http.StatusInternalServerError)
		return
	}
	s.ServeHTTP(w, r)
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func (s *reconSim) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

func (s *reconSim) advance(d time.Duration) {
	t := s.now.Load().Add(d)
	s.now.Store(&t)
}

func (s *reconSim) activities(t *testing.T) (*Activities, *atomicwork.Client) {
	t.Helper()
	c, err := atomicwork.New(atomicwork.Config{BaseURL: s.url, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	require.NoError(t, err)
	acts, err := New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: c}, atomicworktest.ITWorkspaceID, Policy{})
	require.NoError(t, err)
	return acts, c
}

// seededLeavers terminates n users of the demo dataset who hold grants and assets, on day.
func (s *reconSim) seededLeavers(t *testing.T, c *atomicwork.Client, n int, day string) []atomicwork.User {
	t.Helper()
	var out []atomicwork.User
	for _, u := range s.Users() {
		if len(out) == n {
			break
		}
		if u.IsDeleted || len(s.ActiveGrantsOf(u.ID)) == 0 || len(s.AssetsOf(u.ID)) == 0 || strings.Contains(u.Email, "manager") {
			continue
		}
		_, err := c.UpdateUser(context.Background(), u.ID, atomicwork.UserInput{EmploymentStatus: employmentTerminated, TerminatedOn: day})
		require.NoError(t, err)
		out = append(out, u)
	}
	require.Len(t, out, n, "the demo dataset has enough users with grants and assets")
	return out
}

var reconStart = time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)

func scanReq() DriftScanRequest {
	return DriftScanRequest{Now: reconStart.AddDate(0, 2, 0), StaleAfter: 24 * time.Hour}
}

func grantIDs(gs []LeaverGrant) []int64 {
	var ids []int64
	for _, g := range gs {
		ids = append(ids, g.GrantID)
	}
	return ids
}

// A rehire still marked TERMINATED (her account was never reactivated) got a new grant and a
// new laptop after her terminated_on: the scan reports them but never offers them for
// revocation or reclaim; her grants and assets from before she left are still drift.
func TestScanDriftNeverOffersAccessGivenAfterTerminatedOn(t *testing.T) {
	sim := newReconSim(t, reconStart)
	acts, c := sim.activities(t)
	ctx := context.Background()
	leaver := sim.seededLeavers(t, c, 1, "2026-10-31")[0]
	// Her offboarding revoked one grant; the others were left behind (the drift).
	revoked := sim.ActiveGrantsOf(leaver.ID)[0]
	_, err := c.RevokeGrant(ctx, revoked.ID, atomicwork.RevokeInput{SkipDeprovisioning: true})
	require.NoError(t, err)
	oldGrants, oldAssets := sim.ActiveGrantsOf(leaver.ID), sim.AssetsOf(leaver.ID)

	sim.advance(60 * 24 * time.Hour) // rehired in late November: the same access again, and a laptop
	newGrant, err := c.CreateGrant(ctx, atomicwork.GrantInput{UserID: leaver.ID, EntitlementID: revoked.Entitlement.ID})
	require.NoError(t, err)
	laptop := availableAsset(t, sim)
	_, _, err = c.SetAssignment(ctx, laptop.ID, atomicwork.Assignment{AssigneeID: leaver.ID, Status: "IN_USE"})
	require.NoError(t, err)

	scan, err := acts.ScanDrift(ctx, scanReq())
	require.NoError(t, err)
	assert.NotContains(t, grantIDs(scan.Grants), newGrant.ID, "a grant given after terminated_on is never revoked")
	assert.NotContains(t, grantIDs(scan.Handling), newGrant.ID)
	for _, a := range scan.Assets {
		assert.NotEqual(t, laptop.ID, a.AssetID, "an asset assigned after terminated_on is never reclaimed")
	}
	assert.Contains(t, scan.NewSinceLeft, NewAccess{Kind: "grant", ID: newGrant.ID, UserID: leaver.ID})
	assert.Contains(t, scan.NewSinceLeft, NewAccess{Kind: "asset", ID: laptop.ID, UserID: leaver.ID})
	for _, g := range oldGrants {
		assert.Contains(t, grantIDs(append(scan.Grants, scan.Handling...)), g.ID, "her grants from before she left are drift")
	}
	for _, a := range oldAssets {
		assert.Contains(t, scan.Assets, LeaverAsset{AssetID: a.ID, UserID: leaver.ID}, "her assets from before she left are drift")
	}
}

func availableAsset(t *testing.T, sim *reconSim) atomicwork.Asset {
	t.Helper()
	for _, a := range sim.Assets() {
		if a.FormFields["status"] == "AVAILABLE" {
			return a
		}
	}
	t.Fatal("the demo dataset has an available asset")
	return atomicwork.Asset{}
}

// A scan whose attempt fails on the third leaver's listing resumes on retry from its heartbeat:
// the user listings and the first two leavers are not read again, and the result is what a clean
// scan finds.
func TestScanDriftResumesAfterAFaultOnTheThirdLeaver(t *testing.T) {
	sim := newReconSim(t, reconStart)
	acts, c := sim.activities(t)
	sim.seededLeavers(t, c, 4, "2026-10-31")
	clean, err := acts.ScanDrift(context.Background(), scanReq())
	require.NoError(t, err)
	require.NotEmpty(t, clean.Assets)

	order, err := listLeavers(context.Background(), c)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(order), 4)
	third := order[2].ID
	isThirdAssets := func(req string) bool {
		return strings.Contains(req, "/assets/list") && strings.Contains(req, `"value":`+itoa(third)+`}`)
	}
	var once atomic.Bool
	sim.fail = func(req string) bool { return isThirdAssets(req) && once.CompareAndSwap(false, true) }

	var details converter.EncodedValues
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) { details = d })
	_, err = env.ExecuteActivity(acts.ScanDrift, scanReq())
	require.Error(t, err, "the third leaver's asset listing failed")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.False(t, appErr.NonRetryable())
	require.NotNil(t, details, "the failed attempt heartbeated its progress")
	var progress scanProgress
	require.NoError(t, details.Get(&progress))
	assert.Equal(t, 2, progress.Scanned)

	before := len(sim.requests())
	retry := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	retry.RegisterActivity(acts)
	retry.SetHeartbeatDetails(progress)
	val, err := retry.ExecuteActivity(acts.ScanDrift, scanReq())
	require.NoError(t, err)
	var resumed DriftScan
	require.NoError(t, val.Get(&resumed))

	for _, req := range sim.requests()[before:] {
		assert.NotContains(t, req, "/users/list", "the leavers were listed once")
		for _, l := range order[:2] {
			assert.NotContains(t, req, `"value":`+itoa(l.ID)+`}`, "leaver %d was scanned already", l.ID)
		}
	}
	assert.ElementsMatch(t, clean.Assets, resumed.Assets)
	assert.ElementsMatch(t, clean.Grants, resumed.Grants)
	assert.ElementsMatch(t, clean.Handling, resumed.Handling)
	assert.ElementsMatch(t, clean.StaleOnboardings, resumed.StaleOnboardings)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// A listing the client could not read whole (an error without an HTTP status) is retried, never
// a permanent failure nor "no drift"; what the API refused stays permanent.
func TestListingFailedIsRetryable(t *testing.T) {
	var appErr *temporal.ApplicationError
	err := listingFailed("the users", errIncomplete{})
	require.ErrorAs(t, err, &appErr)
	assert.False(t, appErr.NonRetryable(), "an incomplete listing is retried")
	assert.Contains(t, err.Error(), "listing the users did not complete")

	refused := listingFailed("the users", &atomicwork.APIError{StatusCode: http.StatusForbidden, Op: "users.list"})
	require.ErrorAs(t, refused, &appErr)
	assert.True(t, appErr.NonRetryable(), "a forbidden listing is permanent")
}

type errIncomplete struct{}

func (errIncomplete) Error() string { return "users.list: read 120 of 250 users" }
