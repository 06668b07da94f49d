package runs

import (
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Onboarding is the start of an employee's onboarding on taskQueue: the id onboarding-<employee
// id>, a repeat reaching the running run, and no new run after a completed one unless Again (a
// failed one is followed).
func Onboarding(in lifecycle.OnboardingInput, taskQueue string) Start {
	return Start{Workflow: lifecycle.OnboardingWorkflowName, Input: in, Options: client.StartWorkflowOptions{
		ID:                       lifecycle.OnboardingID(in.EmployeeID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		// A completed onboarding comes back as an error (AlreadyRanError), told apart from a
		// running one.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			lifecycle.EmployeeIDKey.ValueSet(in.EmployeeID),
			lifecycle.LifecycleStageKey.ValueSet(lifecycle.StagePlanning),
		),
		StaticSummary: fmt.Sprintf("Onboarding %s · day one %s", in.EmployeeID, in.StartDate),
		StaticDetails: details("`starter onboard`",
			fact{"Employee id", in.EmployeeID},
			fact{"Day one", fmt.Sprintf("%s (%s)", in.StartDate, zoneName(in.TimeZone))},
			fact{"Atomicwork workspace", workspaceName(in.WorkspaceID)},
		),
	}}
}
