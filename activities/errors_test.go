package activities

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// A transient failure waits from a short base by the attempts in a row without progress, not by
// the attempt number; a 429's Retry-After wins.
func TestRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		errType    string
		retryAfter time.Duration
		stalls     int
		want       time.Duration
	}{
		{ErrRateLimited, 0, 1, time.Second},
		{ErrRateLimited, 0, 2, 2 * time.Second},
		{ErrRateLimited, 0, 3, 4 * time.Second},
		{ErrRateLimited, 0, 4, 8 * time.Second},
		{ErrRateLimited, 0, 5, 10 * time.Second},
		{ErrRateLimited, 0, 40, 10 * time.Second},
		{ErrRateLimited, 7 * time.Second, 1, 7 * time.Second},
		{ErrRateLimited, 30 * time.Second, 9, 30 * time.Second},
		{ErrUnavailable, 0, 1, 100 * time.Millisecond},
		{ErrUnavailable, 0, 4, 800 * time.Millisecond},
		{ErrUnavailable, 0, 12, time.Minute},
		{ErrUnavailable, 0, 400, time.Minute},
	} {
		assert.Equal(t, tc.want, retryDelay(tc.errType, tc.retryAfter, tc.stalls), "%s, Retry-After %s, %d stalls", tc.errType, tc.retryAfter, tc.stalls)
	}
}

// withRetryDelay keeps what Temporal and operators match on (type, message, retryable) and
// sets the delay on the outermost error, where Temporal reads it.
func TestWithRetryDelayKeepsTheError(t *testing.T) {
	cause := errors.New("HTTP 429")
	in := temporal.NewApplicationErrorWithOptions("rate limited", ErrRateLimited, temporal.ApplicationErrorOptions{Cause: cause})
	out := withRetryDelay(in, 3)
	appErr, ok := out.(*temporal.ApplicationError)
	require.True(t, ok, "not wrapped: %T", out)
	assert.Equal(t, ErrRateLimited, appErr.Type())
	assert.Equal(t, "rate limited", appErr.Message())
	assert.False(t, appErr.NonRetryable())
	assert.Equal(t, 4*time.Second, appErr.NextRetryDelay())
	assert.ErrorIs(t, out, cause)
	assert.True(t, transient(out))
	assert.False(t, transient(temporal.NewNonRetryableApplicationError("bad", ErrRateLimited, nil)))
	assert.False(t, transient(retryable(ErrStateConflict, "moved")))
}
