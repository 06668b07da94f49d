package telemetry

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// NewTransport wraps next (a pooled transport for one API host when nil) so that every Atomicwork
// call counts in AtomicworkRequests, AtomicworkLatency and, for a 429, AtomicworkRateLimited. It
// labels calls with the client's operation name (atomicwork.Operation), never with a path, so ids
// and emails stay out of the metrics and their number stays small. A nil handler records nothing.
func NewTransport(next http.RoundTripper, h client.MetricsHandler) http.RoundTripper {
	if next == nil {
		next = atomicwork.NewTransport()
	}
	if h == nil {
		h = client.MetricsNopHandler
	}
	return &transport{next: next, h: h}
}

type transport struct {
	next http.RoundTripper
	h    client.MetricsHandler
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	elapsed := time.Since(start)

	op := atomicwork.Operation(r)
	if op == "" {
		op = "other"
	}
	class := statusClass(r.Context(), resp, err)
	h := t.h.WithTags(map[string]string{LabelOperation: op, LabelStatusClass: class})
	h.Counter(AtomicworkRequests).Inc(1)
	h.Timer(AtomicworkLatency).Record(elapsed)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		t.h.WithTags(map[string]string{LabelOperation: op}).Counter(AtomicworkRateLimited).Inc(1)
	}
	return resp, err
}

// statusClass is "2xx", "4xx", "5xx"... for an answer, ClassCanceled when the caller gave up, and
// ClassNetwork for any other failure (a client timeout included: the API did not answer in time).
func statusClass(ctx context.Context, resp *http.Response, err error) string {
	switch {
	case err == nil && resp != nil && resp.StatusCode >= 100 && resp.StatusCode <= 599:
		return strconv.Itoa(resp.StatusCode/100) + "xx"
	case errors.Is(ctx.Err(), context.Canceled):
		return ClassCanceled
	}
	return ClassNetwork
}
