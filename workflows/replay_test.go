package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// recorded lists each workflow with the glob of its recorded histories in testdata/.
var recorded = []struct {
	name     string
	workflow any
	glob     string
}{
	{lifecycle.OnboardingWorkflowName, Onboarding, "onboarding-*.json"},
	{lifecycle.OffboardingWorkflowName, Offboarding, "offboarding-*.json"},
	{lifecycle.ReassignmentWorkflowName, Reassignment, "reassignment-*.json"},
}

// TestReplayRecordedHistories replays histories recorded from real runs (the e2e tests record
// them with ATOMICFLOW_RECORD_HISTORY=1). A change to workflow code that would break a running
// workflow fails here; such changes go behind workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	for _, wf := range recorded {
		files, err := filepath.Glob(filepath.Join("testdata", wf.glob))
		require.NoError(t, err)
		require.NotEmpty(t, files, "no recorded %s history in testdata/", wf.name)
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				r := worker.NewWorkflowReplayer()
				r.RegisterWorkflowWithOptions(wf.workflow, workflow.RegisterOptions{Name: wf.name})
				require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
			})
		}
	}
}
