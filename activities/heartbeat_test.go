package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// A cancel request delivered by a heartbeat leaves the step running (it finishes its write, as
// before heartbeats); any other end of the activity's context, and its deadline, end it.
func TestIgnoreCancelRequestsKeepsOnlyTheCancelRequestOut(t *testing.T) {
	t.Run("cancel request", func(t *testing.T) {
		parent, cancel := context.WithCancelCause(context.Background())
		ctx, stop := ignoreCancelRequests(parent)
		defer stop()
		cancel(temporal.NewCanceledError())
		assert.Never(t, func() bool { return ctx.Err() != nil }, 100*time.Millisecond, 10*time.Millisecond)
	})
	t.Run("other cause", func(t *testing.T) {
		parent, cancel := context.WithCancelCause(context.Background())
		ctx, stop := ignoreCancelRequests(parent)
		defer stop()
		shutdown := errors.New("worker stopping")
		cancel(shutdown)
		require.Eventually(t, func() bool { return ctx.Err() != nil }, 5*time.Second, time.Millisecond)
		assert.ErrorIs(t, context.Cause(ctx), shutdown)
	})
	t.Run("deadline after a cancel request", func(t *testing.T) {
		withDeadline, cancelDeadline := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancelDeadline()
		parent, cancel := context.WithCancelCause(withDeadline)
		ctx, stop := ignoreCancelRequests(parent)
		defer stop()
		cancel(temporal.NewCanceledError())
		<-ctx.Done()
		assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	})
}
