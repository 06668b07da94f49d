package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/workerapp"
	"github.com/atomicflow/atomicflow/lifecycle"
)

func TestReassignBadCommandLinesExit2BeforeDialing(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"reassign", "--from", "bo@example.com"}, `required flag(s) "to" not set`},
		{"no selector", []string{"reassign", "--to", "stock"}, "selector is empty"},
		{"bad from", []string{"reassign", "--from", "bo", "--to", "stock"}, `--from: "bo" is not an email address`},
		{"bad to", []string{"reassign", "--from", "bo@example.com", "--to", "ana"}, `--to: "ana" is not an email address`},
		{"same user", []string{"reassign", "--from", "bo@example.com", "--to", "BO@example.com"}, "nothing to move"},
		{"stock retired", []string{"reassign", "--from", "bo@example.com", "--to", "stock", "--set-status", "RETIRED"}, "AVAILABLE, not RETIRED"},
		{"concurrency", []string{"reassign", "--from", "bo@example.com", "--to", "stock", "--concurrency", "0"}, "--concurrency"},
		{"too much concurrency", []string{"reassign", "--from", "bo@example.com", "--to", "stock", "--concurrency", "5000"}, "concurrency 5000"},
		{"threshold", []string{"reassign", "--from", "bo@example.com", "--to", "stock", "--confirm-above", "0"}, "--yes"},
		{"asset id", []string{"reassign", "--asset-id", "x", "--to", "stock"}, "--asset-id"},
		{"batch id", []string{"reassign", "--from", "bo@example.com", "--to", "stock", "--batch-id", "bo@example.com"}, "batch id"},
		{"pause without id", []string{"reassign", "pause"}, `required flag(s) "batch-id" not set`},
		{"pause bad id", []string{"reassign", "pause", "--batch-id", "a b"}, "not a batch id"},
		{"watch bad id", []string{"reassign", "watch", "--batch-id", "a/b"}, "not a batch id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runStarter(t, map[string]string{}, noDial(t), tc.args...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
		})
	}
}

func TestReassignStartOptionsCarryNoEmail(t *testing.T) {
	f := &reassignFlags{to: "ana.diaz@example.com"}
	f.in.Selector.AssigneeEmail = "bo.li@example.com"
	f.in.Concurrency, f.in.ConfirmAbove = 20, 100
	in, err := f.input()
	require.NoError(t, err)
	assert.Equal(t, lifecycle.DeriveBatchID(in), in.BatchID)
	opts := reassignStartOptions(in, "q")
	assert.Equal(t, "asset-reassignment-"+in.BatchID, opts.ID)
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, opts.WorkflowIDConflictPolicy)
	for _, s := range []string{opts.ID, opts.StaticSummary, opts.StaticDetails} {
		assert.NotContains(t, s, "@")
		assert.NotContains(t, s, "bo.li")
	}
}

// runStarterCtx runs the starter with a context (Ctrl-C) and stdin.
func runStarterCtx(ctx context.Context, t *testing.T, env map[string]string, in string, args ...string) result {
	t.Helper()
	if _, ok := env["TEMPORAL_CONFIG_FILE"]; !ok {
		env["TEMPORAL_CONFIG_FILE"] = filepath.Join(t.TempDir(), "absent.toml")
	}
	stdinMu.Lock()
	stdin = strings.NewReader(in)
	stdinMu.Unlock()
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, dial: dialTemporal, lookup: func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}}
	code := execute(ctx, args, a)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

var stdinMu sync.Mutex

func decodeReassign(t *testing.T, r result) reassignResult {
	t.Helper()
	var out reassignResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return out
}

// TestReassignAgainstTheWorker runs the starter against a dev server, the real worker and the
// simulator: progress to the end, the confirmation prompt, dry run, pause/resume/cancel, and
// Ctrl-C on the watching CLI leaving the batch running.
func TestReassignAgainstTheWorker(t *testing.T) {
	srv := devserver.ForTest(t)
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 60})
	queue := "starter-reassign"
	w, err := workerapp.NewWorker(srv.Client(), workerapp.Config{TaskQueue: queue, BaseURL: sim.URL,
		DefaultWorkspace: atomicworktest.ITWorkspaceID, Keys: map[int64]string{atomicworktest.ITWorkspaceID: atomicworktest.DevKey},
		Timeout: 5 * time.Second})
	require.NoError(t, err)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	env := devEnv(srv, queue)
	ctx := context.Background()
	bo, _ := sim.UserByEmail(atomicworktest.DefaultExtraAssetsAssignee)

	t.Run("dry run", func(t *testing.T) {
		r := runStarterCtx(ctx, t, env, "", "reassign", "--from", bo.Email, "--to", "stock", "--dry-run")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Regexp(t, `Outcome:\s+dry-run`, r.stdout)
		assert.Regexp(t, `Would move:\s+61 assets`, r.stdout)
		assert.Zero(t, sim.Stats().WritesApplied)
	})

	t.Run("no at the prompt cancels, yes moves", func(t *testing.T) {
		args := []string{"reassign", "--all", "--asset-type", "Monitor", "--status", "IN_USE", "--to", "stock", "--confirm-above", "1"}
		r := runStarterCtx(ctx, t, env, "n\n", args...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "Move these")
		assert.Regexp(t, `Outcome:\s+cancelled`, r.stdout)
		assert.Contains(t, r.stdout, "not confirmed at the prompt")
		assert.Zero(t, sim.Stats().WritesApplied)

		r = runStarterCtx(ctx, t, env, "y\n", append(args, "--json")...)
		require.Equal(t, 0, r.code, r.stderr)
		out := decodeReassign(t, r)
		require.NotNil(t, out.Report)
		assert.Equal(t, lifecycle.OutcomeCompleted, out.Report.Outcome)
		assert.Positive(t, out.Report.Done)
		assert.Equal(t, out.Report.Done, sim.Stats().WritesApplied)
	})

	t.Run("pause, resume, Ctrl-C, watch, cancel", func(t *testing.T) {
		// Two calls an asset, two at a time: 2.5 assets a second, so that a range (one second of
		// work) leaves most for later, and the batch (some 25 s) outlasts the commands below
		// however slowly a busy machine runs them.
		sim.SetFaults(atomicworktest.Faults{Latency: 400 * time.Millisecond})
		defer sim.SetFaults(atomicworktest.Faults{})
		args := []string{"reassign", "--from", bo.Email, "--to", "ana.diaz@example.com", "--concurrency", "2", "--yes", "--batch-id", "ctrl-c"}
		watchCtx, ctrlC := context.WithCancel(ctx)
		done := make(chan result, 1)
		go func() { done <- runStarterCtx(watchCtx, t, env, "", args...) }()
		id := lifecycle.ReassignmentID("ctrl-c")
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			v, err := srv.Client().QueryWorkflow(ctx, id, "", lifecycle.QueryProgress)
			if !assert.NoError(c, err) {
				return
			}
			var p lifecycle.ReassignmentProgress
			assert.NoError(c, v.Get(&p))
			assert.Positive(c, p.Done)
		}, settle, 100*time.Millisecond)

		r := runStarter(t, env, dialTemporal, "reassign", "pause", "--batch-id", "ctrl-c", "--reason", "freeze")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, id+": paused.")
		r = runStarter(t, env, dialTemporal, "reassign", "resume", "--batch-id", "ctrl-c")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, id+": running.")
		r = runStarter(t, env, dialTemporal, "reassign", "resume", "--batch-id", "ctrl-c")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "not paused")

		ctrlC()
		w := <-done
		assert.Equal(t, 1, w.code)
		assert.Contains(t, w.stderr, "the batch goes on. Reattach: starter reassign watch --batch-id ctrl-c")
		desc, err := srv.Client().DescribeWorkflowExecution(ctx, id, "")
		require.NoError(t, err)
		assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.GetWorkflowExecutionInfo().GetStatus(), "Ctrl-C does not cancel the batch")

		r = runStarter(t, env, dialTemporal, "reassign", "cancel", "--batch-id", "ctrl-c", "--reason", "test over")
		require.Equal(t, 0, r.code, r.stderr)
		r = runStarter(t, env, dialTemporal, "reassign", "watch", "--batch-id", "ctrl-c", "--json")
		require.Equal(t, 0, r.code, r.stderr)
		out := decodeReassign(t, r)
		require.NotNil(t, out.Report)
		assert.Equal(t, lifecycle.OutcomeCancelled, out.Report.Outcome)
		assert.Equal(t, "test over", out.Report.Reason)
		assert.Positive(t, out.Report.NotProcessed)
		moved := 0
		ana, _ := sim.UserByEmail("ana.diaz@example.com")
		for _, a := range sim.Assets() {
			if a.AssigneeID(atomicwork.FieldAssignedTo) == ana.ID && a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetInUse {
				moved++
			}
		}
		assert.GreaterOrEqual(t, moved, out.Report.Done)

		r = runStarter(t, env, dialTemporal, "reassign", "pause", "--batch-id", "nope")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "asset-reassignment-nope does not exist (never started in this namespace): nothing was sent")
	})

	t.Run("to stock with a progress bar", func(t *testing.T) {
		r := runStarterCtx(ctx, t, env, "", "reassign", "--from", bo.Email, "--to", "stock", "--yes")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "Started asset-reassignment-")
		assert.Regexp(t, `Outcome:\s+completed`, r.stdout)
		for _, a := range sim.Assets() {
			assert.NotEqual(t, bo.ID, a.AssigneeID(atomicwork.FieldAssignedTo), "asset %d", a.ID)
		}
	})
}
