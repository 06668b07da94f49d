package telemetry

import (
	"context"
	"reflect"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// NewWorkerInterceptor records ActivityRetryDelay and WorkflowsCompleted through the worker's
// metrics handler (the Temporal client's): give it to worker.Options.Interceptors. Without a
// metrics handler on the client it records nothing.
func NewWorkerInterceptor() interceptor.WorkerInterceptor { return &workerInterceptor{} }

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
}

func (*workerInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

func (*workerInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workflowInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type activityInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

// ExecuteActivity records the retry delay the activity asks Temporal for. The SDK reads
// NextRetryDelay only off an *ApplicationError returned as is (a wrapped one loses it), so this
// looks only there too: the histogram shows exactly what Temporal was handed.
func (a *activityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := a.Next.ExecuteActivity(ctx, in)
	if appErr, ok := err.(*temporal.ApplicationError); ok && appErr.NextRetryDelay() > 0 {
		activity.GetMetricsHandler(ctx).WithTags(map[string]string{LabelErrorType: appErr.Type()}).
			Timer(ActivityRetryDelay).Record(appErr.NextRetryDelay())
	}
	return res, err
}

type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
}

// ExecuteWorkflow counts the run's end by outcome. workflow.GetMetricsHandler emits nothing
// during replay, so a run replayed on another worker (or for a query) is not counted twice.
func (w *workflowInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := w.Next.ExecuteWorkflow(ctx, in)
	if outcome := Outcome(res, err); outcome != "" {
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{LabelOutcome: outcome}).
			Counter(WorkflowsCompleted).Inc(1)
	}
	return res, err
}

// Outcome is how a run ended: the string field Outcome of its result when it has one
// (completed, cancelled, rehired, dry-run: every atomicflow result that can end more than one
// way has it), OutcomeCompleted when it has none, OutcomeCancelled when it returned Temporal's
// cancellation, OutcomeFailed for another error, and "" for continue-as-new (the batch goes on
// in a new run and is counted when it ends).
func Outcome(result any, err error) string {
	switch {
	case err == nil:
	case workflow.IsContinueAsNewError(err):
		return ""
	case temporal.IsCanceledError(err):
		return OutcomeCancelled
	default:
		return OutcomeFailed
	}
	v := reflect.ValueOf(result)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return OutcomeCompleted
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		if f := v.FieldByName("Outcome"); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
			return f.String()
		}
	}
	return OutcomeCompleted
}
