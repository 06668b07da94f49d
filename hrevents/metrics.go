package hrevents

import "github.com/prometheus/client_golang/prometheus"

// metrics counts deliveries by event type and outcome (a Result, or the Problem code of a refused
// delivery) and times them.
type metrics struct {
	deliveries *prometheus.CounterVec
	seconds    *prometheus.HistogramVec
}

// typeNone labels deliveries refused before their type was known.
const typeNone = "none"

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atomicflow_hr_deliveries_total",
			Help: "HR webhook deliveries by event type and outcome (applied, duplicate, ignored, rejected, or the error code).",
		}, []string{"type", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "atomicflow_hr_delivery_seconds",
			Help:    "Time to answer an HR webhook delivery, by outcome.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.seconds} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(eventType, outcome string, seconds float64) {
	m.deliveries.WithLabelValues(eventType, outcome).Inc()
	m.seconds.WithLabelValues(outcome).Observe(seconds)
}
