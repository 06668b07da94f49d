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
	"github.com/atomicflow/atomicflow/internal/telemetry"
	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/workflows"
)

// metricsShutdownTimeout bounds the last scrape after the worker stopped.
const metricsShutdownTimeout = 5 * time.Second

// NewWorker returns a worker on cfg.TaskQueue with atomicflow's workflows and activities
// registered: one Atomicwork client per workspace of cfg.Keys. The caller starts and stops it.
func NewWorker(c client.Client, cfg Config) (worker.Worker, error) {
	clients, err := newClients(cfg, telemetry.NewTransport(nil, cfg.Metrics)) // one connection pool, calls counted
	if err != nil {
		return nil, err
	}
	acts, err := activities.New(clients, cfg.DefaultWorkspace, cfg.Policy)
	if err != nil {
		return nil, err
	}
	queue := cfg.TaskQueue
	if queue == "" {
		queue = lifecycle.DefaultTaskQueue
	}
	w := worker.New(c, queue, workerOptions(cfg))
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: lifecycle.OffboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Reconciliation, workflow.RegisterOptions{Name: lifecycle.ReconciliationWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.NewReassignment(ReassignMode(cfg.RPS)), workflow.RegisterOptions{Name: lifecycle.ReassignmentWorkflowName})
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

// ActivitiesPerSecond is the task queue's activity rate for an Atomicwork limit of rps requests per
// second (0 = unlimited): the ceiling across every worker process of the queue (each must be given
// the same ATOMICWORK_RPS), which the Temporal server enforces. Calls are paced by each worker's
// pacer (newClients), so the ceiling only has to assume what every activity makes at least, one
// call: one-call activities (revocations) get the API's whole limit, where the former assumption
// of two calls held them to half of it, and several workers' one-call activities stay within it
// together. Activities making more calls rely on each worker's pacer, and across workers on its
// AIMD backing off from the 429s.
func ActivitiesPerSecond(rps float64) float64 {
	if rps <= 0 {
		return 0
	}
	return rps
}

// minRangeRPS is the lowest ATOMICWORK_RPS at which bulk reassignments move assets in ranges: a
// range at the most concurrency then finishes the assets in flight when its budget ends within
// 10 of the 30 seconds its attempt has beyond the budget (workflows' rangeCall).
const minRangeRPS = lifecycle.MaxReassignConcurrency * activities.ReassignCallsPerAsset / 10

// ReassignMode is how this worker's bulk reassignments move assets: in ranges (each moves up to a
// thousand assets in one activity, as fast as a plain concurrent loop, with no per-asset
// bookkeeping in the history), now that the worker's pacer paces each call of a range, which the
// task queue's activity rate cannot see. Only a limit too low for a range to finish its assets in
// flight in time (under minRangeRPS) keeps one activity per asset, where the API is the
// bottleneck anyway. A run keeps the mode it started with (a side effect in its history).
func ReassignMode(rps float64) workflows.ReassignMode {
	if rps > 0 && rps < minRangeRPS {
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
