// Command worker runs atomicflow's Temporal worker: the workflows and the activities over the
// Atomicwork API. It is the only process that holds Atomicwork keys. Settings come from the
// environment (see .env.example, or worker --help); SIGINT or SIGTERM stops it after running
// activities finish.
//
// Exit codes: 0 stopped cleanly (or --help, --version), 1 runtime error, 2 bad configuration or
// command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// Workflows compute day one in the hire's time zone: embed the zone database so every worker
	// computes the same instant whatever the host has installed.
	_ "time/tzdata"

	"github.com/atomicflow/atomicflow/internal/version"
	"github.com/atomicflow/atomicflow/internal/workerapp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usage is the --help text. The environment is the whole configuration; .env.example documents
// every variable.
const usage = `Usage: worker [--help | --version]

Runs atomicflow's Temporal worker: the onboarding, offboarding, reconciliation and bulk
reassignment workflows and their activities over the Atomicwork API. It takes no arguments:
its settings come from the environment (every variable is documented in .env.example).

Required:
  ATOMICWORK_BASE_URL       Atomicwork tenant URL (awsim: http://127.0.0.1:8090)
  ATOMICWORK_WORKSPACE_ID   numeric id of the default workspace (awsim: 1)
  ATOMICWORK_API_KEY        its API key, or ATOMICWORK_API_KEY_FILE (a file holding it), or
                            ATOMICWORK_KEYS_FILE (a YAML map of workspace id to key)

Often set:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_PROFILE (as the Temporal CLI)
  ATOMICFLOW_TASK_QUEUE     task queue to poll (default atomicflow)
  ATOMICFLOW_POLICY_FILE    provisioning policy (format: examples/policy.yaml)
  ATOMICWORK_RPS            the API's rate limit for the key: calls are paced to it (default 0:
                            unknown, the pace is learned from 429s and Retry-After)
  ATOMICFLOW_API_CHECK_WAIT how long the start-up check waits for Atomicwork (default 20s)
  ATOMICFLOW_START_WITHOUT_API=true   start (with a warning) when Atomicwork does not answer
  LOG_FORMAT (json|text), LOG_LEVEL, METRICS_ADDR

At start the worker checks each workspace key with one API call and the policy's names against
Atomicwork. SIGINT or SIGTERM stops it after running activities finish
(ATOMICFLOW_WORKER_STOP_TIMEOUT, default 30s).

Exit codes: 0 stopped cleanly, 1 runtime error, 2 bad configuration or command line.
`

// run handles the command line, loads the configuration and runs the worker until ctx ends; it
// returns the exit code.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usage)
			return 0
		case "-version", "--version", "version":
			fmt.Fprintln(stdout, version.String("worker"))
			return 0
		}
		fmt.Fprintf(stderr, "worker: unexpected argument %q: the worker takes its settings from the environment (see worker --help)\n", args[0])
		return 2
	}
	cfg, err := workerapp.LoadConfig(lookup)
	if err != nil {
		fmt.Fprintf(stderr, "worker: %v (see .env.example)\n", err)
		return 2
	}
	logger := workerapp.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	logger.Info("Garbage collector", "Settings", workerapp.TuneGC(lookup))
	if err := workerapp.Run(ctx, cfg, logger); err != nil {
		var ce *workerapp.ConfigError
		if errors.As(err, &ce) { // the start-up check: a key or the API URL cannot work
			fmt.Fprintf(stderr, "worker: %v\n", err)
			return 2
		}
		logger.Error("Worker failed", "Error", err)
		return 1
	}
	return 0
}
