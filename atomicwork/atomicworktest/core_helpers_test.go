package atomicworktest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// apiClient sends raw HTTP requests to a simulator, so the tests see exactly what goes over the
// wire (the atomicwork.Client has its own tests).
type apiClient struct {
	t         *testing.T
	url       string
	key       string
	workspace string // X-Workspace-Id; "" sends none
}

// response is a raw answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func newSim(t *testing.T, opts Options) (*Server, apiClient) {
	t.Helper()
	s := NewServer(t, opts)
	return s, apiClient{t: t, url: s.URL, key: DevKey}
}

func (c apiClient) withKey(key string) apiClient {
	c.key = key
	return c
}

func (c apiClient) inWorkspace(id string) apiClient {
	c.workspace = id
	return c
}

// do sends body as JSON unless it is a string, which is sent verbatim as application/json.
func (c apiClient) do(method, path string, body any) response {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(c.t, err)
	}
	return c.send(method, path, raw, "application/json")
}

func (c apiClient) send(method, path string, body []byte, contentType string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, bytes.NewReader(body))
	require.NoError(c.t, err)
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.key != "" {
		req.Header.Set("X-Api-Key", c.key)
	}
	if c.workspace != "" {
		req.Header.Set("X-Workspace-Id", c.workspace)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (c apiClient) get(path string) response { return c.do(http.MethodGet, path, nil) }

// ok requires a 200 and decodes the body into T.
func ok[T any](t *testing.T, r response) T {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	var v T
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

// fails requires an error envelope with status and code, and returns its message.
func fails(t *testing.T, r response, status int, code string) string {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	var e atomicwork.ErrorBody
	require.NoError(t, json.Unmarshal(r.body, &e), "body: %s", r.body)
	require.Equal(t, code, e.Code, "body: %s", r.body)
	require.NotEmpty(t, e.Error)
	return e.Error
}

func id(v int64) string { return strconv.FormatInt(v, 10) }

// fakeClock is an injectable sim clock that only moves when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// filters builds a bare filter array body.
func filters(fs ...atomicwork.Filter) []atomicwork.Filter {
	if fs == nil {
		return []atomicwork.Filter{}
	}
	return fs
}

func where(attribute, operator string, values ...any) atomicwork.Filter {
	f := atomicwork.Filter{Attribute: attribute, Operator: operator, Values: []atomicwork.FilterValue{}}
	for _, v := range values {
		f.Values = append(f.Values, atomicwork.FilterValue{Value: v})
	}
	return f
}

// snapshot is everything a bad request must leave untouched.
type snapshot struct {
	Users    []atomicwork.User
	Requests []atomicwork.Request
	Grants   []atomicwork.Grant
	Assets   []atomicwork.Asset
}

func takeSnapshot(h *Handler) snapshot {
	return snapshot{Users: h.Users(), Requests: h.Requests(), Grants: h.Grants(), Assets: h.Assets()}
}

// mustUser returns a demo user by email.
func mustUser(t *testing.T, h *Handler, email string) atomicwork.User {
	t.Helper()
	u, found := h.UserByEmail(email)
	require.True(t, found, "demo user %s", email)
	return u
}

// envelope is the list envelope decoded strictly: unlike atomicwork.Page, it does not accept a
// bare array, so a test sees the answer's real shape.
type envelope[T any] struct {
	Page          int     `json:"page"`
	PageSize      int     `json:"page_size"`
	TotalPages    int     `json:"total_pages"`
	TotalCount    int     `json:"total_count"`
	NextPageToken *string `json:"next_page_token"`
	Data          []T     `json:"data"`
}

// wholeListOf requires an unpaginated list answered as one page of the envelope, and returns its items.
func wholeListOf[T any](t *testing.T, r response) []T {
	t.Helper()
	env := ok[envelope[T]](t, r)
	require.NotNil(t, env.Data, "body: %s", r.body)
	require.Equal(t, envelope[T]{Page: 1, PageSize: len(env.Data), TotalPages: min(1, len(env.Data)), TotalCount: len(env.Data), Data: env.Data}, env)
	return env.Data
}
