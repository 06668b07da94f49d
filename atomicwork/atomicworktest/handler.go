package atomicworktest

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Handler is the simulator as an http.Handler. A /api/v1 request goes through request logging,
// stats, the per-key rate limit and fault injection to the core; /_sim paths are the operator
// endpoints (no auth, no rate limit, no faults). It is safe for concurrent use.
type Handler struct {
	opts    Options
	core    *core
	limiter *rateLimiter
	faults  *faultInjector
	stats   *statsRecorder
	state   *persister // nil without a state file (OpenHandler)

	closeOnce sync.Once
}

// NewHandler returns a simulator serving the demo dataset. It panics when opts.Faults or the rate
// limit are invalid (see Faults.Validate), as those are programming errors in a test.
func NewHandler(opts Options) *Handler {
	if err := opts.Faults.Validate(); err != nil {
		panic("atomicworktest.NewHandler: " + err.Error())
	}
	if err := validateLimits(opts.RPS, opts.Burst); err != nil {
		panic("atomicworktest.NewHandler: " + err.Error())
	}
	if p := opts.RevocationFailure; !(p >= 0 && p <= 1) { // also rejects NaN
		panic(fmt.Sprintf("atomicworktest.NewHandler: RevocationFailure must be a probability between 0 and 1, got %v", p))
	}
	return &Handler{
		opts:    opts,
		core:    newCore(opts),
		limiter: newRateLimiter(opts.RPS, opts.Burst, time.Now),
		faults:  newFaultInjector(opts.Faults),
		stats:   newStatsRecorder(),
	}
}

// ServeHTTP routes a request to the API, the operator endpoints or a 404 envelope, and logs it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	var op string
	var faults []string
	switch path := r.URL.Path; {
	case hasPathPrefix(path, "/api/v1"):
		c := h.serveAPI(sw, r)
		op, faults = c.op, c.faults
	case hasPathPrefix(path, "/_sim"):
		op = h.serveOps(sw, r)
	default:
		writeError(sw, http.StatusNotFound, atomicwork.CodeNotFound,
			fmt.Sprintf("No route %s %s: the simulator serves the API under /api/v1/ and operator endpoints under /_sim/", r.Method, path))
	}
	h.logRequest(r, op, faults, sw.code(), time.Since(start))
}

// SetFaults replaces the injected faults and restarts their sequence from f.Seed. It panics when
// f.Validate fails; check untrusted input with Validate first.
func (h *Handler) SetFaults(f Faults) {
	if err := f.Validate(); err != nil {
		panic("atomicworktest.SetFaults: " + err.Error())
	}
	h.faults.set(f)
}

// Faults returns the faults in force.
func (h *Handler) Faults() Faults { return h.faults.get() }

// SetRateLimit changes the per-key token bucket: rps 0 means unlimited, burst 0 means
// max(1, ceil(rps)). It panics on a negative or non-finite rps or a negative burst.
func (h *Handler) SetRateLimit(rps float64, burst int) {
	if err := validateLimits(rps, burst); err != nil {
		panic("atomicworktest.SetRateLimit: " + err.Error())
	}
	h.limiter.set(rps, burst)
}

// Stats returns a copy of the counters.
func (h *Handler) Stats() Stats { return h.stats.snapshot() }

// Reset puts the data back to the seed, clears the stats, refills every token bucket and restarts
// the fault sequence from its seed. Faults and limits stay as configured.
func (h *Handler) Reset() {
	h.core.reset()
	h.changed()
	h.stats.reset()
	h.limiter.reset()
	h.faults.restart()
}

// Close releases the core's background work and, with a state file, writes what is still
// unsaved (a failure is logged; call SaveState first to get it). It is safe to call more than once.
func (h *Handler) Close() {
	h.closeOnce.Do(func() {
		h.core.close()
		if h.state == nil {
			return
		}
		if err := h.state.close(); err != nil {
			h.state.logger.Error("simulator state not saved", "file", h.state.path, "error", err)
		}
	})
}

// SaveState writes the state file now if anything changed since the last write; without a
// state file it does nothing.
func (h *Handler) SaveState() error {
	if h.state == nil {
		return nil
	}
	return h.state.save()
}

// changed tells the state file, if any, that the data changed.
func (h *Handler) changed() {
	if h.state != nil {
		h.state.changed()
	}
}

// Routes lists the served API operations, e.g. "GET /api/v1/users/{user_id}".
func (h *Handler) Routes() []string { return h.core.routes() }

// apiCall is what the layers learn about one /api/v1 request, for the stats and the log line.
type apiCall struct {
	op     string // matched route, e.g. "GET /api/v1/users/list", or "METHOD <unmatched>"
	write  bool
	faults []string // injected, in order
}

func (c *apiCall) injected(s *statsRecorder, name string) {
	c.faults = append(c.faults, name)
	s.fault(name)
}

// serveAPI counts the request under its operation and final status, after the rate limit, the
// faults and the core had their say.
func (h *Handler) serveAPI(w *statusWriter, r *http.Request) *apiCall {
	op := h.core.operation(r)
	c := &apiCall{op: op, write: isWrite(r.Method, op)}
	if op == "" {
		c.op = r.Method + " <unmatched>"
	}
	if ok, wait := h.limiter.allow(r.Header.Get("X-Api-Key")); ok {
		h.serveWithFaults(w, r, c)
	} else {
		h.stats.rateLimited()
		writeRateLimited(w, wait)
	}
	h.stats.call(c.op, w.code())
	return c
}

// serveCore runs the core and counts a write it answered with 2xx as applied.
func (h *Handler) serveCore(w http.ResponseWriter, r *http.Request, c *apiCall) {
	sw := &statusWriter{ResponseWriter: w}
	h.core.ServeHTTP(sw, r)
	if c.write && sw.code() >= 200 && sw.code() < 300 {
		h.stats.writeApplied()
		h.changed()
	}
}

// isWrite reports a mutating request. List endpoints are POSTs with a filter body, so a POST to an
// operation ending in /list is a read.
func isWrite(method, op string) bool {
	switch method {
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	case http.MethodPost:
		return !strings.HasSuffix(op, "/list")
	}
	return false
}

// logRequest writes one line per request. It never logs headers (the API key is one) nor the query.
func (h *Handler) logRequest(r *http.Request, op string, faults []string, status int, d time.Duration) {
	if h.opts.Logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("operation", op),
	}
	if len(faults) > 0 {
		attrs = append(attrs, slog.String("faults", strings.Join(faults, ",")))
	}
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

func hasPathPrefix(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status   int
	noAnswer bool // the connection was closed without an answer (FaultReset)
}

// Unwrap lets http.ResponseController reach the connection, for FaultReset.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// code is the status sent, 200 when the handler wrote nothing (as net/http does), 0 when the
// connection was closed without an answer.
func (w *statusWriter) code() int {
	if w.noAnswer {
		return 0
	}
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
