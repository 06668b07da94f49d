package runs

import (
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Reassignment is the start of a bulk asset reassignment on taskQueue: the id
// asset-reassignment-<batch id>, a repeat reaching the running batch, and a run after the end
// starting afresh (it skips what already moved).
func Reassignment(in lifecycle.ReassignmentInput, taskQueue string) Start {
	target := "stock"
	if !in.Target.Stock {
		target = "a user"
	}
	mode := ""
	if in.DryRun {
		mode = " (dry run)"
	}
	return Start{Workflow: lifecycle.ReassignmentWorkflowName, Input: in, Options: client.StartWorkflowOptions{
		ID:                       lifecycle.ReassignmentID(in.BatchID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(lifecycle.LifecycleStageKey.ValueSet(lifecycle.StageReassignPlanning)),
		// The batch id and counts only, never emails or names.
		StaticSummary: fmt.Sprintf("Asset reassignment %s to %s%s", in.BatchID, target, mode),
		StaticDetails: details("`starter reassign`",
			fact{"Batch", in.BatchID}, fact{"Target", target}, fact{"Concurrency", fmt.Sprint(in.Concurrency)}),
	}}
}
