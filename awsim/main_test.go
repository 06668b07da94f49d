package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/testkit"
	"github.com/atomicflow/atomicflow/internal/version"
)

var addrRE = regexp.MustCompile(`on http://(127\.0\.0\.1:\d+)`)

// startAwsim runs run() on a free port and returns the base URL, its stdout and a stop function
// that cancels the context and returns run's result.
func startAwsim(t *testing.T, args ...string) (baseURL string, stdout *testkit.SyncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &testkit.SyncBuffer{}
	var stderr testkit.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), stdout, &stderr) }()

	var stopped bool
	var result error
	stop = func() error {
		if !stopped {
			cancel()
			select {
			case result = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("awsim did not shut down within 15s")
			}
			stopped = true
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m := addrRE.FindStringSubmatch(stdout.String())
		if assert.NotNil(c, m, "startup line; stdout=%q stderr=%q", stdout.String(), stderr.String()) {
			baseURL = "http://" + m[1]
		}
	}, 10*time.Second, 10*time.Millisecond)
	return baseURL, stdout, stop
}

func get(t *testing.T, url, key string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestRunServesTheDemoDatasetAndShutsDownCleanly(t *testing.T) {
	base, stdout, stop := startAwsim(t, "--rps", "0.01", "--burst", "1")

	startup := strings.SplitN(stdout.String(), "\n", 2)[0]
	assert.Contains(t, startup, "key: dev-key")
	for _, e := range atomicworktest.OperatorEndpoints() {
		assert.Contains(t, startup, e)
	}

	resp, body := get(t, base+"/api/v1/users/list?page=1", atomicworktest.DevKey)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	resp, _ = get(t, base+"/api/v1/users/list?page=1", atomicworktest.DevKey)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "--rps and --burst apply")
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))

	resp, body = get(t, base+"/_sim/limits", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"rps":0.01,"burst":1}`, string(body))

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, stdout.String(), "path=/api/v1/users/list")
		assert.Contains(c, stdout.String(), "status=429")
	}, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, stop(), "clean shutdown")
	assert.Contains(t, stdout.String(), "awsim: stopped")
	_, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second)
	assert.Error(t, err, "the port is closed")
}

func TestRunNeverPrintsACustomKey(t *testing.T) {
	const key = "custom-secret-key-9000"
	base, stdout, stop := startAwsim(t, "--api-key", key, "--log-format", "json")

	resp, _ := get(t, base+"/api/v1/users/list?page=1", key)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = get(t, base+"/api/v1/users/list?page=1", atomicworktest.DevKey)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the custom key replaces dev-key")

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, 3, strings.Count(stdout.String(), "\n"), "startup line and two request lines")
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, stop())

	out := stdout.String()
	assert.NotContains(t, out, key)
	assert.NotContains(t, out, "key: dev-key")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var entry map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &entry), "--log-format json: %s", lines[1])
	assert.Equal(t, "/api/v1/users/list", entry["path"])
}

func TestRunQuietLogsNoRequests(t *testing.T) {
	base, stdout, stop := startAwsim(t, "--quiet")
	resp, _ := get(t, base+"/api/v1/users/list?page=1", atomicworktest.DevKey)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, stop())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 2, "the startup and stop lines only: %q", lines)
	assert.Contains(t, lines[0], "awsim: Atomicwork simulator on ")
	assert.Equal(t, "awsim: stopped", lines[1])
}

func TestRunShutdownEndsStalledRequests(t *testing.T) {
	base, _, stop := startAwsim(t, "--stall", "1", "--stall-for", "1h")

	status := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/api/v1/users/list?page=1")
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := http.Get(base + "/_sim/stats")
		if !assert.NoError(c, err) {
			return
		}
		defer resp.Body.Close()
		var st atomicworktest.Stats
		if assert.NoError(c, json.NewDecoder(resp.Body).Decode(&st)) {
			assert.Equal(c, 1, st.FaultsInjected[atomicworktest.FaultStall])
		}
	}, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, stop(), "shutdown does not wait for the hour-long stall")
	assert.Equal(t, http.StatusServiceUnavailable, <-status, "the stalled client gets an answer, not an empty 200")
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--fail-5xx", "1.5"}, "--fail-5xx must be a probability between 0 and 1, got 1.5"},
		{[]string{"--fail-429", "-0.1"}, "--fail-429 must be a probability"},
		{[]string{"--fail-write-then-500", "2"}, "--fail-write-then-500 must be a probability"},
		{[]string{"--stall", "NaN"}, "--stall must be a probability"},
		{[]string{"--malformed-json", "7"}, "--malformed-json must be a probability"},
		{[]string{"--unknown-fields", "2"}, "--unknown-fields must be a probability"},
		{[]string{"--empty-page", "-1"}, "--empty-page must be a probability"},
		{[]string{"--short-page", "NaN"}, "--short-page must be a probability"},
		{[]string{"--integral-floats", "1.01"}, "--integral-floats must be a probability"},
		{[]string{"--fail-429-no-retry-after", "3"}, "--fail-429-no-retry-after must be a probability"},
		{[]string{"--fail-html-5xx", "-0.5"}, "--fail-html-5xx must be a probability"},
		{[]string{"--fail-reset", "9"}, "--fail-reset must be a probability"},
		{[]string{"--list-order", "newest"}, `--list-order must be id_asc, id_desc or shuffled, got "newest"`},
		{[]string{"--revocation-failure", "1.1"}, "--revocation-failure must be a probability between 0 and 1, got 1.1"},
		{[]string{"--revocation-failure", "NaN"}, "--revocation-failure must be a probability"},
		{[]string{"--latency", "-1s"}, "--latency must not be negative"},
		{[]string{"--stall-for", "-1s"}, "--stall-for must not be negative"},
		{[]string{"--revocation-delay", "-5m"}, "--revocation-delay must not be negative"},
		{[]string{"--stall", "0.5", "--stall-for", "0"}, "--stall needs a positive --stall-for"},
		{[]string{"--rps", "-1"}, "--rps must be a non-negative number"},
		{[]string{"--burst", "-1"}, "--burst must not be negative"},
		{[]string{"--extra-assets", "-3"}, "--extra-assets must not be negative"},
		{[]string{"--extra-assets-assignee", "bo.li"}, "--extra-assets-assignee must be a user's email"},
		{[]string{"--log-format", "xml"}, "--log-format must be text or json"},
		{[]string{"--latency", "soon"}, `invalid value "soon" for flag -latency`},
		{[]string{"--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"serve"}, `unexpected argument "serve"`},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, &stdout, &stderr)
		require.Error(t, err, "%v", tc.args)
		assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
		assert.True(t, errors.As(err, new(usageError)), "%v is a usage error", tc.args)
		assert.Empty(t, stdout.String(), "%v: nothing served", tc.args)

		var report bytes.Buffer
		assert.Equal(t, 2, exitCode(err, &report))
		assert.Equal(t, 1, strings.Count(report.String(), "\n"), "one line: %q", report.String())
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--help"}, &stdout, &stderr))
	for _, name := range []string{"-addr", "-api-key", "-rps", "-burst", "-latency", "-fail-5xx", "-fail-429",
		"-fail-write-then-500", "-stall", "-stall-for", "-malformed-json", "-seed", "-revocation-delay",
		"-unknown-fields", "-empty-page", "-short-page", "-list-order", "-integral-floats", "-fail-429-no-retry-after",
		"-fail-html-5xx", "-fail-reset",
		"-fail-revocation", "-revocation-failure", "-extra-assets", "-extra-assets-assignee", "-strict", "-log-format", "-quiet", "-state-file", "-version", "/_sim/stats"} {
		assert.Contains(t, stdout.String(), name)
	}
	assert.Empty(t, stderr.String())
}

func TestRunReportsABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	err = run(context.Background(), []string{"--addr", ln.Addr().String()}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot listen on "+ln.Addr().String())
	assert.False(t, errors.As(err, new(usageError)))
	assert.Equal(t, 1, exitCode(err, io.Discard))
}

func TestParseFlagsFillsOptions(t *testing.T) {
	cfg, err := parseFlags([]string{"--seed", "7", "--fail-revocation", " Okta Admins, ,GitHub ", "--extra-assets", "50",
		"--extra-assets-assignee", "ada@example.com", "--strict", "--revocation-delay", "2s", "--latency", "5ms",
		"--revocation-failure", "0.25", "--unknown-fields", "0.1", "--empty-page", "0.2", "--short-page", "0.3",
		"--list-order", "shuffled", "--integral-floats", "0.4", "--fail-429-no-retry-after", "0.5", "--fail-html-5xx", "0.6",
		"--fail-reset", "0.7"}, io.Discard)
	require.NoError(t, err)
	o := cfg.opts
	assert.Equal(t, atomicworktest.Faults{Seed: 7, Latency: 5 * time.Millisecond, StallFor: 35 * time.Second,
		UnknownFields: 0.1, EmptyPage: 0.2, ShortPage: 0.3, ListOrder: atomicworktest.ListOrderShuffled, IntegralFloats: 0.4,
		RateLimitNoRetryAfter: 0.5, HTMLServerError: 0.6, Reset: 0.7}, o.Faults)
	assert.Equal(t, int64(7), o.Faults.Seed)
	assert.Equal(t, []string{"Okta Admins", "GitHub"}, o.FailRevocationOf)
	assert.Equal(t, 50, o.ExtraAssets)
	assert.Equal(t, "ada@example.com", o.ExtraAssetsAssignee)
	assert.True(t, o.Strict)
	assert.Equal(t, 2*time.Second, o.RevocationDelay)
	assert.Equal(t, 0.25, o.RevocationFailure)
	assert.Equal(t, 5*time.Millisecond, o.Faults.Latency)
	assert.Equal(t, atomicworktest.DefaultAddr, cfg.addr)
	assert.Equal(t, "text", cfg.logFormat)
}

func TestRunStateFileKeepsChangesAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "awsim.json")
	base, stdout, stop := startAwsim(t, "--state-file", path, "--quiet")
	assert.Contains(t, stdout.String(), "demo data, kept in "+path)

	body := strings.NewReader(`{"email":"kai@example.com","first_name":"Kai"}`)
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/users", body)
	require.NoError(t, err)
	req.Header.Set("X-Api-Key", atomicworktest.DevKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, stop(), "SIGINT or SIGTERM: the change right before it is saved")

	base, stdout, _ = startAwsim(t, "--state-file", path, "--quiet")
	assert.Contains(t, stdout.String(), "data loaded from "+path)
	resp, got := get(t, base+"/api/v1/users/kai@example.com/email-lookup", atomicworktest.DevKey)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", got)
	assert.Contains(t, string(got), `"first_name":"Kai"`)
}

func TestRunRefusesACorruptStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "awsim.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"format":"atomicworktest-state","version":1,"store":{`), 0o600))
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--state-file", path}, &stdout, io.Discard)
	require.Error(t, err)
	var report bytes.Buffer
	assert.Equal(t, 2, exitCode(err, &report))
	assert.Contains(t, report.String(), path)
	assert.Contains(t, report.String(), "delete it to start from the demo data")
	assert.NotContains(t, stdout.String(), "Atomicwork simulator on", "nothing was served")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, `{"format":"atomicworktest-state","version":1,"store":{`, string(after), "never reset")
}

func TestRunVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--version"}, &stdout, &stderr))
	assert.Equal(t, version.String("awsim")+"\n", stdout.String())
	assert.Empty(t, stderr.String())
}
