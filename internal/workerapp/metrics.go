package workerapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// metricsServer serves the SDK's metrics (temporal_workflow_completed_total, ...) for Prometheus
// on /metrics.
type metricsServer struct {
	handler client.MetricsHandler
	addr    net.Addr
	srv     *http.Server
	scope   io.Closer
}

// startMetrics listens on addr at once, so a taken port fails the start instead of a log line later.
func startMetrics(addr string, logger *slog.Logger) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: cannot listen on %s: %w: choose a free host:port or unset METRICS_ADDR", addr, err)
	}
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       prom.NewRegistry(), // not the global one: tests start several
		DefaultTimerType: tallyprom.HistogramTimerType,
		OnRegisterError: func(err error) {
			logger.Warn("Metric registration failed", "Error", err)
		},
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	mux := http.NewServeMux()
	mux.Handle("/metrics", reporter.HTTPHandler())
	m := &metricsServer{
		handler: sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)),
		addr:    ln.Addr(),
		srv:     &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		scope:   closer,
	}
	go func() {
		if err := m.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("Metrics server stopped", "Error", err)
		}
	}()
	logger.Info("Serving metrics", "Addr", "http://"+m.addr.String()+"/metrics")
	return m, nil
}

// close stops serving and flushes the scope.
func (m *metricsServer) close(ctx context.Context) error {
	return errors.Join(m.srv.Shutdown(ctx), m.scope.Close())
}
