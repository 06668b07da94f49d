package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays histories recorded from real runs (the e2e tests record
// them with ATOMICFLOW_RECORD_HISTORY=1). A change to workflow code that would break a running
// workflow fails here; such changes go behind workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "onboarding-*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded onboarding history in testdata/")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Onboarding, workflow.RegisterOptions{Name: OnboardingWorkflowName})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
