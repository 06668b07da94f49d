// Command starter starts and steers atomicflow's workflows on Temporal. It needs Temporal access
// only (TEMPORAL_* variables or a temporal.toml profile), never Atomicwork keys.
//
// Exit codes: 0 success, 1 runtime or workflow failure (or a request refused: nothing changed),
// 2 bad flags or configuration, 3 a steering request was sent but not yet accepted: it may still
// apply (check with starter status).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomicflow/atomicflow/internal/version"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// Defaults of the starter's own settings.
const defaultUIURL = "http://localhost:8233"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], &app{stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv, dial: dialTemporal, now: time.Now})
	stop()
	os.Exit(code)
}

// app is what every command shares: its streams, its environment and the way it reaches Temporal.
type app struct {
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
	dial           dialFunc
	// now is the clock past-date rules read; tests fix it (nil is time.Now).
	now func() time.Time
}

func (a *app) clock() time.Time {
	if a.now == nil {
		return time.Now()
	}
	return a.now()
}

// env returns a variable's value, def when unset or empty.
func (a *app) env(name, def string) string {
	if v, ok := a.lookup(name); ok && v != "" {
		return v
	}
	return def
}

func (a *app) taskQueue() string { return a.env("ATOMICFLOW_TASK_QUEUE", lifecycle.DefaultTaskQueue) }

func (a *app) connect(ctx context.Context) (*connection, error) {
	return a.dial(ctx, a.lookup, a.stderr)
}

// newRootCmd builds the command tree; a new command is one more AddCommand here.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "starter",
		Short: "Start and steer atomicflow's employee-lifecycle workflows on Temporal",
		Long: `starter starts and steers atomicflow's workflows on Temporal.

It reaches Temporal like the worker and the Temporal CLI: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_API_KEY, TEMPORAL_TLS*, or a temporal.toml profile (TEMPORAL_PROFILE). It never needs
Atomicwork keys. ATOMICFLOW_TASK_QUEUE and ATOMICFLOW_UI_URL are read too, and the payload
encryption keys the workers use (ATOMICFLOW_CODEC_KEYS or ATOMICFLOW_CODEC_KEYS_FILE), so inputs
are encrypted and results decrypted (see .env.example).`,
		SilenceErrors: true, // execute prints errors, with the exit code's hint
		SilenceUsage:  true,
		Version:       version.String("starter"),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.AddCommand(newOnboardCmd(a), newDevServerFlagsCmd(a))
	root.AddCommand(newOffboardCmd(a))
	root.AddCommand(newCodecServerCmd(a), newRegisterSearchAttributesCmd(a), newHealthcheckCmd(a))
	root.AddCommand(newReassignCmd(a))
	root.AddCommand(newStatusCmd(a), newListCmd(a), newWatchCmd(a), newScheduleCmd(a))
	root.AddCommand(newListenCmd(a), newVersionCmd(a))
	return root
}

// execute runs the command line and returns the exit code.
func execute(ctx context.Context, args []string, a *app) int {
	root := newRootCmd(a)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var pending pendingError
	if errors.As(err, &pending) {
		fmt.Fprintf(a.stderr, "starter: %v\n", err)
		return 3
	}
	var rt runtimeError
	if errors.As(err, &rt) {
		fmt.Fprintf(a.stderr, "starter: %v\n", rt.err)
		return 1
	}
	// Everything else is a bad command line: cobra's own errors and usageErrors.
	fmt.Fprintf(a.stderr, "starter: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
	return 2
}

// usageError is a bad flag, argument or setting: exit code 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// runtimeError is a failure after the command line was accepted: exit code 1.
type runtimeError struct{ err error }

func (e runtimeError) Error() string { return e.err.Error() }
func (e runtimeError) Unwrap() error { return e.err }

// pendingError is a request that was sent but not accepted in time: it may still apply, so it
// is neither a failure nor a refusal (exit code 3).
type pendingError struct{ err error }

func (e pendingError) Error() string { return e.err.Error() }
func (e pendingError) Unwrap() error { return e.err }

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the starter's version (as --version does)",
		Args:  cobra.NoArgs,
		RunE: runE(func(*cobra.Command, []string) error {
			fmt.Fprintln(a.stdout, version.String("starter"))
			return nil
		}),
	}
}

// runE adapts a command's run function: its errors exit 1 unless they are usageErrors.
func runE(run func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		var ue usageError
		var pending pendingError
		if err == nil || errors.As(err, &ue) || errors.As(err, &pending) {
			return err
		}
		return runtimeError{err}
	}
}
