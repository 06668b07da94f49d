package atomicworktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Operator endpoints steer a running simulator (awsim, or a test's server from another process).
// They take no key and bypass the rate limit and the faults.
const (
	opsStats  = "/_sim/stats"
	opsReset  = "/_sim/reset"
	opsFaults = "/_sim/faults"
	opsLimits = "/_sim/limits"
	opsRoutes = "/_sim/routes"
)

// OperatorEndpoints lists the operator endpoints as "METHOD /path", for help texts.
func OperatorEndpoints() []string {
	return []string{
		"GET " + opsStats,
		"POST " + opsReset,
		"GET " + opsFaults, "POST " + opsFaults,
		"GET " + opsLimits, "POST " + opsLimits,
		"GET " + opsRoutes,
	}
}

// maxOpsBody bounds an operator request body; the real ones are a few hundred bytes.
const maxOpsBody = 1 << 20

// limitsJSON is the body of GET and POST /_sim/limits.
type limitsJSON struct {
	RPS   float64 `json:"rps"`
	Burst int     `json:"burst"`
}

// serveOps answers an operator request and returns its operation for the log ("" when unmatched).
func (h *Handler) serveOps(w http.ResponseWriter, r *http.Request) string {
	op := r.Method + " " + r.URL.Path
	switch op {
	case "GET " + opsStats:
		writeJSON(w, http.StatusOK, h.Stats())
	case "POST " + opsReset:
		h.Reset()
		writeJSON(w, http.StatusOK, struct{}{})
	case "GET " + opsFaults:
		writeJSON(w, http.StatusOK, h.Faults())
	case "POST " + opsFaults:
		var f Faults
		if !decodeOpsBody(w, r, &f) {
			break
		}
		if err := f.Validate(); err != nil {
			writeError(w, http.StatusBadRequest, atomicwork.CodeValidationError, err.Error())
			break
		}
		h.SetFaults(f)
		writeJSON(w, http.StatusOK, h.Faults())
	case "GET " + opsLimits:
		writeLimits(w, h.limiter)
	case "POST " + opsLimits:
		var l limitsJSON
		if !decodeOpsBody(w, r, &l) {
			break
		}
		if err := validateLimits(l.RPS, l.Burst); err != nil {
			writeError(w, http.StatusBadRequest, atomicwork.CodeValidationError, "limits: "+err.Error())
			break
		}
		h.SetRateLimit(l.RPS, l.Burst)
		writeLimits(w, h.limiter)
	case "GET " + opsRoutes:
		writeJSON(w, http.StatusOK, map[string][]string{"routes": h.Routes()})
	default:
		return rejectOps(w, r)
	}
	return op
}

// rejectOps answers 405 for a known endpoint called with the wrong method, else 404.
func rejectOps(w http.ResponseWriter, r *http.Request) string {
	var allowed []string
	endpoints := OperatorEndpoints()
	for _, e := range endpoints {
		method, path, _ := strings.Cut(e, " ")
		if path == r.URL.Path {
			allowed = append(allowed, method)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, atomicwork.CodeBadRequest,
			fmt.Sprintf("%s takes %s, not %s", r.URL.Path, strings.Join(allowed, " or "), r.Method))
		return ""
	}
	writeError(w, http.StatusNotFound, atomicwork.CodeNotFound,
		fmt.Sprintf("No operator endpoint %s %s: the operator endpoints are %s", r.Method, r.URL.Path, strings.Join(endpoints, ", ")))
	return ""
}

// decodeOpsBody reads one JSON object into v, rejecting unknown fields; on failure it answers 400.
func decodeOpsBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxOpsBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("empty body")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, atomicwork.CodeBadRequest,
			fmt.Sprintf("%s %s: the body must be one JSON object (see GET %s): %v", r.Method, r.URL.Path, r.URL.Path, err))
		return false
	}
	return true
}

func writeLimits(w http.ResponseWriter, l *rateLimiter) {
	rps, burst := l.limits()
	writeJSON(w, http.StatusOK, limitsJSON{RPS: rps, Burst: burst})
}
