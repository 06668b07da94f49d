package atomicworktest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// mwClock is a manual clock for the token-bucket arithmetic.
type mwClock struct{ t time.Time }

func (c *mwClock) now() time.Time          { return c.t }
func (c *mwClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestRateLimiterTokenBucket(t *testing.T) {
	clock := &mwClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newRateLimiter(2, 3, clock.now)

	for i := range 3 {
		ok, _ := l.allow("k")
		require.True(t, ok, "burst call %d", i+1)
	}
	ok, wait := l.allow("k")
	require.False(t, ok)
	assert.Equal(t, 500*time.Millisecond, wait)

	// A rejected call takes nothing: asking again at once gives the same wait.
	ok, wait = l.allow("k")
	require.False(t, ok)
	assert.Equal(t, 500*time.Millisecond, wait)

	clock.advance(200 * time.Millisecond)
	ok, wait = l.allow("k")
	require.False(t, ok)
	assert.Equal(t, 300*time.Millisecond, wait)

	clock.advance(300 * time.Millisecond)
	ok, _ = l.allow("k")
	require.True(t, ok, "one token after 1/rps")

	ok, _ = l.allow("other")
	require.True(t, ok, "each key has its own bucket")

	clock.advance(time.Hour)
	for i := range 3 {
		ok, _ = l.allow("k")
		require.True(t, ok, "refilled up to the burst, call %d", i+1)
	}
	ok, _ = l.allow("k")
	require.False(t, ok, "never more than the burst")
}

func TestRateLimiterDefaultBurst(t *testing.T) {
	for _, tc := range []struct {
		rps   float64
		burst int
		want  int
	}{
		{rps: 0, burst: 5, want: 0},
		{rps: 0.5, burst: 0, want: 1},
		{rps: 2.5, burst: 0, want: 3},
		{rps: 10, burst: 0, want: 10},
		{rps: 10, burst: 4, want: 4},
	} {
		_, burst := newRateLimiter(tc.rps, tc.burst, time.Now).limits()
		assert.Equal(t, tc.want, burst, "rps %v burst %d", tc.rps, tc.burst)
	}
}

func TestRateLimiterSet(t *testing.T) {
	clock := &mwClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newRateLimiter(0, 0, clock.now)
	for range 100 {
		ok, _ := l.allow("k")
		require.True(t, ok, "rps 0 is unlimited")
	}

	l.set(1, 10)
	for range 10 {
		ok, _ := l.allow("k")
		require.True(t, ok)
	}
	clock.advance(5 * time.Second) // five tokens earned at 1/s

	l.set(100, 2) // lowering the burst caps what the bucket holds now
	for range 2 {
		ok, _ := l.allow("k")
		require.True(t, ok)
	}
	ok, wait := l.allow("k")
	require.False(t, ok)
	assert.Equal(t, 10*time.Millisecond, wait, "the new rate applies at once")

	l.reset()
	ok, _ = l.allow("k")
	assert.True(t, ok, "reset refills")

	l.set(0, 0)
	rps, burst := l.limits()
	assert.Zero(t, rps)
	assert.Zero(t, burst)
}

func TestWriteRateLimitedRetryAfterRoundsUp(t *testing.T) {
	for wait, want := range map[time.Duration]string{
		0:                       "1",
		10 * time.Millisecond:   "1",
		time.Second:             "1",
		1001 * time.Millisecond: "2",
		9500 * time.Millisecond: "10",
	} {
		rec := httptest.NewRecorder()
		writeRateLimited(rec, wait)
		assert.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, want, rec.Header().Get("Retry-After"), "wait %s", wait)
		assert.JSONEq(t, `{"error":"Too many requests","code":"RATE_LIMITED"}`, rec.Body.String())
	}
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	srv := NewServer(t, Options{RPS: 0.5, Burst: 1}) // one call, then a token every 2s

	resp, _ := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, body := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.JSONEq(t, `{"error":"Too many requests","code":"RATE_LIMITED"}`, string(body))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "2", resp.Header.Get("Retry-After"), "whole seconds, rounded up")
	assert.Equal(t, 2*time.Second, atomicwork.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()))

	st := srv.Stats()
	assert.Equal(t, 1, st.RateLimited)
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusTooManyRequests: 1}, st.Calls[mwListOp])
	assert.Empty(t, st.FaultsInjected, "a token-bucket 429 is not an injected fault")
}

func TestRateLimitRecoversAfterTheWait(t *testing.T) {
	srv := NewServer(t, Options{RPS: 20, Burst: 1}) // a token every 50ms

	resp, _ := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("Retry-After"), "at least one second")

	retry := mwRequest(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, http.StatusOK, mwStatus(c, retry))
	}, 5*time.Second, 20*time.Millisecond)
}

func TestRateLimitIsPerKey(t *testing.T) {
	srv := NewServer(t, Options{RPS: 0.01, Burst: 1})

	resp, _ := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)

	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, HRKey, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "hr-key has its own bucket")
}

func TestRateLimitedWriteChangesNothing(t *testing.T) {
	srv := NewServer(t, Options{RPS: 0.01, Burst: 1})

	resp, _ := mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("first.joiner@example.com"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("second.joiner@example.com"))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)

	srv.SetRateLimit(0, 0)
	assert.True(t, mwUserExists(t, srv, "first.joiner@example.com"))
	assert.False(t, mwUserExists(t, srv, "second.joiner@example.com"), "a rate-limited create must not be applied")
	assert.Equal(t, 1, srv.Stats().WritesApplied)
}

func TestSetRateLimitAtRunTime(t *testing.T) {
	srv := NewServer(t, Options{})
	for range 5 {
		resp, _ := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "unlimited by default")
	}

	srv.SetRateLimit(0.01, 1)
	resp, _ := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)

	srv.SetRateLimit(0, 0)
	resp, _ = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestSetRateLimitPanicsOnInvalidLimits(t *testing.T) {
	srv := NewServer(t, Options{})
	assert.Panics(t, func() { srv.SetRateLimit(-1, 0) })
	assert.Panics(t, func() { srv.SetRateLimit(1, -1) })
	assert.Panics(t, func() { NewHandler(Options{RPS: -2}) })
}
