package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/net/netutil"

	"github.com/atomicflow/atomicflow/hrevents"
)

// hrSecretsVar holds the webhook secrets, comma-separated (two while rotating).
const hrSecretsVar = "ATOMICFLOW_HR_SECRETS"

// listenFlags are the listen command's flags.
type listenFlags struct {
	addr       string
	timeout    time.Duration
	retryAfter time.Duration
}

func newListenCmd(a *app) *cobra.Command {
	f := &listenFlags{}
	cmd := &cobra.Command{
		Use:   "listen [--addr 127.0.0.1:8089]",
		Short: "Receive signed HR webhooks and start or steer onboardings and offboardings",
		Long: `listen is the HR webhook receiver. It serves POST /hr/events in atomicflow's generic format
(HR-EVENTS.md) and GET /healthz; GET /metrics (Prometheus) is served on ` + hrMetricsAddrVar + `
(default 127.0.0.1:9091, loopback only; off: not at all). /healthz answers 200 while Temporal
passes its health check (checked at most once a second, 2s deadline) and 503 naming what failed
otherwise, so a load balancer sends deliveries elsewhere; ` + "`starter healthcheck URL`" + ` exits 1 then.

Limits, each with a safe default (a bad value exits 2 naming it): ` + hrMaxConnectionsVar + ` (1024
connections; more wait to be accepted), ` + hrReadHeaderTimeoutVar + ` (5s) and ` + hrReadTimeoutVar + `
(15s: headers and body) cut slow clients, ` + hrIdleTimeoutVar + ` (60s) closes idle connections, and
` + hrMaxInFlightVar + ` (8) bodies over 16 KiB are read at once; one more is answered 503 with
Retry-After, unread. Signature headers are checked before the body is read; a body over 1 MiB is 413.

Every delivery is signed: X-Atomicflow-Timestamp is the Unix time of sending and
X-Atomicflow-Signature is v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>"> with one of the
secrets in ` + hrSecretsVar + ` (comma-separated; two while rotating). A delivery older or newer
than 5 minutes, or signed otherwise, is answered 401.

Each event starts or updates onboarding-<employee id> or offboarding-<employee id>: 202 once
Temporal took it, 200 with "duplicate": true for an event id answered before, 200 with an
"outcome" for an event that changes nothing (ignored or rejected, with a note), 400 for a bad
event, 409 with Retry-After for an event whose workflow has not started yet (deliver it again
after the one that starts it), 409 EVENT_ID_REUSED for an event id answered before for another
event, 415 for a Content-Type other than application/json, and 503 with Retry-After while
Temporal cannot be reached. Nothing is logged from the body.

A termination whose last working day has ended offboards at once, unless that day is more than
` + hrevents.MaxPastDaysVar + ` days in the past (default 30): then the offboarding is held (the
answer says "held": true) and revokes nothing until ` + "`starter offboard now`" + ` or
` + "`starter offboard cancel`" + `.

Temporal is reached like the other commands (TEMPORAL_*, temporal.toml); workflows go to
ATOMICFLOW_TASK_QUEUE. Atomicwork keys are never needed. SIGINT or SIGTERM stops it after the
deliveries in flight are answered.`,
		Example: `  export ` + hrSecretsVar + `=$(openssl rand -hex 32)
  starter listen --addr 0.0.0.0:8089

  # sign a delivery
  ts=$(date +%s)
  sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$` + hrSecretsVar + `" -r | cut -d' ' -f1)
  curl -X POST localhost:8089/hr/events -H "X-Atomicflow-Timestamp: $ts" \
    -H "X-Atomicflow-Signature: v1=$sig" -H 'Content-Type: application/json' --data-binary "$body"`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error { return f.run(cmd.Context(), a) }),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8089", "host:port to listen on")
	fl.DurationVar(&f.timeout, "timeout", hrevents.DefaultTimeout, "how long one delivery may wait for Temporal before it is answered 503")
	fl.DurationVar(&f.retryAfter, "retry-after", hrevents.DefaultRetryAfter, "Retry-After of 503 answers and of 409s for an event that came before the one starting its workflow")
	return cmd
}

// maxPastDaysLimit bounds ATOMICFLOW_HR_MAX_PAST_DAYS: ten years.
const maxPastDaysLimit = 3650

// hrMaxPastDays reads how many days after a last working day a termination still offboards at
// once (hrevents.DefaultMaxPastDays when unset).
func hrMaxPastDays(a *app) (int, error) {
	v := strings.TrimSpace(a.env(hrevents.MaxPastDaysVar, ""))
	if v == "" {
		return hrevents.DefaultMaxPastDays, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPastDaysLimit {
		return 0, usageError{fmt.Errorf("%s=%q is not a whole number of days from 1 to %d: set how many days after a last working day "+
			"a termination still offboards at once (default %d; older ones are held)", hrevents.MaxPastDaysVar, v, maxPastDaysLimit, hrevents.DefaultMaxPastDays)}
	}
	return n, nil
}

// hrSecrets reads the webhook secrets: comma-separated, blanks ignored.
func hrSecrets(a *app) []string {
	var out []string
	for _, s := range strings.Split(a.env(hrSecretsVar, ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// run checks everything it can before serving, so a bad setting exits 2 at once.
func (f *listenFlags) run(ctx context.Context, a *app) error {
	secrets := hrSecrets(a)
	switch {
	case len(secrets) == 0:
		return usageError{fmt.Errorf("%s is not set: set it to the HR webhook secret (two, comma-separated, while rotating)", hrSecretsVar)}
	case f.timeout <= 0:
		return usageError{fmt.Errorf("--timeout %s must be positive", f.timeout)}
	case f.retryAfter < time.Second:
		return usageError{fmt.Errorf("--retry-after %s must be at least 1s", f.retryAfter)}
	}
	maxPastDays, err := hrMaxPastDays(a)
	if err != nil {
		return err
	}
	limits, err := readListenLimits(a)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(a.stderr, nil))
	link := newTemporalLink(a, a.taskQueue(), logger)
	reg := prometheus.NewRegistry()
	h, err := hrevents.NewHandler(hrevents.Config{Secrets: secrets, Runs: link, Logger: logger, Metrics: reg,
		Timeout: f.timeout, RetryAfter: f.retryAfter, MaxPastDays: maxPastDays, MaxInFlight: limits.maxInFlight})
	if err != nil {
		return usageError{fmt.Errorf("%s: %w", hrSecretsVar, err)}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return usageError{fmt.Errorf("--addr: cannot listen on %s: %w: choose a free host:port", f.addr, err)}
	}
	defer ln.Close()
	metrics, err := listenMetrics(limits.metricsAddr, reg)
	if err != nil {
		return err
	}
	srv := limits.server(listenMux(h, link), f.timeout)

	dialCtx, stopDialing := context.WithCancel(ctx)
	dialed := make(chan error, 1)
	var dialing sync.WaitGroup
	dialing.Go(func() { dialed <- link.connect(dialCtx) })
	defer func() {
		stopDialing()
		dialing.Wait()
		link.close()
	}()

	served := make(chan error, 2) // the receiver's and the metrics' servers
	go func() { served <- srv.Serve(limits.listener(ln)) }()
	if metrics != nil {
		defer func() { _ = metrics.srv.Close() }() // on the way out: nobody to tell
		go func() {
			if err := metrics.serve(); err != nil {
				served <- err
			}
		}()
	}
	logger.Info("Listening for HR events", "Addr", ln.Addr().String(), "Path", "/hr/events", "Secrets", len(secrets),
		"MetricsAddr", metrics.addr(), "MaxConnections", limits.maxConnections, "MaxInFlight", limits.maxInFlight)
	if err := waitForStop(ctx, served, dialed); err != nil {
		_ = srv.Close()
		return err
	}
	// Answer the deliveries in flight; an HR system retries anything cut short.
	logger.Info("Stopping: answering the deliveries in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.timeout+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stopping the HR receiver: %w", err)
	}
	logger.Info("Stopped")
	return nil
}

// waitForStop returns nil when ctx ends, or the error that ends serving: the server failing, or a
// Temporal setting the dialer cannot use.
func waitForStop(ctx context.Context, served, dialed <-chan error) error {
	for {
		select {
		case err := <-served:
			return fmt.Errorf("serving HR events: %w", err)
		case err := <-dialed:
			if err != nil {
				return err
			}
			dialed = nil // connected: the SDK client keeps the connection from here on
		case <-ctx.Done():
			return nil
		}
	}
}

// listenMux routes the receiver's two public paths; /metrics is served elsewhere (listenMetrics).
func listenMux(events http.Handler, link *temporalLink) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/hr/events", events)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		// Readiness: the receiver is only of use when it can hand deliveries to Temporal.
		w.Header().Set("Content-Type", "application/json")
		if err := link.health.get(); err != nil {
			temporal := "unreachable"
			if errors.Is(err, errNotConnected) {
				temporal = "connecting"
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "temporal": temporal, "error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "temporal": "connected"})
	})
	return mux
}

// metricsServer serves /metrics on its own address, by default loopback only: the delivery
// counts are for the operator's Prometheus, not for whoever can reach /hr/events.
type metricsServer struct {
	ln  net.Listener
	srv *http.Server
}

// listenMetrics listens on addr; nil when addr is "" (off).
func listenMetrics(addr string, reg *prometheus.Registry) (*metricsServer, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: cannot listen on %s: %w: choose a free host:port (default 127.0.0.1:9091), or off", hrMetricsAddrVar, addr, err)}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return &metricsServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}}, nil
}

func (m *metricsServer) serve() error {
	if err := m.srv.Serve(netutil.LimitListener(m.ln, 16)); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", hrMetricsAddrVar, err)
	}
	return nil
}

// addr is where it serves, or "off".
func (m *metricsServer) addr() string {
	if m == nil {
		return "off"
	}
	return m.ln.Addr().String()
}
