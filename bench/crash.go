package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/deadtime"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// crashOptions are `bench crash`'s settings.
type crashOptions struct {
	runs        int
	latency     time.Duration
	before      string // a worker binary to compare with (e.g. built from main), or ""
	temporalBin string
}

// benchCrash measures the dead time after a worker dies in the middle of an activity: two worker
// processes poll one task queue, an onboarding starts against a simulator slowed to latency per
// call, the worker running its EnsureUser attempt is killed (SIGKILL), and the time from the kill
// to the next attempt's start on the other worker is read off Temporal's pending activity. Each
// row is one worker binary: this module's, and --before's when given.
func benchCrash(ctx context.Context, out io.Writer, o crashOptions) error {
	if _, err := os.Stat(o.temporalBin); err != nil {
		return fmt.Errorf("%s is missing: run `make tools` first", o.temporalBin)
	}
	dir, err := os.MkdirTemp("", "atomicflow-bench-crash-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins := []struct{ name, path string }{}
	if o.before != "" {
		bins = append(bins, struct{ name, path string }{"before: " + o.before, o.before})
	}
	this, err := buildBinary(ctx, dir, "worker")
	if err != nil {
		return err
	}
	bins = append(bins, struct{ name, path string }{"this tree's worker", this})

	sim := atomicworktest.NewHandler(atomicworktest.Options{Faults: atomicworktest.Faults{Latency: o.latency}})
	api := httptest.NewServer(sim) // 127.0.0.1 only
	defer api.Close()
	defer sim.Close()
	srv, err := devserver.Start(ctx, o.temporalBin)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()

	fmt.Fprintf(out, "dead time after a worker SIGKILL in the middle of an onboarding's EnsureUser attempt: kill to the next attempt's start on a second worker; %d runs per worker (each run completed), simulator latency %s per call\n\n", o.runs, o.latency)
	fmt.Fprintln(out, "| worker | median | min | max | attempt ended by |")
	fmt.Fprintln(out, "|---|---|---|---|---|")
	for _, b := range bins {
		var dead []time.Duration
		ended := map[string]int{}
		for i := range o.runs {
			d, timeout, err := crashOnce(ctx, srv.Client(), srv.FrontendHostPort(), api.URL, b.path, fmt.Sprintf("%d-%d", time.Now().UnixNano(), i))
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", b.name, i+1, err)
			}
			dead = append(dead, d)
			ended[timeout]++
		}
		var why []string
		for t, n := range ended {
			why = append(why, fmt.Sprintf("%s timeout ×%d", t, n))
		}
		slices.Sort(why)
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s |\n", b.name, secs(percentile(dead, 50)), secs(slices.Min(dead)), secs(slices.Max(dead)),
			strings.Join(why, ", "))
	}
	return nil
}

// crashOnce runs one onboarding on two fresh workers, kills the one running EnsureUser, and
// returns the dead time and the timeout that ended the killed attempt once the run completed.
func crashOnce(ctx context.Context, c client.Client, hostPort, apiURL, bin, suffix string) (time.Duration, string, error) {
	queue := "bench-crash-" + suffix
	var workers []*exec.Cmd
	defer func() {
		for _, w := range workers {
			if w.ProcessState == nil { // only the processes this benchmark started, by pid
				_ = w.Process.Signal(syscall.SIGTERM)
				_ = w.Wait()
			}
		}
	}()
	for range 2 {
		w, err := startCrashWorker(ctx, c, hostPort, apiURL, bin, queue)
		if err != nil {
			return 0, "", err
		}
		workers = append(workers, w)
	}
	in := lifecycle.OnboardingInput{EmployeeID: "CRASH-" + suffix, Email: "crash." + suffix + "@example.com",
		FirstName: "Crash", LastName: suffix, Department: "Engineering", TimeZone: "UTC",
		StartDate:    time.Now().UTC().Add(-24 * time.Hour).Format(time.DateOnly),
		Entitlements: []string{"okta-base", "github-engineering"}, AssetTypes: []string{"Laptop"}}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: lifecycle.OnboardingID(in.EmployeeID), TaskQueue: queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, lifecycle.OnboardingWorkflowName, in)
	if err != nil {
		return 0, "", err
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	inFlight, err := deadtime.Started(rctx, c, run.GetID(), "EnsureUser")
	if err != nil {
		return 0, "", err
	}
	victim := slices.IndexFunc(workers, func(w *exec.Cmd) bool {
		return strings.HasPrefix(inFlight.GetLastWorkerIdentity(), strconv.Itoa(w.Process.Pid)+"@")
	})
	if victim < 0 {
		return 0, "", fmt.Errorf("EnsureUser runs on %q, not on a worker this benchmark started", inFlight.GetLastWorkerIdentity())
	}
	if err := workers[victim].Process.Signal(syscall.SIGKILL); err != nil {
		return 0, "", err
	}
	killed := time.Now()
	_ = workers[victim].Wait()
	next, err := deadtime.NextAttempt(rctx, c, run.GetID(), inFlight)
	if err != nil {
		return 0, "", err
	}
	var res lifecycle.OnboardingResult
	if err := run.Get(rctx, &res); err != nil {
		return 0, "", fmt.Errorf("the onboarding after the kill: %w", err)
	}
	if res.Outcome != lifecycle.OutcomeCompleted {
		return 0, "", fmt.Errorf("the onboarding after the kill ended %s", res.Outcome)
	}
	return next.GetLastStartedTime().AsTime().Sub(killed), deadtime.TimeoutType(next), nil
}

// startCrashWorker starts a worker process on queue and waits until it polls for activities.
func startCrashWorker(ctx context.Context, c client.Client, hostPort, apiURL, bin, queue string) (*exec.Cmd, error) {
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(),
		"TEMPORAL_ADDRESS=" + hostPort, "TEMPORAL_NAMESPACE=default", "TEMPORAL_CONFIG_FILE=/dev/null",
		"ATOMICWORK_BASE_URL=" + apiURL, "ATOMICWORK_API_KEY=" + atomicworktest.DevKey, "ATOMICWORK_WORKSPACE_ID=1",
		"ATOMICFLOW_TASK_QUEUE=" + queue, "LOG_LEVEL=warn", "ATOMICFLOW_WORKER_STOP_TIMEOUT=2s"}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	prefix := strconv.Itoa(cmd.Process.Pid) + "@"
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		resp, err := c.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		if err == nil && slices.ContainsFunc(resp.GetPollers(), func(p *taskqueuepb.PollerInfo) bool {
			return strings.HasPrefix(p.GetIdentity(), prefix)
		}) {
			return cmd, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	return nil, fmt.Errorf("worker pid %d does not poll %s after a minute", cmd.Process.Pid, queue)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
