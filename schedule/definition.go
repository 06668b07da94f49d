package schedule

import (
	"encoding/json"
	"reflect"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// Ownership: every schedule created from a Definition carries the schedule memo
// managed-by=atomicflow. `schedule apply --prune` deletes only schedules with that memo, so
// schedules made with the Temporal CLI, the UI or other code are never pruned. (The memo is set at
// creation only: Temporal's Go SDK cannot change a schedule's memo later, so a schedule created
// elsewhere that apply updates stays unmarked, and is never pruned.)
const (
	// ManagedMemoKey is the memo key of atomicflow's mark; its value is managedMemoValue.
	ManagedMemoKey   = "managed-by"
	managedMemoValue = "atomicflow"
)

// IsManaged tells whether a schedule memo carries atomicflow's mark. A memo that cannot be
// decoded (a key the starter lacks) is not ours: --prune must never delete what it cannot tell.
func IsManaged(memo *commonpb.Memo, dc converter.DataConverter) bool {
	p := memo.GetFields()[ManagedMemoKey]
	if p == nil {
		return false
	}
	var v string
	return dc.FromPayload(p, &v) == nil && v == managedMemoValue
}

// Definition is a validated schedule: what the starter wants Temporal to hold. Source.Build and
// LoadFile make them.
type Definition struct {
	id             string
	wf             scheduledWorkflow
	input          input // pointer to the workflow's input struct
	spec           client.ScheduleSpec
	overlap        enumspb.ScheduleOverlapPolicy
	catchupWindow  time.Duration
	pauseOnFailure bool
	paused         *bool
	note           string
	warnings       []string
}

// ID is the schedule id.
func (d Definition) ID() string { return d.id }

// Warnings are what is valid but likely a mistake, for the user to read before it is sent.
func (d Definition) Warnings() []string { return d.warnings }

// action is the workflow the schedule starts. Its id is the schedule's: Temporal appends the
// scheduled time, e.g. nightly-reconciliation-2026-11-26T01:30:00Z.
func (d Definition) action(taskQueue string) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:        d.id,
		Workflow:  d.wf.typeName,
		Args:      []any{d.input},
		TaskQueue: taskQueue,
		// Ids and settings only: the UI shows these to everyone.
		StaticSummary:         d.wf.summary(d.id, d.input),
		StaticDetails:         d.wf.details(d.id, d.input),
		TypedSearchAttributes: temporal.NewSearchAttributes(stageKey.ValueSet(d.wf.stage)),
	}
}

// Options are the options that create the schedule, its workflows on taskQueue.
func (d Definition) Options(taskQueue string) client.ScheduleOptions {
	opts := client.ScheduleOptions{
		ID:             d.id,
		Spec:           d.spec,
		Action:         d.action(taskQueue),
		Overlap:        d.overlap,
		CatchupWindow:  d.catchupWindow,
		PauseOnFailure: d.pauseOnFailure,
		Note:           d.note,
		Memo:           map[string]any{ManagedMemoKey: managedMemoValue},
	}
	if d.paused != nil {
		opts.Paused = *d.paused
	}
	return opts
}

// Diff lists what differs between the definition, its workflows on taskQueue, and the described
// schedule, whose payloads dc reads; empty means unchanged. The pause state and note count only
// when the definition sets paused.
func (d Definition) Diff(desc *client.ScheduleDescription, taskQueue string, dc converter.DataConverter) []string {
	var out []string
	s := desc.Schedule
	if !reflect.DeepEqual(normSpec(&d.spec), normSpec(s.Spec)) {
		out = append(out, "spec")
	}
	out = append(out, d.actionDiff(s.Action, taskQueue, dc)...)
	pol := s.Policy
	if pol == nil {
		pol = &client.SchedulePolicies{}
	}
	if pol.Overlap != d.overlap {
		out = append(out, "overlap")
	}
	if pol.CatchupWindow != d.catchupWindow {
		out = append(out, "catchup window")
	}
	if pol.PauseOnFailure != d.pauseOnFailure {
		out = append(out, "pause on failure")
	}
	if d.paused != nil {
		st := s.State
		if st == nil {
			st = &client.ScheduleState{}
		}
		if st.Paused != *d.paused {
			out = append(out, "paused")
		}
		if d.note != "" && st.Note != d.note {
			out = append(out, "note")
		}
	}
	return out
}

func (d Definition) actionDiff(got client.ScheduleAction, taskQueue string, dc converter.DataConverter) []string {
	want := d.action(taskQueue)
	g, ok := got.(*client.ScheduleWorkflowAction)
	if !ok || g == nil {
		return []string{"action"}
	}
	var out []string
	if name, _ := g.Workflow.(string); name != want.Workflow {
		out = append(out, "workflow")
	}
	if g.ID != want.ID {
		out = append(out, "workflow id")
	}
	if g.TaskQueue != want.TaskQueue {
		out = append(out, "task queue")
	}
	if !d.sameInput(g.Args, dc) {
		out = append(out, "input")
	}
	if g.StaticSummary != want.StaticSummary || g.StaticDetails != want.StaticDetails {
		out = append(out, "summary")
	}
	if g.WorkflowExecutionTimeout != 0 || g.WorkflowRunTimeout != 0 || g.WorkflowTaskTimeout != 0 || g.RetryPolicy != nil || len(g.Memo) > 0 {
		out = append(out, "workflow options")
	}
	stage, _ := g.TypedSearchAttributes.GetKeyword(stageKey)
	if stage != d.wf.stage || g.TypedSearchAttributes.Size() != want.TypedSearchAttributes.Size() || len(g.UntypedSearchAttributes) > 0 {
		out = append(out, "search attributes")
	}
	return out
}

// sameInput decodes the described arguments into the workflow's input struct and compares.
// An argument that cannot be decoded (a key the starter lacks) counts as changed: the update then
// writes the wanted input again, which is safe.
func (d Definition) sameInput(args []any, dc converter.DataConverter) bool {
	if len(args) != 1 {
		return false
	}
	got := d.wf.newInput()
	switch a := args[0].(type) {
	case *commonpb.Payload:
		if err := dc.FromPayload(a, got); err != nil {
			return false
		}
	default:
		raw, err := json.Marshal(a)
		if err != nil || json.Unmarshal(raw, got) != nil {
			return false
		}
	}
	return reflect.DeepEqual(got, d.input)
}

// Updated is the schedule an update writes over cur, its workflows on taskQueue: spec, action and
// policies from the definition; the state from cur unless the definition sets paused.
func (d Definition) Updated(cur client.ScheduleDescription, taskQueue string) *client.Schedule {
	st := client.ScheduleState{}
	if cur.Schedule.State != nil {
		st = *cur.Schedule.State
	}
	if d.paused != nil {
		if st.Paused != *d.paused && d.note == "" {
			st.Note = map[bool]string{true: "paused", false: "unpaused"}[*d.paused] + " by starter schedule"
		}
		st.Paused = *d.paused
		if d.note != "" {
			st.Note = d.note
		}
	}
	spec := d.spec
	return &client.Schedule{
		Action: d.action(taskQueue),
		Spec:   &spec,
		Policy: &client.SchedulePolicies{Overlap: d.overlap, CatchupWindow: d.catchupWindow, PauseOnFailure: d.pauseOnFailure},
		State:  &st,
	}
}
