// Package atomicwork is a client for the Atomicwork REST API (https://<tenant>.atomicwork.com/api/v1).
//
// It is built to be driven by a retrying caller (Temporal activities): it never retries by itself,
// every failure is an *APIError or a transport error that Classify sorts into permanent and
// transient, and the API key never appears in an error, a log line or a printed value.
package atomicwork

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// Default settings.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultUserAgent = "atomicflow-atomicwork-client/1"
	// MaxPerPage is the largest page the client asks for (API-NOTES §1.7, §7 Q5).
	MaxPerPage = 100
)

// NewTransport is the client's default HTTP transport: http.DefaultTransport's settings, keeping
// as many idle connections to the API as a worker has requests in flight (a reassignment's
// concurrency goes up to 200). With resty's default of GOMAXPROCS+1, and http's of 2, every
// request beyond them opened a new connection (and TLS session) and left one in TIME_WAIT.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	return t
}

// Config configures a Client.
type Config struct {
	// BaseURL is the tenant URL, e.g. https://acme.atomicwork.com (without /api/v1).
	BaseURL string
	// APIKey is sent as X-Api-Key on every call. It is never printed.
	APIKey string
	// WorkspaceID is sent as X-Workspace-Id on every call but workspace discovery; 0 omits the
	// header, so the API uses the key's home workspace.
	WorkspaceID int64
	// Timeout bounds each HTTP call; DefaultTimeout when zero.
	Timeout time.Duration
	// UserAgent is sent as User-Agent; DefaultUserAgent when empty.
	UserAgent string
	// AssigneeField and StatusField are the asset form-field keys for assignee and status
	// (API-NOTES §3); "assigned_to" and "status" when empty.
	AssigneeField string
	StatusField   string
	// Transport replaces the HTTP transport (tests record requests with it).
	Transport http.RoundTripper
	// Pacer, when set, is waited on before every call and told every answer (pacer.go).
	Pacer Pacer
}

// String prints the configuration with the key and the URL's secrets redacted.
func (c Config) String() string {
	return fmt.Sprintf("atomicwork.Config{BaseURL:%q APIKey:%s WorkspaceID:%d Timeout:%s}",
		RedactURL(c.BaseURL), redact(c.APIKey), c.WorkspaceID, c.Timeout)
}

// RedactURL is how a base URL may be logged or put in an error: its password (or a user name
// without one, which may be a token) masked and its query and fragment dropped, since either may
// carry a token. An unparsable URL is not repeated at all.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); !hasPassword {
			u.User = url.User("xxxxx")
		}
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.Redacted()
}

// GoString keeps %#v from printing the key.
func (c Config) GoString() string { return c.String() }

func redact(key string) string {
	if key == "" {
		return `""`
	}
	return "[REDACTED]"
}

// Client calls the Atomicwork API. It is safe for concurrent use.
type Client struct {
	http          *resty.Client
	baseURL       string
	workspaceID   int64
	assigneeField string
	statusField   string
	pacer         Pacer
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.BaseURL) == "" {
		return nil, errors.New("atomicwork: base URL is empty: set it to your tenant URL, e.g. https://acme.atomicwork.com")
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("atomicwork: base URL %q is not an http(s) URL: use e.g. https://acme.atomicwork.com", RedactURL(cfg.BaseURL))
	}
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("atomicwork: API key is empty: create one under Settings → Integrations → API Keys")
	}
	if cfg.WorkspaceID < 0 {
		return nil, fmt.Errorf("atomicwork: workspace id %d is negative: use the numeric id from GET /api/v1/workspaces", cfg.WorkspaceID)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.AssigneeField == "" {
		cfg.AssigneeField = FieldAssignedTo
	}
	if cfg.StatusField == "" {
		cfg.StatusField = FieldStatus
	}
	base := strings.TrimSuffix(u.String(), "/api/v1")

	rc := resty.New().
		SetBaseURL(base).
		SetTimeout(cfg.Timeout).
		SetRetryCount(0). // the caller (Temporal) owns retries
		SetHeader("X-Api-Key", cfg.APIKey).
		SetHeader("User-Agent", cfg.UserAgent).
		SetHeader("Accept", "application/json").
		SetLogger(silentLogger{}).
		SetDebug(false)
	transport := cfg.Transport
	if transport == nil {
		transport = NewTransport()
	}
	rc.SetTransport(transport)
	return &Client{
		http:          rc,
		baseURL:       base,
		workspaceID:   cfg.WorkspaceID,
		assigneeField: cfg.AssigneeField,
		statusField:   cfg.StatusField,
		pacer:         cfg.Pacer,
	}, nil
}

// String describes the client without its key.
func (c *Client) String() string {
	return fmt.Sprintf("atomicwork.Client{BaseURL:%q WorkspaceID:%d}", RedactURL(c.baseURL), c.workspaceID)
}

// GoString keeps %#v from printing the key.
func (c *Client) GoString() string { return c.String() }

// WorkspaceID is the workspace the client is scoped to (0 = the key's home workspace).
func (c *Client) WorkspaceID() int64 { return c.workspaceID }

// call describes one API call.
type call struct {
	op     string // stable operation name for errors, e.g. "users.email-lookup"
	method string
	path   apiPath
	query  url.Values
	body   any
	// noWorkspace omits X-Workspace-Id (workspace discovery).
	noWorkspace bool
}

// apiPath is a request path plus the form errors show: email segments are masked there.
type apiPath struct{ real, public string }

// path fills a template such as "/api/v1/users/{}/restore"; pathEmail args are masked in errors.
func path(template string, args ...any) apiPath {
	real, public := template, template
	for _, a := range args {
		var r, p string
		switch v := a.(type) {
		case pathEmail:
			r, p = url.PathEscape(string(v)), "{email}"
		case int64:
			r = strconv.FormatInt(v, 10)
			p = r
		default:
			r = url.PathEscape(fmt.Sprint(v))
			p = r
		}
		real = strings.Replace(real, "{}", r, 1)
		public = strings.Replace(public, "{}", p, 1)
	}
	return apiPath{real: real, public: public}
}

// pathEmail marks an email path segment, kept out of error messages (PII).
type pathEmail string

// operationKey carries a call's operation in its HTTP request's context.
type operationKey struct{}

// Operation returns the client operation that sent r, e.g. "users.email-lookup" (the name errors
// use), or "" for a request the client did not send. A Config.Transport reads it to label metrics
// with a stable, low-cardinality name instead of a path full of ids and emails.
func Operation(r *http.Request) string {
	op, _ := r.Context().Value(operationKey{}).(string)
	return op
}

// do performs a call and decodes a 2xx body into out (when non-nil). A read whose 2xx body does
// not decode is fetched once more (a truncated body can be a glitch on the way); if that fails to
// decode too, the *DecodeError is permanent. A write is never re-sent: its answer is lost, not
// its effect, and the caller's retry re-reads before writing again.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	err := c.once(ctx, cl, out)
	var decErr *DecodeError
	if !errors.As(err, &decErr) || !cl.isRead() {
		return err
	}
	reflect.ValueOf(out).Elem().SetZero() // nothing of the bad body may leak into the good one
	err = c.once(ctx, cl, out)
	if errors.As(err, &decErr) {
		decErr.Refetched = true
	}
	return err
}

// isRead reports a call that changes nothing: a GET, or one of the POST .../list searches whose
// body is a filter.
func (cl call) isRead() bool {
	return cl.method == http.MethodGet || (cl.method == http.MethodPost && strings.HasSuffix(cl.path.public, "/list"))
}

// once sends a call one time.
func (c *Client) once(ctx context.Context, cl call, out any) error {
	req := c.http.R().SetContext(context.WithValue(ctx, operationKey{}, cl.op))
	if !cl.noWorkspace && c.workspaceID != 0 {
		req.SetHeader("X-Workspace-Id", strconv.FormatInt(c.workspaceID, 10))
	}
	if cl.query != nil {
		req.SetQueryParamsFromValues(cl.query)
	}
	if cl.body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(cl.body)
	}
	if err := c.wait(ctx, cl); err != nil {
		return err
	}
	resp, err := req.Execute(cl.method, cl.path.real)
	c.observe(resp, err)
	if err != nil {
		return &TransportError{Op: cl.op, Method: cl.method, Path: cl.path.public, Err: scrubURLError(err, cl.path.public)}
	}
	status := resp.StatusCode()
	if status < 200 || status > 299 {
		return newAPIError(cl, resp.RawResponse, resp.Body(), time.Now())
	}
	if out == nil {
		return nil
	}
	if err := decodeBody(resp.Body(), out); err != nil {
		return &DecodeError{Op: cl.op, Method: cl.method, Path: cl.path.public, StatusCode: status, Err: err}
	}
	if pd, ok := out.(pageDecoder); ok {
		pd.setSource(cl)
	}
	return nil
}

// decodeBody unmarshals a 2xx body, tolerating singletons wrapped in {"data": ...} (API-NOTES §7 Q1).
// Integral numbers written as floats (1002.0, 1.002e3) decode into integer fields (integralNumbers).
func decodeBody(body []byte, out any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return errors.New("empty body")
	}
	body = integralNumbers(body)
	if _, isPage := out.(pageDecoder); isPage {
		return json.Unmarshal(body, out)
	}
	var wrapper struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &wrapper) == nil && len(wrapper.Data) > 0 && wrapper.Data[0] == '{' && !hasIDField(body) {
		body = wrapper.Data
	}
	return json.Unmarshal(body, out)
}

// hasIDField reports whether a JSON object has a top-level "id", i.e. is the entity itself.
func hasIDField(body []byte) bool {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	return json.Unmarshal(body, &probe) == nil && len(probe.ID) > 0
}

// scrubURLError rewrites the URL of a *url.Error to scheme, host and the public path (email
// segments masked), without the query. It never holds the key (a header), but the real path may
// hold an email and the query search keys such as emails.
func scrubURLError(err error, publicPath string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return &url.Error{Op: ue.Op, URL: u.Scheme + "://" + u.Host + publicPath, Err: ue.Err}
		}
	}
	return err
}

type silentLogger struct{}

func (silentLogger) Errorf(string, ...any) {}
func (silentLogger) Warnf(string, ...any)  {}
func (silentLogger) Debugf(string, ...any) {}
