package workerapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/internal/telemetry"
)

// metricsServer serves the SDK's metrics (temporal_workflow_completed_total, ...) and atomicflow's
// (atomicflow_atomicwork_requests_total, ...: internal/telemetry) for Prometheus on /metrics.
type metricsServer struct {
	handler client.MetricsHandler
	addr    net.Addr
	srv     *http.Server
	prom    *telemetry.Prometheus
}

// startMetrics listens on addr at once, so a taken port fails the start instead of a log line later.
func startMetrics(addr string, logger *slog.Logger) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: cannot listen on %s: %w: choose a free host:port or unset METRICS_ADDR", addr, err)
	}
	p := telemetry.NewPrometheus(func(err error) {
		logger.Warn("Metric registration failed", "Error", err)
	})
	mux := http.NewServeMux()
	mux.Handle("/metrics", p.HTTP)
	m := &metricsServer{
		handler: p.Handler,
		addr:    ln.Addr(),
		srv:     &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		prom:    p,
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
	return errors.Join(m.srv.Shutdown(ctx), m.prom.Close())
}
