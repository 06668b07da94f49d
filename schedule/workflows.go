package schedule

import (
	"fmt"
	"sort"
	"strings"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// What this package takes from the workflow contract: the workflows a schedule may start, and the
// names their schedules and runs carry.

// exampleID is the schedule id the id problem gives as an example.
const exampleID = lifecycle.NightlyReconciliationScheduleID

// stageKey is the search attribute a scheduled run starts with, so `starter list` finds it at once.
var stageKey = lifecycle.LifecycleStageKey

// input is a scheduled workflow's input; its Validate is the workflow's own check.
type input interface{ Validate() error }

// scheduledWorkflow is a workflow a schedule can start: its type, its input and what the UI shows.
type scheduledWorkflow struct {
	typeName string
	// newInput returns a pointer to a zero input.
	newInput func() input
	// fixes says what to do when Validate refuses an input key, by key.
	fixes   map[string]string
	summary func(scheduleID string, in input) string
	details func(scheduleID string, in input) string
	// stage is the stageKey value a scheduled run starts with.
	stage string
}

// scheduledWorkflows are the workflows a schedule may start, by their flag and file name.
var scheduledWorkflows = map[string]scheduledWorkflow{
	"reconciliation": {
		typeName: lifecycle.ReconciliationWorkflowName,
		newInput: func() input { return &lifecycle.ReconciliationInput{} },
		fixes: map[string]string{
			"workspace_id":          "use 0 for the worker's default workspace",
			"stale_onboarding_days": fmt.Sprintf("use 0 for the default (%d days)", lifecycle.DefaultStaleOnboardingDays),
			"report_to":             "give the email of the IT owner who gets the report, or leave it out",
		},
		summary: func(id string, v input) string {
			s := "Reconciliation · schedule " + id
			if v.(*lifecycle.ReconciliationInput).DryRun {
				s += " · dry run"
			}
			return s
		},
		details: func(id string, v input) string {
			in := v.(*lifecycle.ReconciliationInput)
			ws := "the worker's default"
			if in.WorkspaceID != 0 {
				ws = fmt.Sprint(in.WorkspaceID)
			}
			days := lifecycle.DefaultStaleOnboardingDays
			if in.StaleOnboardingDays > 0 {
				days = in.StaleOnboardingDays
			}
			var b strings.Builder
			fmt.Fprintf(&b, "**Schedule:** %s  \n", id)
			fmt.Fprintf(&b, "**Dry run:** %t  \n", in.DryRun)
			fmt.Fprintf(&b, "**Stale onboarding after:** %d days  \n", days)
			fmt.Fprintf(&b, "**Atomicwork workspace:** %s  \n", ws)
			b.WriteString("**Managed by:** `starter schedule`\n")
			return b.String()
		},
		stage: lifecycle.StageReconScanning,
	},
}

// WorkflowNames lists the workflows a schedule can start, as flags and files name them.
func WorkflowNames() string {
	names := make([]string, 0, len(scheduledWorkflows))
	for n := range scheduledWorkflows {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
