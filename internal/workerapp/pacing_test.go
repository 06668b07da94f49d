package workerapp

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// limitedAPI answers its first request 429 with Retry-After (an hour, or none when retryAfter is
// empty) and every other one with a user.
func limitedAPI(t *testing.T, retryAfter string) (*httptest.Server, *atomic.Int32) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if served.Add(1) == 1 {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":"Too many requests","code":"RATE_LIMITED"}`))
			return
		}
		_, _ = w.Write([]byte(`{"id":7,"email":"a@example.com"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &served
}

// TestClientsOfAKeySharePacer: the worker's activities call the API through these clients
// (activities.New), so a 429 that one of them gets holds back every call of the key, from any
// workspace and activity, and none of another key.
func TestClientsOfAKeySharePacer(t *testing.T) {
	srv, served := limitedAPI(t, "3600")
	clients, err := newClients(Config{BaseURL: srv.URL, Keys: map[int64]string{1: testKey, 2: testKey, 3: otherKey}}, nil)
	require.NoError(t, err)

	_, err = clients[1].GetUser(t.Context(), 7)
	require.True(t, atomicwork.IsRateLimited(err), "%v", err)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err = clients[2].GetUser(ctx, 7)
	require.ErrorIs(t, err, context.DeadlineExceeded, "workspace 2 has the same key: it waits for the Retry-After")
	assert.NotContains(t, err.Error(), testKey)
	_, err = clients[1].GetUser(ctx, 7)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int32(1), served.Load(), "nothing was sent during the pause")

	_, err = clients[3].GetUser(t.Context(), 7)
	require.NoError(t, err, "another key has its own pacer")
	assert.Equal(t, int32(2), served.Load())
}

// TestPacerRateMetric: each workspace's gauge shows its key's rate, ATOMICWORK_RPS at first,
// lower after a 429; no key in the labels.
func TestPacerRateMetric(t *testing.T) {
	srv, _ := limitedAPI(t, "")
	m, err := startMetrics("127.0.0.1:0", NewLogger(io.Discard, "json", slog.LevelInfo))
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.close(context.Background()) })
	clients, err := newClients(Config{BaseURL: srv.URL, RPS: 50, Metrics: m.handler,
		Keys: map[int64]string{1: testKey, 2: testKey, 3: otherKey}}, nil)
	require.NoError(t, err)
	url := "http://" + m.addr.String() + "/metrics"
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		body := scrape(c, url)
		for _, ws := range []string{"1", "2", "3"} {
			assert.Contains(c, body, `atomicflow_api_rate_limit_rps{workspace="`+ws+`"} 50`)
		}
	}, 10*time.Second, 100*time.Millisecond)

	_, err = clients[1].GetUser(t.Context(), 7) // 429: nothing was admitted before it
	require.True(t, atomicwork.IsRateLimited(err), "%v", err)
	_, err = clients[2].GetUser(t.Context(), 7) // after the pause: the rate decreased
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		body := scrape(c, url)
		for _, ws := range []string{"1", "2"} { // the lowest rate, plus what a few ms of success added
			assert.InDelta(c, 1, gauge(c, body, ws), 0.5, "workspace %s", ws)
		}
		assert.Equal(c, 50.0, gauge(c, body, "3"), "another key")
		assert.NotContains(c, body, testKey)
	}, 10*time.Second, 100*time.Millisecond)
}

// gauge reads a workspace's atomicflow_api_rate_limit_rps from a scrape; -1 when absent.
func gauge(c assert.TestingT, body, ws string) float64 {
	m := regexp.MustCompile(`(?m)^atomicflow_api_rate_limit_rps\{workspace="` + ws + `"\} (\S+)$`).FindStringSubmatch(body)
	if !assert.NotNil(c, m, "no gauge for workspace %s", ws) {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	assert.NoError(c, err)
	return v
}
