// Package atomicworktest is a faithful in-memory simulator of the Atomicwork REST API, for tests
// and local development, the way net/http/httptest backs net/http. It serves the official paths
// and methods of the published spec, implements the decisions of API-NOTES §7, and adds a per-key
// rate limit, reproducible fault injection and operator endpoints under /_sim.
package atomicworktest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Demo dataset keys and workspaces.
const (
	DevKey          = "dev-key" // home workspace 1 "IT"
	HRKey           = "hr-key"  // home workspace 2 "HR"
	ITWorkspaceID   = int64(1)
	HRWorkspaceID   = int64(2)
	DefaultAddr     = "127.0.0.1:8090"
	maxPerPage      = 100
	maxPerPageAsset = 1000
)

// Options configure a simulator. The zero value serves the demo dataset with no rate limit and no faults.
type Options struct {
	// APIKey replaces DevKey as the key of workspace 1 when set.
	APIKey string
	// RPS and Burst configure the per-key token bucket; RPS 0 means unlimited.
	RPS   float64
	Burst int
	// Faults are injected into /api/v1 calls; change them at run time with SetFaults or POST /_sim/faults.
	Faults Faults
	// RevocationDelay is how long deprovisioning takes after a revoke with skip_deprovisioning=false.
	// Zero completes it on the next read.
	RevocationDelay time.Duration
	// FailRevocationOf lists entitlement names whose deprovisioning ends FAILED.
	FailRevocationOf []string
	// RevocationFailure is the probability (0..1) that a deprovisioning attempt ends FAILED, on
	// top of FailRevocationOf. It is drawn when the revoke is accepted, from a source seeded with
	// Faults.Seed as given here (its own sequence, apart from the faults'), so the same seed and the
	// same revokes give the same outcomes; Reset restarts it, SetFaults does not. Revoking a FAILED
	// grant again is a new attempt with a new draw.
	RevocationFailure float64
	// ExtraAssets adds this many laptops assigned to ExtraAssetsAssignee (an email; default bo.li@example.com).
	ExtraAssets         int
	ExtraAssetsAssignee string
	// Strict rejects unknown body fields and unknown asset form-field keys with 400.
	Strict bool
	// Logger, when set, gets one line per request.
	Logger *slog.Logger
	// Now is the simulator's clock; time.Now when nil.
	Now func() time.Time
}

// Faults are per-request probabilities (0..1) and durations. The same Seed and the same request
// sequence give the same faults.
type Faults struct {
	Seed int64 `json:"seed"`
	// ServerError answers 503 without touching state.
	ServerError float64 `json:"server_error"`
	// RateLimit answers 429 with Retry-After without touching state.
	RateLimit float64 `json:"rate_limit"`
	// WriteThen500 applies a mutating request, then answers 500: the case that breaks naive retries.
	WriteThen500 float64 `json:"write_then_500"`
	// Latency is added to every request.
	Latency time.Duration `json:"latency"`
	// Stall holds a request for StallFor (longer than a client timeout) before answering normally.
	Stall    float64       `json:"stall"`
	StallFor time.Duration `json:"stall_for"`
	// MalformedJSON truncates a successful response body so it no longer parses.
	MalformedJSON float64 `json:"malformed_json"`

	// Answer modes: legal answers of a real API that clients must survive.

	// UnknownFields adds unknown fields (x_sim_future) to the top-level object of a successful
	// JSON answer and to each of its data items.
	UnknownFields float64 `json:"unknown_fields"`
	// EmptyPage answers a list page that is not the last one with data [] (counts unchanged).
	EmptyPage float64 `json:"empty_page"`
	// ShortPage drops the last item of a list page that is not the last one (counts unchanged).
	ShortPage float64 `json:"short_page"`
	// ListOrder is the order of lists that ask for no explicit sort: "" or ListOrderIDAsc (by
	// ascending id), ListOrderIDDesc, or ListOrderShuffled (a permutation fixed by Seed). A setting,
	// not a counted fault.
	ListOrder string `json:"list_order"`
	// IntegralFloats writes the integers of a successful JSON answer as N.0 (1002.0).
	IntegralFloats float64 `json:"integral_floats"`
	// RateLimitNoRetryAfter answers 429 without Retry-After, without touching state.
	RateLimitNoRetryAfter float64 `json:"rate_limit_no_retry_after"`
	// HTMLServerError answers 502 with a proxy's HTML page, without touching state.
	HTMLServerError float64 `json:"html_5xx"`
	// Reset closes the connection without an answer, before the request is applied.
	Reset float64 `json:"reset"`
}

// Stats counts what the simulator saw, for tests and GET /_sim/stats.
type Stats struct {
	// Calls maps "METHOD /api/v1/pattern" to status code to count; status 0 counts connections
	// closed without an answer (reset).
	Calls map[string]map[int]int `json:"calls"`
	// WritesApplied counts mutating calls whose change was applied (including WriteThen500 ones).
	WritesApplied int `json:"writes_applied"`
	// FaultsInjected maps a fault name (the Fault* constants, as in Faults' JSON) to how often it
	// was applied; RateLimited counts 429s from the token bucket.
	FaultsInjected map[string]int `json:"faults_injected"`
	RateLimited    int            `json:"rate_limited"`
}

// Server is a running simulator on a loopback httptest server.
type Server struct {
	*Handler
	URL string
	srv *httptest.Server
}

// NewServer starts a simulator for a test and stops it when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	h := NewHandler(opts)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return &Server{Handler: h, URL: srv.URL, srv: srv}
}

// Client returns an atomicwork client for workspace 1 with the dev key, pointed at this server.
func (s *Server) Client(t testing.TB) *atomicwork.Client {
	t.Helper()
	key := DevKey
	if s.opts.APIKey != "" {
		key = s.opts.APIKey
	}
	c, err := atomicwork.New(atomicwork.Config{BaseURL: s.URL, APIKey: key, WorkspaceID: ITWorkspaceID})
	if err != nil {
		t.Fatalf("atomicwork client for simulator: %v", err)
	}
	return c
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the error envelope of API-NOTES §1.8.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, atomicwork.ErrorBody{Error: msg, Code: code})
}
