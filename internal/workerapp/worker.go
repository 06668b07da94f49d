package workerapp

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/internal/telemetry"
	"github.com/atomicflow/atomicflow/workflows"
)

// metricsShutdownTimeout bounds the last scrape after the worker stopped.
const metricsShutdownTimeout = 5 * time.Second

// NewWorker returns a worker on cfg.TaskQueue with atomicflow's workflows and activities
// registered: one Atomicwork client per workspace of cfg.Keys. The caller starts and stops it.
func NewWorker(c client.Client, cfg Config) (worker.Worker, error) {
	clients := make(map[int64]*atomicwork.Client, len(cfg.Keys))
	transport := telemetry.NewTransport(nil, cfg.Metrics) // one connection pool, calls counted
	for ws, key := range cfg.Keys {
		ac, err := atomicwork.New(atomicwork.Config{BaseURL: cfg.BaseURL, APIKey: key, WorkspaceID: ws, Timeout: cfg.Timeout,
			Transport: transport})
		if err != nil {
			return nil, fmt.Errorf("workspace %d: %w", ws, err)
		}
		clients[ws] = ac
	}
	acts, err := activities.New(clients, cfg.DefaultWorkspace, cfg.Policy)
	if err != nil {
		return nil, err
	}
	queue := cfg.TaskQueue
	if queue == "" {
		queue = workflows.DefaultTaskQueue
	}
	w := worker.New(c, queue, workerOptions(cfg))
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: workflows.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: workflows.OffboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Reconciliation, workflow.RegisterOptions{Name: workflows.ReconciliationWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.NewReassignment(ReassignMode(cfg.RPS)), workflow.RegisterOptions{Name: workflows.ReassignmentWorkflowName})
	w.RegisterActivity(acts)
	return w, nil
}

// workerOptions are the worker's options for cfg.
func workerOptions(cfg Config) worker.Options {
	return WithPollers(worker.Options{WorkerStopTimeout: cfg.StopTimeout,
		TaskQueueActivitiesPerSecond: ActivitiesPerSecond(cfg.RPS),
		Interceptors:                 []interceptor.WorkerInterceptor{telemetry.NewWorkerInterceptor(), activities.NewKeepAlive()}})
}

// WithPollers returns o with autoscaling workflow and activity task pollers (server >= 1.28): the
// SDK's default of two workflow-task pollers caps Update-with-Start answers (an HR termination
// waits for its workflow task) at about 44/s with a p99 over 2 s; the server's poll answers tell
// the worker when more pollers would find work, and idle ones are let go.
func WithPollers(o worker.Options) worker.Options {
	o.WorkflowTaskPollerBehavior = worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})
	o.ActivityTaskPollerBehavior = worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})
	return o
}

// rpsHeadroom keeps the activity rate a little under the API's limit: the page activities' list
// calls and the token bucket's rounding then stay within it, so 429s stay rare.
const rpsHeadroom = 0.95

// ActivitiesPerSecond is the task queue's activity rate for an Atomicwork limit of rps requests per
// second (0 = unlimited). The server enforces it for the whole task queue, so it holds across any
// number of worker processes, each of which must be given the same ATOMICWORK_RPS. It assumes an
// activity makes activities.ReassignCallsPerAsset calls, as the bulk reassignment's per-asset
// activities do; activities that make more are rare, and their 429s are retried after Retry-After.
func ActivitiesPerSecond(rps float64) float64 {
	if rps <= 0 {
		return 0
	}
	return rps * rpsHeadroom / activities.ReassignCallsPerAsset
}

// ReassignMode is how this worker's bulk reassignments move assets. With a rate limit
// (ATOMICWORK_RPS) one activity per asset: the server's task-queue rate then paces every read
// and write across all worker processes, and the API is the bottleneck anyway (93% of its limit
// measured), while a range's in-activity concurrency would fire calls that the per-activity rate
// cannot see. Without a limit, ranges: each moves up to a thousand assets in one activity, as
// fast as a plain concurrent loop, with no per-asset bookkeeping in the history.
func ReassignMode(rps float64) workflows.ReassignMode {
	if rps > 0 {
		return workflows.ReassignPerAsset
	}
	return workflows.ReassignInRanges
}

// Run connects to Temporal with cfg.Temporal, logging through logger, serves metrics when
// cfg.MetricsAddr is set, checks the Atomicwork keys and the policy (Preflight: a *ConfigError
// when they cannot work), and runs the worker until ctx ends or the worker fails. On ctx's end it
// stops polling and gives running activities cfg.StopTimeout to finish.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	opts := ClientOptions(cfg, logger)
	if cfg.MetricsAddr != "" {
		m, err := startMetrics(cfg.MetricsAddr, logger)
		if err != nil {
			return err
		}
		defer func() {
			// ctx is done by now; the shutdown gets its own short deadline.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), metricsShutdownTimeout)
			defer cancel()
			if cerr := m.close(sctx); cerr != nil {
				logger.Warn("Metrics server shutdown", "Error", cerr)
			}
		}()
		opts.MetricsHandler = m.handler
		cfg.Metrics = m.handler
	}

	// Before Temporal: a key or URL that cannot work is reported whatever Temporal's state.
	if err := Preflight(ctx, cfg, logger); err != nil {
		if ctx.Err() != nil {
			return nil // stopped during the check: nothing started
		}
		return err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil && ctx.Err() != nil {
		return nil // stopped before the connection was up: nothing to drain
	}
	if err != nil {
		return fmt.Errorf("cannot connect to Temporal at %s (namespace %s): %w: start it (make dev) or fix TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE or TEMPORAL_PROFILE",
			orDefault(opts.HostPort, client.DefaultHostPort), orDefault(opts.Namespace, client.DefaultNamespace), err)
	}
	defer c.Close()

	w, err := NewWorker(c, cfg)
	if err != nil {
		return err
	}
	logger.Info("Worker starting", "Config", cfg.String())
	stop := make(chan any)
	defer context.AfterFunc(ctx, func() { close(stop) })()
	if err := w.Run(stop); err != nil {
		return fmt.Errorf("worker stopped: %w", err)
	}
	logger.Info("Worker stopped")
	return nil
}
