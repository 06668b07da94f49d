package activities

import (
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

// scriptedAPI sits in front of the simulator: it logs every call and answers 429 without
// Retry-After to the calls its rule picks (n counts calls from 1).
type scriptedAPI struct {
	next  http.Handler
	rule  func(n int, r *http.Request) bool
	mu    sync.Mutex
	calls []loggedCall
}

type loggedCall struct {
	key     string // "METHOD /path"
	limited bool   // answered 429 by the script
}

func (s *scriptedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	limited := s.rule != nil && s.rule(len(s.calls)+1, r)
	s.calls = append(s.calls, loggedCall{key: r.Method + " " + r.URL.Path, limited: limited})
	s.mu.Unlock()
	if limited {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":"Too many requests (test script)","code":"RATE_LIMITED"}`))
		return
	}
	s.next.ServeHTTP(w, r)
}

func (s *scriptedAPI) log() []loggedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]loggedCall(nil), s.calls...)
}

// scriptedActivities are activities over the simulator behind a scriptedAPI.
func scriptedActivities(t *testing.T, rule func(n int, r *http.Request) bool) (*Activities, *atomicworktest.Handler, *scriptedAPI) {
	t.Helper()
	sim := atomicworktest.NewHandler(atomicworktest.Options{})
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
func runRetried(t *testing.T, name string, fn any, in any) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{NewKeepAlive()}})
	env.RegisterWorkflow(retriedFlow)
	env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	env.ExecuteWorkflow(retriedFlow, name, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
}

// redoneReads lists the successful GETs and list POSTs before the first scripted 429 that were
// sent again after it.
func redoneReads(calls []loggedCall, except string) []string {
	var before map[string]bool
	var redone []string
	for _, c := range calls {
		switch {
		case before == nil && c.limited:
			before = map[string]bool{}
			for _, b := range calls {
				if b.limited {
					break
				}
				before[b.key] = true
			}
		case before != nil && before[c.key] && !strings.Contains(c.key, except):
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
			acts, sim, api := scriptedActivities(t, func(_ int, r *http.Request) bool {
				if tc.hit(r) {
					hits++
					return hits <= 2 // two attempts in a row end on it
				}
				return false
			})
			requester, ok := sim.UserByEmail("it.manager@example.com")
			require.True(t, ok)
			marker := Marker("onboarding-E-1", "request")
			runRetried(t, "EnsureRequest", acts.EnsureRequest, EnsureRequestRequest{
				Marker: marker, Subject: "New hire", Description: "plan", RequesterID: requester.ID,
				CatalogItem: "New Hire Onboarding", ItemFields: map[string]any{"employee_name": "New Hire", "start_date": "2026-12-01"}})

			mine := 0
			for _, r := range sim.Requests() {
				if strings.HasSuffix(r.Subject, markerTag(marker)) {
					mine++
					assert.NotNil(t, r.ItemID, "opened from the catalogue item")
				}
			}
			assert.Equal(t, 1, mine, "exactly one request carries the marker")
			assert.Empty(t, redoneReads(api.log(), "/requests/list"), "reads finished before the 429 were sent again")
		})
	}
}
