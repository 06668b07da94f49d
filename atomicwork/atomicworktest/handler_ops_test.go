package atomicworktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// mwPostRaw sends a raw operator body.
func mwPostRaw(t *testing.T, srv *Server, path, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := mwClient.Post(srv.URL+path, "application/json", bytes.NewBufferString(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	return resp, buf.Bytes()
}

func TestOpsStats(t *testing.T) {
	srv := NewServer(t, Options{})
	mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	mwDo(t, srv, http.MethodGet, mwListUsers, "", nil)
	mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("ops.stats@example.com"))

	resp, body := mwDo(t, srv, http.MethodGet, "/_sim/stats", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got Stats
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, srv.Stats(), got)
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnauthorized: 1}, got.Calls[mwListOp])
	assert.Equal(t, map[int]int{http.StatusOK: 1}, got.Calls[mwCreateOp])
	assert.Equal(t, 1, got.WritesApplied)
	assert.NotContains(t, got.Calls, "GET /_sim/stats", "operator calls are not API calls")
}

func TestOpsReset(t *testing.T) {
	srv := NewServer(t, Options{})
	resp, _ := mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("ops.reset@example.com"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, mwUserExists(t, srv, "ops.reset@example.com"))

	resp, body := mwDo(t, srv, http.MethodPost, "/_sim/reset", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{}`, string(body))
	assert.Equal(t, Stats{Calls: map[string]map[int]int{}, FaultsInjected: map[string]int{}}, srv.Stats())
	assert.False(t, mwUserExists(t, srv, "ops.reset@example.com"), "data is back to the seed")
}

func TestOpsFaults(t *testing.T) {
	srv := NewServer(t, Options{})

	resp, body := mwDo(t, srv, http.MethodGet, "/_sim/faults", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"seed":0,"server_error":0,"rate_limit":0,"write_then_500":0,"latency":"0s",
		"stall":0,"stall_for":"0s","malformed_json":0,"unknown_fields":0,"empty_page":0,"short_page":0,
		"list_order":"","integral_floats":0,"rate_limit_no_retry_after":0,"html_5xx":0,"reset":0}`, string(body))

	resp, body = mwPostRaw(t, srv, "/_sim/faults", `{"seed":9,"server_error":1,"latency":"1ms"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.JSONEq(t, `{"seed":9,"server_error":1,"rate_limit":0,"write_then_500":0,"latency":"1ms",
		"stall":0,"stall_for":"0s","malformed_json":0,"unknown_fields":0,"empty_page":0,"short_page":0,
		"list_order":"","integral_floats":0,"rate_limit_no_retry_after":0,"html_5xx":0,"reset":0}`, string(body))
	assert.Equal(t, Faults{Seed: 9, ServerError: 1, Latency: 1e6}, srv.Faults())

	resp, body = mwPostRaw(t, srv, "/_sim/faults", `{"reset":0.5,"list_order":"id_desc","html_5xx":1}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, Faults{Reset: 0.5, ListOrder: ListOrderIDDesc, HTMLServerError: 1}, srv.Faults())
	resp, body = mwPostRaw(t, srv, "/_sim/faults", `{"list_order":"newest"}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", body)
	assert.Contains(t, mwEnvelope(t, body).Error, `list_order must be "id_asc", "id_desc" or "shuffled"`)
	resp, body = mwPostRaw(t, srv, "/_sim/faults", `{"seed":9,"server_error":1,"latency":"1ms"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)

	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	resp, _ = mwDo(t, srv, http.MethodGet, "/_sim/stats", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "operator endpoints bypass the faults")

	for body, code := range map[string]string{
		`{"server_error":`:       atomicwork.CodeBadRequest,
		``:                       atomicwork.CodeBadRequest,
		`{"server_errror":1}`:    atomicwork.CodeBadRequest,
		`{"latency":200}`:        atomicwork.CodeBadRequest,
		`{"server_error":1.5}`:   atomicwork.CodeValidationError,
		`{"stall":1}`:            atomicwork.CodeValidationError,
		`{"latency":"-1s"}`:      atomicwork.CodeValidationError,
		`{"rate_limit":1} {}`:    atomicwork.CodeBadRequest,
		`{"malformed_json":"x"}`: atomicwork.CodeBadRequest,
	} {
		resp, got := mwPostRaw(t, srv, "/_sim/faults", body)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		assert.Equal(t, code, mwEnvelope(t, got).Code, body)
	}
	assert.Equal(t, Faults{Seed: 9, ServerError: 1, Latency: 1e6}, srv.Faults(), "a rejected body changes nothing")
}

func TestOpsLimits(t *testing.T) {
	srv := NewServer(t, Options{RPS: 5})

	resp, body := mwDo(t, srv, http.MethodGet, "/_sim/limits", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"rps":5,"burst":5}`, string(body), "the burst in force")

	resp, body = mwPostRaw(t, srv, "/_sim/limits", `{"rps":0.01,"burst":1}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.JSONEq(t, `{"rps":0.01,"burst":1}`, string(body))

	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	for range 3 {
		resp, _ = mwDo(t, srv, http.MethodGet, "/_sim/limits", "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "operator endpoints are not rate limited")
	}

	for _, bad := range []string{`{"rps":-1}`, `{"rps":1,"burst":-2}`, `{"rate":1}`, `nope`} {
		resp, got := mwPostRaw(t, srv, "/_sim/limits", bad)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
		mwEnvelope(t, got)
	}

	resp, body = mwPostRaw(t, srv, "/_sim/limits", `{"rps":0}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"rps":0,"burst":0}`, string(body))
	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "rps 0 is unlimited")
}

func TestOpsRoutes(t *testing.T) {
	srv := NewServer(t, Options{})
	resp, body := mwDo(t, srv, http.MethodGet, "/_sim/routes", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got struct {
		Routes []string `json:"routes"`
	}
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, srv.Routes(), got.Routes)
	assert.Contains(t, got.Routes, mwListOp)
	assert.Contains(t, got.Routes, mwCreateOp)
}

func TestOpsUnknownEndpointAndMethod(t *testing.T) {
	srv := NewServer(t, Options{})

	resp, body := mwDo(t, srv, http.MethodGet, "/_sim/nope", "", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, mwEnvelope(t, body).Error, "GET /_sim/stats", "lists the operator endpoints")

	resp, body = mwDo(t, srv, http.MethodGet, "/_sim/reset", "", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	assert.Equal(t, atomicwork.CodeBadRequest, mwEnvelope(t, body).Code)

	resp, _ = mwDo(t, srv, http.MethodDelete, "/_sim/faults", "", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET, POST", resp.Header.Get("Allow"))
}
