package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/workflows"
)

// reassignOptions are the reassign benchmark's flags.
type reassignOptions struct {
	assets      int
	rps         float64
	concurrency int
	latency     time.Duration
	perRun      int
	repeat      int
	temporalBin string
	serverArgs  []string
}

// reassignRow is one mode's measurement.
type reassignRow struct {
	mode      string
	assets    int // assets at the target at the end
	wall      time.Duration
	requests  int
	rejected  int // 429s
	failures  int
	runs      int
	maxEvents int
	sumEvents int
	peakRSSKB int
}

// benchReassign moves --assets laptops from bo.li@example.com back to stock three ways on one
// simulator, once with its rate limit off and once at --rps: (a) a plain sequential Go loop over
// the client (the script users write today), (b) the same loop with --concurrency goroutines,
// (c) the workflow on a real dev server with the worker as a separate process (as deployed), so
// its peak RSS is its own.
func benchReassign(ctx context.Context, out io.Writer, o reassignOptions) error {
	if _, err := os.Stat(o.temporalBin); err != nil {
		return fmt.Errorf("%s is missing: run `make tools` first", o.temporalBin)
	}
	sim := atomicworktest.NewHandler(atomicworktest.Options{ExtraAssets: o.assets, Faults: atomicworktest.Faults{Latency: o.latency}})
	defer sim.Close()
	api := httptest.NewServer(sim)
	defer api.Close()

	fmt.Fprintf(os.Stderr, "bench: building the worker and starting the Temporal dev server...\n")
	tmp, err := os.MkdirTemp("", "atomicflow-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	workerBin := filepath.Join(tmp, "worker")
	if b, err := exec.CommandContext(ctx, "go", "build", "-o", workerBin, "github.com/atomicflow/atomicflow/worker").CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./worker: %v: %s", err, b)
	}
	srv, err := devserver.Start(ctx, o.temporalBin, o.serverArgs...)
	if err != nil {
		return err
	}
	defer srv.Stop()

	ac, err := atomicwork.New(atomicwork.Config{BaseURL: api.URL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	if err != nil {
		return err
	}
	bo, ok := sim.UserByEmail(atomicworktest.DefaultExtraAssetsAssignee)
	if !ok {
		return errors.New("the simulator has no bo.li@example.com")
	}

	perRun := "the workflow's default assets per run"
	if o.perRun > 0 {
		perRun = fmt.Sprintf("%d assets per workflow run", o.perRun)
	}
	fmt.Fprintf(out, "bulk reassignment: %d+ laptops of bo.li@example.com back to stock; concurrency %d; simulator latency %s; %s\n",
		o.assets, o.concurrency, o.latency, perRun)
	for _, rps := range []float64{0, o.rps} {
		sim.SetRateLimit(rps, 0)
		setting := "rate limit off"
		if rps > 0 {
			setting = fmt.Sprintf("simulator at %g requests/s (ceiling %g assets/s), ATOMICWORK_RPS=%g", rps, rps/2, rps)
		}
		// Without a rate limit a run takes a fraction of a second, where a shared machine's noise
		// shows: the modes take turns for --repeat rounds and each row is its median run.
		rounds := 1
		if rps == 0 {
			rounds = o.repeat
			setting += fmt.Sprintf(" (each row the median of %d interleaved runs)", rounds)
		}
		fmt.Fprintf(os.Stderr, "bench: %s\n", setting)
		modes := []struct {
			name string
			run  func() (reassignRow, error)
		}{
			{"(a) plain Go loop, sequential", func() (reassignRow, error) { return loopReassign(ctx, ac, bo.ID, 1) }},
			{fmt.Sprintf("(b) plain Go loop, %d goroutines", o.concurrency), func() (reassignRow, error) { return loopReassign(ctx, ac, bo.ID, o.concurrency) }},
			{"(c) atomicflow workflow, worker process", func() (reassignRow, error) {
				return workflowReassign(ctx, srv.FrontendHostPort(), srv.Client(), workerBin, api.URL, rps, o)
			}},
		}
		runsOf := make([][]reassignRow, len(modes))
		for range rounds {
			for i, mode := range modes {
				sim.Reset()
				want := len(heldBy(sim, bo.ID))
				row, err := mode.run()
				if err != nil {
					return fmt.Errorf("%s, %s: %w", setting, mode.name, err)
				}
				row.mode = mode.name
				for _, byStatus := range sim.Stats().Calls {
					for status, n := range byStatus {
						row.requests += n
						if status == 429 {
							row.rejected += n
						}
					}
				}
				row.assets = want - len(heldBy(sim, bo.ID))
				runsOf[i] = append(runsOf[i], row)
			}
		}
		rows := make([]reassignRow, len(modes))
		for i, rs := range runsOf {
			slices.SortFunc(rs, func(x, y reassignRow) int { return cmp.Compare(x.wall, y.wall) })
			rows[i] = rs[len(rs)/2]
		}
		printReassignTable(out, setting, rows, rps)
	}
	return nil
}

func printReassignTable(out io.Writer, setting string, rows []reassignRow, rps float64) {
	fmt.Fprintf(out, "\n%s\n\n", setting)
	fmt.Fprintln(out, "| mode | assets moved | assets/s | vs (b) | API requests | 429s | failures | wall time | runs | history events per run (max / mean) | worker peak RSS |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|")
	base := rows[1].rate()
	for _, r := range rows {
		events, rss, runs := "n/a", "n/a", "n/a"
		if r.runs > 0 {
			runs = strconv.Itoa(r.runs)
			events = fmt.Sprintf("%d / %d", r.maxEvents, r.sumEvents/r.runs)
			rss = fmt.Sprintf("%.0f MB", float64(r.peakRSSKB)/1024)
		}
		share := ""
		if rps > 0 {
			share = fmt.Sprintf(" (%.0f%% of ceiling)", 100*r.rate()/(rps/2))
		}
		fmt.Fprintf(out, "| %s | %d | %.1f%s | %.2fx | %d | %d (%.2f%%) | %d | %s | %s | %s | %s |\n", r.mode, r.assets, r.rate(), share,
			r.rate()/base, r.requests, r.rejected, 100*float64(r.rejected)/float64(max(r.requests, 1)), r.failures,
			r.wall.Round(10*time.Millisecond), runs, events, rss)
	}
}

func (r reassignRow) rate() float64 { return float64(r.assets) / r.wall.Seconds() }

func heldBy(sim *atomicworktest.Handler, userID int64) []int64 {
	var ids []int64
	for _, a := range sim.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == userID {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// loopReassign is the script: list the user's assets first (paging while moving them would skip
// half), then read-modify-write each, waiting Retry-After on a 429 and retrying other transient
// errors a few times, with workers goroutines.
func loopReassign(ctx context.Context, c *atomicwork.Client, userID int64, workers int) (reassignRow, error) {
	start := time.Now()
	var ids []int64
	for {
		var err error
		ids = ids[:0]
		for a, e := range c.ListAssets(ctx, atomicwork.Filters{}.IsAnyOf("assigned_to_id", userID)) {
			if e != nil {
				err = e
				break
			}
			ids = append(ids, a.ID)
		}
		if err == nil {
			break
		}
		if !waitRetry(ctx, err, 0) {
			return reassignRow{}, err
		}
	}
	work := make(chan int64)
	var mu sync.Mutex
	failures := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for id := range work {
				var err error
				for attempt := 0; attempt < 20; attempt++ {
					_, _, err = c.SetAssignment(ctx, id, atomicwork.Assignment{Status: atomicwork.AssetAvailable})
					if err == nil || !waitRetry(ctx, err, attempt) {
						break
					}
				}
				if err != nil {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	return reassignRow{wall: time.Since(start), failures: failures}, nil
}

// waitRetry sleeps before retrying a transient error (Retry-After for a 429) and reports whether to retry.
func waitRetry(ctx context.Context, err error, attempt int) bool {
	if atomicwork.Classify(err) != atomicwork.Transient {
		return false
	}
	d := atomicwork.RetryAfterOf(err)
	if d == 0 {
		d = time.Duration(100<<min(attempt, 5)) * time.Millisecond
	}
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

// workflowReassign runs the batch on the dev server with a worker process configured like
// production (ATOMICWORK_RPS when the simulator limits), and reads its peak RSS before stopping it.
func workflowReassign(ctx context.Context, hostPort string, c client.Client, workerBin, apiURL string, rps float64, o reassignOptions) (reassignRow, error) {
	queue := fmt.Sprintf("bench-reassign-%d", time.Now().UnixNano())
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(),
		"TEMPORAL_ADDRESS=" + hostPort, "TEMPORAL_NAMESPACE=default", "TEMPORAL_CONFIG_FILE=/dev/null",
		"ATOMICWORK_BASE_URL=" + apiURL, "ATOMICWORK_API_KEY=" + atomicworktest.DevKey, "ATOMICWORK_WORKSPACE_ID=1",
		"ATOMICFLOW_TASK_QUEUE=" + queue, "LOG_LEVEL=warn", "ATOMICFLOW_WORKER_STOP_TIMEOUT=2s"}
	if rps > 0 {
		env = append(env, "ATOMICWORK_RPS="+strconv.FormatFloat(rps, 'f', -1, 64))
	}
	w := exec.Command(workerBin)
	w.Env = env
	logs, err := os.CreateTemp("", "atomicflow-bench-worker-*.log")
	if err != nil {
		return reassignRow{}, err
	}
	defer os.Remove(logs.Name())
	defer logs.Close()
	w.Stdout, w.Stderr = logs, logs
	if err := w.Start(); err != nil {
		return reassignRow{}, err
	}
	defer func() {
		_ = w.Process.Signal(syscall.SIGTERM) // the process this benchmark started, by its pid
		_ = w.Wait()
	}()

	// The clock starts once the worker polls, as a deployed worker does before any batch.
	if err := waitForPollers(ctx, c, queue); err != nil {
		return reassignRow{}, err
	}
	in := workflows.ReassignmentInput{BatchID: queue, Selector: workflows.AssetSelector{AssigneeEmail: atomicworktest.DefaultExtraAssetsAssignee},
		Target: workflows.AssetTarget{Stock: true}, Confirmed: true, Concurrency: o.concurrency, AssetsPerRun: o.perRun}
	start := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ReassignmentID(in.BatchID), TaskQueue: queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, workflows.ReassignmentWorkflowName, in)
	if err != nil {
		return reassignRow{}, err
	}
	var rep workflows.ReassignmentReport
	if err := run.Get(ctx, &rep); err != nil {
		b, _ := os.ReadFile(logs.Name())
		return reassignRow{}, fmt.Errorf("%w (worker log: %s)", err, b)
	}
	row := reassignRow{wall: time.Since(start), failures: rep.Failed, runs: rep.Runs}
	row.peakRSSKB, err = peakRSS(w.Process.Pid)
	if err != nil {
		return row, err
	}
	for _, r := range rep.RunLog {
		row.maxEvents = max(row.maxEvents, r.Events)
		row.sumEvents += r.Events
	}
	desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), "")
	if err != nil {
		return row, err
	}
	last := int(desc.GetWorkflowExecutionInfo().GetHistoryLength())
	row.maxEvents = max(row.maxEvents, last)
	row.sumEvents += last
	return row, nil
}

// waitForPollers waits until a worker polls the queue for workflow and activity tasks.
func waitForPollers(ctx context.Context, c client.Client, queue string) error {
	deadline := time.Now().Add(time.Minute)
	for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		for {
			resp, err := c.DescribeTaskQueue(ctx, queue, kind)
			if err == nil && len(resp.GetPollers()) > 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no worker polls %s after a minute (last error: %v)", queue, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// peakRSS reads a process's peak resident set (VmHWM) in kB from /proc.
func peakRSS(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
