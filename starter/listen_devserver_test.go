package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/internal/testkit"
)

// post sends body to url signed with secret now.
func post(t *testing.T, url, secret, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(hrevents.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(hrevents.HeaderSignature, hrevents.Sign(secret, now, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, resp.Header, m
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestListenStartsOnboardingsAndStopsGracefully(t *testing.T) {
	srv := testkit.NewDevServer(t)
	env := devEnv(srv, "listen-devserver")
	env[hrSecretsVar] = "old-secret-0123456789, " + hrSecret // rotating: both are accepted
	env[hrMetricsAddrVar] = "127.0.0.1:0"
	var stderr testkit.SyncBuffer
	a := &app{stdout: io.Discard, stderr: &stderr, dial: dialTemporal, lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- execute(ctx, []string{"listen", "--addr", "127.0.0.1:0"}, a) }()

	addr := regexp.MustCompile(`"Addr":"(127\.0\.0\.1:\d+)".*"MetricsAddr":"(127\.0\.0\.1:\d+)"`)
	var base, metricsBase string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m := addr.FindStringSubmatch(stderr.String())
		require.Len(c, m, 3, "stderr: %s", stderr.String())
		base, metricsBase = "http://"+m[1], "http://"+m[2]
	}, settle, 20*time.Millisecond)

	body := `{"event_id":"evt-listen-1","type":"employee.hired","occurred_at":"2026-11-20T09:30:00Z","employee":{
		"employee_id":"E-2001","email":"grace.hopper@example.com","first_name":"Grace","last_name":"Hopper",
		"timezone":"America/New_York","start_date":"2026-12-01"}}`
	var first map[string]any
	require.EventuallyWithT(t, func(c *assert.CollectT) { // 503 until the receiver has dialed
		code, _, m := post(t, base+"/hr/events", hrSecret, body)
		require.Equal(c, http.StatusAccepted, code, m)
		first = m
	}, settle, 100*time.Millisecond)
	assert.Equal(t, "onboarding-E-2001", first["workflow_id"])
	assert.Equal(t, false, first["duplicate"])

	code, _, again := post(t, base+"/hr/events", "old-secret-0123456789", body)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, true, again["duplicate"])
	assert.Equal(t, first["run_id"], again["run_id"])

	desc, err := srv.Client().DescribeWorkflow(ctx, "onboarding-E-2001", "")
	require.NoError(t, err)
	assert.Equal(t, first["run_id"], desc.WorkflowExecution.RunID)
	assert.Equal(t, "listen-devserver", desc.TaskQueueName)
	details, err := desc.GetStaticDetails()
	require.NoError(t, err)
	assert.Contains(t, details, "`starter listen` (HR event)")

	code, health := get(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"status":"ok","temporal":"connected"}`, health)
	code, _ = get(t, base+"/metrics")
	assert.Equal(t, http.StatusNotFound, code, "/metrics is not served beside /hr/events")
	code, metrics := get(t, metricsBase+"/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, metrics, `atomicflow_hr_deliveries_total{outcome="applied",type="employee.hired"} 1`)
	assert.Contains(t, metrics, `atomicflow_hr_deliveries_total{outcome="duplicate",type="employee.hired"} 1`)

	cancel() // SIGINT or SIGTERM
	select {
	case c := <-done:
		assert.Equal(t, 0, c, stderr.String())
	case <-time.After(settle):
		t.Fatal("listen did not stop after its context ended")
	}
	logs := stderr.String()
	assert.Contains(t, logs, "Stopped")
	for _, secret := range []string{hrSecret, "old-secret-0123456789", "grace.hopper", "Hopper"} {
		assert.NotContains(t, logs, secret)
	}
}

// TestListenHealthzFollowsTemporal: /healthz is 200 while Temporal answers and 503 naming the
// failure once it stops, and `starter healthcheck` exits 1 then.
func TestListenHealthzFollowsTemporal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testkit.StartDevServer(ctx, testkit.RequireTemporalCLI(t))
	require.NoError(t, err)
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.Stop()
		}
	}()
	env := devEnv(srv, "listen-health")
	env[hrSecretsVar] = hrSecret
	env[hrMetricsAddrVar] = "off"
	var stderr testkit.SyncBuffer
	a := &app{stdout: io.Discard, stderr: &stderr, dial: dialTemporal, lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	listenCtx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	done := make(chan int, 1)
	go func() { done <- execute(listenCtx, []string{"listen", "--addr", "127.0.0.1:0"}, a) }()
	addr := regexp.MustCompile(`"Addr":"(127\.0\.0\.1:\d+)"`)
	var healthz string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m := addr.FindStringSubmatch(stderr.String())
		require.Len(c, m, 2, "stderr: %s", stderr.String())
		healthz = "http://" + m[1] + "/healthz"
	}, 10*time.Second, 20*time.Millisecond)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		code, body := get(t, healthz)
		require.Equal(c, http.StatusOK, code, body)
		assert.JSONEq(c, `{"status":"ok","temporal":"connected"}`, body)
	}, 30*time.Second, 100*time.Millisecond)
	ok := runStarter(t, map[string]string{}, noDial(t), "healthcheck", healthz)
	assert.Equal(t, 0, ok.code, ok.stderr)

	require.NoError(t, srv.Stop())
	stopped = true
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		code, body := get(t, healthz)
		require.Equal(c, http.StatusServiceUnavailable, code, body)
		var health map[string]string
		require.NoError(c, json.Unmarshal([]byte(body), &health))
		assert.Equal(c, "unreachable", health["temporal"])
		assert.Contains(c, health["error"], "failed its health check")
	}, 30*time.Second, 100*time.Millisecond)
	down := runStarter(t, map[string]string{}, noDial(t), "healthcheck", healthz)
	assert.Equal(t, 1, down.code)
	assert.Contains(t, down.stderr, "503 Service Unavailable: Temporal (namespace default) failed its health check")

	stopListening()
	select {
	case c := <-done:
		assert.Equal(t, 0, c, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("listen did not stop after its context ended")
	}
}
