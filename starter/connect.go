package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"google.golang.org/grpc"

	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/internal/temporalenv"
	"github.com/atomicflow/atomicflow/runs"
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
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithChainUnaryInterceptor(runs.ReportStarts))
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to Temporal at %s (namespace %s): %w: start it (make dev) or set TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE or TEMPORAL_PROFILE",
			opts.HostPort, opts.Namespace, err)
	}
	return &connection{Client: c, Namespace: opts.Namespace, dataConverter: opts.DataConverter}, nil
}
