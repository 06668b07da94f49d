package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/internal/workerapp"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// Two distinctive AES-256 keys (base64), so the tests can also look for the keys themselves.
var (
	codecKeyA = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA1}, codec.KeySize))
	codecKeyB = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xB2}, codec.KeySize))
)

const codecToken = "e2e-codec-token-7c0ffee-0123456789abcdef"

func keyring(t *testing.T, spec string) *codec.Keyring {
	t.Helper()
	ring, err := codec.ParseKeys(spec, "")
	require.NoError(t, err)
	return ring
}

// secretHire is a hire whose personal data is distinctive enough to be searched for, with an
// employee id of its own (the dev server is shared by the package's tests, and by -count runs).
func secretHire(n int) lifecycle.OnboardingInput {
	in := hire(n, today())
	in.EmployeeID = fmt.Sprintf("E-CODEC-%d-%s", n, strconv.FormatInt(time.Now().UnixNano(), 36))
	in.FirstName, in.LastName = "Zenobia", "Quillfeather"
	in.Email = "zenobia.quillfeather" + strings.Repeat("x", n%3) + "@example.com"
	return in
}

// piiOf lists what must never appear in clear text in Temporal: the hire's name and emails, the
// Atomicwork key and the codec keys.
func piiOf(in lifecycle.OnboardingInput) []string {
	return []string{in.FirstName, in.LastName, in.Email, in.ManagerEmail, apiKey, codecKeyA, codecKeyB}
}

// newCodecEnv is newEnv with payload encryption: the worker's client is dialled with the options
// the worker binary builds from ATOMICFLOW_CODEC_KEYS (workerapp.ClientOptions), and e.client is
// that client, so starts and results go through the same keyring, as with the starter.
func newCodecEnv(t *testing.T, opts atomicworktest.Options, ring *codec.Keyring) (*env, func()) {
	t.Helper()
	srv := devServer(t)
	opts.APIKey = apiKey
	sim := atomicworktest.NewServer(t, opts)
	e := &env{t: t, sim: sim, queue: "e2e-" + t.Name(), logs: &syncbuf.Buffer{}}
	var stop func()
	e.client, stop = startCodecWorker(t, srv, e, ring)
	return e, stop
}

// startCodecWorker runs a worker on e's queue with ring, as the worker binary would, and returns
// its client and a function that stops it (it also stops when the test ends).
func startCodecWorker(t *testing.T, srv *testsuite.DevServer, e *env, ring *codec.Keyring) (client.Client, func()) {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := workerapp.Config{
		TaskQueue: e.queue, BaseURL: e.sim.URL, DefaultWorkspace: atomicworktest.ITWorkspaceID,
		Keys: map[int64]string{atomicworktest.ITWorkspaceID: apiKey}, Timeout: 5 * time.Second,
		StopTimeout: 5 * time.Second, Codec: ring,
	}
	copts := workerapp.ClientOptions(cfg, logger)
	copts.HostPort = srv.FrontendHostPort()
	c, err := client.Dial(copts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	w, err := workerapp.NewWorker(c, cfg)
	require.NoError(t, err)
	require.NoError(t, w.Start())
	stop := sync.OnceFunc(w.Stop)
	t.Cleanup(stop)
	return c, stop
}

// requireNoClearText fails when the history, searched as exported and with every base64 string
// decoded, contains any of secrets.
func requireNoClearText(t *testing.T, history []byte, secrets []string) {
	t.Helper()
	text := decodedText(t, history)
	require.Contains(t, text, codec.MetadataEncodingEncrypted, "base64 metadata must be decoded to be searched")
	for _, s := range secrets {
		require.NotContains(t, text, s, "in clear text in the history")
		require.NotContains(t, strings.ToLower(text), strings.ToLower(s))
	}
}

// failureMessages returns every failure message in an exported history.
func failureMessages(t *testing.T, history []byte) []string {
	t.Helper()
	var doc any
	require.NoError(t, json.Unmarshal(history, &doc))
	var out []string
	var walk func(v any, inFailure bool)
	walk = func(v any, inFailure bool) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "message" && inFailure {
					if s, ok := c.(string); ok {
						out = append(out, s)
					}
				}
				walk(c, strings.Contains(strings.ToLower(k), "failure") || k == "cause")
			}
		case []any:
			for _, c := range x {
				walk(c, inFailure)
			}
		}
	}
	walk(doc, false)
	return out
}

func TestCodecKeepsPersonalDataOutOfTemporal(t *testing.T) {
	ring := keyring(t, "2026-01:"+codecKeyA)
	// Faults make activities retry, so the history also holds (encrypted) failures: 429s, which
	// Temporal retries (a 5xx is mostly tried again within its attempt, and leaves no failure).
	e, _ := newCodecEnv(t, atomicworktest.Options{Faults: atomicworktest.Faults{Seed: 11, RateLimit: 0.3}}, ring)
	in := secretHire(1)
	in.Entitlements, in.AssetTypes = []string{"okta-base"}, []string{"Laptop"}
	run := e.startOnboarding(in)

	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var res lifecycle.OnboardingResult
	require.NoError(t, run.Get(ctx, &res), "a client with the codec decodes the result")
	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	assert.Positive(t, res.UserID)
	requireOnboarded(t, e.sim, in.Email, []string{"okta-base"}, []string{"Laptop"})
	require.Positive(t, e.sim.Stats().FaultsInjected[atomicworktest.FaultRateLimit], "the run must have retried")

	history := e.history(run.GetID(), run.GetRunID())
	requireNoClearText(t, history, piiOf(in))
	require.NotContains(t, e.logs.String(), apiKey)
	require.NotContains(t, e.logs.String(), codecKeyA)

	// Failures (a retried activity's last failure) are encrypted too: only the placeholder shows.
	msgs := failureMessages(t, history)
	require.NotEmpty(t, msgs, "the faults must have left failures in the history")
	for _, m := range msgs {
		assert.Equal(t, "Encoded failure", m)
	}

	// The summary is user metadata, encoded by the same codec.
	desc, err := e.client.DescribeWorkflow(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	summary, err := desc.GetStaticSummary()
	require.NoError(t, err)
	assert.Equal(t, "Onboarding "+in.EmployeeID, summary)

	// A client without the key reads ciphertext only.
	var plain lifecycle.OnboardingResult
	err = devServer(t).Client().GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, &plain)
	require.Error(t, err)
	assert.Contains(t, err.Error(), codec.MetadataEncodingEncrypted)

	// The codec server decodes what the worker encoded, for the holder of the token only.
	payloads := startedInput(t, history)
	require.Equal(t, "2026-01", string(payloads[0].Metadata[codec.MetadataKeyID]))
	cs := codecServer(t, ring)
	status, body := decodeCall(t, cs.URL+"/default/decode", payloads, "Bearer "+codecToken)
	require.Equal(t, http.StatusOK, status, body)
	var decoded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(body), &decoded))
	var got lifecycle.OnboardingInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(decoded.Payloads[0], &got))
	assert.Equal(t, in.Email, got.Email)
	assert.Equal(t, in.LastName, got.LastName)

	status, body = decodeCall(t, cs.URL+"/default/decode", payloads, "Bearer not-the-token")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.NotContains(t, body, in.Email)
	status, _ = decodeCall(t, cs.URL+"/default/decode", payloads, "")
	assert.Equal(t, http.StatusUnauthorized, status)

	req, err := http.NewRequest(http.MethodOptions, cs.URL+"/default/decode", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://localhost:8233")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, "http://localhost:8233", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "Authorization,Content-Type,X-Namespace", resp.Header.Get("Access-Control-Allow-Headers"))

	// The Temporal CLI shows the decoded history through the codec server, and ciphertext without it.
	show := func(extra ...string) (string, error) {
		args := append([]string{"workflow", "show", "--disable-config-file", "--disable-config-env",
			"--address", devServer(t).FrontendHostPort(), "--namespace", "default",
			"--workflow-id", run.GetID(), "--run-id", run.GetRunID(), "--output", "json"}, extra...)
		out, err := exec.CommandContext(ctx, devserver.RequireCLI(t), args...).CombinedOutput()
		return string(out), err
	}
	out, err := show("--codec-endpoint", cs.URL+"/{namespace}", "--codec-auth", "Bearer "+codecToken)
	require.NoError(t, err, out)
	assert.Contains(t, decodedTextLenient(out), in.Email, "the CLI decoded the input through the codec server")
	assert.NotContains(t, decodedTextLenient(out), codec.MetadataEncodingEncrypted, "every payload was decoded")
	out, err = show()
	require.NoError(t, err, out)
	assert.NotContains(t, decodedTextLenient(out), in.Email)
	out, err = show("--codec-endpoint", cs.URL+"/{namespace}", "--codec-auth", "Bearer wrong")
	assert.Error(t, err, "a wrong token fails the CLI: %s", out)
	assert.NotContains(t, out, in.Email)
}

// TestCodecKeyRotation: runs encrypted with key A stay readable after B becomes the primary key,
// and new runs use B.
func TestCodecKeyRotation(t *testing.T) {
	e, stopA := newCodecEnv(t, atomicworktest.Options{}, keyring(t, "A:"+codecKeyA))
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()

	old := secretHire(2)
	oldRun := e.startOnboarding(old)
	var res lifecycle.OnboardingResult
	require.NoError(t, oldRun.Get(ctx, &res))

	// Rotate: the worker is redeployed with B primary and A kept for old histories.
	stopA()
	e.client, _ = startCodecWorker(t, devServer(t), e, keyring(t, "B:"+codecKeyB+",A:"+codecKeyA))
	fresh := secretHire(3)
	freshRun := e.startOnboarding(fresh)
	require.NoError(t, freshRun.Get(ctx, &res))
	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)

	// The old run still decodes with the rotated keyring; each run names its key.
	res = lifecycle.OnboardingResult{}
	require.NoError(t, e.client.GetWorkflow(ctx, oldRun.GetID(), oldRun.GetRunID()).Get(ctx, &res))
	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	oldHistory, newHistory := e.history(oldRun.GetID(), oldRun.GetRunID()), e.history(freshRun.GetID(), freshRun.GetRunID())
	assert.Equal(t, "A", string(startedInput(t, oldHistory)[0].Metadata[codec.MetadataKeyID]))
	assert.Equal(t, "B", string(startedInput(t, newHistory)[0].Metadata[codec.MetadataKeyID]))
	requireNoClearText(t, newHistory, piiOf(fresh))

	// Once A is dropped, the old run no longer decodes, and the error names the missing key id.
	bOnly := workerapp.ClientOptions(workerapp.Config{Codec: keyring(t, "B:"+codecKeyB)}, nil)
	bOnly.HostPort = devServer(t).FrontendHostPort()
	c, err := client.Dial(bOnly)
	require.NoError(t, err)
	defer c.Close()
	err = c.GetWorkflow(ctx, oldRun.GetID(), oldRun.GetRunID()).Get(ctx, &res)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key id "A"`)
	assert.NotContains(t, err.Error(), codecKeyA)
	assert.NotContains(t, err.Error(), codecKeyB)
}

// startedInput returns the input payloads of a history's WorkflowExecutionStarted event.
func startedInput(t *testing.T, history []byte) []*commonpb.Payload {
	t.Helper()
	var h historypb.History
	require.NoError(t, protojson.Unmarshal(history, &h))
	require.NotEmpty(t, h.Events)
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, h.Events[0].GetEventType())
	p := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	require.NotEmpty(t, p)
	return p
}

func codecServer(t *testing.T, ring *codec.Keyring) *httptest.Server {
	t.Helper()
	h, err := codec.NewHTTPHandler(codec.New(ring), codec.ServerOptions{Token: codecToken, AllowedOrigins: []string{"http://localhost:8233"}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func decodeCall(t *testing.T, url string, payloads []*commonpb.Payload, auth string) (int, string) {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// decodedTextLenient is the CLI's output plus every base64-looking string in it decoded (the
// output is JSON lines, not one document).
func decodedTextLenient(out string) string {
	var b strings.Builder
	b.WriteString(out)
	for _, s := range regexp.MustCompile(`[A-Za-z0-9+/]{16,}={0,2}`).FindAllString(out, -1) {
		if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
			b.WriteByte('\n')
			b.Write(raw)
		}
	}
	return b.String()
}

// TestCodecEncryptsLocalActivityFailures: the bulk reassignment reads through local activities,
// whose failures Temporal records in MarkerRecorded events. With the codec on, a failed read (an
// unknown asset type) leaves no clear failure text in any marker, nor anywhere in the history.
func TestCodecEncryptsLocalActivityFailures(t *testing.T) {
	e, _ := newCodecEnv(t, atomicworktest.Options{}, keyring(t, "2026-01:"+codecKeyA))
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	assetType := "Zeppelin-Quillfeather-" + suffix
	run := startReassignment(t, e.client, e.queue, lifecycle.ReassignmentInput{
		BatchID: "codec-la-" + suffix, Selector: lifecycle.AssetSelector{AssetType: assetType},
		Target: lifecycle.AssetTarget{Stock: true}, Confirmed: true})

	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	err := run.Get(ctx, nil)
	require.Error(t, err, "an unknown asset type fails the batch")
	assert.Contains(t, err.Error(), assetType, "a client with the codec decodes the failure")

	history := e.history(run.GetID(), run.GetRunID())
	failures := localActivityMarkerFailures(t, history)
	require.NotEmpty(t, failures, "the failed read must have left a local-activity marker with a failure")
	for _, f := range failures {
		for c := f; c != nil; c = c.GetCause() {
			assert.Equal(t, "Encoded failure", c.GetMessage(), "a local-activity marker's failure (or cause) is in clear text")
			assert.Empty(t, c.GetStackTrace())
			assert.NotNil(t, c.GetEncodedAttributes())
		}
	}
	requireNoClearText(t, history, []string{assetType, apiKey, codecKeyA})
}

// localActivityMarkerFailures returns the failure of every local-activity marker in a history.
func localActivityMarkerFailures(t *testing.T, history []byte) []*failurepb.Failure {
	t.Helper()
	var h historypb.History
	require.NoError(t, protojson.Unmarshal(history, &h))
	var out []*failurepb.Failure
	for _, ev := range h.Events {
		m := ev.GetMarkerRecordedEventAttributes()
		if m.GetMarkerName() == "LocalActivity" && m.GetFailure() != nil {
			out = append(out, m.GetFailure())
		}
	}
	return out
}
