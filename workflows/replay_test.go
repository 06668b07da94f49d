package workflows

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
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
	{lifecycle.ReconciliationWorkflowName, Reconciliation, "reconciliation-*.json"},
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
				replayAsRecorded(t, r, f)
			})
		}
	}
}

// replayAsRecorded replays the history in file under the workflow id it was recorded with, not
// the replayer's "ReplayId": a workflow that derives ids from its own (the reconciliation names
// its child batch after itself) must derive the recorded ones.
func replayAsRecorded(t *testing.T, r worker.WorkflowReplayer, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
	require.NoError(t, err)
	id := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
	require.NotEmpty(t, id, "%s: the first event names no workflow id", file)
	require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: id},
	}))
}
