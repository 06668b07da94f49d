package atomicworktest

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

func TestFaultServerErrorLeavesStateUntouched(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{ServerError: 1}})

	resp, body := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, atomicwork.CodeInternal, mwEnvelope(t, body).Code)

	resp, _ = mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("never.created@example.com"))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	st := srv.Stats()
	assert.Equal(t, 2, st.FaultsInjected[FaultServerError])
	assert.Zero(t, st.WritesApplied)
	assert.Equal(t, map[int]int{http.StatusServiceUnavailable: 1}, st.Calls[mwCreateOp])

	srv.SetFaults(Faults{})
	assert.False(t, mwUserExists(t, srv, "never.created@example.com"))
}

func TestFaultRateLimitLeavesStateUntouched(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{RateLimit: 1}})

	resp, body := mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("never.created@example.com"))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Equal(t, atomicwork.CodeRateLimited, mwEnvelope(t, body).Code)

	st := srv.Stats()
	assert.Equal(t, 1, st.FaultsInjected[FaultRateLimit])
	assert.Zero(t, st.RateLimited, "RateLimited counts the token bucket only")
	assert.Zero(t, st.WritesApplied)

	srv.SetFaults(Faults{})
	assert.False(t, mwUserExists(t, srv, "never.created@example.com"))
}

func TestFaultWriteThen500AppliesTheWrite(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{WriteThen500: 1}})

	resp, body := mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("half.done@example.com"))
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, atomicwork.CodeInternal, mwEnvelope(t, body).Code)

	// Reads are not writes, POST .../list included: they pass untouched.
	resp, body = mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, json.Valid(body))
	resp, body = mwDo(t, srv, http.MethodPost, "/api/v1/assets/list?page=1&per_page=1", DevKey, []any{})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.True(t, json.Valid(body))

	st := srv.Stats()
	assert.Equal(t, 1, st.FaultsInjected[FaultWriteThen500])
	assert.Equal(t, 1, st.WritesApplied, "the write was applied before the 500")
	assert.Equal(t, map[int]int{http.StatusInternalServerError: 1}, st.Calls[mwCreateOp])

	srv.SetFaults(Faults{})
	assert.True(t, mwUserExists(t, srv, "half.done@example.com"), "the user exists although the create answered 500")

	// A retry of the "failed" create now conflicts: what naive retries run into.
	resp, _ = mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("half.done@example.com"))
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
}

func TestFaultWriteThen500PassesRefusedWrites(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{WriteThen500: 1}})

	resp, body := mwDo(t, srv, http.MethodPost, mwCreateUser, "", mwNewUser("no.key@example.com"))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "nothing was applied, so the core's answer stands")
	assert.Equal(t, atomicwork.CodeUnauthorized, mwEnvelope(t, body).Code)

	st := srv.Stats()
	assert.Zero(t, st.FaultsInjected[FaultWriteThen500])
	assert.Zero(t, st.WritesApplied)
}

func TestFaultMalformedJSON(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{MalformedJSON: 1}})

	resp, body := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NotEmpty(t, body)
	assert.False(t, json.Valid(body), "a truncated body must not parse: %s", body)
	var page atomicwork.Page[atomicwork.User]
	assert.Error(t, json.Unmarshal(body, &page))

	// Only 2xx answers are damaged: errors keep their envelope.
	resp, body = mwDo(t, srv, http.MethodGet, mwListUsers, "", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, atomicwork.CodeUnauthorized, mwEnvelope(t, body).Code)

	assert.Equal(t, 1, srv.Stats().FaultsInjected[FaultMalformedJSON])
}

func TestFaultStallThenAnswersNormally(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{Stall: 1, StallFor: 50 * time.Millisecond}})

	start := time.Now()
	resp, body := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, json.Valid(body))
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond, "held for StallFor")
	assert.Equal(t, 1, srv.Stats().FaultsInjected[FaultStall])
}

func TestFaultStallHonoursClientTimeout(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{Stall: 1, StallFor: time.Hour}})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req := mwRequest(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("gave.up@example.com")).WithContext(ctx)
	_, err := mwClient.Do(req)
	require.Error(t, err)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "client timeout, got %v", err)

	// The handler is freed long before the hour is up, and did not apply the write.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, map[int]int{http.StatusServiceUnavailable: 1}, srv.Stats().Calls[mwCreateOp])
	}, 5*time.Second, 10*time.Millisecond)
	st := srv.Stats()
	assert.Equal(t, 1, st.FaultsInjected[FaultStall])
	assert.Zero(t, st.WritesApplied)

	srv.SetFaults(Faults{})
	assert.False(t, mwUserExists(t, srv, "gave.up@example.com"))
}

func TestFaultLatencyIsAddedToEveryRequest(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{Latency: 30 * time.Millisecond}})
	for range 2 {
		start := time.Now()
		resp, _ := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	}
	assert.Empty(t, srv.Stats().FaultsInjected, "latency is a setting, not a counted fault")
}

// mwFaultSequence sends n list calls and returns their statuses.
func mwFaultSequence(t *testing.T, srv *Server, n int) []int {
	t.Helper()
	statuses := make([]int, n)
	for i := range statuses {
		resp, _ := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
		statuses[i] = resp.StatusCode
	}
	return statuses
}

func TestFaultsSameSeedSameSequence(t *testing.T) {
	faults := Faults{Seed: 42, ServerError: 0.3, RateLimit: 0.2, MalformedJSON: 0.2}
	first := mwFaultSequence(t, NewServer(t, Options{Faults: faults}), 40)
	assert.Contains(t, first, http.StatusOK)
	assert.Contains(t, first, http.StatusServiceUnavailable)
	assert.Contains(t, first, http.StatusTooManyRequests)

	again := NewServer(t, Options{Faults: faults})
	assert.Equal(t, first, mwFaultSequence(t, again, 40), "a new simulator with the same seed")

	again.Reset()
	assert.Equal(t, first, mwFaultSequence(t, again, 40), "Reset restarts the sequence")

	again.SetFaults(faults)
	assert.Equal(t, first, mwFaultSequence(t, again, 40), "SetFaults restarts the sequence")

	faults.Seed = 7
	assert.NotEqual(t, first, mwFaultSequence(t, NewServer(t, Options{Faults: faults}), 40), "another seed")
}

func TestFaultsValidate(t *testing.T) {
	require.NoError(t, Faults{}.Validate())
	require.NoError(t, Faults{ServerError: 1, RateLimit: 0.5, Stall: 0.1, StallFor: time.Second, Latency: time.Millisecond}.Validate())

	for name, tc := range map[string]struct {
		f    Faults
		want string
	}{
		"probability above 1": {Faults{ServerError: 1.5}, "server_error must be a probability between 0 and 1, got 1.5"},
		"negative":            {Faults{MalformedJSON: -0.1}, "malformed_json must be a probability"},
		"negative latency":    {Faults{Latency: -time.Second}, "latency must not be negative"},
		"negative stall_for":  {Faults{StallFor: -time.Second}, "stall_for must not be negative"},
		"stall without time":  {Faults{Stall: 0.5}, "set stall_for"},
		"reset above 1":       {Faults{Reset: 1.1}, "reset must be a probability"},
		"NaN html_5xx":        {Faults{HTMLServerError: math.NaN()}, "html_5xx must be a probability"},
		"negative short page": {Faults{ShortPage: -1}, "short_page must be a probability"},
		"unknown list order":  {Faults{ListOrder: "random"}, `list_order must be "id_asc", "id_desc" or "shuffled"`},
	} {
		err := tc.f.Validate()
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), tc.want, name)
		}
	}
	assert.Panics(t, func() { NewHandler(Options{Faults: Faults{RateLimit: 2}}) })
	assert.Panics(t, func() { NewServer(t, Options{}).SetFaults(Faults{Stall: 1}) })
}

func TestFaultsJSON(t *testing.T) {
	f := Faults{Seed: 3, ServerError: 0.1, WriteThen500: 0.2, Latency: 200 * time.Millisecond, Stall: 0.05, StallFor: 35 * time.Second,
		UnknownFields: 0.1, EmptyPage: 0.2, ShortPage: 0.3, ListOrder: ListOrderShuffled, IntegralFloats: 0.4,
		RateLimitNoRetryAfter: 0.5, HTMLServerError: 0.6, Reset: 0.7}
	b, err := json.Marshal(f)
	require.NoError(t, err)
	assert.JSONEq(t, `{"seed":3,"server_error":0.1,"rate_limit":0,"write_then_500":0.2,"latency":"200ms",
		"stall":0.05,"stall_for":"35s","malformed_json":0,"unknown_fields":0.1,"empty_page":0.2,"short_page":0.3,
		"list_order":"shuffled","integral_floats":0.4,"rate_limit_no_retry_after":0.5,"html_5xx":0.6,"reset":0.7}`, string(b))

	var back Faults
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, f, back)

	require.NoError(t, json.Unmarshal([]byte(`{"server_error":1}`), &back))
	assert.Equal(t, Faults{ServerError: 1}, back, "omitted fields are zero")

	for _, bad := range []string{`{"latency":200}`, `{"latency":"fast"}`, `{"server_errror":1}`, `[]`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &back), bad)
	}
}
