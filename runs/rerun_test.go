package runs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/runs"
)

func TestRerunRules(t *testing.T) {
	for _, tc := range []struct {
		outcome                 string
		onboarding, offboarding bool
	}{
		{lifecycle.OutcomeCompleted, false, false},
		{lifecycle.OutcomeCancelled, true, true},
		{lifecycle.OutcomeRehired, false, true},
		{"failed", false, false},
		{"", false, false},
	} {
		assert.Equal(t, tc.onboarding, runs.OnboardingMayRunAgain(tc.outcome), "onboarding %q", tc.outcome)
		assert.Equal(t, tc.offboarding, runs.OffboardingMayRunAgain(tc.outcome), "offboarding %q", tc.outcome)
	}
}

func TestBoomerangIsAnOnboardingStartedAfterTheOffboardingClosed(t *testing.T) {
	closed := time.Date(2026, 11, 17, 12, 0, 0, 0, time.UTC)
	off := runs.RunInfo{RunID: "off-1", StartedAt: closed.AddDate(0, -1, 0), ClosedAt: closed, Outcome: lifecycle.OutcomeCompleted}
	assert.True(t, runs.Boomerang(off, runs.RunInfo{RunID: "on-2", StartedAt: closed.Add(time.Hour), Running: true}), "rehired since")
	assert.False(t, runs.Boomerang(off, runs.RunInfo{RunID: "on-1", StartedAt: closed.AddDate(-1, 0, 0)}), "the onboarding before the departure")
	assert.False(t, runs.Boomerang(off, runs.RunInfo{RunID: "on-1", StartedAt: closed}), "not after")
	assert.False(t, runs.Boomerang(off, runs.RunInfo{}), "never onboarded")
}
