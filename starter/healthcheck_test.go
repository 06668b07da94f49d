package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHealthzIs503UntilTemporalIsReached: a receiver that never reached Temporal is not ready,
// and `starter healthcheck` says why.
func TestHealthzIs503UntilTemporalIsReached(t *testing.T) {
	link := newTemporalLink(&app{}, "q", slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(listenMux(http.NotFoundHandler(), link))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.JSONEq(t, `{"status":"unavailable","temporal":"connecting","error":"`+errNotConnected.Error()+`"}`, string(body))

	r := runStarter(t, map[string]string{}, noDial(t), "healthcheck", srv.URL+"/healthz")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "503 Service Unavailable: not connected to Temporal yet")
}

func TestHealthcheckSaysWhyAnEndpointFails(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream gone", http.StatusBadGateway)
	}))
	defer plain.Close()
	r := runStarter(t, map[string]string{}, noDial(t), "healthcheck", plain.URL)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "502 Bad Gateway: upstream gone")
}

// TestHealthIsCheckedAtMostOnceASecond: a flood of probes costs one check per TTL.
func TestHealthIsCheckedAtMostOnceASecond(t *testing.T) {
	var (
		mu     sync.Mutex
		checks int
		clock  = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
		answer = errors.New("Temporal is down")
	)
	h := &cachedHealth{ttl: time.Second,
		now:   func() time.Time { mu.Lock(); defer mu.Unlock(); return clock },
		check: func() error { mu.Lock(); defer mu.Unlock(); checks++; return answer },
	}
	var probes sync.WaitGroup
	for range 100 {
		probes.Go(func() { assert.EqualError(t, h.get(), "Temporal is down") })
	}
	probes.Wait()
	assert.Equal(t, 1, checks)

	mu.Lock()
	clock, answer = clock.Add(999*time.Millisecond), nil
	mu.Unlock()
	assert.Error(t, h.get(), "still the cached answer")
	mu.Lock()
	clock = clock.Add(time.Millisecond)
	mu.Unlock()
	assert.NoError(t, h.get(), "checked again once the answer is a second old")
	assert.Equal(t, 2, checks)
}
