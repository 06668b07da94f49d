package runs

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

func TestAnswerTellsAStaleChangeFromARejection(t *testing.T) {
	stale := temporal.NewApplicationError("HR decided a newer change at 2026-11-20T11:00:00Z: this one changes nothing", lifecycle.ErrStaleChange)
	var rejected *RejectedError
	require.ErrorAs(t, answer(stale), &rejected)
	assert.Equal(t, RejectedError{Reason: "HR decided a newer change at 2026-11-20T11:00:00Z: this one changes nothing", Stale: true}, *rejected)

	refused := temporal.NewApplicationError("the offboarding is past its scheduled time", "")
	require.ErrorAs(t, answer(refused), &rejected)
	assert.Equal(t, RejectedError{Reason: "the offboarding is past its scheduled time"}, *rejected)
	assert.NoError(t, answer(nil))
	other := serviceerror.NewNotFound("gone")
	assert.Same(t, other, answer(other), "not the workflow's answer")
}

func TestClassifyMarksWhatTemporalDidNotAnswerInTime(t *testing.T) {
	for _, err := range []error{serviceerror.NewUnavailable("down"), serviceerror.NewDeadlineExceeded("slow"),
		serviceerror.NewResourceExhausted(0, "busy"), serviceerror.NewCanceled("cut"), context.DeadlineExceeded, context.Canceled} {
		got := classify("onboarding-E-1", err)
		assert.ErrorIs(t, got, ErrUnavailable, "%v", err)
		assert.ErrorIs(t, got, err)
		assert.Contains(t, got.Error(), "onboarding-E-1")
	}
	for _, typed := range []error{&AlreadyRanError{WorkflowID: "onboarding-E-1", RunID: "run-0"}, &RejectedError{Reason: "no"}, ErrNotRunning, ErrNotFound, nil} {
		assert.Equal(t, typed, classify("onboarding-E-1", typed), "typed errors pass as they are")
	}
	other := classify("onboarding-E-1", errors.New("permission denied"))
	assert.NotErrorIs(t, other, ErrUnavailable)
	assert.EqualError(t, other, "onboarding-E-1: permission denied")
}
