package activities

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// scriptedAPI sits in front of the simulator: it logs every call and lets its rule answer the
// calls it picks instead of the simulator (n counts calls from 1; a nil answer passes the call on).
type scriptedAPI struct {
	next  http.Handler
	rule  func(n int, r *http.Request, body string) http.HandlerFunc
	mu    sync.Mutex
	calls []loggedCall
}

type loggedCall struct {
	key      string // "METHOD /path"
	answered bool   // answered by the script
}

func (s *scriptedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	var answer http.HandlerFunc
	if s.rule != nil {
		answer = s.rule(len(s.calls)+1, r, string(body))
	}
	s.calls = append(s.calls, loggedCall{key: r.Method + " " + r.URL.Path, answered: answer != nil})
	s.mu.Unlock()
	if answer != nil {
		answer(w, r)
		return
	}
	s.next.ServeHTTP(w, r)
}

// tooManyRequests answers 429 without Retry-After.
func tooManyRequests(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"error":"Too many requests (test script)","code":"RATE_LIMITED"}`))
}

func (s *scriptedAPI) log() []loggedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]loggedCall(nil), s.calls...)
}

// scriptedActivities are activities over the simulator behind a scriptedAPI.
func scriptedActivities(t *testing.T, rule func(n int, r *http.Request, body string) http.HandlerFunc) (*Activities, *atomicworktest.Handler, *scriptedAPI) {
	t.Helper()
	return scriptedActivitiesWith(t, atomicworktest.Options{}, rule)
}

func scriptedActivitiesWith(t *testing.T, opts atomicworktest.Options, rule func(n int, r *http.Request, body string) http.HandlerFunc) (*Activities, *atomicworktest.Handler, *scriptedAPI) {
	t.Helper()
	sim := atomicworktest.NewHandler(opts)
	api := &scriptedAPI{next: sim, rule: rule}
	srv := httptest.NewServer(api)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	c, err := atomicwork.New(atomicwork.Config{BaseURL: srv.URL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	require.NoError(t, err)
	acts, err := New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: c}, atomicworktest.ITWorkspaceID, Policy{})
	require.NoError(t, err)
	return acts, sim, api
}

// retriedFlow runs one activity as the workflows do: heartbeat timeout, retries.
func retriedFlow(ctx workflow.Context, name string, in any) (any, error) {
	var out any
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute, HeartbeatTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 6}}), name, in).Get(ctx, &out)
	return out, err
}

// runRetried runs the activity fn under name through Temporal's test environment with the
// worker's keep-alive interceptor, so that attempts pass their heartbeat details on as on a worker.
func runRetried(t *testing.T, name string, fn any, in any, out any) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{NewKeepAlive()}})
	env.RegisterWorkflow(retriedFlow)
	env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	env.ExecuteWorkflow(retriedFlow, name, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.NoError(t, env.GetWorkflowResult(out))
}

// redoneReads lists the calls answered by the simulator before the first scripted answer that
// were sent again after it, but for the key except.
func redoneReads(calls []loggedCall, except string) []string {
	var before map[string]bool
	var redone []string
	for _, c := range calls {
		switch {
		case before == nil && c.answered:
			before = map[string]bool{}
			for _, b := range calls {
				if b.answered {
					break
				}
				before[b.key] = true
			}
		case before != nil && before[c.key] && c.key != except:
			redone = append(redone, c.key)
		}
	}
	return redone
}

// A retried EnsureRequest keeps the catalogue reads it finished and creates exactly one request,
// whichever of its calls answers 429 (the marker search alone is redone: it is what proves that
// no earlier create went through).
func TestEnsureRequestResumesAfterA429(t *testing.T) {
	for _, tc := range []struct {
		name string
		hit  func(r *http.Request) bool
	}{
		{"catalogue item fields", func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/fields") }},
		{"create from the item", func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/requests/items/") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := 0
			acts, sim, api := scriptedActivities(t, func(_ int, r *http.Request, _ string) http.HandlerFunc {
				if tc.hit(r) {
					if hits++; hits <= 2 { // two attempts in a row end on it
						return tooManyRequests
					}
				}
				return nil
			})
			requester, ok := sim.UserByEmail("it.manager@example.com")
			require.True(t, ok)
			marker := Marker("onboarding-E-1", "request")
			var ref RequestRef
			runRetried(t, "EnsureRequest", acts.EnsureRequest, RequestToOpen{
				Marker: marker, Subject: "New hire", Description: "plan", RequesterID: requester.ID,
				CatalogItem: "New Hire Onboarding", ItemFields: map[string]any{"employee_name": "New Hire", "start_date": "2026-12-01"}}, &ref)
			assert.True(t, ref.FromCatalog)

			mine := 0
			for _, r := range sim.Requests() {
				if strings.HasSuffix(r.Subject, markerTag(marker)) {
					mine++
					assert.NotNil(t, r.ItemID, "opened from the catalogue item")
				}
			}
			assert.Equal(t, 1, mine, "exactly one request carries the marker")
			assert.Empty(t, redoneReads(api.log(), "POST /api/v1/requests/list"), "reads finished before the 429 were sent again")
		})
	}
}

// A retried EnsureUser still reports the restore an earlier attempt did, whichever call after it
// failed, and reuses the manager lookup it finished.
func TestEnsureUserKeepsItsRestoreAcrossAttempts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer http.HandlerFunc
	}{
		{"429 after the restore", tooManyRequests},
		{"restore applied, answer lost", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"error":"bad gateway (test script)","code":"INTERNAL"}`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sim *atomicworktest.Handler
			restored, failed := false, false
			acts, sim, _ := scriptedActivities(t, func(_ int, r *http.Request, _ string) http.HandlerFunc {
				switch {
				case strings.HasSuffix(r.URL.Path, "/restore") && tc.name != "429 after the restore" && !failed:
					failed = true
					sim.ServeHTTP(httptest.NewRecorder(), r) // applied, then the answer is lost
					return tc.answer
				case strings.HasSuffix(r.URL.Path, "/restore"):
					restored = true
				case restored && !failed:
					failed = true
					return tc.answer
				}
				return nil
			})
			var deleted atomicwork.User
			for _, u := range sim.Users() {
				if u.IsDeleted && u.EmployeeID != "" {
					deleted = u
				}
			}
			require.NotZero(t, deleted.ID, "the demo dataset has a soft-deleted user")
			req := userReq("onboarding-" + deleted.EmployeeID)
			req.Email, req.EmployeeID = deleted.Email, deleted.EmployeeID
			var ref UserRef
			runRetried(t, "EnsureUser", acts.EnsureUser, req, &ref)

			require.True(t, failed, "the script failed a call after the restore")
			assert.Equal(t, UserRef{UserID: deleted.ID, Restored: true, Adopted: adoptedAccount(&deleted)}, ref)
			u, _ := sim.UserByEmail(deleted.Email)
			assert.False(t, u.IsDeleted)
		})
	}
}

// A retried LookupLeaver keeps the leaver and recipient it found; only the employee id claim,
// whose write failed, is checked and sent again.
func TestLookupLeaverResumesAfterA429(t *testing.T) {
	patched := false
	acts, sim, api := scriptedActivities(t, func(_ int, r *http.Request, _ string) http.HandlerFunc {
		if r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v1/users/") && !patched {
			patched = true
			return tooManyRequests
		}
		return nil
	})
	leaver, err := acts.clients[atomicworktest.ITWorkspaceID].CreateUser(context.Background(),
		atomicwork.UserInput{Email: "no.id.leaver@example.com", FirstName: "No", LastName: "Id"})
	require.NoError(t, err)
	recipient, ok := sim.UserByEmail("it.manager@example.com")
	require.True(t, ok)

	var got Leaver
	runRetried(t, "LookupLeaver", acts.LookupLeaver, LeaverRequest{Email: leaver.Email, EmployeeID: "E-777",
		Disposition: dispositionUser, RecipientEmail: recipient.Email}, &got)

	require.True(t, patched)
	assert.Equal(t, Leaver{UserID: leaver.ID, RecipientID: recipient.ID}, got)
	u, _ := sim.UserByEmail(leaver.Email)
	assert.Equal(t, "E-777", u.EmployeeID, "the claim went through on the retry")
	assert.Empty(t, redoneReads(api.log(), "GET /api/v1/users/list"), "lookups finished before the 429 were sent again")
}

// A retried ListAccess keeps the grants it listed and lists the assets only.
func TestListAccessResumesAfterA429(t *testing.T) {
	listed := false
	acts, sim, api := scriptedActivities(t, func(_ int, r *http.Request, _ string) http.HandlerFunc {
		if r.URL.Path == "/api/v1/assets/list" && !listed {
			listed = true
			return tooManyRequests
		}
		return nil
	})
	var user atomicwork.User
	for _, u := range sim.Users() {
		if len(sim.ActiveGrantsOf(u.ID)) > 0 && len(sim.AssetsOf(u.ID)) > 0 {
			user = u
			break
		}
	}
	require.NotZero(t, user.ID, "the demo dataset has a user with grants and assets")

	var got Access
	runRetried(t, "ListAccess", acts.ListAccess, AccessRequest{UserID: user.ID}, &got)

	require.True(t, listed)
	assert.Len(t, got.Grants, len(sim.ActiveGrantsOf(user.ID)))
	assert.Len(t, got.Assets, len(sim.AssetsOf(user.ID)))
	assert.Empty(t, redoneReads(api.log(), "POST /api/v1/assets/list"), "the grant listing was sent again")
}

// Requests opened one after another from the same catalogue item resolve it once per worker;
// a create the API refuses drops it, so that the next try reads the item again.
func TestEnsureRequestReusesTheCatalogueItem(t *testing.T) {
	refuse := false
	acts, sim, api := scriptedActivities(t, func(_ int, r *http.Request, _ string) http.HandlerFunc {
		if refuse && strings.Contains(r.URL.Path, "/requests/items/") {
			refuse = false
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"item_fields.badge is required (test script)","code":"VALIDATION_ERROR"}`))
			}
		}
		return nil
	})
	requester, ok := sim.UserByEmail("it.manager@example.com")
	require.True(t, ok)
	open := func(step string) error {
		_, err := acts.EnsureRequest(context.Background(), RequestToOpen{
			Marker: Marker("offboarding-E-1", step), Subject: "Leaver", Description: "plan", RequesterID: requester.ID,
			CatalogItem: "New Hire Onboarding", ItemFields: map[string]any{"employee_name": "New Hire", "start_date": "2026-12-01"}})
		return err
	}
	itemReads := func() (n int) {
		for _, c := range api.log() {
			if strings.HasSuffix(c.key, "/fields") {
				n++
			}
		}
		return n
	}
	require.NoError(t, open("a"))
	require.NoError(t, open("b"))
	assert.Equal(t, 1, itemReads(), "the second request reuses the item")
	refuse = true
	require.Error(t, open("c"))
	require.NoError(t, open("c"))
	assert.Equal(t, 2, itemReads(), "a refused create reads the item again")
}

// ReassignAsset tells a lost answer from the attempt number: after "write applied, answer lost"
// it is retried by Temporal, not within the attempt, and reports the asset moved.
func TestReassignAssetIsNotRetriedWithinTheAttempt(t *testing.T) {
	var sim *atomicworktest.Handler
	lost := false
	acts, sim, _ := scriptedActivitiesWith(t, atomicworktest.Options{ExtraAssets: 1}, func(_ int, r *http.Request, _ string) http.HandlerFunc {
		if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v1/assets/") && !lost {
			lost = true
			sim.ServeHTTP(httptest.NewRecorder(), r)
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte(`{"error":"bad gateway (test script)","code":"INTERNAL"}`))
			}
		}
		return nil
	})
	from, ok := sim.UserByEmail(bo)
	require.True(t, ok)
	to, ok := sim.UserByEmail("ana.diaz@example.com")
	require.True(t, ok)
	held := sim.AssetsOf(from.ID)
	require.NotEmpty(t, held)

	var got ReassignAssetResult
	runRetried(t, "ReassignAsset", acts.ReassignAsset, ReassignAssetRequest{AssetID: held[0].ID, Filter: AssetFilter{AssigneeID: from.ID},
		TargetUserID: to.ID, Status: atomicwork.AssetInUse, Since: time.Now().Add(-time.Minute)}, &got)

	require.True(t, lost)
	assert.Equal(t, AssetMoved, got.Outcome)
}
