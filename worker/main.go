// Command worker runs atomicflow's Temporal worker: the workflows and the activities over the
// Atomicwork API. It is the only process that holds Atomicwork keys. Settings come from the
// environment (see .env.example); SIGINT or SIGTERM stops it after running activities finish.
//
// Exit codes: 0 stopped cleanly, 1 runtime error, 2 bad configuration.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// Workflows compute day one in the hire's time zone: embed the zone database so every worker
	// computes the same instant whatever the host has installed.
	_ "time/tzdata"

	"github.com/atomicflow/atomicflow/internal/workerapp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.LookupEnv, os.Stderr)
	stop()
	os.Exit(code)
}

// run loads the configuration and runs the worker until ctx ends; it returns the exit code.
func run(ctx context.Context, lookup func(string) (string, bool), stderr io.Writer) int {
	cfg, err := workerapp.LoadConfig(lookup)
	if err != nil {
		fmt.Fprintf(stderr, "worker: %v (see .env.example)\n", err)
		return 2
	}
	logger := workerapp.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	logger.Info("Garbage collector", "Settings", workerapp.TuneGC(lookup))
	if err := workerapp.Run(ctx, cfg, logger); err != nil {
		logger.Error("Worker failed", "Error", err)
		return 1
	}
	return 0
}
