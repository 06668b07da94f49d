package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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

// newProm is NewPrometheus for a test: a registration error fails it, and scrape returns the
// registry's text once it holds every wanted line (tally reports every second).
func newProm(t *testing.T) (*Prometheus, func(want ...string) string) {
	t.Helper()
	p := NewPrometheus(func(err error) { t.Errorf("metric registration: %v", err) })
	t.Cleanup(func() { _ = p.Close() })
	scrape := func(want ...string) string {
		t.Helper()
		var text string
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			rec := httptest.NewRecorder()
			p.HTTP.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			text = rec.Body.String()
			for _, w := range want {
				assert.Contains(c, text, w)
			}
		}, 10*time.Second, 100*time.Millisecond)
		return text
	}
	return p, scrape
}

// TestTransportCountsCallsByOperationAndClass drives calls through the instrumented transport
// against the simulator, one of each status class, and reads them back from the registry.
func TestTransportCountsCallsByOperationAndClass(t *testing.T) {
	p, scrape := newProm(t)
	sim := atomicworktest.NewServer(t, atomicworktest.Options{})
	newClient := func(baseURL string, timeout time.Duration) *atomicwork.Client {
		c, err := atomicwork.New(atomicwork.Config{BaseURL: baseURL, APIKey: atomicworktest.DevKey,
			WorkspaceID: atomicworktest.ITWorkspaceID, Timeout: timeout, Transport: NewTransport(nil, p.Handler)})
		require.NoError(t, err)
		return c
	}
	c := newClient(sim.URL, 5*time.Second)
	ctx := context.Background()
	user := sim.Users()[0]

	// 2xx twice, on two operations; an email lookup must not put the email in a label.
	_, err := c.GetUser(ctx, user.ID)
	require.NoError(t, err)
	_, err = c.LookupUserByEmail(ctx, user.Email)
	require.NoError(t, err)
	// 4xx: an unknown user.
	_, err = c.GetUser(ctx, 987654321)
	require.True(t, atomicwork.IsNotFound(err), "%v", err)
	// 429 (a 4xx too) and 503.
	sim.SetFaults(atomicworktest.Faults{RateLimit: 1})
	_, err = c.GetUser(ctx, user.ID)
	require.True(t, atomicwork.IsRateLimited(err), "%v", err)
	sim.SetFaults(atomicworktest.Faults{ServerError: 1})
	_, err = c.GetUser(ctx, user.ID)
	require.Equal(t, http.StatusServiceUnavailable, atomicwork.StatusOf(err), "%v", err)
	// network: the API does not answer within the client's timeout, or nothing listens.
	sim.SetFaults(atomicworktest.Faults{Stall: 1, StallFor: time.Second})
	_, err = newClient(sim.URL, 100*time.Millisecond).GetUser(ctx, user.ID)
	require.Error(t, err)
	sim.SetFaults(atomicworktest.Faults{})
	_, err = newClient("http://"+closedAddr(t), time.Second).GetUser(ctx, user.ID)
	require.Error(t, err)
	// canceled: the caller (an activity being cancelled) gave up.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.GetUser(cctx, user.ID)
	require.Error(t, err)

	text := scrape(
		`atomicflow_atomicwork_requests_total{operation="users_get",status_class="2xx"} 1`,
		`atomicflow_atomicwork_requests_total{operation="users_email_lookup",status_class="2xx"} 1`,
		`atomicflow_atomicwork_requests_total{operation="users_get",status_class="4xx"} 2`,
		`atomicflow_atomicwork_requests_total{operation="users_get",status_class="5xx"} 1`,
		`atomicflow_atomicwork_requests_total{operation="users_get",status_class="network"} 2`,
		`atomicflow_atomicwork_requests_total{operation="users_get",status_class="canceled"} 1`,
		`atomicflow_atomicwork_rate_limited_total{operation="users_get"} 1`,
		`atomicflow_atomicwork_request_latency_seconds_count{operation="users_get",status_class="2xx"} 1`,
		`atomicflow_atomicwork_request_latency_seconds_bucket{operation="users_get",status_class="2xx",le="600"} 1`,
	)
	assert.NotContains(t, text, user.Email, "an email in the metrics")
	assert.NotContains(t, text, "/api/v1", "a path in the metrics: label by operation")
	assert.NotContains(t, text, atomicworktest.DevKey)
	// The stalled call took at least the client's timeout: it is not in the 50 ms bucket.
	assert.Contains(t, text, `atomicflow_atomicwork_request_latency_seconds_bucket{operation="users_get",status_class="network",le="0.05"} 1`,
		"only the refused connection is under 50 ms")
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestStatusClass(t *testing.T) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	expired, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel2()
	for _, tc := range []struct {
		ctx    context.Context
		status int
		err    error
		want   string
	}{
		{ctx, 200, nil, "2xx"},
		{ctx, 204, nil, "2xx"},
		{ctx, 302, nil, "3xx"},
		{ctx, 409, nil, "4xx"},
		{ctx, 429, nil, "4xx"},
		{ctx, 503, nil, "5xx"},
		{ctx, 0, errors.New("connection refused"), ClassNetwork},
		{expired, 0, context.DeadlineExceeded, ClassNetwork},
		{canceled, 0, context.Canceled, ClassCanceled},
	} {
		var resp *http.Response
		if tc.err == nil {
			resp = &http.Response{StatusCode: tc.status}
		}
		assert.Equal(t, tc.want, statusClass(tc.ctx, resp, tc.err), "%d %v", tc.status, tc.err)
	}
}

func TestOutcome(t *testing.T) {
	type withOutcome struct{ Outcome string }
	type without struct{ Done int }
	for _, tc := range []struct {
		res  any
		err  error
		want string
	}{
		{withOutcome{"rehired"}, nil, "rehired"},
		{&withOutcome{"dry-run"}, nil, "dry-run"},
		{withOutcome{}, nil, OutcomeCompleted},
		{without{3}, nil, OutcomeCompleted},
		{nil, nil, OutcomeCompleted},
		{(*withOutcome)(nil), nil, OutcomeCompleted},
		{nil, temporal.NewApplicationError("boom", "X"), OutcomeFailed},
		{nil, temporal.NewCanceledError(), OutcomeCancelled},
	} {
		assert.Equal(t, tc.want, Outcome(tc.res, tc.err), "%#v %v", tc.res, tc.err)
	}
}

type testResult struct {
	Outcome string `json:"outcome"`
}

// rateLimitedOnce fails its first attempt as a 429 does in activities (NextRetryDelay from
// Retry-After), then succeeds.
func rateLimitedOnce(ctx context.Context) error {
	if activity.GetInfo(ctx).Attempt == 1 {
		return temporal.NewApplicationErrorWithOptions("429", "ATOMICWORK_RATE_LIMITED",
			temporal.ApplicationErrorOptions{NextRetryDelay: 3 * time.Second})
	}
	return nil
}

func testWorkflow(ctx workflow.Context, mode string) (testResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 5}})
	switch mode {
	case "fail":
		return testResult{}, temporal.NewApplicationError("it went wrong", "TEST")
	case "continue":
		return testResult{}, workflow.NewContinueAsNewError(ctx, testWorkflow, "rehire")
	case "rehire":
		return testResult{Outcome: "rehired"}, nil
	}
	if err := workflow.ExecuteActivity(ctx, rateLimitedOnce).Get(ctx, nil); err != nil {
		return testResult{}, err
	}
	return testResult{Outcome: "completed"}, nil
}

// TestWorkerInterceptor runs workflows through the interceptor with the Prometheus handler: the
// retry delay a rate-limited activity hands Temporal, and runs by outcome (continue-as-new is
// not an end).
func TestWorkerInterceptor(t *testing.T) {
	p, scrape := newProm(t)
	var suite testsuite.WorkflowTestSuite
	suite.SetMetricsHandler(p.Handler)
	for _, mode := range []string{"ok", "fail", "continue", "rehire", "rehire"} {
		env := suite.NewTestWorkflowEnvironment()
		env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{NewWorkerInterceptor()}})
		env.RegisterWorkflowWithOptions(testWorkflow, workflow.RegisterOptions{Name: "TestFlow"})
		env.RegisterActivity(rateLimitedOnce)
		env.ExecuteWorkflow("TestFlow", mode)
		require.True(t, env.IsWorkflowCompleted(), mode)
		switch mode {
		case "fail":
			require.Error(t, env.GetWorkflowError())
		case "continue":
			require.True(t, workflow.IsContinueAsNewError(env.GetWorkflowError()))
		default:
			require.NoError(t, env.GetWorkflowError(), mode)
		}
	}
	// The test environment's workflow handler has no workflow_type label (a worker's has: e2e).
	text := scrape(
		`atomicflow_workflows_completed_total{outcome="completed"} 1`,
		`atomicflow_workflows_completed_total{outcome="failed"} 1`,
		`atomicflow_workflows_completed_total{outcome="rehired"} 2`,
		`atomicflow_activity_retry_delay_seconds_count{`,
	)
	assert.NotContains(t, text, `outcome="continued`, "continue-as-new is not an end")
	for _, l := range []string{`workflow_type="TestFlow"`, `error_type="ATOMICWORK_RATE_LIMITED"`, `activity_type="rateLimitedOnce"`} {
		assert.Contains(t, lineOf(t, text, "atomicflow_activity_retry_delay_seconds_count"), l)
	}
	assert.Equal(t, 1.0, sample(t, text, "atomicflow_activity_retry_delay_seconds_count"))
	assert.Equal(t, 3.0, sample(t, text, "atomicflow_activity_retry_delay_seconds_sum"), "the delay handed to Temporal")
	assert.Equal(t, 0.0, sample(t, text, "atomicflow_activity_retry_delay_seconds_bucket", `le="2.5"`))
	assert.Equal(t, 1.0, sample(t, text, "atomicflow_activity_retry_delay_seconds_bucket", `le="5"`))
}

// lineOf returns the first sample line of metric whose labels contain every one of labels.
func lineOf(t *testing.T, text, metric string, labels ...string) string {
	t.Helper()
next:
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, metric+"{") && !strings.HasPrefix(line, metric+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue next
			}
		}
		return line
	}
	t.Fatalf("no sample of %s with %v in:\n%s", metric, labels, text)
	return ""
}

// sample is the value of lineOf's line.
func sample(t *testing.T, text, metric string, labels ...string) float64 {
	t.Helper()
	line := lineOf(t, text, metric, labels...)
	var v float64
	_, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
	require.NoError(t, err, line)
	return v
}
