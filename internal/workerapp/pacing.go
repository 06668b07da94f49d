package workerapp

import (
	"fmt"
	"net/http"
	"strconv"

	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// APIRateLimit is the gauge of each workspace's call pacer: the requests per second it lets
// through now, 0 while unlimited (no ATOMICWORK_RPS and no 429 yet). Label LabelWorkspace.
const (
	APIRateLimit   = "atomicflow_api_rate_limit_rps"
	LabelWorkspace = "workspace"
)

// newClients builds one Atomicwork client per workspace of cfg.Keys, all on transport. Clients
// of the same key share one pacer, which every activity of this worker then waits on: the API
// limits the key, not the workspace. With cfg.RPS the pacer never exceeds it; without, it
// starts unlimited and adapts from 429s (atomicwork.AdaptivePacer).
func newClients(cfg Config, transport http.RoundTripper) (map[int64]*atomicwork.Client, error) {
	metrics := cfg.Metrics
	if metrics == nil {
		metrics = client.MetricsNopHandler
	}
	pacers := map[string]*pacer{} // by key; never printed
	clients := make(map[int64]*atomicwork.Client, len(cfg.Keys))
	for ws, key := range cfg.Keys {
		p := pacers[key]
		if p == nil {
			p = &pacer{}
			p.AdaptivePacer = atomicwork.NewAdaptivePacer(atomicwork.PacerOptions{Max: cfg.RPS, OnRate: p.report})
			pacers[key] = p
		}
		p.add(metrics.WithTags(map[string]string{LabelWorkspace: strconv.FormatInt(ws, 10)}).Gauge(APIRateLimit))
		ac, err := atomicwork.New(atomicwork.Config{BaseURL: cfg.BaseURL, APIKey: key, WorkspaceID: ws, Timeout: cfg.Timeout,
			Transport: transport, Pacer: p})
		if err != nil {
			return nil, fmt.Errorf("workspace %d: %w", ws, err)
		}
		clients[ws] = ac
	}
	return clients, nil
}

// pacer is a key's pacer with the gauges of the workspaces that use the key.
type pacer struct {
	*atomicwork.AdaptivePacer
	gauges []client.MetricsGauge
	last   float64
}

// add registers a workspace's gauge; NewWorker adds them all before any call is made.
func (p *pacer) add(g client.MetricsGauge) {
	p.gauges = append(p.gauges, g)
	g.Update(p.last)
}

// report runs under the pacer's lock, so gauges are updated in order.
func (p *pacer) report(rps float64) {
	p.last = rps
	for _, g := range p.gauges {
		g.Update(rps)
	}
}
