package atomicwork

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is a non-2xx answer from the API.
type APIError struct {
	Op         string // operation, e.g. "users.email-lookup"
	Method     string
	Path       string // request path; email segments are masked as {email}
	StatusCode int
	Code       string // the envelope's code, e.g. NOT_FOUND; empty for non-JSON bodies
	Message    string // the envelope's error, or a snippet of a non-JSON body
	// RetryAfter is the parsed Retry-After header (seconds or HTTP-date); 0 when absent.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "atomicwork %s: %s %s: HTTP %d", e.Op, e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// TransportError is a call that got no HTTP answer: connection refused or reset, timeout, cancellation.
type TransportError struct {
	Op     string
	Method string
	Path   string
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("atomicwork %s: %s %s: %v", e.Op, e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// DecodeError is a 2xx answer whose body could not be parsed. Err says what failed to decode;
// Error() names it without repeating the body (which may hold emails).
type DecodeError struct {
	Op         string
	Method     string
	Path       string
	StatusCode int
	Err        error
	// Refetched is set on a read fetched twice, failing to decode both times: the answer is not a
	// glitch on the way, and Classify counts it permanent. A write's lost answer stays transient.
	Refetched bool
}

func (e *DecodeError) Error() string {
	again := ""
	if e.Refetched {
		again = ", twice"
	}
	return fmt.Sprintf("atomicwork %s: %s %s: HTTP %d with an unparseable body%s: %s", e.Op, e.Method, e.Path, e.StatusCode, again, decodeProblem(e.Err))
}

// decodeProblem says what failed to decode without quoting the body: a JSON type error names the
// field and the kind of value, a syntax error its offset; a time's parse error would quote the value.
func decodeProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var timeErr *time.ParseError
	switch {
	case errors.As(err, &typeErr):
		return strings.TrimPrefix(typeErr.Error(), "json: ")
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("not valid JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.As(err, &timeErr):
		return "a time that is not RFC 3339"
	case err == nil:
		return "unknown problem"
	}
	return err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// IncompleteListingError is a listing that ended with fewer items than its envelope announced
// (total_count), or that kept answering empty pages with more to come. The items it yielded are
// real but not all of them: conclude nothing ("no laptop left", "nothing assigned") from it; list
// again. Classify counts it transient.
type IncompleteListingError struct {
	Op     string
	Method string
	Path   string
	Read   int // items yielded
	Total  int // the last page's total_count; 0 when the envelope gave none
	Reason string
}

func (e *IncompleteListingError) Error() string {
	total := "an unknown number"
	if e.Total > 0 {
		total = strconv.Itoa(e.Total)
	}
	return fmt.Sprintf("atomicwork %s: %s %s: the listing is incomplete: %d of %s items read (%s): list again",
		e.Op, e.Method, e.Path, e.Read, total, e.Reason)
}

// ErrIncompleteListing matches every *IncompleteListingError with errors.Is.
var ErrIncompleteListing = errors.New("atomicwork: incomplete listing")

// Is makes errors.Is(err, ErrIncompleteListing) true.
func (e *IncompleteListingError) Is(target error) bool { return target == ErrIncompleteListing }

// maxSnippet bounds how much of a non-JSON error body goes into an error message.
const maxSnippet = 200

func newAPIError(cl call, resp *http.Response, body []byte, now time.Time) *APIError {
	e := &APIError{Op: cl.op, Method: cl.method, Path: cl.path.public, StatusCode: resp.StatusCode}
	var env ErrorBody
	if json.Unmarshal(body, &env) == nil && (env.Error != "" || env.Code != "") {
		e.Code, e.Message = env.Code, env.Error
	} else {
		e.Message = snippet(body, resp.Status)
	}
	e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// snippet turns a non-JSON body (an HTML 502 page from a proxy) into one readable line.
func snippet(body []byte, status string) string {
	s := strings.Join(strings.Fields(stripTags(string(body))), " ")
	if s == "" {
		return status
	}
	if len(s) > maxSnippet {
		s = s[:maxSnippet] + "…"
	}
	return s
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParseRetryAfter parses a Retry-After value in seconds or as an HTTP-date; 0 when absent or invalid.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Class sorts an error by what a retrying caller should do with it.
type Class int

const (
	// Permanent errors fail the same way on every retry: fix the input or the configuration.
	Permanent Class = iota + 1
	// Transient errors may succeed on retry: rate limits, server errors, network trouble.
	Transient
	// Canceled means the caller's context ended; do not retry.
	Canceled
)

func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Transient:
		return "transient"
	case Canceled:
		return "canceled"
	}
	return "unknown"
}

// Classify is the one HTTP-error classifier (DESIGN.md): 400/401/403/404/409/422 and other 4xx are
// permanent; 408/425/429, 5xx, network errors, timeouts, incomplete listings and a selection that
// kept moving under the keyset pager are transient. An unparseable 2xx body is permanent when a
// fresh read got one again (DecodeError.Refetched), and transient for a write, whose caller
// re-reads before writing again.
func Classify(err error) Class {
	var apiErr *APIError
	var decErr *DecodeError
	var trErr *TransportError
	var moving *SelectionMovingError
	switch {
	case errors.As(err, &apiErr):
		return classifyStatus(apiErr.StatusCode)
	case errors.As(err, &decErr):
		if decErr.Refetched {
			return Permanent
		}
		return Transient
	case errors.Is(err, ErrIncompleteListing), errors.As(err, &moving):
		return Transient
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.As(err, &trErr):
		return Transient
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return Transient
	}
	return Permanent
}

func classifyStatus(status int) Class {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return Transient
	case status >= 500:
		return Transient
	default:
		return Permanent
	}
}

// IsPermanent reports whether retrying err cannot help.
func IsPermanent(err error) bool { return Classify(err) == Permanent }

// IsNotFound reports a 404.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// IsConflict reports a 409 (duplicate user email, duplicate active grant).
func IsConflict(err error) bool { return StatusOf(err) == http.StatusConflict }

// IsRateLimited reports a 429.
func IsRateLimited(err error) bool { return StatusOf(err) == http.StatusTooManyRequests }

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// RetryAfterOf returns the Retry-After of an *APIError in err's chain, or 0.
func RetryAfterOf(err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.RetryAfter
	}
	return 0
}
