package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/workflows"
)

const bo = atomicworktest.DefaultExtraAssetsAssignee

// startReassignment starts a batch the way the starter does.
func startReassignment(t *testing.T, c client.Client, queue string, in lifecycle.ReassignmentInput) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID:                       lifecycle.ReassignmentID(in.BatchID),
		TaskQueue:                queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    temporal.NewSearchAttributes(lifecycle.LifecycleStageKey.ValueSet(lifecycle.StageReassignPlanning)),
		StaticSummary:            "Asset reassignment " + in.BatchID,
	}, lifecycle.ReassignmentWorkflowName, in)
	require.NoError(t, err)
	return run
}

func progressOf(ctx context.Context, c client.Client, workflowID string) (lifecycle.ReassignmentProgress, error) {
	var p lifecycle.ReassignmentProgress
	v, err := c.QueryWorkflow(ctx, workflowID, "", lifecycle.QueryProgress)
	if err != nil {
		return p, err
	}
	return p, v.Get(&p)
}

// waitProgress polls the progress query until cond holds.
func waitProgress(t *testing.T, c client.Client, workflowID string, within time.Duration, cond func(lifecycle.ReassignmentProgress) bool) lifecycle.ReassignmentProgress {
	t.Helper()
	var last lifecycle.ReassignmentProgress
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p, err := progressOf(ctx, c, workflowID)
		if !assert.NoError(ct, err) {
			return
		}
		last = p
		assert.True(ct, cond(p), "progress: %+v", p)
	}, within, 100*time.Millisecond)
	return last
}

func update(t *testing.T, c client.Client, workflowID, name string, arg any) lifecycle.ReassignmentProgress {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	var p lifecycle.ReassignmentProgress
	require.NoError(t, h.Get(ctx, &p), "%s", name)
	return p
}

// heldBy returns the ids of the assets a user holds.
func heldBy(sim *atomicworktest.Server, userID int64) []int64 {
	var out []int64
	for _, a := range sim.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == userID {
			out = append(out, a.ID)
		}
	}
	return out
}

// requireInStock asserts every asset of ids is unassigned and AVAILABLE.
func requireInStock(t *testing.T, sim *atomicworktest.Server, ids []int64) {
	t.Helper()
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	n := 0
	for _, a := range sim.Assets() {
		if want[a.ID] {
			n++
			assert.Zero(t, a.AssigneeID(atomicwork.FieldAssignedTo), "asset %d is still assigned", a.ID)
			assert.Equal(t, atomicwork.AssetAvailable, a.StatusValue(atomicwork.FieldStatus), "asset %d", a.ID)
		}
	}
	require.Equal(t, len(ids), n)
}

// runs lists a batch's runs (first to last) with their history length.
func runs(t *testing.T, c client.Client, workflowID string, want int) []*workflowservice.ListWorkflowExecutionsResponse {
	t.Helper()
	var out []*workflowservice.ListWorkflowExecutionsResponse
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = %q", workflowID), PageSize: 1000})
		if !assert.NoError(ct, err) {
			return
		}
		assert.Len(ct, resp.GetExecutions(), want, "visibility lags behind")
		out = []*workflowservice.ListWorkflowExecutionsResponse{resp}
	}, settle, 200*time.Millisecond)
	return out
}

// checkHistories asserts every run's history is small, holds no key, and its search attributes no email.
func checkHistories(t *testing.T, e *env, c client.Client, workflowID string, report lifecycle.ReassignmentReport, logs string) {
	t.Helper()
	resp := runs(t, c, workflowID, report.Runs)[0]
	for _, ex := range resp.GetExecutions() {
		assert.Less(t, ex.GetHistoryLength(), int64(10_000), "run %s", ex.GetExecution().GetRunId())
		for name, p := range ex.GetSearchAttributes().GetIndexedFields() {
			assert.NotContains(t, string(p.GetData()), "@", "search attribute %s holds an email", name)
		}
		history := decodedText(t, e.history(workflowID, ex.GetExecution().GetRunId()))
		require.Contains(t, history, `"batch_id"`, "payloads must be decoded to be searched")
		require.NotContains(t, history, apiKey, "the API key is in the history of %s", workflowID)
	}
	require.NotContains(t, logs, apiKey, "the API key is in the worker's logs")
	assert.NotContains(t, workflowID, "@")
}

// TestReassignmentThousandAssetsUnderFaults moves 1,000 laptops back to stock while the API
// answers 503s, 429s and loses write answers: every laptop ends in stock, written exactly once,
// over several continue-as-new runs, and the report's counts match the simulator's.
func TestReassignmentThousandAssetsUnderFaults(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{ExtraAssets: 1000,
		Faults: atomicworktest.Faults{Seed: 11, ServerError: 0.03, RateLimit: 0.02, WriteThen500: 0.05}}, noPolicy)
	boUser, ok := e.sim.UserByEmail(bo)
	require.True(t, ok)
	held := heldBy(e.sim, boUser.ID)
	require.GreaterOrEqual(t, len(held), 1000)

	in := lifecycle.ReassignmentInput{BatchID: "e2e-thousand", Selector: lifecycle.AssetSelector{AssigneeEmail: bo},
		Target: lifecycle.AssetTarget{Stock: true}, Confirmed: true, Concurrency: 20, AssetsPerRun: 400}
	run := startReassignment(t, e.client, e.queue, in)
	ctx, cancel := context.WithTimeout(context.Background(), 2*runDeadline)
	defer cancel()
	var rep lifecycle.ReassignmentReport
	require.NoError(t, run.Get(ctx, &rep))

	stats := e.sim.Stats()
	t.Logf("report: done %d skipped %d failed %d runs %d; sim: writes %d faults %v", rep.Done, rep.Skipped, rep.Failed, rep.Runs, stats.WritesApplied, stats.FaultsInjected)
	assert.Equal(t, lifecycle.OutcomeCompleted, rep.Outcome)
	requireInStock(t, e.sim, held)
	assert.Empty(t, heldBy(e.sim, boUser.ID))
	assert.Equal(t, len(held), rep.Done, "every asset moved by this batch, a lost answer included")
	assert.Zero(t, rep.Failed, "%v", rep.Failures)
	assert.Zero(t, rep.Skipped)
	assert.Equal(t, len(held), rep.Total)
	assert.Equal(t, len(held), stats.WritesApplied, "each asset written exactly once, whatever the retries")
	assert.Positive(t, stats.FaultsInjected[atomicworktest.FaultWriteThen500], "the run must have lost write answers")
	assert.Positive(t, stats.FaultsInjected[atomicworktest.FaultRateLimit])
	assert.GreaterOrEqual(t, rep.Runs, 3, "1,000 assets at 400 per run continue as new")
	require.Len(t, rep.RunLog, rep.Runs-1)
	checkHistories(t, e, e.client, run.GetID(), rep, e.logs.String())

	// A second run over the same selector is harmless: nothing matches any more.
	again := startReassignment(t, e.client, e.queue, in)
	var rep2 lifecycle.ReassignmentReport
	require.NoError(t, again.Get(ctx, &rep2))
	assert.Zero(t, rep2.Total)
	assert.Equal(t, stats.WritesApplied, e.sim.Stats().WritesApplied)
}

// TestReassignmentRangesListAhead: without a rate limit, the reads run in the workflow task and a
// range lists the next range's ids once its own have ended. A range ends on its time budget
// (workflows.ReassignRangeBudget), so how many ranges 1,500 assets take depends on the machine's
// speed; what does not is asserted: the ranges are the only activities (with the verification
// before completed) and the only writers, each
// asset ends in exactly one range and is written exactly once, the reads are local activities, and
// the first range lists the ids after its own so that no page activity runs between ranges. It
// records the replay fixture of ranges that list ahead.
func TestReassignmentRangesListAhead(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{ExtraAssets: 1500}, noPolicy)
	boUser, ok := e.sim.UserByEmail(bo)
	require.True(t, ok)
	held := heldBy(e.sim, boUser.ID)
	require.Greater(t, len(held), workflows.ReassignRangeSize+workflows.ReassignRangeTail, "more than one range's worth")

	in := lifecycle.ReassignmentInput{BatchID: "e2e-list-ahead", Selector: lifecycle.AssetSelector{AssigneeEmail: bo},
		Target: lifecycle.AssetTarget{Stock: true}, Confirmed: true}
	run := startReassignment(t, e.client, e.queue, in)
	firstRun := run.GetRunID() // Get follows the runs: GetRunID then names the last
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var rep lifecycle.ReassignmentReport
	require.NoError(t, run.Get(ctx, &rep))

	assert.Equal(t, lifecycle.OutcomeCompleted, rep.Outcome)
	assert.Equal(t, len(held), rep.Done)
	requireInStock(t, e.sim, held)
	requireWrittenOnce(t, e.sim, held)

	hist := readRangeHistory(t, e, run.GetID(), firstRun, rep)
	t.Logf("%d assets in %d ranges over %d runs; local activities %v", len(held), len(hist.requests), rep.Runs, hist.local)
	assert.Equal(t, []string{"ReassignRange", "VerifyReassignment"}, slices.Sorted(maps.Keys(hist.activities)),
		"the writes are the only activities, with the verification before completed")
	assert.Equal(t, 1, hist.activities["VerifyReassignment"], "verified once: it found nothing left")
	assert.GreaterOrEqual(t, hist.activities["ReassignRange"], 2, "a range takes at most %d assets",
		workflows.ReassignRangeSize+workflows.ReassignRangeTail)
	assert.Equal(t, 1, hist.local["ResolveReassignment"], "resolved once, in the workflow task")
	assert.Equal(t, 1, hist.local["PlanReassignment"], "planned once, in the workflow task")
	// A run lists once by itself (a local activity); every later id comes from a range's Next.
	assert.Equal(t, rep.Runs, hist.local["NextAssetPage"], "one listing per run: later ranges' ids come from the range before")
	assert.Len(t, hist.local, 3, "the local activities are the reads: %v", hist.local)

	ended := map[int64]int{}
	for _, res := range hist.results {
		for _, a := range res.Assets {
			ended[a.AssetID]++
			assert.Equal(t, activities.AssetMoved, a.Outcome, "asset %d: %s", a.AssetID, a.Error)
		}
	}
	for _, id := range held {
		assert.Equal(t, 1, ended[id], "asset %d must end in exactly one range", id)
	}
	assert.Len(t, ended, len(held), "the ranges moved only the selected assets")
	require.NotEmpty(t, hist.requests)
	first := hist.requests[0]
	require.NotNil(t, first.Next, "the first range lists the ids after its own: %d of %d are listed", len(first.AssetIDs), len(held))
	require.NotNil(t, hist.results[0].Next, "the first range's answer carries the next range's ids")
	assert.True(t, hist.results[0].Next.Done, "its listing reaches the end of the selection")

	checkHistories(t, e, e.client, run.GetID(), rep, e.logs.String())
	recordHistory(t, e, run.GetID(), firstRun, "reassignment-ranges-list-ahead.json")
}

// requireWrittenOnce asserts that every asset of ids was written exactly once and nothing else
// was written: the only applied writes are asset updates, as many as the assets. With every asset
// moved (it was elsewhere before, it is at the target now), each took at least one write, so no
// asset can have taken two.
func requireWrittenOnce(t *testing.T, sim *atomicworktest.Server, ids []int64) {
	t.Helper()
	const update = "PUT /api/v1/assets/{asset_id}"
	stats := sim.Stats()
	assert.Equal(t, len(ids), stats.WritesApplied, "each asset written once")
	assert.Equal(t, len(ids), stats.Calls[update][200], "the writes are asset updates: %v", stats.Calls)
}

// rangeHistory is what the histories of a batch in ranges say, over all its runs.
type rangeHistory struct {
	activities map[string]int // scheduled activities by type
	local      map[string]int // local activities by type
	// requests and results of the ReassignRange activities, first run first, in the order they
	// were scheduled; results[i] is requests[i]'s answer (zero when it did not complete).
	requests []activities.ReassignRangeRequest
	results  []activities.ReassignRangeResult
}

// readRangeHistory reads the histories of every run of a batch; firstRun is the first run's id.
func readRangeHistory(t *testing.T, e *env, workflowID, firstRun string, rep lifecycle.ReassignmentReport) rangeHistory {
	t.Helper()
	h := rangeHistory{activities: map[string]int{}, local: map[string]int{}}
	ids := []string{firstRun} // the later runs' order does not matter
	for _, ex := range runs(t, e.client, workflowID, rep.Runs)[0].GetExecutions() {
		if id := ex.GetExecution().GetRunId(); id != firstRun {
			ids = append(ids, id)
		}
	}
	dc := converter.GetDefaultDataConverter()
	for _, runID := range ids {
		var hist historypb.History
		require.NoError(t, protojson.Unmarshal(e.history(workflowID, runID), &hist))
		bySchedule := map[int64]int{} // scheduled event id -> index in requests
		for _, ev := range hist.GetEvents() {
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
				name := a.GetActivityType().GetName()
				h.activities[name]++
				if name == "ReassignRange" {
					var req activities.ReassignRangeRequest
					require.NoError(t, dc.FromPayloads(a.GetInput(), &req))
					bySchedule[ev.GetEventId()] = len(h.requests)
					h.requests = append(h.requests, req)
					h.results = append(h.results, activities.ReassignRangeResult{})
				}
			}
			if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
				if i, ok := bySchedule[a.GetScheduledEventId()]; ok {
					require.NoError(t, dc.FromPayloads(a.GetResult(), &h.results[i]))
				}
			}
			if m := ev.GetMarkerRecordedEventAttributes(); m.GetMarkerName() == "LocalActivity" {
				var data struct{ ActivityType string } // the SDK's local activity marker
				require.NoError(t, dc.FromPayloads(m.GetDetails()["data"], &data))
				h.local[data.ActivityType]++
			}
		}
	}
	return h
}

var noPolicy = activities.Policy{}

// TestReassignmentDryRunConfirmPauseResume drives a small batch through its messages: a dry run
// writes nothing; above the threshold the batch waits for confirm; pause stops new assets until
// resume; several runs carry the state. It records the replay fixtures.
func TestReassignmentDryRunConfirmPauseResume(t *testing.T) {
	// The simulator's latency paces the batch (two calls an asset, two at a time: about 4 assets
	// a second, some 10 s in all), so that the pause lands while assets remain however slowly the
	// machine answers the progress query and the update.
	e := newEnv(t, atomicworktest.Options{ExtraAssets: 40, Faults: atomicworktest.Faults{Latency: 250 * time.Millisecond}}, noPolicy)
	boUser, _ := e.sim.UserByEmail(bo)
	ana, _ := e.sim.UserByEmail("ana.diaz@example.com")
	laptop := e.sim.AssetTypeID("Laptop")
	var laptops []int64 // Bo's 40 extra laptops and the demo one
	for _, a := range e.sim.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == boUser.ID && a.TypeID() == laptop {
			laptops = append(laptops, a.ID)
		}
	}
	require.Greater(t, len(laptops), 40)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()

	in := lifecycle.ReassignmentInput{Selector: lifecycle.AssetSelector{AssigneeEmail: bo, AssetType: "Laptop"},
		Target: lifecycle.AssetTarget{AssigneeEmail: "ana.diaz@example.com"}, SetStatus: "In Use",
		ConfirmAbove: 10, Concurrency: 2, AssetsPerRun: 15, DryRun: true}
	in.BatchID = lifecycle.DeriveBatchID(in)
	var dry lifecycle.ReassignmentReport
	require.NoError(t, startReassignment(t, e.client, e.queue, in).Get(ctx, &dry))
	assert.Equal(t, lifecycle.OutcomeDryRun, dry.Outcome)
	assert.Equal(t, len(laptops), dry.Plan.Matched)
	assert.Len(t, dry.Plan.Sample, workflows.ReassignSampleSize)
	assert.Zero(t, e.sim.Stats().WritesApplied, "a dry run writes nothing")

	in.DryRun = false
	in.BatchID = lifecycle.DeriveBatchID(in)
	run := startReassignment(t, e.client, e.queue, in)
	id, firstRun := run.GetID(), run.GetRunID() // Get follows the runs: GetRunID then names the last
	p := waitProgress(t, e.client, id, settle, func(p lifecycle.ReassignmentProgress) bool {
		return p.Stage == lifecycle.StageReassignConfirming
	})
	require.NotNil(t, p.Plan)
	assert.Equal(t, len(laptops), p.Total)
	assert.Zero(t, e.sim.Stats().WritesApplied, "nothing moves before the confirmation")
	update(t, e.client, id, lifecycle.UpdateConfirm, lifecycle.ConfirmRequest{Total: len(laptops)})

	waitProgress(t, e.client, id, settle, func(p lifecycle.ReassignmentProgress) bool { return p.Done >= 5 })
	paused := update(t, e.client, id, lifecycle.UpdatePause, lifecycle.PauseRequest{Reason: "e2e"})
	assert.True(t, paused.Paused)
	p = waitProgress(t, e.client, id, settle, func(p lifecycle.ReassignmentProgress) bool {
		return p.Stage == lifecycle.StageReassignPaused && p.InFlight == 0
	})
	assert.Less(t, p.Done, len(laptops))
	assert.Equal(t, "e2e", p.PauseReason)
	update(t, e.client, id, lifecycle.UpdateResume, lifecycle.ResumeRequest{})

	var rep lifecycle.ReassignmentReport
	require.NoError(t, run.Get(ctx, &rep))
	assert.Equal(t, lifecycle.OutcomeCompleted, rep.Outcome)
	assert.Equal(t, len(laptops), rep.Done)
	assert.GreaterOrEqual(t, rep.Runs, 3)
	assert.Equal(t, len(laptops), e.sim.Stats().WritesApplied)
	isLaptop := map[int64]bool{}
	for _, id := range laptops {
		isLaptop[id] = true
	}
	for _, a := range e.sim.Assets() {
		switch {
		case isLaptop[a.ID]:
			assert.Equal(t, ana.ID, a.AssigneeID(atomicwork.FieldAssignedTo), "laptop %d", a.ID)
			assert.Equal(t, atomicwork.AssetInUse, a.StatusValue(atomicwork.FieldStatus))
		case a.AssigneeID(atomicwork.FieldAssignedTo) == boUser.ID:
			assert.NotEqual(t, laptop, a.TypeID(), "laptop %d is still Bo's", a.ID)
		}
	}
	checkHistories(t, e, e.client, id, rep, e.logs.String())

	recordHistory(t, e, id, firstRun, "reassignment-continued.json")
	desc, err := e.client.DescribeWorkflowExecution(ctx, id, "")
	require.NoError(t, err)
	recordHistory(t, e, id, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), "reassignment-completed.json")
}

// TestReassignmentSurvivesWorkerKill runs the worker as a process, kills it (SIGKILL) in the middle
// of a batch and starts another: every asset ends in stock, none is written after it got there,
// and the report's counts match the simulator's. Both ways of moving assets: one activity per
// asset (a worker with an ATOMICWORK_RPS under workerapp's minRangeRPS) and ranges (without; the simulator is slowed so that the
// kill lands inside a range, whose heartbeat then times out and whose retry resumes it).
func TestReassignmentSurvivesWorkerKill(t *testing.T) {
	srv := devServer(t)
	bin := buildWorker(t)
	for _, mode := range []struct {
		name    string
		env     []string
		latency time.Duration
	}{
		{"per-asset", []string{"ATOMICWORK_RPS=39"}, 0}, // under minRangeRPS (40): one activity per asset
		{"ranges", nil, 40 * time.Millisecond},
	} {
		t.Run(mode.name, func(t *testing.T) {
			sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: apiKey, ExtraAssets: 600,
				Faults: atomicworktest.Faults{Latency: mode.latency}})
			c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
			require.NoError(t, err)
			t.Cleanup(c.Close)
			boUser, _ := sim.UserByEmail(bo)
			held := heldBy(sim, boUser.ID)

			queue := "e2e-kill-" + mode.name
			logs := &syncbuf.Buffer{}
			env := append([]string{
				"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
				"TEMPORAL_ADDRESS=" + srv.FrontendHostPort(), "TEMPORAL_NAMESPACE=default",
				"TEMPORAL_CONFIG_FILE=" + filepath.Join(t.TempDir(), "absent.toml"),
				"ATOMICWORK_BASE_URL=" + sim.URL, "ATOMICWORK_API_KEY=" + apiKey, "ATOMICWORK_WORKSPACE_ID=1",
				"ATOMICWORK_TIMEOUT=5s", "ATOMICFLOW_TASK_QUEUE=" + queue,
				"ATOMICFLOW_WORKER_STOP_TIMEOUT=1s", "LOG_LEVEL=info",
			}, mode.env...)
			first := startWorker(t, bin, env, logs, 1)

			in := lifecycle.ReassignmentInput{BatchID: queue, Selector: lifecycle.AssetSelector{AssigneeEmail: bo},
				Target: lifecycle.AssetTarget{Stock: true}, Confirmed: true, Concurrency: 20, AssetsPerRun: 250}
			run := startReassignment(t, c, queue, in)
			// Mid-way through the second run (250 assets per run): assets are being written.
			require.Eventually(t, func() bool { return sim.Stats().WritesApplied >= 300 }, settle, 10*time.Millisecond)
			require.NoError(t, first.Process.Signal(syscall.SIGKILL)) // only the process this test started
			_ = first.Wait()
			writesAtKill := sim.Stats().WritesApplied
			t.Logf("killed the worker (pid %d) with %d writes applied", first.Process.Pid, writesAtKill)
			require.Less(t, writesAtKill, len(held), "the kill must come before the end")

			startWorker(t, bin, env, logs, 2)
			ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
			defer cancel()
			var rep lifecycle.ReassignmentReport
			require.NoError(t, run.Get(ctx, &rep))

			stats := sim.Stats()
			t.Logf("report: done %d skipped %d failed %d runs %d; sim: writes %d", rep.Done, rep.Skipped, rep.Failed, rep.Runs, stats.WritesApplied)
			requireInStock(t, sim, held)
			assert.Equal(t, len(held), stats.WritesApplied, "each asset written once: none after it got there")
			assert.Equal(t, stats.WritesApplied, rep.Done, "the report counts what the simulator applied")
			assert.Zero(t, rep.Failed)
			assert.Zero(t, rep.AlreadyAtTarget)
			assert.Equal(t, len(held), rep.Total)
			require.NotContains(t, logs.String(), apiKey)
		})
	}
}

// buildWorker builds the worker binary once per test into a temporary directory.
func buildWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/atomicflow/atomicflow/worker").CombinedOutput()
	require.NoError(t, err, "go build ./worker: %s", out)
	return bin
}

// startWorker starts the worker process and waits until it polls; the test ends it by its pid.
func startWorker(t *testing.T, bin string, env []string, logs *syncbuf.Buffer, nth int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
		}
	})
	require.Eventually(t, func() bool { return strings.Count(logs.String(), "Started Worker") >= nth },
		settle, 50*time.Millisecond, "the worker did not start: %s", logs.String())
	return cmd
}
