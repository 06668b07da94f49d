package runs

import (
	"context"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
)

// ReportStarts is the gRPC client interceptor that lets Execute and UpdateWithStart tell a run
// they started from a running one they reached (Run.AlreadyRunning). The SDK hides the response's
// Started flag, and with the USE_EXISTING conflict policy a start that reaches a running run
// returns no error, so the flag is read off the response. A client dialed without it reports every
// run as started.
func ReportStarts(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	r, ok := ctx.Value(startReportKey{}).(*startReport)
	if !ok || err != nil {
		return err
	}
	switch resp := reply.(type) {
	case *workflowservice.StartWorkflowExecutionResponse:
		r.seen, r.started = true, resp.GetStarted()
	case *workflowservice.ExecuteMultiOperationResponse:
		// Update-with-Start repeats the call until the update is durable, and a repeat finds the
		// run the first call started: the run is new if any call started it.
		for _, op := range resp.GetResponses() {
			if s := op.GetStartWorkflow(); s != nil {
				r.seen, r.started = true, r.started || s.GetStarted()
			}
		}
	}
	return err
}

// startReport is what ReportStarts saw of one start.
type startReport struct {
	seen    bool
	started bool
}

type startReportKey struct{}

// withStartReport returns a context whose workflow start ReportStarts records into the report.
func withStartReport(ctx context.Context) (context.Context, *startReport) {
	r := &startReport{}
	return context.WithValue(ctx, startReportKey{}, r), r
}

// reached says that the start reached a running run instead of starting one.
func (r *startReport) reached() bool { return r.seen && !r.started }
