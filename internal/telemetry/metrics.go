// Package telemetry holds atomicflow's own metrics, beside the Temporal SDK's: Atomicwork calls by
// operation and status class, 429s, the retry delays activities hand to Temporal, and workflows
// by type and outcome. They are emitted through the SDK's client.MetricsHandler, so they reach
// whatever backend the worker's Temporal client uses (Prometheus, via NewPrometheus).
//
// Where each is measured, and why there:
//   - Atomicwork calls: an http.RoundTripper (NewTransport) that the worker gives the client as
//     atomicwork.Config.Transport. The client stays free of metrics (it imports nothing of ours)
//     and only tells the transport which operation a request is (atomicwork.Operation).
//   - Retry delays: an activity interceptor (WorkerInterceptor) reads NextRetryDelay off the very
//     error an activity returns, after activities mapped it: what Temporal gets, whichever
//     activity or mapping produced it, with no change to the activities.
//   - Workflows by outcome: the same interceptor, around each workflow's entry function, reading
//     the result's Outcome field; replay-safe, since workflow.GetMetricsHandler emits nothing
//     while a history is replayed.
package telemetry

// Metric names as handed to the metrics handler. Through Prometheus (NewPrometheus) counters get
// the suffix _total and timers _seconds: atomicflow_atomicwork_requests_total, and so on.
const (
	// AtomicworkRequests counts Atomicwork HTTP calls; labels operation and status_class.
	AtomicworkRequests = "atomicflow_atomicwork_requests"
	// AtomicworkLatency is a histogram of Atomicwork call latency, until the response headers
	// arrived (or the call failed); labels operation and status_class.
	AtomicworkLatency = "atomicflow_atomicwork_request_latency"
	// AtomicworkRateLimited counts 429 answers; label operation.
	AtomicworkRateLimited = "atomicflow_atomicwork_rate_limited"
	// ActivityRetryDelay is a histogram of the NextRetryDelay of the errors activities return
	// (Retry-After of a 429); labels error_type and the SDK's activity_type, workflow_type, task_queue.
	ActivityRetryDelay = "atomicflow_activity_retry_delay"
	// WorkflowsCompleted counts workflow runs that ended; labels outcome and the SDK's
	// workflow_type, task_queue.
	WorkflowsCompleted = "atomicflow_workflows_completed"
)

// Label names.
const (
	LabelOperation   = "operation"
	LabelStatusClass = "status_class"
	LabelErrorType   = "error_type"
	LabelOutcome     = "outcome"
)

// Status classes of AtomicworkRequests besides "2xx", "4xx", "5xx" (and "1xx", "3xx").
const (
	// ClassNetwork is a call that got no HTTP answer: refused, reset, DNS, TLS, or timed out.
	ClassNetwork = "network"
	// ClassCanceled is a call whose caller gave up first (the activity was cancelled or the
	// worker is stopping): not the API's fault.
	ClassCanceled = "canceled"
)

// Outcomes of WorkflowsCompleted besides those of the results (completed, cancelled, rehired,
// dry-run).
const (
	// OutcomeCompleted is a run whose result has no Outcome field.
	OutcomeCompleted = "completed"
	// OutcomeFailed is a run that returned an error.
	OutcomeFailed = "failed"
	// OutcomeCancelled is a run that Temporal cancelled and that returned the cancellation.
	OutcomeCancelled = "cancelled"
)

// HistogramBuckets are the bucket bounds, in seconds, of every histogram NewPrometheus makes, the
// SDK's included: from 1 ms for API calls to 10 minutes for retry delays and schedule-to-start
// latencies (tally's default stops at 10 s).
var HistogramBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 120, 300, 600,
}
