package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/internal/workerapp"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// TestWorkerMetrics runs the worker as the binary does (workerapp.Run with METRICS_ADDR) while the
// API answers some calls with 429, completes an onboarding, and reads the worker's /metrics: every
// API call the simulator saw is counted by operation and status class, every 429 is counted, the
// Retry-After delays reached Temporal, and the onboarding counts as completed.
func TestWorkerMetrics(t *testing.T) {
	srv := devServer(t)
	sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: apiKey,
		Faults: atomicworktest.Faults{Seed: 5, RateLimit: 0.15}})
	addr := freeAddr(t)
	queue := "e2e-metrics"
	logs := &syncbuf.Buffer{}
	cfg := workerapp.Config{
		Temporal: client.Options{HostPort: srv.FrontendHostPort()}, TaskQueue: queue,
		BaseURL: sim.URL, DefaultWorkspace: atomicworktest.ITWorkspaceID,
		Keys: map[int64]string{atomicworktest.ITWorkspaceID: apiKey}, Timeout: 5 * time.Second,
		Policy: engineeringPolicy, StopTimeout: 5 * time.Second, MetricsAddr: addr,
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- workerapp.Run(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil))) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(settle):
			t.Errorf("the worker did not stop within %s", settle)
		}
	})

	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	e := &env{t: t, sim: sim, client: c, queue: queue, logs: logs}
	in := hire(900, today())
	run := e.startOnboarding(in)
	wctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var res lifecycle.OnboardingResult
	require.NoError(t, run.Get(wctx, &res))
	require.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)

	stats := sim.Stats()
	var calls, throttled int
	byClass := map[string]int{}
	for _, byStatus := range stats.Calls {
		for status, n := range byStatus {
			calls += n
			byClass[fmt.Sprintf("%dxx", status/100)] += n
			if status == http.StatusTooManyRequests {
				throttled += n
			}
		}
	}
	require.Positive(t, throttled, "the run must have met 429s: %v", stats.FaultsInjected)

	var text string
	require.EventuallyWithT(t, func(ct *assert.CollectT) { // tally reports every second
		text = scrapeMetrics(ct, "http://"+addr+"/metrics")
		assert.Equal(ct, float64(calls), sumMetric(text, "atomicflow_atomicwork_requests_total"), "every call the simulator saw")
		assert.Equal(ct, float64(throttled), sumMetric(text, "atomicflow_atomicwork_rate_limited_total"), "every 429")
		assert.Equal(ct, 1.0, sumMetric(text, "atomicflow_workflows_completed_total", `workflow_type="Onboarding"`, `outcome="completed"`))
		assert.Positive(ct, sumMetric(text, "atomicflow_activity_retry_delay_seconds_count", `error_type="ATOMICWORK_RATE_LIMITED"`))
		// The SDK's own scope reports on its interval too: on a busy machine after ours.
		assert.Positive(ct, sumMetric(text, "temporal_workflow_completed_total"), "the SDK's metrics are served beside ours")
	}, settle, 250*time.Millisecond)

	for class, n := range byClass {
		assert.Equal(t, float64(n), sumMetric(text, "atomicflow_atomicwork_requests_total", `status_class="`+class+`"`), class)
	}
	assert.Equal(t, 1.0, sumMetric(text, "atomicflow_atomicwork_requests_total", `operation="users_create"`, `status_class="2xx"`))
	// A 429 from the simulator says Retry-After: 1 (whole seconds): so does each delay Temporal got.
	n := sumMetric(text, "atomicflow_activity_retry_delay_seconds_count")
	assert.LessOrEqual(t, n, float64(throttled), "at most one delay per 429")
	assert.InDelta(t, n, sumMetric(text, "atomicflow_activity_retry_delay_seconds_sum"), 1e-9)
	assert.NotContains(t, text, in.Email)
	assert.NotContains(t, text, apiKey)
	t.Logf("%d API calls, %d 429s, %g retry delays", calls, throttled, n)
}

// freeAddr is a loopback host:port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func scrapeMetrics(ct *assert.CollectT, url string) string {
	resp, err := http.Get(url)
	if !assert.NoError(ct, err) {
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.NoError(ct, err)
	assert.Equal(ct, http.StatusOK, resp.StatusCode)
	return string(b)
}

// sumMetric adds up the samples of metric whose labels contain every one of labels.
func sumMetric(text, metric string, labels ...string) float64 {
	var sum float64
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
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			panic(fmt.Sprintf("metric line %q: %v", line, err))
		}
		sum += v
	}
	return sum
}
