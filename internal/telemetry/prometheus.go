package telemetry

import (
	"io"
	"net/http"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// reportInterval is how often tally hands values to the Prometheus registry.
const reportInterval = time.Second

// Prometheus is a metrics handler for the Temporal client (the SDK's metrics and ours) backed by
// its own Prometheus registry, and the handler that serves that registry.
type Prometheus struct {
	// Handler goes into client.Options.MetricsHandler and NewTransport.
	Handler client.MetricsHandler
	// HTTP serves the registry in Prometheus' text format (mount it on /metrics).
	HTTP  http.Handler
	scope io.Closer
}

// NewPrometheus makes the handler with its own registry (not the global one: tests start several).
// Timers are histograms with HistogramBuckets. onRegisterError hears of a metric that could not be
// registered (the same name with another label set).
func NewPrometheus(onRegisterError func(error)) *Prometheus {
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:              prom.NewRegistry(),
		DefaultTimerType:        tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: HistogramBuckets,
		OnRegisterError:         onRegisterError,
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, reportInterval)
	return &Prometheus{
		Handler: sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)),
		HTTP:    reporter.HTTPHandler(),
		scope:   closer,
	}
}

// Close reports the last values and stops the reporting loop.
func (p *Prometheus) Close() error { return p.scope.Close() }
