package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/internal/temporalenv"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"google.golang.org/grpc"
)

// connection is a Temporal client plus the namespace it talks to (for UI links).
type connection struct {
	client.Client
	Namespace string
	// dataConverter decodes payloads read outside the client's own calls (history events); nil
	// is the SDK's default.
	dataConverter converter.DataConverter
}

// dialFunc connects to Temporal; tests replace it.
type dialFunc func(ctx context.Context, lookup func(string) (string, bool), logs io.Writer) (*connection, error)

// dialTemporal connects the way the worker and the Temporal CLI do: temporal.toml (profile
// TEMPORAL_PROFILE) overridden by TEMPORAL_* variables. The SDK logs warnings only, to logs, so
// stdout stays clean for --json.
func dialTemporal(ctx context.Context, lookup func(string) (string, bool), logs io.Writer) (*connection, error) {
	opts, err := temporalenv.ClientOptions(lookup)
	if err != nil {
		return nil, usageError{err}
	}
	// Encrypt inputs and decrypt results, queries and failures with the worker's keys, if any.
	ring, err := codec.FromEnv(lookup)
	if err != nil {
		return nil, usageError{err}
	}
	codec.Apply(&opts, ring)
	opts.Logger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithChainUnaryInterceptor(recordStart))
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to Temporal at %s (namespace %s): %w: start it (make dev) or set TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE or TEMPORAL_PROFILE",
			opts.HostPort, opts.Namespace, err)
	}
	return &connection{Client: c, Namespace: opts.Namespace, dataConverter: opts.DataConverter}, nil
}

// startReport tells whether a StartWorkflowExecution (or Update-with-Start) call created a run.
// The SDK hides the response's Started flag, and with the USE_EXISTING conflict policy a start
// that reaches a running workflow returns no error, so recordStart reads the flag off the gRPC
// response.
type startReport struct {
	seen    bool
	started bool
}

type startReportKey struct{}

// withStartReport returns a context whose workflow start records into the returned report.
func withStartReport(ctx context.Context) (context.Context, *startReport) {
	r := &startReport{}
	return context.WithValue(ctx, startReportKey{}, r), r
}

func recordStart(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
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
