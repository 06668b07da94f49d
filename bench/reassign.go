package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/testkit"
	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/runs"
)

// reassignOptions are the reassign benchmark's flags.
type reassignOptions struct {
	assets      int
	rps         float64
	concurrency int
	latency     time.Duration
	latencies   []time.Duration // with faults: each in turn, instead of latency
	perRun      int
	mode        lifecycle.ReassignMode // of (c)
	repeat      int
	temporalBin string
	simulator   string // "process" (an awsim process) or "in-process"
	serverArgs  []string
	faults      string        // "" or "heavy": measure the workflow fault-free and under these faults instead
	seed        int64         // of the faults
	limit       time.Duration // with faults: a run still going after this is stopped and reported unfinished
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
	// vsB is the median, over the rounds, of the run's rate over (b)'s in the same round: runs
	// side by side share the machine's mood of the moment, which a ratio of medians would not.
	vsB float64
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
	fmt.Fprintf(os.Stderr, "bench: building the worker and starting the simulator and the Temporal dev server...\n")
	tmp, err := os.MkdirTemp("", "atomicflow-bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }() // a leftover in $TMPDIR is harmless
	workerBin, err := buildBinary(ctx, tmp, "worker")
	if err != nil {
		return err
	}
	simOpts := atomicworktest.Options{ExtraAssets: o.assets, Faults: atomicworktest.Faults{Latency: o.latency}}
	var sim benchSim
	if o.simulator == "in-process" {
		sim = newInProcessSim(simOpts)
	} else {
		sim, err = startAwsim(ctx, tmp, simOpts)
		if err != nil {
			return err
		}
	}
	defer sim.Close()
	srv, err := testkit.StartDevServer(ctx, o.temporalBin, o.serverArgs...)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	if o.faults != "" {
		return benchReassignFaults(ctx, out, sim, srv, workerBin, o)
	}

	ac, err := atomicwork.New(atomicwork.Config{BaseURL: sim.URL(), APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	if err != nil {
		return err
	}
	bo, err := ac.LookupUserByEmail(ctx, atomicworktest.DefaultExtraAssetsAssignee)
	if err != nil {
		return fmt.Errorf("the simulator has no %s: %w", atomicworktest.DefaultExtraAssetsAssignee, err)
	}

	perRun := "the workflow's default assets per run"
	if o.perRun > 0 {
		perRun = fmt.Sprintf("%d assets per workflow run", o.perRun)
	}
	fmt.Fprintf(out, "bulk reassignment: %d+ laptops of bo.li@example.com back to stock; concurrency %d; simulator latency %s; %s; simulator: %s\n",
		o.assets, o.concurrency, o.latency, perRun, sim)
	for _, rps := range []float64{0, o.rps} {
		if err := sim.SetRateLimit(ctx, rps); err != nil {
			return err
		}
		setting := "rate limit off"
		if rps > 0 {
			setting = fmt.Sprintf("simulator at %g requests/s (ceiling %g assets/s), ATOMICWORK_RPS=%g", rps, rps/2, rps)
		}
		// Without a rate limit a run takes a fraction of a second, where a shared machine's noise
		// shows: the modes take turns for --repeat rounds and each row is its median run.
		rounds := 1
		if rps == 0 {
			rounds = o.repeat
			setting += fmt.Sprintf(" (each row the median of %d interleaved runs; \"vs (b)\" the median of the rounds' ratios)", rounds)
		}
		fmt.Fprintf(os.Stderr, "bench: %s\n", setting)
		rows, err := reassignRounds(ctx, sim, srv, workerBin, bo.ID, rps, rounds, o)
		if err != nil {
			return fmt.Errorf("%s: %w", setting, err)
		}
		printReassignTable(out, setting, rows, rps)
	}
	return nil
}

// reassignRounds runs the modes in turn for rounds rounds at one rate limit and returns each
// mode's median run.
func reassignRounds(ctx context.Context, sim benchSim, srv *testsuite.DevServer, workerBin string, userID int64, rps float64, rounds int, o reassignOptions) ([]reassignRow, error) {
	worker, err := startBenchWorker(ctx, srv.FrontendHostPort(), srv.Client(), workerBin, sim.URL(), rps)
	if err != nil {
		return nil, err
	}
	defer worker.stop() // idle, it would still poll during the next setting
	modes := []struct {
		name string
		run  func() (reassignRow, error)
	}{
		{"(a) plain Go loop, sequential", func() (reassignRow, error) { return loopReassign(ctx, sim.URL(), userID, 1) }},
		{fmt.Sprintf("(b) plain Go loop, %d goroutines", o.concurrency), func() (reassignRow, error) { return loopReassign(ctx, sim.URL(), userID, o.concurrency) }},
		{"(c) atomicflow workflow, worker process", func() (reassignRow, error) { return worker.reassign(ctx, o) }},
	}
	runsOf := make([][]reassignRow, len(modes))
	vsB := make([][]float64, len(modes)) // each run's rate over (b)'s in the same round
	for round := range rounds {
		walls := make([]string, 0, len(modes))
		for i, mode := range modes {
			row, err := measureMode(ctx, sim, userID, mode.run)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", mode.name, err)
			}
			row.mode = mode.name
			runsOf[i] = append(runsOf[i], row)
			walls = append(walls, fmt.Sprintf("%s %s", mode.name[:3], row.wall.Round(time.Millisecond)))
		}
		for i := range modes {
			vsB[i] = append(vsB[i], runsOf[i][round].rate()/runsOf[1][round].rate())
		}
		fmt.Fprintf(os.Stderr, "bench: round %d: %s\n", round+1, strings.Join(walls, ", "))
	}
	rows := make([]reassignRow, len(modes))
	for i, rs := range runsOf {
		rows[i] = median(rs, func(x, y reassignRow) int { return cmp.Compare(x.wall, y.wall) })
		rows[i].vsB = median(vsB[i], cmp.Compare[float64])
		for _, r := range rs {
			rows[i].peakRSSKB = max(rows[i].peakRSSKB, r.peakRSSKB) // the worker's, over all its runs
		}
	}
	return rows, nil
}

// measureMode runs one mode on freshly reset data and fills in its requests, 429s and assets
// moved. Counting over the API is itself a request, so it happens outside the mode's stats: after
// a reset, which the second reset then clears (along with the token bucket it drained), and after
// the stats are read.
func measureMode(ctx context.Context, sim benchSim, userID int64, run func() (reassignRow, error)) (reassignRow, error) {
	if err := sim.Reset(ctx); err != nil {
		return reassignRow{}, err
	}
	want, err := sim.HeldBy(ctx, userID)
	if err == nil {
		err = sim.Reset(ctx)
	}
	if err != nil {
		return reassignRow{}, err
	}
	row, err := run()
	if err != nil {
		return reassignRow{}, err
	}
	stats, err := sim.Stats(ctx)
	if err != nil {
		return reassignRow{}, err
	}
	row.requests, row.rejected = requestsOf(stats)
	left, err := sim.HeldBy(ctx, userID)
	if err != nil {
		return reassignRow{}, err
	}
	row.assets = want - left
	return row, nil
}

// requestsOf counts the simulator's requests and the 429s among them.
func requestsOf(stats atomicworktest.Stats) (requests, rejected int) {
	for _, byStatus := range stats.Calls {
		for status, n := range byStatus {
			requests += n
			if status == http.StatusTooManyRequests {
				rejected += n
			}
		}
	}
	return requests, rejected
}

func printReassignTable(out io.Writer, setting string, rows []reassignRow, rps float64) {
	fmt.Fprintf(out, "\n%s\n\n", setting)
	fmt.Fprintln(out, "| mode | assets moved | assets/s | vs (b) | API requests | 429s | failures | wall time | runs | history events per run (max / mean) | worker peak RSS |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|")
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
			r.vsB, r.requests, r.rejected, 100*float64(r.rejected)/float64(max(r.requests, 1)), r.failures,
			r.wall.Round(10*time.Millisecond), runs, events, rss)
	}
}

func (r reassignRow) rate() float64 { return float64(r.assets) / r.wall.Seconds() }

// median is the middle of xs by cmp (the upper one of an even count); it sorts xs.
func median[T any](xs []T, cmp func(x, y T) int) T {
	slices.SortFunc(xs, cmp)
	return xs[len(xs)/2]
}

// benchSim is the simulator the modes run against. Real scripts never share a process with the
// API, so by default it is an awsim process. In the bench process, (a) and (b) hand requests to
// the server inside one Go runtime: measured, that made (b) about 35% faster and (c), whose
// worker is another process either way, about 20%.
type benchSim interface {
	URL() string
	Reset(ctx context.Context) error
	Stats(ctx context.Context) (atomicworktest.Stats, error)
	SetRateLimit(ctx context.Context, rps float64) error
	SetFaults(ctx context.Context, f atomicworktest.Faults) error
	// HeldBy counts the assets assigned to userID.
	HeldBy(ctx context.Context, userID int64) (int, error)
	String() string // for the header line
	Close()
}

// inProcessSim is the simulator on an httptest server in the bench process, read and steered
// through its Go methods.
type inProcessSim struct {
	h   *atomicworktest.Handler
	api *httptest.Server
}

func newInProcessSim(opts atomicworktest.Options) *inProcessSim {
	h := atomicworktest.NewHandler(opts)
	return &inProcessSim{h: h, api: httptest.NewServer(h)}
}

func (s *inProcessSim) URL() string                 { return s.api.URL }
func (s *inProcessSim) Reset(context.Context) error { s.h.Reset(); return nil }
func (s *inProcessSim) String() string              { return "in the bench process" }
func (s *inProcessSim) Close()                      { s.api.Close(); s.h.Close() }
func (s *inProcessSim) Stats(context.Context) (atomicworktest.Stats, error) {
	return s.h.Stats(), nil
}
func (s *inProcessSim) SetRateLimit(_ context.Context, rps float64) error {
	s.h.SetRateLimit(rps, 0)
	return nil
}
func (s *inProcessSim) SetFaults(_ context.Context, f atomicworktest.Faults) error {
	s.h.SetFaults(f)
	return nil
}
func (s *inProcessSim) HeldBy(_ context.Context, userID int64) (int, error) {
	n := 0
	for _, a := range s.h.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == userID {
			n++
		}
	}
	return n, nil
}

// awsimProcess is an awsim process, steered through its operator endpoints (no key, no rate
// limit, no faults) and read through the API.
type awsimProcess struct {
	url    string
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returns
	ac     *atomicwork.Client
	ops    *http.Client
}

// awsimAddr finds the address in awsim's startup line
// "awsim: Atomicwork simulator on http://127.0.0.1:PORT, key: ...".
var awsimAddr = regexp.MustCompile(`(?m)^awsim: Atomicwork simulator on (http://[^\s,]+)`)

// startAwsim builds awsim into dir and starts it on a free loopback port, quiet: a log line per
// request would cost the simulator CPU that the in-process setup does not spend.
func startAwsim(ctx context.Context, dir string, opts atomicworktest.Options) (*awsimProcess, error) {
	bin, err := buildBinary(ctx, dir, "awsim")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "awsim.log")
	logs, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logs.Close() }() // the child has its own copy
	cmd := exec.Command(bin, "--quiet", "--addr", "127.0.0.1:0", "--extra-assets", strconv.Itoa(opts.ExtraAssets),
		"--latency", opts.Faults.Latency.String())
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &awsimProcess{cmd: cmd, exited: make(chan struct{}), ops: &http.Client{Timeout: time.Minute}}
	go func() { _ = cmd.Wait(); close(p.exited) }()

	deadline := time.After(30 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if m := awsimAddr.FindSubmatch(b); m != nil {
			p.url = string(m[1])
			break
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("awsim exited before it served: %s", b)
		case <-deadline:
			p.Close()
			return nil, fmt.Errorf("awsim printed no startup line in 30s: %s", b)
		case <-ctx.Done():
			p.Close()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	p.ac, err = atomicwork.New(atomicwork.Config{BaseURL: p.url, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *awsimProcess) URL() string    { return p.url }
func (p *awsimProcess) String() string { return "awsim process" }

// Close stops the awsim process this benchmark started, by its pid: SIGINT shuts it down
// gracefully; a kill follows if it has not exited after its 10s shutdown timeout.
func (p *awsimProcess) Close() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *awsimProcess) Reset(ctx context.Context) error {
	return p.op(ctx, http.MethodPost, "/_sim/reset", struct{}{}, nil)
}

func (p *awsimProcess) Stats(ctx context.Context) (atomicworktest.Stats, error) {
	var s atomicworktest.Stats
	err := p.op(ctx, http.MethodGet, "/_sim/stats", nil, &s)
	return s, err
}

func (p *awsimProcess) SetRateLimit(ctx context.Context, rps float64) error {
	return p.op(ctx, http.MethodPost, "/_sim/limits", map[string]any{"rps": rps, "burst": 0}, nil)
}

func (p *awsimProcess) SetFaults(ctx context.Context, f atomicworktest.Faults) error {
	return p.op(ctx, http.MethodPost, "/_sim/faults", f, nil)
}

// HeldBy pages through the API, waiting out 429s: after a rate-limited mode the bucket is empty.
func (p *awsimProcess) HeldBy(ctx context.Context, userID int64) (int, error) {
	ids, err := heldIDs(ctx, p.ac, userID)
	return len(ids), err
}

// op calls an operator endpoint with an optional JSON body and decodes the answer into out.
func (p *awsimProcess) op(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.url+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.ops.Do(req)
	if err != nil {
		return fmt.Errorf("awsim %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("awsim %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("awsim %s %s: %s: %s", method, path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// buildBinary builds one of the module's commands into dir and returns its path.
func buildBinary(ctx context.Context, dir, name string) (string, error) {
	bin := filepath.Join(dir, name)
	if b, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/atomicflow/atomicflow/"+name).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./%s: %v: %s", name, err, b)
	}
	return bin, nil
}

// loopReassign is the script: list the user's assets first (paging while moving them would skip
// half), then read-modify-write each, waiting Retry-After on a 429 and retrying other transient
// errors a few times, with workers goroutines. Like a script, each run starts with a new client
// (no open connections), as each (c) run starts with a new worker process.
func loopReassign(ctx context.Context, apiURL string, userID int64, workers int) (reassignRow, error) {
	start := time.Now()
	c, err := atomicwork.New(atomicwork.Config{BaseURL: apiURL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	if err != nil {
		return reassignRow{}, err
	}
	ids, err := heldIDs(ctx, c, userID)
	if err != nil {
		return reassignRow{}, err
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

// heldIDs lists the assets assigned to userID, starting over after a transient error.
func heldIDs(ctx context.Context, c *atomicwork.Client, userID int64) ([]int64, error) {
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
			return ids, nil
		}
		if !waitRetry(ctx, err, 0) {
			return nil, err
		}
	}
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

// benchWorker is a worker process configured like production (ATOMICWORK_RPS when the simulator
// limits) on a task queue of its own. It serves every (c) run of a setting: a deployed worker is
// long-lived, so a batch meets connections and a runtime already warm, as (b)'s loop does in the
// bench process. Its first, cold run is one of the --repeat runs of which the median is taken.
type benchWorker struct {
	c     client.Client
	cmd   *exec.Cmd
	queue string
	logs  *os.File
	runs  int
}

func startBenchWorker(ctx context.Context, hostPort string, c client.Client, workerBin, apiURL string, rps float64) (*benchWorker, error) {
	w := &benchWorker{c: c, queue: fmt.Sprintf("bench-reassign-%d", time.Now().UnixNano())}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(),
		"TEMPORAL_ADDRESS=" + hostPort, "TEMPORAL_NAMESPACE=default", "TEMPORAL_CONFIG_FILE=/dev/null",
		"ATOMICWORK_BASE_URL=" + apiURL, "ATOMICWORK_API_KEY=" + atomicworktest.DevKey, "ATOMICWORK_WORKSPACE_ID=1",
		"ATOMICFLOW_TASK_QUEUE=" + w.queue, "LOG_LEVEL=warn", "ATOMICFLOW_WORKER_STOP_TIMEOUT=2s"}
	if rps > 0 {
		env = append(env, "ATOMICWORK_RPS="+strconv.FormatFloat(rps, 'f', -1, 64))
	}
	var err error
	if w.logs, err = os.CreateTemp("", "atomicflow-bench-worker-*.log"); err != nil {
		return nil, err
	}
	w.cmd = exec.Command(workerBin)
	w.cmd.Env = env
	w.cmd.Stdout, w.cmd.Stderr = w.logs, w.logs
	if err := w.cmd.Start(); err != nil {
		w.removeLogs()
		return nil, err
	}
	if err := waitForPollers(ctx, c, w.queue); err != nil {
		w.stop()
		return nil, err
	}
	return w, nil
}

// stop ends the process this benchmark started, by its pid.
func (w *benchWorker) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	_ = w.cmd.Wait()
	w.removeLogs()
}

func (w *benchWorker) removeLogs() {
	_ = w.logs.Close()
	_ = os.Remove(w.logs.Name())
}

// reassign runs one batch and reads the worker's peak RSS so far.
func (w *benchWorker) reassign(ctx context.Context, o reassignOptions) (reassignRow, error) {
	w.runs++
	in := lifecycle.ReassignmentInput{BatchID: fmt.Sprintf("%s-%d", w.queue, w.runs),
		Selector: lifecycle.AssetSelector{AssigneeEmail: atomicworktest.DefaultExtraAssetsAssignee},
		Target:   lifecycle.AssetTarget{Stock: true}, Confirmed: true, Concurrency: o.concurrency, AssetsPerRun: o.perRun, Mode: o.mode}
	start := time.Now()
	run, err := runs.Execute(ctx, w.c, runs.Reassignment(in, w.queue))
	if err != nil {
		return reassignRow{}, err
	}
	var rep lifecycle.ReassignmentReport
	if err := w.c.GetWorkflow(ctx, run.WorkflowID, run.RunID).Get(ctx, &rep); err != nil { // follows continue-as-new
		b, _ := os.ReadFile(w.logs.Name())
		return reassignRow{}, fmt.Errorf("%w (worker log: %s)", err, b)
	}
	row := reassignRow{wall: time.Since(start), failures: rep.Failed, runs: rep.Runs}
	row.peakRSSKB, err = peakRSS(w.cmd.Process.Pid)
	if err != nil {
		return row, err
	}
	for _, r := range rep.RunLog {
		row.maxEvents = max(row.maxEvents, r.Events)
		row.sumEvents += r.Events
	}
	desc, err := w.c.DescribeWorkflow(ctx, run.WorkflowID, "")
	if err != nil {
		return row, err
	}
	last := desc.HistoryLength
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
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
