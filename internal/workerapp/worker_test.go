package workerapp

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/lifecycle"
)

func lazyClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestNewWorker(t *testing.T) {
	cfg := Config{BaseURL: "http://127.0.0.1:8090", DefaultWorkspace: 1, Keys: map[int64]string{1: testKey, 2: otherKey}}
	w, err := NewWorker(lazyClient(t), cfg)
	require.NoError(t, err)
	assert.NotNil(t, w)
}

func TestNewWorkerErrors(t *testing.T) {
	cases := map[string]Config{
		"no key for the default workspace": {BaseURL: "http://127.0.0.1:8090", DefaultWorkspace: 1, Keys: map[int64]string{2: otherKey}},
		"no keys":                          {BaseURL: "http://127.0.0.1:8090", DefaultWorkspace: 1},
		"bad base URL":                     {BaseURL: "127.0.0.1:8090", DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := NewWorker(lazyClient(t), cfg)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), testKey)
		})
	}
}

// TestRun runs the worker against a dev server: it serves the Onboarding workflow under its
// registered name, exports metrics, never logs the key and stops cleanly when ctx ends.
func TestRun(t *testing.T) {
	srv := devserver.ForTest(t)
	sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: testKey}) // the start-up check reads a workspace
	queue := "workerapp-run"
	cfg := Config{
		Temporal:         client.Options{HostPort: srv.FrontendHostPort()},
		TaskQueue:        queue,
		BaseURL:          sim.URL,
		DefaultWorkspace: 1,
		Keys:             map[int64]string{1: testKey},
		StopTimeout:      time.Second,
		MetricsAddr:      "127.0.0.1:0",
	}
	logs := &syncbuf.Buffer{}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, NewLogger(logs, "json", slog.LevelDebug)) }()

	wctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := srv.Client().ExecuteWorkflow(wctx, client.StartWorkflowOptions{ID: "onboarding-invalid", TaskQueue: queue},
		lifecycle.OnboardingWorkflowName, lifecycle.OnboardingInput{EmployeeID: "E-1"})
	require.NoError(t, err)
	err = run.Get(wctx, nil)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "the registered workflow rejects the input")
	assert.Equal(t, activities.ErrInvalidInput, appErr.Type())

	metricsURL := logField(t, logs, "Serving metrics", "Addr")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, scrape(c, metricsURL), "temporal_workflow_failed_total")
	}, 30*time.Second, 200*time.Millisecond)

	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return 30s after its context ended")
	}
	out := logs.String()
	assert.Contains(t, out, "Worker stopped")
	assert.NotContains(t, out, testKey)
}

func TestRunStopsWhenCancelledWhileDialing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := Config{Temporal: client.Options{HostPort: "127.0.0.1:1"}, BaseURL: "http://127.0.0.1:8090", DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}}
	assert.NoError(t, Run(ctx, cfg, NewLogger(io.Discard, "json", slog.LevelInfo)))
}

func TestRunReportsAnUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: testKey})
	cfg := Config{Temporal: client.Options{HostPort: "127.0.0.1:1"},
		BaseURL: sim.URL, DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}}
	err := Run(ctx, cfg, NewLogger(io.Discard, "json", slog.LevelInfo))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "127.0.0.1:1")
	assert.Contains(t, err.Error(), "TEMPORAL_ADDRESS")
}

// logField returns field of the first JSON log line with message msg.
func logField(t *testing.T, logs *syncbuf.Buffer, msg, field string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == msg {
			if v, ok := line[field].(string); ok {
				return v
			}
		}
	}
	t.Fatalf("no log line %q with %s", msg, field)
	return ""
}

func scrape(c assert.TestingT, url string) string {
	resp, err := http.Get(url)
	if !assert.NoError(c, err) {
		return ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	assert.NoError(c, err)
	assert.Equal(c, http.StatusOK, resp.StatusCode)
	return string(body)
}

// The worker's workflow and activity pollers autoscale (the SDK's fixed two workflow-task
// pollers cap Update-with-Start answers): no fixed poller count, which the SDK refuses beside a
// poller behaviour, and the rest of the options as configured.
func TestWorkerOptionsAutoscalePollers(t *testing.T) {
	o := workerOptions(Config{StopTimeout: 7 * time.Second, RPS: 20})
	autoscaling := worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})
	assert.Equal(t, autoscaling, o.WorkflowTaskPollerBehavior)
	assert.Equal(t, autoscaling, o.ActivityTaskPollerBehavior)
	assert.Zero(t, o.MaxConcurrentWorkflowTaskPollers)
	assert.Zero(t, o.MaxConcurrentActivityTaskPollers)
	assert.Equal(t, 7*time.Second, o.WorkerStopTimeout)
	assert.Equal(t, ActivitiesPerSecond(20), o.TaskQueueActivitiesPerSecond)
	assert.Len(t, o.Interceptors, 2)
}
