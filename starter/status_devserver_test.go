package main

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// advanceSignal moves stagedOnboarding to its next stage.
const advanceSignal = "test-advance"

// stagedOnboarding stands in for the onboarding under its registered name: it answers the status
// query and moves through three stages, one per signal, upserting LifecycleStage as the real one does.
func stagedOnboarding(ctx workflow.Context, in lifecycle.OnboardingInput) (lifecycle.OnboardingResult, error) {
	st := lifecycle.OnboardingStatus{Stage: lifecycle.StagePlanning, StartDate: in.StartDate, TimeZone: in.TimeZone}
	if err := workflow.SetQueryHandler(ctx, lifecycle.QueryStatus, func() (lifecycle.OnboardingStatus, error) { return st, nil }); err != nil {
		return lifecycle.OnboardingResult{}, err
	}
	advance := workflow.GetSignalChannel(ctx, advanceSignal)
	for _, next := range []string{lifecycle.StageAccount, lifecycle.StageAccess, lifecycle.StageCompleted} {
		advance.Receive(ctx, nil)
		st.Done = append(st.Done, st.Stage)
		st.Stage = next
		if err := workflow.UpsertTypedSearchAttributes(ctx, lifecycle.LifecycleStageKey.ValueSet(next)); err != nil {
			return lifecycle.OnboardingResult{}, err
		}
	}
	return lifecycle.OnboardingResult{Outcome: lifecycle.OutcomeCompleted, UserID: 7, RequestID: "REQ-9"}, nil
}

// progressingReassignment stands in for the bulk reassignment: it answers the progress query
// (not status) and ends with its report on a signal.
func progressingReassignment(ctx workflow.Context, in lifecycle.ReassignmentInput) (lifecycle.ReassignmentReport, error) {
	p := lifecycle.ReassignmentProgress{BatchID: in.BatchID, Stage: lifecycle.StageReassignRunning, Total: 10, Done: 4, Skipped: 1, Remaining: 5, InFlight: 2, Run: 1}
	if err := workflow.SetQueryHandler(ctx, lifecycle.QueryProgress, func() (lifecycle.ReassignmentProgress, error) { return p, nil }); err != nil {
		return lifecycle.ReassignmentReport{}, err
	}
	workflow.GetSignalChannel(ctx, advanceSignal).Receive(ctx, nil)
	return lifecycle.ReassignmentReport{BatchID: in.BatchID, Outcome: lifecycle.OutcomeCompleted, Total: 10, Done: 9, Skipped: 1, Runs: 1}, nil
}

// watchOutput is a bytes.Buffer a running command writes while the test reads.
type watchOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *watchOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *watchOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startedStarter is a starter command running in the background.
type startedStarter struct {
	stdout, stderr *watchOutput
	cancel         context.CancelFunc
	done           chan int
}

func startStarter(t *testing.T, env map[string]string, args ...string) *startedStarter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &startedStarter{stdout: &watchOutput{}, stderr: &watchOutput{}, cancel: cancel, done: make(chan int, 1)}
	a := &app{stdout: s.stdout, stderr: s.stderr, dial: dialTemporal, lookup: func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}}
	go func() { s.done <- execute(ctx, args, a) }()
	t.Cleanup(cancel)
	return s
}

func (s *startedStarter) waitFor(t *testing.T, text string) {
	t.Helper()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Contains(ct, s.stdout.String(), text)
	}, settle, 20*time.Millisecond, "stderr: %s", s.stderr.String())
}

func (s *startedStarter) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case code := <-s.done:
		return code
	case <-time.After(settle):
		t.Fatalf("the command did not end; stdout: %s", s.stdout.String())
		return -1
	}
}

func startOnboardingStub(t *testing.T, c client.Client, queue, employeeID, stage string) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID:        lifecycle.OnboardingID(employeeID),
		TaskQueue: queue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			lifecycle.EmployeeIDKey.ValueSet(employeeID), lifecycle.LifecycleStageKey.ValueSet(stage)),
		StaticSummary: "Onboarding " + employeeID,
	}, lifecycle.OnboardingWorkflowName, lifecycle.OnboardingInput{EmployeeID: employeeID, StartDate: "2026-12-01", TimeZone: "Europe/London"})
	require.NoError(t, err)
	return run
}

func signalAdvance(t *testing.T, c client.Client, id string) {
	t.Helper()
	require.NoError(t, c.SignalWorkflow(context.Background(), id, "", advanceSignal, nil))
}

func TestStatusAndWatchOnDevServer(t *testing.T) {
	srv := devserver.ForTest(t)
	c := srv.Client()
	const queue = "views-q"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(stagedOnboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(progressingReassignment, workflow.RegisterOptions{Name: lifecycle.ReassignmentWorkflowName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	env := devEnv(srv, queue)
	// status queries only when the server lists a poller: wait until it does.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		tq, err := c.DescribeTaskQueue(context.Background(), queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		require.NoError(ct, err)
		assert.NotEmpty(ct, tq.GetPollers())
	}, settle, 20*time.Millisecond)

	t.Run("watch follows the stages until the workflow completes, and status shows each state", func(t *testing.T) {
		run := startOnboardingStub(t, c, queue, "E-W1", lifecycle.StagePlanning)

		st := runStarter(t, env, dialTemporal, "status", run.GetID())
		require.Equal(t, 0, st.code, st.stderr)
		assert.Regexp(t, `Workflow:\s+onboarding-E-W1 \(Onboarding, run `+run.GetRunID()+`\)\n`, st.stdout)
		assert.Regexp(t, `Status:\s+running, started \d{4}-`, st.stdout)
		assert.NotContains(t, st.stdout, "Summary:", "the static summary keeps the start's date; the live one is shown")
		assert.Regexp(t, `Stage:\s+onboarding.planning\n`, st.stdout)
		assert.Regexp(t, `Pending:\s+planning \(not known yet\)\n`, st.stdout)
		assert.Regexp(t, `Day one:\s+2026-12-01 \(Europe/London\)\n`, st.stdout)
		assert.Regexp(t, `Temporal UI:\s+http://localhost:8233/namespaces/default/workflows/onboarding-E-W1\n`, st.stdout)

		watch := startStarter(t, env, "watch", run.GetID(), "--interval", "20ms")
		watch.waitFor(t, "stage: onboarding.planning\n")
		signalAdvance(t, c, run.GetID())
		watch.waitFor(t, "stage: onboarding.planning → onboarding.account\n")
		watch.waitFor(t, "done: onboarding.planning\n")

		js := runStarter(t, env, dialTemporal, "status", run.GetID(), "--json")
		require.Equal(t, 0, js.code, js.stderr)
		var snap workflowSnapshot
		require.NoError(t, json.Unmarshal([]byte(js.stdout), &snap))
		assert.Equal(t, "running", snap.Status)
		assert.Equal(t, "onboarding", snap.Kind)
		assert.Equal(t, lifecycle.QueryStatus, snap.Query)
		assert.Equal(t, lifecycle.StageAccount, snap.Stage)
		assert.Equal(t, "E-W1", snap.EmployeeID)
		var state lifecycle.OnboardingStatus
		require.NoError(t, json.Unmarshal(snap.State, &state))
		assert.Equal(t, []string{lifecycle.StagePlanning}, state.Done)

		signalAdvance(t, c, run.GetID())
		watch.waitFor(t, "stage: onboarding.account → onboarding.access\n")
		signalAdvance(t, c, run.GetID())
		assert.Equal(t, 0, watch.exitCode(t), watch.stderr.String())
		out := watch.stdout.String()
		assert.Contains(t, out, "onboarding-E-W1 completed\n")
		assert.Contains(t, out, "REQ-9")
		assert.Contains(t, watch.stderr.String(), "Ctrl-C stops watching, never the workflow; reattach with: starter watch onboarding-E-W1")

		// A closed workflow: how it ended, its result, and (a worker replays it) its last state.
		done := runStarter(t, env, dialTemporal, "status", run.GetID())
		require.Equal(t, 0, done.code, done.stderr)
		assert.Regexp(t, `Status:\s+completed, started \S+, closed \S+\n`, done.stdout)
		assert.Regexp(t, `Stage:\s+onboarding.completed\n`, done.stdout)
		assert.Contains(t, done.stdout, "Result:\n")
		assert.Regexp(t, `  Request:\s+REQ-9\n`, done.stdout)
		js = runStarter(t, env, dialTemporal, "status", run.GetID(), "--json")
		require.NoError(t, json.Unmarshal([]byte(js.stdout), &snap))
		assert.Equal(t, "completed", snap.Status)
		assert.NotNil(t, snap.CloseTime)
		assert.JSONEq(t, `{"outcome":"completed","user_id":7,"request_id":"REQ-9","grants":null,"assets":null}`, string(snap.Result))
	})

	t.Run("a reassignment answers its progress query", func(t *testing.T) {
		id := lifecycle.ReassignmentID("b-1")
		_, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: queue},
			lifecycle.ReassignmentWorkflowName, lifecycle.ReassignmentInput{BatchID: "b-1"})
		require.NoError(t, err)
		st := runStarter(t, env, dialTemporal, "status", id)
		require.Equal(t, 0, st.code, st.stderr)
		assert.Regexp(t, `Stage:\s+reassignment.running\n`, st.stdout)
		assert.Regexp(t, `Progress:\s+4 of 10 done, 1 skipped, 0 failed, 5 remaining\n`, st.stdout)
		assert.Regexp(t, `In flight:\s+2\n`, st.stdout)

		watch := startStarter(t, env, "watch", id, "--interval", "20ms")
		watch.waitFor(t, "progress: 4 of 10 done, 1 skipped, 0 failed, 5 remaining\n")
		signalAdvance(t, c, id)
		assert.Equal(t, 0, watch.exitCode(t), watch.stderr.String())
		assert.Contains(t, watch.stdout.String(), id+" completed\n")
		assert.Regexp(t, `  Assets:\s+9 of 10 done, 1 skipped, 0 failed, 0 not processed\n`, watch.stdout.String())

		js := runStarter(t, env, dialTemporal, "status", id, "--json")
		var snap workflowSnapshot
		require.NoError(t, json.Unmarshal([]byte(js.stdout), &snap))
		assert.Equal(t, "reassignment", snap.Kind)
		assert.Equal(t, lifecycle.QueryProgress, snap.Query)
		assert.Equal(t, "completed", snap.Status)
	})

	t.Run("Ctrl-C stops watching, never the workflow", func(t *testing.T) {
		run := startOnboardingStub(t, c, queue, "E-W2", lifecycle.StagePlanning)
		watch := startStarter(t, env, "watch", run.GetID(), "--interval", "20ms")
		watch.waitFor(t, "stage: onboarding.planning\n")
		watch.cancel()
		assert.Equal(t, 0, watch.exitCode(t))
		assert.Contains(t, watch.stderr.String(), "Stopped watching; onboarding-E-W2 goes on. Reattach with: starter watch onboarding-E-W2")
		desc, err := c.DescribeWorkflow(context.Background(), run.GetID(), "")
		require.NoError(t, err)
		assert.Equal(t, "running", statusName(desc.Status))
	})

	t.Run("without a worker status shows what Temporal knows, and a terminated run", func(t *testing.T) {
		run := startOnboardingStub(t, c, "nobody-polls-q", "E-W3", lifecycle.StageAccount)
		st := runStarter(t, env, dialTemporal, "status", run.GetID())
		require.Equal(t, 0, st.code, st.stderr)
		assert.Regexp(t, `Stage:\s+onboarding.account\n`, st.stdout, "the LifecycleStage search attribute")
		assert.Regexp(t, `Day one:\s+2026-12-01 \(from its history\)\n`, st.stdout)
		assert.Regexp(t, `Live state:\s+unavailable, no worker polls task queue nobody-polls-q, so the status query cannot be answered: start the worker`, st.stdout)

		require.NoError(t, c.TerminateWorkflow(context.Background(), run.GetID(), "", "test over"))
		st = runStarter(t, env, dialTemporal, "status", run.GetID(), "--json")
		require.Equal(t, 0, st.code, st.stderr)
		var snap workflowSnapshot
		require.NoError(t, json.Unmarshal([]byte(st.stdout), &snap))
		assert.Equal(t, "terminated", snap.Status)
		assert.Contains(t, snap.Failure, "terminated")
		assert.Empty(t, snap.Result)

		// Watching a run that ended badly ends at once, exit 1.
		wr := runStarter(t, env, dialTemporal, "watch", run.GetID())
		assert.Equal(t, 1, wr.code)
		assert.Contains(t, wr.stdout, "onboarding-E-W3 terminated\n")
		assert.Contains(t, wr.stderr, "onboarding-E-W3 terminated")
	})

	t.Run("an unknown id is exit 1 with a clear message", func(t *testing.T) {
		for _, cmd := range []string{"status", "watch"} {
			r := runStarter(t, env, dialTemporal, cmd, "onboarding-nobody")
			assert.Equal(t, 1, r.code, cmd)
			assert.Contains(t, r.stderr, `no workflow "onboarding-nobody" in namespace default: check the id; `+"`starter list`"+` shows recent workflows`, cmd)
		}
	})
}

func TestListOnDevServer(t *testing.T) {
	srv := devserver.ForTest(t)
	c := srv.Client()
	env := devEnv(srv, "list-q")
	const queue = "list-nobody-q" // no worker: the runs just sit there, with their search attributes

	start := func(id, typeName, employeeID, stage string) {
		_, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: queue,
			TypedSearchAttributes: temporal.NewSearchAttributes(lifecycle.EmployeeIDKey.ValueSet(employeeID), lifecycle.LifecycleStageKey.ValueSet(stage)),
		}, typeName)
		require.NoError(t, err)
	}
	start("onboarding-E-L1", lifecycle.OnboardingWorkflowName, "E-L1", lifecycle.StageAccount)
	start("offboarding-E-L2", lifecycle.OffboardingWorkflowName, "E-L2", lifecycle.StageOffScheduled)
	start("onboarding-E-L3", lifecycle.OnboardingWorkflowName, "E-L3", lifecycle.StageAccount)
	start("onboarding-E'Q1", lifecycle.OnboardingWorkflowName, "E'Q1", lifecycle.StageAccess)
	require.NoError(t, c.TerminateWorkflow(context.Background(), "onboarding-E-L3", "", "test"))

	ids := func(ct *assert.CollectT, args ...string) []string {
		r := runStarter(t, env, dialTemporal, append(append([]string{"list"}, args...), "--json")...)
		require.Equal(ct, 0, r.code, r.stderr)
		var rows []listRow
		require.NoError(ct, json.Unmarshal([]byte(r.stdout), &rows))
		out := []string{}
		for _, row := range rows {
			out = append(out, row.WorkflowID)
		}
		return out
	}
	// Visibility is eventually consistent: wait until the terminated run shows as closed.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Equal(ct, []string{"onboarding-E-L3"}, ids(ct, "--closed"))
		assert.Len(ct, ids(ct), 4)
	}, settle, 100*time.Millisecond)

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Equal(ct, []string{"onboarding-E-L1"}, ids(ct, "--employee-id", "E-L1"))
		assert.ElementsMatch(ct, []string{"onboarding-E-L1", "onboarding-E-L3"}, ids(ct, "--stage", lifecycle.StageAccount))
		assert.Equal(ct, []string{"onboarding-E-L1"}, ids(ct, "--stage", lifecycle.StageAccount, "--open"))
		assert.Equal(ct, []string{"offboarding-E-L2"}, ids(ct, "--type", "offboarding"))
		assert.ElementsMatch(ct, []string{"onboarding-E-L1", "onboarding-E'Q1"}, ids(ct, "--type", "onboarding", "--open"))
		assert.Empty(ct, ids(ct, "--type", "reassignment"))
		// Quotes are escaped: the value matches itself, and nothing else. (Values with '"' or '\'
		// never match on the SQLite visibility store; escaping keeps them inside the literal too.)
		assert.Equal(ct, []string{"onboarding-E'Q1"}, ids(ct, "--employee-id", "E'Q1"))
		assert.Len(ct, ids(ct, "--limit", "2"), 2)
	}, settle, 100*time.Millisecond)
	// An id with a space is no employee id: refused before it reaches the query.
	injected := runStarter(t, env, dialTemporal, "list", "--employee-id", `E-L1' OR EmployeeId != '`)
	assert.Equal(t, 2, injected.code)
	assert.Contains(t, injected.stderr, "--employee-id: employee id")

	table := runStarter(t, env, dialTemporal, "list", "--employee-id", "E-L2")
	require.Equal(t, 0, table.code, table.stderr)
	assert.Regexp(t, `WORKFLOW ID\s+TYPE\s+STAGE\s+STATUS\s+STARTED\n`, table.stdout)
	assert.Regexp(t, `offboarding-E-L2\s+Offboarding\s+offboarding.scheduled\s+running\s+\d{4}-\d\d-\d\dT`, table.stdout)
	none := runStarter(t, env, dialTemporal, "list", "--employee-id", "E-nobody")
	require.Equal(t, 0, none.code)
	assert.Equal(t, "No workflows match.\n", none.stdout)
}
