// Package e2e runs atomicflow end to end: the real Temporal dev server (bin/temporal), the
// Atomicwork simulator in-process and the worker in-process, asserting the simulator's final state.
package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/internal/workerapp"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// apiKey is distinctive so the key-leak checks can search histories and logs for it.
const apiKey = "aw_e2e_0123456789abcdef_DO_NOT_LEAK"

var (
	serverOnce sync.Once
	server     *testsuite.DevServer
	serverErr  error
)

// devServer starts one Temporal dev server for the package (a few seconds), with our search
// attributes registered. bin/temporal comes from `make tools`; under CI its absence fails the test.
func devServer(t *testing.T) *testsuite.DevServer {
	t.Helper()
	cli := devserver.RequireCLI(t)
	serverOnce.Do(func() { server, serverErr = devserver.Start(context.Background(), cli) })
	require.NoError(t, serverErr)
	return server
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		_ = server.Stop()
	}
	os.Exit(code)
}

// env is one test's world: a simulator, a worker on its own task queue, and a client.
type env struct {
	t      *testing.T
	sim    *atomicworktest.Server
	client client.Client
	queue  string
	logs   *syncbuf.Buffer
}

func newEnv(t *testing.T, opts atomicworktest.Options, policy activities.Policy) *env {
	t.Helper()
	return newEnvOn(t, devServer(t), opts, policy)
}

// newEnvOn is newEnv on a given dev server (the UI test runs its own, with the UI).
func newEnvOn(t *testing.T, srv *testsuite.DevServer, opts atomicworktest.Options, policy activities.Policy) *env {
	t.Helper()
	opts.APIKey = apiKey
	sim := atomicworktest.NewServer(t, opts)

	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: sdklog.NewStructuredLogger(logger)})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	queue := "e2e-" + t.Name()
	w, err := workerapp.NewWorker(c, workerapp.Config{
		TaskQueue: queue, BaseURL: sim.URL, DefaultWorkspace: atomicworktest.ITWorkspaceID,
		Keys: map[int64]string{atomicworktest.ITWorkspaceID: apiKey}, Timeout: 5 * time.Second,
		Policy: policy, StopTimeout: 5 * time.Second,
	})
	require.NoError(t, err)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	// Tests share one dev server and the simulator's seeded employee ids: a workflow left running
	// (an offboarding in its grace period) would capture the next test's start of the same id.
	t.Cleanup(func() { terminateOpen(t, c, queue) })
	return &env{t: t, sim: sim, client: c, queue: queue, logs: logs}
}

// testEmployeeID derives a test's own employee id from base: tests share one dev server, so a
// workflow id like offboarding-E-1008 that one test completed would refuse another test's start.
func testEmployeeID(t *testing.T, base string) string {
	sum := sha256.Sum256([]byte(t.Name()))
	return fmt.Sprintf("%s-%x", base, sum[:3])
}

// employeeID gives a seeded user the test's own employee id in the test's simulator (call it
// before setting faults): a run's employee id must be the one its Atomicwork user carries.
func employeeID(t *testing.T, sim *atomicworktest.Server, u atomicwork.User) string {
	t.Helper()
	id := testEmployeeID(t, u.EmployeeID)
	_, err := sim.Client(t).PatchUser(context.Background(), u.ID, atomicwork.UserInput{EmployeeID: id})
	require.NoError(t, err)
	return id
}

// terminateOpen ends every workflow still running on a test's task queue.
func terminateOpen(t *testing.T, c client.Client, queue string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	query := fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", strings.ReplaceAll(queue, "'", "\\'"))
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			t.Logf("cleanup: list open workflows on %s: %v", queue, err)
			return
		}
		for _, ex := range resp.GetExecutions() {
			id := ex.GetExecution().GetWorkflowId()
			if err := c.TerminateWorkflow(ctx, id, ex.GetExecution().GetRunId(), "e2e test finished"); err != nil {
				t.Logf("cleanup: terminate %s: %v", id, err)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return
		}
	}
}

// startOnboarding starts an onboarding the way the starter does.
func (e *env) startOnboarding(in lifecycle.OnboardingInput) client.WorkflowRun {
	e.t.Helper()
	run, err := e.client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID:                       lifecycle.OnboardingID(in.EmployeeID),
		TaskQueue:                e.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		TypedSearchAttributes:    temporal.NewSearchAttributes(lifecycle.EmployeeIDKey.ValueSet(in.EmployeeID)),
		StaticSummary:            "Onboarding " + in.EmployeeID,
	}, lifecycle.OnboardingWorkflowName, in)
	require.NoError(e.t, err)
	return run
}

// history returns a workflow's history as JSON, for leak checks and replay fixtures.
func (e *env) history(workflowID, runID string) []byte {
	e.t.Helper()
	iter := e.client.GetWorkflowHistory(context.Background(), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(e.t, err)
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.Marshal(&h)
	require.NoError(e.t, err)
	return b
}

// requireNoKeyLeak checks a workflow's history (payloads decoded) and the worker's logs for the API key.
func (e *env) requireNoKeyLeak(workflowID, runID string) {
	e.t.Helper()
	history := decodedText(e.t, e.history(workflowID, runID))
	require.Contains(e.t, history, "json/plain", "payloads must be decoded to be searched")
	require.NotContains(e.t, history, apiKey, "the API key is in the history of %s", workflowID)
	require.NotContains(e.t, e.logs.String(), apiKey, "the API key is in the worker's logs")
}

// decodedText is a JSON document's text plus every base64 string in it decoded: protojson
// writes payload data as base64, where a plain search would never find a leaked key.
func decodedText(t *testing.T, doc []byte) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(doc, &v))
	var b strings.Builder
	b.Write(doc)
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		case string:
			if raw, err := base64.StdEncoding.DecodeString(x); err == nil {
				b.WriteByte('\n')
				b.Write(raw)
			}
		}
	}
	walk(v)
	return b.String()
}
