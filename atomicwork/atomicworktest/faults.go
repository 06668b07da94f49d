package atomicworktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Fault names, as Stats.FaultsInjected counts them.
const (
	FaultServerError   = "server_error"
	FaultRateLimit     = "rate_limit"
	FaultWriteThen500  = "write_then_500"
	FaultStall         = "stall"
	FaultMalformedJSON = "malformed_json"

	FaultUnknownFields         = "unknown_fields"
	FaultEmptyPage             = "empty_page"
	FaultShortPage             = "short_page"
	FaultIntegralFloats        = "integral_floats"
	FaultRateLimitNoRetryAfter = "rate_limit_no_retry_after"
	FaultHTMLServerError       = "html_5xx"
	FaultReset                 = "reset"
)

// Validate reports the first probability outside 0..1 or negative duration, naming its JSON field.
func (f Faults) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{
		{FaultServerError, f.ServerError},
		{FaultRateLimit, f.RateLimit},
		{FaultWriteThen500, f.WriteThen500},
		{FaultStall, f.Stall},
		{FaultMalformedJSON, f.MalformedJSON},
		{FaultUnknownFields, f.UnknownFields},
		{FaultEmptyPage, f.EmptyPage},
		{FaultShortPage, f.ShortPage},
		{FaultIntegralFloats, f.IntegralFloats},
		{FaultRateLimitNoRetryAfter, f.RateLimitNoRetryAfter},
		{FaultHTMLServerError, f.HTMLServerError},
		{FaultReset, f.Reset},
	} {
		if !(p.v >= 0 && p.v <= 1) { // also rejects NaN
			return fmt.Errorf("faults: %s must be a probability between 0 and 1, got %v", p.name, p.v)
		}
	}
	if f.Latency < 0 {
		return fmt.Errorf("faults: latency must not be negative, got %s", f.Latency)
	}
	if f.StallFor < 0 {
		return fmt.Errorf("faults: stall_for must not be negative, got %s", f.StallFor)
	}
	switch f.ListOrder {
	case "", ListOrderIDAsc, ListOrderIDDesc, ListOrderShuffled:
	default:
		return fmt.Errorf("faults: list_order must be %q, %q or %q (or empty for %[1]q), got %q", ListOrderIDAsc, ListOrderIDDesc, ListOrderShuffled, f.ListOrder)
	}
	if f.Stall > 0 && f.StallFor == 0 {
		return fmt.Errorf("faults: stall is %v but stall_for is 0: set stall_for to how long a stalled request hangs, e.g. \"35s\"", f.Stall)
	}
	return nil
}

// faultsJSON is the wire form of Faults: durations are Go duration strings such as "200ms".
type faultsJSON struct {
	Seed          int64        `json:"seed"`
	ServerError   float64      `json:"server_error"`
	RateLimit     float64      `json:"rate_limit"`
	WriteThen500  float64      `json:"write_then_500"`
	Latency       jsonDuration `json:"latency"`
	Stall         float64      `json:"stall"`
	StallFor      jsonDuration `json:"stall_for"`
	MalformedJSON float64      `json:"malformed_json"`

	UnknownFields         float64 `json:"unknown_fields"`
	EmptyPage             float64 `json:"empty_page"`
	ShortPage             float64 `json:"short_page"`
	ListOrder             string  `json:"list_order"`
	IntegralFloats        float64 `json:"integral_floats"`
	RateLimitNoRetryAfter float64 `json:"rate_limit_no_retry_after"`
	HTMLServerError       float64 `json:"html_5xx"`
	Reset                 float64 `json:"reset"`
}

// MarshalJSON writes durations as Go duration strings ("200ms"), which people can read and type.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		Seed: f.Seed, ServerError: f.ServerError, RateLimit: f.RateLimit, WriteThen500: f.WriteThen500,
		Latency: jsonDuration(f.Latency), Stall: f.Stall, StallFor: jsonDuration(f.StallFor),
		MalformedJSON: f.MalformedJSON,
		UnknownFields: f.UnknownFields, EmptyPage: f.EmptyPage, ShortPage: f.ShortPage, ListOrder: f.ListOrder,
		IntegralFloats: f.IntegralFloats, RateLimitNoRetryAfter: f.RateLimitNoRetryAfter,
		HTMLServerError: f.HTMLServerError, Reset: f.Reset,
	})
}

// UnmarshalJSON reads the MarshalJSON form. Unknown fields are errors, so a misspelt fault is
// reported instead of silently left at zero; omitted fields are zero.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var in faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	*f = Faults{
		Seed: in.Seed, ServerError: in.ServerError, RateLimit: in.RateLimit, WriteThen500: in.WriteThen500,
		Latency: time.Duration(in.Latency), Stall: in.Stall, StallFor: time.Duration(in.StallFor),
		MalformedJSON: in.MalformedJSON,
		UnknownFields: in.UnknownFields, EmptyPage: in.EmptyPage, ShortPage: in.ShortPage, ListOrder: in.ListOrder,
		IntegralFloats: in.IntegralFloats, RateLimitNoRetryAfter: in.RateLimitNoRetryAfter,
		HTMLServerError: in.HTMLServerError, Reset: in.Reset,
	}
	return nil
}

type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a Go duration string such as \"200ms\" or \"2s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a Go duration string such as \"200ms\" or \"2s\": %w", err)
	}
	*d = jsonDuration(v)
	return nil
}

// faultInjector draws the faults of each request from one seeded source.
type faultInjector struct {
	mu  sync.Mutex
	cfg Faults
	rng *rand.Rand
}

func newFaultInjector(f Faults) *faultInjector {
	fi := &faultInjector{}
	fi.set(f)
	return fi
}

// set replaces the faults and restarts the sequence from their seed.
func (fi *faultInjector) set(f Faults) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.cfg = f
	fi.rng = rand.New(rand.NewPCG(uint64(f.Seed), 0))
}

func (fi *faultInjector) get() Faults {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.cfg
}

// restart replays the fault sequence from the seed.
func (fi *faultInjector) restart() { fi.set(fi.get()) }

// faultPlan is what was drawn for one request; whether a drawn fault applies (only writes get
// write_then_500, only 2xx answers get malformed_json and the answer modes, only list pages
// before the last get empty_page and short_page) is decided when serving.
type faultPlan struct {
	latency      time.Duration
	stallFor     time.Duration // 0: no stall
	rateLimit    bool
	serverError  bool
	writeThen500 bool
	malformed    bool

	reset, rateLimitNoRetryAfter, html5xx bool
	answer                                answerPlan
	order                                 listOrder
}

// answerModes reports whether any answer mode may be drawn.
func (f Faults) answerModes() bool {
	return f.UnknownFields > 0 || f.EmptyPage > 0 || f.ShortPage > 0 || f.IntegralFloats > 0 ||
		f.RateLimitNoRetryAfter > 0 || f.HTMLServerError > 0 || f.Reset > 0
}

// draw takes the same number of values for every request, whatever its kind and whichever faults
// apply, so the faults depend only on the seed and the order of requests.
func (fi *faultInjector) draw() faultPlan {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	hit := func(p float64) bool { return fi.rng.Float64() < p }
	p := faultPlan{latency: fi.cfg.Latency}
	if hit(fi.cfg.Stall) {
		p.stallFor = fi.cfg.StallFor
	}
	p.rateLimit = hit(fi.cfg.RateLimit)
	p.serverError = hit(fi.cfg.ServerError)
	p.writeThen500 = hit(fi.cfg.WriteThen500)
	p.malformed = hit(fi.cfg.MalformedJSON)
	p.order = listOrder{mode: fi.cfg.ListOrder, seed: fi.cfg.Seed}
	// Only when an answer mode is set, so the faults above keep the sequence a seed gave them
	// before the answer modes existed; the count is still the same for every request.
	if !fi.cfg.answerModes() {
		return p
	}
	p.reset = hit(fi.cfg.Reset)
	p.rateLimitNoRetryAfter = hit(fi.cfg.RateLimitNoRetryAfter)
	p.html5xx = hit(fi.cfg.HTMLServerError)
	p.answer = answerPlan{
		unknownFields:  hit(fi.cfg.UnknownFields),
		emptyPage:      hit(fi.cfg.EmptyPage),
		shortPage:      hit(fi.cfg.ShortPage),
		integralFloats: hit(fi.cfg.IntegralFloats),
	}
	return p
}

// serveWithFaults applies the drawn faults in a fixed order: latency, stall, reset, rate limit
// (with, then without Retry-After), server error (JSON 503, then HTML 502), then around the
// core's answer write-then-500, the answer modes and malformed JSON.
func (h *Handler) serveWithFaults(w http.ResponseWriter, r *http.Request, c *apiCall) {
	p := h.faults.draw()
	if p.latency > 0 || p.stallFor > 0 {
		// net/http notices a client that hung up only once the body is read, so read it before
		// waiting. One byte over the core's limit is enough for the core to answer 413.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			writeAbandoned(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if !sleepCtx(r.Context(), p.latency) {
		writeAbandoned(w)
		return
	}
	if p.stallFor > 0 {
		c.injected(h.stats, FaultStall)
		// A client that gave up frees the handler: nothing more happens for this request.
		if !sleepCtx(r.Context(), p.stallFor) {
			writeAbandoned(w)
			return
		}
	}
	if p.reset {
		c.injected(h.stats, FaultReset)
		resetConnection(w)
		return
	}
	if p.rateLimit {
		c.injected(h.stats, FaultRateLimit)
		writeRateLimited(w, time.Second)
		return
	}
	if p.rateLimitNoRetryAfter {
		c.injected(h.stats, FaultRateLimitNoRetryAfter)
		writeError(w, http.StatusTooManyRequests, atomicwork.CodeRateLimited, "Too many requests")
		return
	}
	if p.serverError {
		c.injected(h.stats, FaultServerError)
		writeError(w, http.StatusServiceUnavailable, atomicwork.CodeInternal, "Service unavailable (simulated fault): retry later")
		return
	}
	if p.html5xx {
		c.injected(h.stats, FaultHTMLServerError)
		writeProxyPage(w)
		return
	}
	r = r.WithContext(withListOrder(r.Context(), p.order))
	writeThen500 := p.writeThen500 && c.write
	if !writeThen500 && !p.malformed && !p.answer.any() {
		h.serveCore(w, r, c)
		return
	}

	rec := httptest.NewRecorder()
	h.serveCore(rec, r, c)
	ok := rec.Code >= 200 && rec.Code < 300
	body := rec.Body.Bytes()
	switch {
	case writeThen500 && ok:
		// The change is applied and its answer lost: the case that breaks naive retries.
		c.injected(h.stats, FaultWriteThen500)
		writeError(w, http.StatusInternalServerError, atomicwork.CodeInternal, "Internal server error (simulated fault): the change may have been applied")
		return
	case ok:
		body = p.answer.rewrite(body, func(name string) { c.injected(h.stats, name) })
	}
	if p.malformed && ok {
		c.injected(h.stats, FaultMalformedJSON)
		body = body[:len(body)/2]
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// sleepCtx waits for d, or reports false when ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// writeAbandoned answers a request whose wait was cut short: the client has usually gone, but when
// the server is shutting down the client is still there and must not get an empty 200.
func writeAbandoned(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, atomicwork.CodeInternal, "Request abandoned while delayed (client gone or simulator shutting down): retry")
}
