package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// described is the description Temporal gives of a schedule created with d's options: the input
// and memo come back as payloads.
func described(t *testing.T, d Definition, taskQueue string) *client.ScheduleDescription {
	t.Helper()
	dc := converter.GetDefaultDataConverter()
	opts := d.Options(taskQueue)
	action := *opts.Action.(*client.ScheduleWorkflowAction)
	arg, err := dc.ToPayload(action.Args[0])
	require.NoError(t, err)
	action.Args = []any{arg}
	memo, err := dc.ToPayload(managedMemoValue)
	require.NoError(t, err)
	spec := opts.Spec
	return &client.ScheduleDescription{
		Schedule: client.Schedule{
			Action: &action,
			Spec:   &spec,
			Policy: &client.SchedulePolicies{Overlap: opts.Overlap, CatchupWindow: opts.CatchupWindow, PauseOnFailure: opts.PauseOnFailure},
			State:  &client.ScheduleState{Paused: opts.Paused, Note: opts.Note},
		},
		Memo: &commonpb.Memo{Fields: map[string]*commonpb.Payload{ManagedMemoKey: memo}},
	}
}

// pausedSource is a schedule source that sets every field Diff compares.
func pausedSource() Source {
	paused := true
	return Source{ID: "s", Workflow: "reconciliation", Cron: StringList{"30 1 * * *"}, Interval: StringList{"6h"},
		Input: map[string]any{"dry_run": true}, Jitter: "10m", Paused: &paused, Note: "held"}
}

func TestDiffOfWhatWasCreatedIsEmpty(t *testing.T) {
	dc := converter.GetDefaultDataConverter()
	d, err := pausedSource().Build(label)
	require.NoError(t, err)
	desc := described(t, d, "q")
	assert.Empty(t, d.Diff(desc, "q", dc))
	assert.True(t, IsManaged(desc.Memo, dc))
	assert.Equal(t, []string{"task queue"}, d.Diff(desc, "other-q", dc))

	// What differs from the created schedule when the source changes.
	diffAfter := func(change func(*Source)) []string {
		s := pausedSource()
		change(&s)
		changed, err := s.Build(label)
		require.NoError(t, err)
		return changed.Diff(desc, "q", dc)
	}
	assert.Equal(t, []string{"spec", "workflow id", "input", "summary"}, diffAfter(func(s *Source) {
		s.ID, s.Cron, s.Input = "s2", StringList{"45 1 * * *"}, map[string]any{"dry_run": false}
	}))
	assert.Equal(t, []string{"overlap", "catchup window", "pause on failure"}, diffAfter(func(s *Source) {
		s.Overlap, s.CatchupWindow, s.PauseOnFailure = "buffer-one", "2h", true
	}))
	unpaused := false
	assert.Equal(t, []string{"paused", "note"}, diffAfter(func(s *Source) { s.Paused, s.Note = &unpaused, "resumed" }))
	assert.Empty(t, diffAfter(func(s *Source) { s.Paused, s.Note = nil, "" }), "without paused, the pause state belongs to operators")
}

func TestDiffCountsWhatOthersChanged(t *testing.T) {
	dc := converter.GetDefaultDataConverter()
	d, err := Source{ID: "s", Workflow: "reconciliation", Cron: StringList{"30 1 * * *"}}.Build(label)
	require.NoError(t, err)

	desc := described(t, d, "q")
	desc.Schedule.Action.(*client.ScheduleWorkflowAction).WorkflowRunTimeout = time.Hour
	assert.Equal(t, []string{"workflow options"}, d.Diff(desc, "q", dc))

	desc = described(t, d, "q")
	desc.Schedule.Action.(*client.ScheduleWorkflowAction).Args = []any{&commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/encrypted")}}}
	assert.Equal(t, []string{"input"}, d.Diff(desc, "q", dc), "an input the starter cannot read counts as changed")

	desc = described(t, d, "q")
	desc.Schedule.Policy = nil
	assert.Equal(t, []string{"overlap", "catchup window"}, d.Diff(desc, "q", dc))

	desc = described(t, d, "q")
	desc.Schedule.Action = &client.ScheduleWorkflowAction{}
	assert.Contains(t, d.Diff(desc, "q", dc), "workflow")
	assert.False(t, IsManaged(nil, dc))
}

func TestUpdatedKeepsTheOperatorsPauseUnlessTheDefinitionSetsIt(t *testing.T) {
	cur := client.ScheduleDescription{Schedule: client.Schedule{State: &client.ScheduleState{Paused: true, Note: "incident 42"}}}
	d, err := Source{ID: "s", Workflow: "reconciliation", Cron: StringList{"30 1 * * *"}}.Build(label)
	require.NoError(t, err)
	up := d.Updated(cur, "q")
	assert.Equal(t, client.ScheduleState{Paused: true, Note: "incident 42"}, *up.State)
	assert.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, up.Policy.Overlap)
	assert.Equal(t, "q", up.Action.(*client.ScheduleWorkflowAction).TaskQueue)

	unpaused := false
	d, err = Source{ID: "s", Workflow: "reconciliation", Cron: StringList{"30 1 * * *"}, Paused: &unpaused}.Build(label)
	require.NoError(t, err)
	assert.Equal(t, client.ScheduleState{Paused: false, Note: "unpaused by starter schedule"}, *d.Updated(cur, "q").State)
}
