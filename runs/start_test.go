package runs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/runs"
)

func keyword(o client.StartWorkflowOptions, key temporal.SearchAttributeKeyKeyword) string {
	v, _ := o.TypedSearchAttributes.GetKeyword(key)
	return v
}

func TestOnboardingStart(t *testing.T) {
	in := lifecycle.OnboardingInput{EmployeeID: "E-1042", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace",
		StartDate: "2026-12-01", TimeZone: "Europe/London", WorkspaceID: 3}
	s := runs.Onboarding(in, "hr-queue")
	assert.Equal(t, lifecycle.OnboardingWorkflowName, s.Workflow)
	assert.Equal(t, in, s.Input)
	o := s.Options
	assert.Equal(t, "onboarding-E-1042", s.ID())
	assert.Equal(t, "hr-queue", o.TaskQueue)
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, o.WorkflowIDConflictPolicy, "a repeat reaches the running run")
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, o.WorkflowIDReusePolicy, "a completed run is not redone")
	assert.True(t, o.WorkflowExecutionErrorWhenAlreadyStarted, "a completed run is told apart from a running one")
	assert.Equal(t, "E-1042", keyword(o, lifecycle.EmployeeIDKey))
	assert.Equal(t, lifecycle.StagePlanning, keyword(o, lifecycle.LifecycleStageKey))
	assert.Equal(t, "Onboarding E-1042 · day one 2026-12-01", o.StaticSummary)
	assert.Equal(t, "**Employee id:** E-1042  \n**Day one:** 2026-12-01 (Europe/London)  \n**Atomicwork workspace:** 3  \n"+
		"**Started by:** `starter onboard`\n", o.StaticDetails)

	defaults := runs.Onboarding(lifecycle.OnboardingInput{EmployeeID: "E-1", StartDate: "2026-12-01"}, "q").Options.StaticDetails
	assert.Contains(t, defaults, "**Day one:** 2026-12-01 (UTC)  \n")
	assert.Contains(t, defaults, "**Atomicwork workspace:** the worker's default  \n")
}

func TestOffboardingStart(t *testing.T) {
	seven := 7
	in := lifecycle.OffboardingInput{EmployeeID: "E-01", Email: "bo@example.com", LastDay: "2099-12-18", TimeZone: "America/Los_Angeles",
		EndOfDay: "17:30", Assets: lifecycle.AssetsUser, AssetsTo: "dee@example.com", GraceDays: &seven, WorkspaceID: 3}
	s := runs.Offboarding(in, "hr-queue")
	assert.Equal(t, lifecycle.OffboardingWorkflowName, s.Workflow)
	assert.Equal(t, in, s.Input)
	o := s.Options
	assert.Equal(t, "offboarding-E-01", s.ID())
	assert.Equal(t, "hr-queue", o.TaskQueue)
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, o.WorkflowIDConflictPolicy)
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, o.WorkflowIDReusePolicy)
	assert.Equal(t, "E-01", keyword(o, lifecycle.EmployeeIDKey))
	assert.Equal(t, lifecycle.StageOffPlanning, keyword(o, lifecycle.LifecycleStageKey))
	assert.Equal(t, "Offboarding E-01 · last day 2099-12-18 America/Los_Angeles", o.StaticSummary)
	assert.Equal(t, "**Employee id:** E-01  \n**Last day:** 2099-12-18, access ends 17:30 (America/Los_Angeles)  \n"+
		"**Assets:** to a named user  \n**Account:** deleted 7 days after offboarding  \n**Atomicwork workspace:** 3  \n"+
		"**Started by:** `starter offboard`\n", o.StaticDetails)

	now := runs.Offboarding(lifecycle.OffboardingInput{EmployeeID: "E-02", LastDay: "2026-11-20", Immediate: true, GracePeriod: 90 * time.Minute}, "q").Options
	assert.Equal(t, "Offboarding E-02 · last day 2026-11-20 UTC · immediate", now.StaticSummary)
	assert.Equal(t, "**Employee id:** E-02  \n**Last day:** 2026-11-20, access ends "+lifecycle.DefaultEndOfDay+" (UTC)  \n**Immediate:** yes  \n"+
		"**Assets:** return  \n**Account:** deleted 1h30m0s after offboarding  \n**Atomicwork workspace:** the worker's default  \n"+
		"**Started by:** `starter offboard`\n", now.StaticDetails)

	zero := 0
	kept := runs.Offboarding(lifecycle.OffboardingInput{EmployeeID: "E-03", LastDay: "2026-11-20", GraceDays: &zero}, "q").Options
	assert.Contains(t, kept.StaticDetails, "**Account:** never deleted  \n")
	one := 1
	day := runs.Offboarding(lifecycle.OffboardingInput{EmployeeID: "E-04", LastDay: "2026-11-20", GraceDays: &one}, "q").Options
	assert.Contains(t, day.StaticDetails, "**Account:** deleted 1 day after offboarding  \n")
}

func TestReassignmentStart(t *testing.T) {
	in := lifecycle.ReassignmentInput{BatchID: "r3f9a0c21d4e5", Selector: lifecycle.AssetSelector{AssigneeEmail: "bo.li@example.com"},
		Target: lifecycle.AssetTarget{AssigneeEmail: "ana.diaz@example.com"}, Concurrency: 20}
	s := runs.Reassignment(in, "hr-queue")
	assert.Equal(t, lifecycle.ReassignmentWorkflowName, s.Workflow)
	o := s.Options
	assert.Equal(t, "asset-reassignment-r3f9a0c21d4e5", s.ID())
	assert.Equal(t, "hr-queue", o.TaskQueue)
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, o.WorkflowIDConflictPolicy, "a repeat reaches the running batch")
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, o.WorkflowIDReusePolicy, "a batch runs again after its end")
	assert.Equal(t, lifecycle.StageReassignPlanning, keyword(o, lifecycle.LifecycleStageKey))
	assert.Equal(t, "Asset reassignment r3f9a0c21d4e5 to a user", o.StaticSummary)
	assert.Equal(t, "**Batch:** r3f9a0c21d4e5  \n**Target:** a user  \n**Concurrency:** 20  \n**Started by:** `starter reassign`\n", o.StaticDetails)

	in.Target, in.DryRun = lifecycle.AssetTarget{Stock: true}, true
	assert.Equal(t, "Asset reassignment r3f9a0c21d4e5 to stock (dry run)", runs.Reassignment(in, "q").Options.StaticSummary)
}

// starts is one start of each workflow, from inputs full of personal data.
func starts() []runs.Start {
	return []runs.Start{
		runs.Onboarding(lifecycle.OnboardingInput{EmployeeID: "E-1", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace",
			ManagerEmail: "boss@example.com", Title: "Engineer", Department: "Research", StartDate: "2026-12-01"}, "q"),
		runs.Offboarding(lifecycle.OffboardingInput{EmployeeID: "E-1", Email: "ada@example.com", LastDay: "2026-12-18",
			Assets: lifecycle.AssetsUser, AssetsTo: "dee@example.com"}, "q"),
		runs.Reassignment(lifecycle.ReassignmentInput{BatchID: "b-1", Selector: lifecycle.AssetSelector{AssigneeEmail: "ada@example.com"},
			Target: lifecycle.AssetTarget{AssigneeEmail: "dee@example.com"}, Concurrency: 4}, "q"),
	}
}

// Temporal shows ids, search attributes, summaries and details unencrypted.
func TestStartsShowNoPersonalData(t *testing.T) {
	for _, s := range starts() {
		o := s.Options
		shown := []string{o.ID, o.StaticSummary, o.StaticDetails}
		for _, v := range o.TypedSearchAttributes.GetUntypedValues() {
			shown = append(shown, v.(string))
		}
		for _, v := range shown {
			for _, pii := range []string{"@", "ada", "Ada", "Lovelace", "dee", "boss", "Engineer", "Research"} {
				assert.NotContains(t, v, pii, s.Workflow)
			}
		}
	}
}

func TestStartedByNamesTheHRReceiver(t *testing.T) {
	for _, s := range starts() {
		got := s.StartedBy(runs.StartedByHR).Options.StaticDetails
		want, ok := strings.CutSuffix(s.Options.StaticDetails, "`starter "+strings.ToLower(map[string]string{
			lifecycle.OnboardingWorkflowName: "onboard", lifecycle.OffboardingWorkflowName: "offboard", lifecycle.ReassignmentWorkflowName: "reassign",
		}[s.Workflow])+"`\n")
		require.True(t, ok, "the details end with the starter command: %q", s.Options.StaticDetails)
		assert.Equal(t, want+"`starter listen` (HR event)\n", got, "only who started the run changes")
	}
}

func TestAgainLetsAStartFollowAClosedRun(t *testing.T) {
	for _, s := range starts() {
		again := s.Again()
		assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, again.Options.WorkflowIDReusePolicy)
		again.Options.WorkflowIDReusePolicy = s.Options.WorkflowIDReusePolicy
		assert.Equal(t, s, again, "nothing else changes")
	}
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, starts()[0].Options.WorkflowIDReusePolicy, "Again copies")
}

func TestStartOfEveryLifecycleInput(t *testing.T) {
	for _, want := range starts() {
		got, err := runs.StartOf(want.Input, "q")
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := runs.StartOf(lifecycle.CancelRequest{}, "q")
	assert.ErrorContains(t, err, "no lifecycle workflow starts with a lifecycle.CancelRequest")
}
