package atomicworktest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/internal/testkit"
)

func TestHandlerUnknownPathIs404Envelope(t *testing.T) {
	srv := NewServer(t, Options{})
	for _, path := range []string{"/", "/api/v2/users/list", "/favicon.ico", "/_simulator"} {
		resp, body := mwDo(t, srv, http.MethodGet, path, DevKey, nil)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		assert.Equal(t, atomicwork.CodeNotFound, mwEnvelope(t, body).Code, path)
	}
	assert.Empty(t, srv.Stats().Calls, "only /api/v1 calls are counted")
}

func TestHandlerCountsUnmatchedAPICalls(t *testing.T) {
	srv := NewServer(t, Options{})
	resp, _ := mwDo(t, srv, http.MethodGet, "/api/v1/no-such-thing", DevKey, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = mwDo(t, srv, http.MethodPost, "/api/v1/no-such-thing", DevKey, map[string]any{})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	st := srv.Stats()
	assert.Equal(t, map[int]int{http.StatusNotFound: 1}, st.Calls["GET <unmatched>"])
	assert.Equal(t, map[int]int{http.StatusNotFound: 1}, st.Calls["POST <unmatched>"])
	assert.Zero(t, st.WritesApplied)
}

func TestIsWrite(t *testing.T) {
	for _, tc := range []struct {
		method, op string
		want       bool
	}{
		{http.MethodGet, "GET /api/v1/users/list", false},
		{http.MethodPost, "POST /api/v1/assets/list", false},
		{http.MethodPost, "POST /api/v1/iga/grants/list", false},
		{http.MethodPost, "POST /api/v1/users", true},
		{http.MethodPost, "POST /api/v1/iga/grants/{grant_id}/revoke", true},
		{http.MethodPost, "", true},
		{http.MethodPut, "PUT /api/v1/assets/{asset_id}", true},
		{http.MethodPatch, "PATCH /api/v1/requests/{request_id}", true},
		{http.MethodDelete, "DELETE /api/v1/users/{user_id}", true},
		{http.MethodHead, "", false},
	} {
		assert.Equal(t, tc.want, isWrite(tc.method, tc.op), "%s %q", tc.method, tc.op)
	}
}

func TestStatsIsADeepCopy(t *testing.T) {
	srv := NewServer(t, Options{})
	mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)

	st := srv.Stats()
	st.Calls[mwListOp][http.StatusOK] = 99
	st.FaultsInjected[FaultStall] = 99
	fresh := srv.Stats()
	assert.Equal(t, 1, fresh.Calls[mwListOp][http.StatusOK])
	assert.Zero(t, fresh.FaultsInjected[FaultStall])
}

func TestResetRestoresSeedAndClearsStats(t *testing.T) {
	srv := NewServer(t, Options{RPS: 0.01, Burst: 1})
	resp, _ := mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("reset.me@example.com"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)

	srv.Reset()
	assert.Equal(t, Stats{Calls: map[string]map[int]int{}, FaultsInjected: map[string]int{}}, srv.Stats())
	assert.False(t, mwUserExists(t, srv, "reset.me@example.com"), "data back to the seed (and the bucket refilled)")
	rps, burst := srv.limiter.limits()
	assert.Equal(t, 0.01, rps, "limits stay as configured")
	assert.Equal(t, 1, burst)
}

func TestCloseIsIdempotent(t *testing.T) {
	h := NewHandler(Options{})
	h.Close()
	h.Close()
}

func TestLoggingOneLinePerRequestWithoutKeyOrQuery(t *testing.T) {
	var logs testkit.SyncBuffer
	const key = "secret-test-key-4711"
	srv := NewServer(t, Options{APIKey: key, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Faults: Faults{MalformedJSON: 1}})

	mwDo(t, srv, http.MethodGet, mwListUsers+"&per_page=5", key, nil)
	mwDo(t, srv, http.MethodGet, "/_sim/stats", "", nil)
	mwDo(t, srv, http.MethodGet, "/elsewhere?token=abc", key, nil)

	var lines []map[string]any
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		lines = nil
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if assert.NoError(c, json.Unmarshal([]byte(l), &m), l) {
				lines = append(lines, m)
			}
		}
		assert.Len(c, lines, 3)
	}, 5*time.Second, 10*time.Millisecond)

	api := lines[0]
	assert.Equal(t, "request", api["msg"])
	assert.Equal(t, "GET", api["method"])
	assert.Equal(t, "/api/v1/users/list", api["path"], "no query string")
	assert.EqualValues(t, http.StatusOK, api["status"])
	assert.Equal(t, mwListOp, api["operation"])
	assert.Equal(t, FaultMalformedJSON, api["faults"])
	assert.Contains(t, api, "duration")

	assert.Equal(t, "GET /_sim/stats", lines[1]["operation"])
	assert.EqualValues(t, http.StatusNotFound, lines[2]["status"])
	assert.Equal(t, "/elsewhere", lines[2]["path"])

	all := logs.String()
	assert.NotContains(t, all, key)
	assert.NotContains(t, all, "per_page")
	assert.NotContains(t, all, "token=abc")
}

func TestConcurrentRequestsAndReconfiguration(t *testing.T) {
	srv := NewServer(t, Options{RPS: 1000, Burst: 1000, Faults: Faults{Seed: 1, ServerError: 0.1, WriteThen500: 0.1, MalformedJSON: 0.1}})

	const workers, perWorker = 8, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			key := DevKey
			if w%2 == 1 {
				key = HRKey
			}
			for i := range perWorker {
				var err error
				if i%3 == 0 {
					_, _, err = mwSend(srv, http.MethodPost, mwCreateUser, key, mwNewUser(fmt.Sprintf("w%d.i%d@example.com", w, i)))
				} else {
					_, _, err = mwSend(srv, http.MethodGet, mwListUsers, key, nil)
				}
				assert.NoError(t, err)
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			srv.SetFaults(Faults{Seed: int64(i), ServerError: 0.1, WriteThen500: 0.1, MalformedJSON: 0.1})
			srv.SetRateLimit(1000, 1000+i)
			_ = srv.Stats()
			_ = srv.Faults()
			_, _, err := mwSend(srv, http.MethodGet, "/_sim/stats", "", nil)
			assert.NoError(t, err)
		}
	})
	wg.Wait()

	st := srv.Stats()
	total := 0
	for _, byStatus := range st.Calls {
		for _, n := range byStatus {
			total += n
		}
	}
	assert.Equal(t, workers*perWorker, total, "every API call counted once")
	assert.LessOrEqual(t, st.WritesApplied, workers*((perWorker+2)/3))
}
