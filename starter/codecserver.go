package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomicflow/atomicflow/internal/codec"
)

const (
	defaultCodecAddr       = "127.0.0.1:8081"
	codecShutdownTimeout   = 10 * time.Second
	codecReadHeaderTimeout = 10 * time.Second
)

// newCodecServerCmd serves the payload codec over HTTP for Temporal UI and the Temporal CLI.
func newCodecServerCmd(a *app) *cobra.Command {
	var (
		addr       string
		origins    []string
		sessionTTL time.Duration
	)
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Decode encrypted payloads for Temporal UI and the Temporal CLI (codec server)",
		Long: `codec-server serves Temporal's codec-server protocol (POST /{namespace}/encode and
/{namespace}/decode) with atomicflow's payload encryption keys, so that authorised operators see
decoded inputs, results and failures in Temporal UI and the Temporal CLI. Temporal itself only
ever stores ciphertext.

It reads the same keys as the worker (ATOMICFLOW_CODEC_KEYS or ATOMICFLOW_CODEC_KEYS_FILE, and
ATOMICFLOW_CODEC_PRIMARY) and requires ATOMICFLOW_CODEC_AUTH_TOKEN, at least 32 characters
(make one with: openssl rand -hex 32): every request must send "Authorization: Bearer <token>".
Browsers cannot attach that header from Temporal UI, so an operator signs in once at
http://<addr>/login with the token; the UI then calls with the session cookie (Temporal UI
server: TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true). A session is a random id that the server ends
after --session-ttl, at POST /logout (the sign-out button at /login) or when it restarts. Wrong
tokens are logged and throttled per client address (10 at once, then one per 6 s: 429 with
Retry-After). Only the --ui-origin origins get CORS headers. GET /healthz answers without a token.

Serve it on 127.0.0.1 or behind TLS: whoever holds the token can decrypt.
SIGINT or SIGTERM stops it after in-flight requests finish.`,
		Example: `  export ATOMICFLOW_CODEC_KEYS=2026-11:<base64 key>   # the workers' keys, e.g. set -a; . deploy/codec.env
  export ATOMICFLOW_CODEC_AUTH_TOKEN=$(openssl rand -hex 32)
  starter codec-server --addr 127.0.0.1:8081 --ui-origin http://localhost:8233

  # Temporal UI of the dev server, pointed at it. Sign in once at http://localhost:8081/login and
  # tick "include cross-origin credentials" in the UI's codec settings (use localhost for both:
  # the sign-in cookie is per site):
  temporal server start-dev --ui-codec-endpoint http://localhost:8081

  # The Temporal CLI ({namespace} is replaced by the CLI):
  temporal workflow show --workflow-id onboarding-E-2002 \
    --codec-endpoint 'http://localhost:8081/{namespace}' \
    --codec-auth "Bearer $ATOMICFLOW_CODEC_AUTH_TOKEN"`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&addr, "addr", defaultCodecAddr, "listen `host:port`")
	cmd.Flags().StringSliceVar(&origins, "ui-origin", []string{defaultUIURL}, "Temporal UI `origin` (scheme://host:port) allowed to call from a browser; repeat or comma-separate for several")
	cmd.Flags().DurationVar(&sessionTTL, "session-ttl", codec.DefaultSessionTTL, "how long a browser stays signed in after /login")
	cmd.RunE = runE(func(cmd *cobra.Command, _ []string) error {
		if sessionTTL <= 0 {
			return usageError{fmt.Errorf("--session-ttl %s is not positive: use e.g. --session-ttl 8h", sessionTTL)}
		}
		ring, err := codec.FromEnv(a.lookup)
		if err != nil {
			return usageError{err}
		}
		if ring == nil {
			return usageError{fmt.Errorf("no payload encryption key: set %s (or %s) to the worker's keys", codec.EnvKeys, codec.EnvKeysFile)}
		}
		logger := slog.New(slog.NewTextHandler(a.stderr, nil))
		h, err := codec.NewHTTPHandler(codec.New(ring), codec.ServerOptions{
			Token:          a.env(codec.EnvAuthToken, ""),
			AllowedOrigins: origins,
			SessionTTL:     sessionTTL,
			Logger:         logger,
		})
		if err != nil {
			return usageError{errors.New(strings.TrimPrefix(err.Error(), "codec server: "))}
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return usageError{fmt.Errorf("--addr %q is not host:port: use e.g. 127.0.0.1:8081", addr)}
		}
		return serveCodec(cmd.Context(), a, logger, addr, origins, ring, h)
	})
	return cmd
}

// serveCodec serves h on addr until ctx ends, then shuts down gracefully.
func serveCodec(ctx context.Context, a *app, logger *slog.Logger, addr string, origins []string, ring *codec.Keyring, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w: choose a free --addr", addr, err)
	}
	srv := &http.Server{
		Handler:           logRequests(logger, h),
		ReadHeaderTimeout: codecReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(a.stdout, "codec-server: serving http://%s (%s; UI origins %s)\n", ln.Addr(), ring, strings.Join(origins, ", "))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), codecShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	fmt.Fprintln(a.stdout, "codec-server: stopped")
	return nil
}

// logRequests logs one line per request: method, path, status and duration; never headers or bodies.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		logger.Info("codec request", "Method", r.Method, "Path", r.URL.Path, "Status", sw.status, "Duration", time.Since(start).Round(time.Microsecond))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
