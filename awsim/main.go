// Command awsim serves the Atomicwork simulator (package atomicworktest) over HTTP: the demo
// dataset, an optional per-key rate limit and reproducible fault injection, for local development
// and end-to-end tests.
//
//	go run ./awsim                      # 127.0.0.1:8090, key dev-key
//	go run ./awsim --rps 1 --burst 1    # the second quick call gets 429 + Retry-After
//	go run ./awsim --state-file .dev/awsim.json   # keeps its data across restarts
//	go run ./awsim --help
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/version"
)

// shutdownTimeout bounds how long in-flight requests may finish after SIGINT or SIGTERM.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a bad command line; it exits 2, as the flag package does.
type usageError struct{ error }

// stateError is a state file awsim cannot use; it exits 2 too: nothing was started.
type stateError struct{ error }

// exitCode reports err on stderr and maps it to the process exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "awsim: %v (see awsim --help)\n", err)
		return 2
	}
	var se stateError
	if errors.As(err, &se) {
		fmt.Fprintf(stderr, "awsim: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "awsim: %v\n", err)
	return 1
}

// run serves until ctx ends, then shuts down gracefully. Normal output (the startup line and one
// log line per request) goes to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errVersion) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := newLogger(cfg.logFormat, stdout)
	if !cfg.quiet {
		cfg.opts.Logger = logger
	}

	h, err := newHandler(cfg, stdout)
	if err != nil {
		return err
	}
	defer h.Close()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w (is another awsim running? choose another --addr)", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Requests inherit ctx, so a stalled or delayed request ends as soon as shutdown starts.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintln(stdout, startupLine(ln.Addr().String(), cfg.opts.APIKey == ""))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	if err := h.SaveState(); err != nil {
		return fmt.Errorf("the last changes are not in %s: %w", cfg.stateFile, err)
	}
	fmt.Fprintln(stdout, "awsim: stopped")
	return nil
}

// newHandler serves the demo dataset, or the state file's data when --state-file is given.
func newHandler(cfg config, stdout io.Writer) (*atomicworktest.Handler, error) {
	if cfg.stateFile == "" {
		return atomicworktest.NewHandler(cfg.opts), nil
	}
	_, statErr := os.Stat(cfg.stateFile)
	h, err := atomicworktest.OpenHandler(cfg.opts, cfg.stateFile)
	if err != nil {
		return nil, stateError{err}
	}
	if statErr == nil {
		fmt.Fprintf(stdout, "awsim: data loaded from %s (delete it to start from the demo data)\n", cfg.stateFile)
	} else {
		fmt.Fprintf(stdout, "awsim: demo data, kept in %s from now on\n", cfg.stateFile)
	}
	return h, nil
}

// config is the parsed command line.
type config struct {
	addr      string
	stateFile string
	logFormat string
	quiet     bool
	opts      atomicworktest.Options
}

func parseFlags(args []string, stdout io.Writer) (config, error) {
	var cfg config
	o := &cfg.opts
	fs := flag.NewFlagSet("awsim", flag.ContinueOnError)
	// Errors come back to run as one line; --help prints the usage to stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	fs.StringVar(&cfg.addr, "addr", atomicworktest.DefaultAddr, "listen `address` host:port (port 0 picks a free one)")
	fs.StringVar(&o.APIKey, "api-key", "", "API `key` of workspace 1 \"IT\", replacing the demo key "+atomicworktest.DevKey+
		" (workspace 2 \"HR\" keeps "+atomicworktest.HRKey+"); never printed")
	fs.Float64Var(&o.RPS, "rps", 0, "per-key rate limit in requests per second (0 = unlimited)")
	fs.IntVar(&o.Burst, "burst", 0, "token-bucket size per key (0 = max(1, ceil(rps)))")
	fs.DurationVar(&o.Faults.Latency, "latency", 0, "delay added to every API request, e.g. 200ms")
	fs.Float64Var(&o.Faults.ServerError, "fail-5xx", 0, "`probability` (0..1) that an API request answers 503 without touching state")
	fs.Float64Var(&o.Faults.RateLimit, "fail-429", 0, "`probability` (0..1) that an API request answers 429 with Retry-After: 1 without touching state")
	fs.Float64Var(&o.Faults.WriteThen500, "fail-write-then-500", 0, "`probability` (0..1) that a write is applied and then answered 500")
	fs.Float64Var(&o.Faults.Stall, "stall", 0, "`probability` (0..1) that an API request hangs for --stall-for, then answers normally")
	fs.DurationVar(&o.Faults.StallFor, "stall-for", 35*time.Second, "how long a stalled request hangs (longer than the client's 30s timeout)")
	fs.Float64Var(&o.Faults.MalformedJSON, "malformed-json", 0, "`probability` (0..1) that a 2xx answer's body is cut in half so it does not parse")
	fs.Float64Var(&o.Faults.UnknownFields, "unknown-fields", 0, "`probability` (0..1) that a 2xx JSON answer gets an unknown field (x_sim_future) at the top and in each data item")
	fs.Float64Var(&o.Faults.EmptyPage, "empty-page", 0, "`probability` (0..1) that a list page before the last answers data [] (counts unchanged)")
	fs.Float64Var(&o.Faults.ShortPage, "short-page", 0, "`probability` (0..1) that a list page before the last loses its last item (counts unchanged)")
	fs.StringVar(&o.Faults.ListOrder, "list-order", "", "`order` of lists that ask for no sort: id_asc (default), id_desc, or shuffled (a permutation fixed by --seed)")
	fs.Float64Var(&o.Faults.IntegralFloats, "integral-floats", 0, "`probability` (0..1) that a 2xx JSON answer writes its integers as N.0 (1002.0)")
	fs.Float64Var(&o.Faults.RateLimitNoRetryAfter, "fail-429-no-retry-after", 0, "`probability` (0..1) that an API request answers 429 without Retry-After, without touching state")
	fs.Float64Var(&o.Faults.HTMLServerError, "fail-html-5xx", 0, "`probability` (0..1) that an API request answers 502 with a proxy's HTML page, without touching state")
	fs.Float64Var(&o.Faults.Reset, "fail-reset", 0, "`probability` (0..1) that an API request's connection is closed without an answer, before it is applied")
	fs.Int64Var(&o.Faults.Seed, "seed", 0, "seed of the faults and of --revocation-failure: the same seed and the same requests give the same outcomes")
	fs.DurationVar(&o.RevocationDelay, "revocation-delay", 0, "how long deprovisioning takes after a revoke with skip_deprovisioning=false (0 = done on the next read)")
	failRevocation := fs.String("fail-revocation", "", "comma-separated entitlement `names` whose deprovisioning ends FAILED")
	fs.Float64Var(&o.RevocationFailure, "revocation-failure", 0, "`probability` (0..1) that a deprovisioning attempt ends FAILED after --revocation-delay (drawn at revoke time from --seed)")
	fs.IntVar(&o.ExtraAssets, "extra-assets", 0, "add `N` laptops assigned to --extra-assets-assignee (for bulk reassignment)")
	fs.StringVar(&o.ExtraAssetsAssignee, "extra-assets-assignee", "", "`email` of the user who gets the extra laptops (default bo.li@example.com)")
	fs.BoolVar(&o.Strict, "strict", false, "reject unknown body fields and unknown asset form-field keys with 400")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "request log `format`: text or json")
	fs.StringVar(&cfg.stateFile, "state-file", "", "keep the data in this JSON `file`: loaded at start (instead of the demo dataset and --extra-assets), written atomically after changes and on shutdown; created from the demo data when missing")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.BoolVar(&cfg.quiet, "quiet", false, "log no requests (for load tests: a line per request costs the simulator CPU); the startup line and server errors still print")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs, stdout)
			return cfg, err
		}
		return cfg, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, usageError{fmt.Errorf("unexpected argument %q: awsim takes flags only", fs.Arg(0))}
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.String("awsim"))
		return cfg, errVersion
	}
	for _, name := range strings.Split(*failRevocation, ",") {
		if name = strings.TrimSpace(name); name != "" {
			o.FailRevocationOf = append(o.FailRevocationOf, name)
		}
	}
	if err := validate(cfg); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// validate checks the values the flag package accepts but the simulator cannot use.
func validate(cfg config) error {
	o := cfg.opts
	for _, p := range []struct {
		flag string
		v    float64
	}{
		{"fail-5xx", o.Faults.ServerError},
		{"fail-429", o.Faults.RateLimit},
		{"fail-write-then-500", o.Faults.WriteThen500},
		{"stall", o.Faults.Stall},
		{"malformed-json", o.Faults.MalformedJSON},
		{"unknown-fields", o.Faults.UnknownFields},
		{"empty-page", o.Faults.EmptyPage},
		{"short-page", o.Faults.ShortPage},
		{"integral-floats", o.Faults.IntegralFloats},
		{"fail-429-no-retry-after", o.Faults.RateLimitNoRetryAfter},
		{"fail-html-5xx", o.Faults.HTMLServerError},
		{"fail-reset", o.Faults.Reset},
		{"revocation-failure", o.RevocationFailure},
	} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("--%s must be a probability between 0 and 1, got %v", p.flag, p.v)
		}
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{
		{"latency", o.Faults.Latency},
		{"stall-for", o.Faults.StallFor},
		{"revocation-delay", o.RevocationDelay},
	} {
		if d.v < 0 {
			return fmt.Errorf("--%s must not be negative, got %s", d.flag, d.v)
		}
	}
	switch {
	case o.Faults.Stall > 0 && o.Faults.StallFor == 0:
		return errors.New("--stall needs a positive --stall-for")
	case math.IsNaN(o.RPS) || math.IsInf(o.RPS, 0) || o.RPS < 0:
		return fmt.Errorf("--rps must be a non-negative number (0 = unlimited), got %v", o.RPS)
	case o.Burst < 0:
		return fmt.Errorf("--burst must not be negative (0 = max(1, ceil(rps))), got %d", o.Burst)
	case o.ExtraAssets < 0:
		return fmt.Errorf("--extra-assets must not be negative, got %d", o.ExtraAssets)
	case o.ExtraAssetsAssignee != "" && !strings.Contains(o.ExtraAssetsAssignee, "@"):
		return fmt.Errorf("--extra-assets-assignee must be a user's email, got %q", o.ExtraAssetsAssignee)
	case !slices.Contains([]string{"", atomicworktest.ListOrderIDAsc, atomicworktest.ListOrderIDDesc, atomicworktest.ListOrderShuffled}, o.Faults.ListOrder):
		return fmt.Errorf("--list-order must be id_asc, id_desc or shuffled, got %q", o.Faults.ListOrder)
	case cfg.logFormat != "text" && cfg.logFormat != "json":
		return fmt.Errorf("--log-format must be text or json, got %q", cfg.logFormat)
	}
	return nil
}

// errVersion ends run after --version printed the version.
var errVersion = errors.New("version printed")

func printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, `Usage: awsim [flags]

Serves the Atomicwork simulator: the official /api/v1 paths over an in-memory demo dataset, with an
optional per-key rate limit and reproducible fault injection (faults apply to /api/v1 only).
Operator endpoints (no key): %s.

Flags:
`, strings.Join(atomicworktest.OperatorEndpoints(), ", "))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// startupLine names the key only when it is the public demo key: a custom key is a secret.
func startupLine(addr string, demoKey bool) string {
	key := "key: the one given with --api-key"
	if demoKey {
		key = fmt.Sprintf("key: %s (workspace 1 \"IT\"), %s (workspace 2 \"HR\")", atomicworktest.DevKey, atomicworktest.HRKey)
	}
	return fmt.Sprintf("awsim: Atomicwork simulator on http://%s, %s; operator endpoints: %s",
		addr, key, strings.Join(atomicworktest.OperatorEndpoints(), ", "))
}
