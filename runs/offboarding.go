package runs

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Offboarding is the start of an employee's offboarding on taskQueue: the id offboarding-<employee
// id>, a repeat reaching the running run, and no new run after a completed one unless Again
// (OffboardingMayRunAgain, Boomerang).
func Offboarding(in lifecycle.OffboardingInput, taskQueue string) Start {
	summary := fmt.Sprintf("Offboarding %s · last day %s %s", in.EmployeeID, in.LastDay, zoneName(in.TimeZone))
	if in.Immediate {
		summary += " · immediate"
	}
	return Start{Workflow: lifecycle.OffboardingWorkflowName, Input: in, Options: client.StartWorkflowOptions{
		ID:                       lifecycle.OffboardingID(in.EmployeeID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			lifecycle.EmployeeIDKey.ValueSet(in.EmployeeID),
			lifecycle.LifecycleStageKey.ValueSet(lifecycle.StageOffPlanning),
		),
		StaticSummary: summary,
		StaticDetails: offboardingDetails(in),
	}}
}

func offboardingDetails(in lifecycle.OffboardingInput) string {
	assets := in.Assets
	switch assets {
	case "":
		assets = lifecycle.AssetsReturn
	case lifecycle.AssetsUser:
		assets = "to a named user" // the recipient's email stays in the (encrypted) input
	}
	grace := "never deleted"
	if d := in.Grace(); d > 0 {
		grace = "deleted " + formatGrace(d) + " after offboarding"
	}
	endOfDay := in.EndOfDay
	if endOfDay == "" {
		endOfDay = lifecycle.DefaultEndOfDay
	}
	facts := []fact{
		{"Employee id", in.EmployeeID},
		{"Last day", fmt.Sprintf("%s, access ends %s (%s)", in.LastDay, endOfDay, zoneName(in.TimeZone))},
	}
	if in.Immediate {
		facts = append(facts, fact{"Immediate", "yes"})
	}
	facts = append(facts, fact{"Assets", assets}, fact{"Account", grace}, fact{"Atomicwork workspace", workspaceName(in.WorkspaceID)})
	return details("`starter offboard`", facts...)
}

// formatGrace says a grace period in days when it is whole days.
func formatGrace(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		days := int(d / (24 * time.Hour))
		if days == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", days)
	}
	return d.String()
}
