package schedule

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// label names a field the way problem messages are checked here.
func label(field string) string { return "[" + field + "]" }

func TestSourceBuild(t *testing.T) {
	d, err := Source{ID: "nightly-reconciliation", Workflow: "reconciliation", Cron: StringList{"30 1 * * *"},
		Input: map[string]any{"dry_run": true, "stale_onboarding_days": 7}, Jitter: "10m"}.Build(label)
	require.NoError(t, err)
	assert.Equal(t, &lifecycle.ReconciliationInput{DryRun: true, StaleOnboardingDays: 7}, d.input)
	assert.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, d.overlap, "overlap is explicit")
	assert.Equal(t, time.Hour, d.catchupWindow, "the catch-up window is explicit, never the server's year")
	assert.Equal(t, "UTC", d.spec.TimeZoneName)
	assert.Equal(t, 10*time.Minute, d.spec.Jitter)
	a := d.action("q")
	assert.Equal(t, "nightly-reconciliation", a.ID)
	assert.Equal(t, lifecycle.ReconciliationWorkflowName, a.Workflow)
	assert.Equal(t, "q", a.TaskQueue)
	assert.Equal(t, "Reconciliation · schedule nightly-reconciliation · dry run", a.StaticSummary)
	stage, ok := a.TypedSearchAttributes.GetKeyword(lifecycle.LifecycleStageKey)
	assert.True(t, ok)
	assert.Equal(t, lifecycle.StageReconScanning, stage)
	assert.Equal(t, map[string]any{ManagedMemoKey: managedMemoValue}, d.Options("q").Memo)

	_, err = Source{ID: "x", Workflow: "reconciliation", Cron: StringList{"0 0 * * *"}, Input: map[string]any{"dry_runs": true}}.Build(label)
	assert.ErrorContains(t, err, `[input] has the unknown key "dry_runs": Reconciliation takes workspace_id, dry_run, stale_onboarding_days`)
	_, err = Source{ID: "x", Workflow: "reconciliation", Cron: StringList{"0 0 * * *"}, Input: map[string]any{"dry_run": "yes"}}.Build(label)
	assert.ErrorContains(t, err, "[input.dry_run] is a string, not a bool")

	// Every problem is reported at once, each naming its field.
	_, err = Source{ID: "a b", Workflow: "nope", TimeZone: "Mars/Olympus", Jitter: "soon", Overlap: "often", CatchupWindow: "1s"}.Build(label)
	require.Error(t, err)
	for _, f := range []string{"[id]", "[workflow]", "[time_zone]", "[jitter]", "[overlap]", "[catchup_window]", "[cron] is missing"} {
		assert.Contains(t, err.Error(), f)
	}
}

func TestDSTWarning(t *testing.T) {
	build := func(cron, tz string) Definition {
		d, err := Source{ID: "x", Workflow: "reconciliation", Cron: StringList{cron}, TimeZone: tz}.Build(label)
		require.NoError(t, err)
		return d
	}
	assert.Empty(t, build("30 1 * * *", "UTC").warnings)
	assert.Empty(t, build("30 6 * * *", "Europe/Berlin").warnings)
	assert.Empty(t, build("30 1 * * *", "Asia/Kolkata").warnings, "no DST in India")
	require.Len(t, build("30 2 * * *", "Europe/Berlin").warnings, 1)
	assert.Contains(t, build("30 2 * * *", "Europe/Berlin").warnings[0], "daylight saving time")
}

func TestInputProblemsNameTheKeyValidateRefuses(t *testing.T) {
	build := func(in map[string]any) error {
		_, err := Source{ID: "x", Workflow: "reconciliation", Cron: StringList{"0 0 * * *"}, Input: in}.Build(label)
		return err
	}
	assert.EqualError(t, build(map[string]any{"workspace_id": -2}), "[input.workspace_id] is negative: use 0 for the worker's default workspace")
	assert.EqualError(t, build(map[string]any{"stale_onboarding_days": -1}),
		fmt.Sprintf("[input.stale_onboarding_days] is negative: use 0 for the default (%d days)", lifecycle.DefaultStaleOnboardingDays))
	assert.EqualError(t, build(map[string]any{"report_to": "it-owner"}),
		"[input.report_to] is not an email address: give the email of the IT owner who gets the report, or leave it out")
	err := build(map[string]any{"report_to": "it-owner", "workspace_id": -2, "stale_onboarding_days": -1})
	require.Error(t, err)
	assert.Equal(t, 3, strings.Count(err.Error(), "[input."), "every refused key is named: %v", err)
	assert.NoError(t, build(map[string]any{"report_to": "it@example.com", "workspace_id": 2, "stale_onboarding_days": 7}))
}

// pairInput refuses A and B set together, and neither alone.
type pairInput struct {
	A int `json:"a"`
	B int `json:"b"`
}

func (in pairInput) Validate() error {
	if in.A != 0 && in.B != 0 {
		return errors.New("invalid pair input: a and b exclude each other")
	}
	return nil
}

func TestInputProblemNoKeyExplainsStaysOnTheInput(t *testing.T) {
	assert.Equal(t, []problem{{Field: "input", Message: "invalid pair input: a and b exclude each other"}},
		validateInput(&pairInput{A: 1, B: 2}, nil))
	assert.Empty(t, validateInput(&pairInput{A: 1}, nil))
}
