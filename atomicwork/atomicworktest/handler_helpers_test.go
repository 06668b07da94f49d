package atomicworktest

// Helpers of the middleware tests. Their names start with mw so they cannot clash with the core's
// test helpers in the same package.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

const (
	mwListUsers  = "/api/v1/users/list?page=1"
	mwListOp     = "GET /api/v1/users/list"
	mwCreateUser = "/api/v1/users"
	mwCreateOp   = "POST /api/v1/users"
)

var mwClient = &http.Client{Timeout: 10 * time.Second}

// mwDo sends one request with key as X-Api-Key (none when empty) and body as JSON (none when nil).
func mwDo(t *testing.T, srv *Server, method, path, key string, body any) (*http.Response, []byte) {
	t.Helper()
	resp, b, err := mwSend(srv, method, path, key, body)
	require.NoError(t, err)
	return resp, b
}

// mwSend is mwDo without the test: goroutines other than the test's use it with assert.
func mwSend(srv *Server, method, path, key string, body any) (*http.Response, []byte, error) {
	req, err := mwNewRequest(srv, method, path, key, body)
	if err != nil {
		return nil, nil, err
	}
	resp, err := mwClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// mwRequest builds a request, failing the test on error.
func mwRequest(t *testing.T, srv *Server, method, path, key string, body any) *http.Request {
	t.Helper()
	req, err := mwNewRequest(srv, method, path, key, body)
	require.NoError(t, err)
	return req
}

func mwNewRequest(srv *Server, method, path, key string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// mwStatus sends a bodiless request from inside an EventuallyWithT condition and returns its status.
func mwStatus(c *assert.CollectT, req *http.Request) int {
	resp, err := mwClient.Do(req)
	if !assert.NoError(c, err) {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// mwNewUser is a valid POST /users body for a user who is not in the seed.
func mwNewUser(email string) map[string]any {
	return map[string]any{"email": email, "first_name": "Test", "last_name": "User", "type": "EMPLOYEE"}
}

// mwUserExists looks the email up with the dev key.
func mwUserExists(t *testing.T, srv *Server, email string) bool {
	t.Helper()
	resp, _ := mwDo(t, srv, http.MethodGet, "/api/v1/users/"+url.PathEscape(email)+"/email-lookup", DevKey, nil)
	require.Contains(t, []int{http.StatusOK, http.StatusNotFound}, resp.StatusCode)
	return resp.StatusCode == http.StatusOK
}

// mwEnvelope decodes an error envelope, failing when the body is not one.
func mwEnvelope(t *testing.T, body []byte) atomicwork.ErrorBody {
	t.Helper()
	var env atomicwork.ErrorBody
	require.NoError(t, json.Unmarshal(body, &env), "body: %s", body)
	require.NotEmpty(t, env.Error, "body: %s", body)
	return env
}
