package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// A last day far in the future, so the command sends a reschedule rather than revoke_now.
var validOffboard = []string{"offboard", "--employee-id", "E-01", "--email", "employee01@example.com", "--last-day", "2099-12-18"}

func offboardWith(extra ...string) []string {
	return append(append([]string{}, validOffboard...), extra...)
}

func TestOffboardBadCommandLinesExit2BeforeDialing(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing required flags", []string{"offboard", "--last-day", "2099-12-18"}, `required flag(s) "email", "employee-id" not set`},
		{"missing last day", []string{"offboard", "--employee-id", "E-01", "--email", "a@example.com"}, `"last-day" not set (or use --now)`},
		{"employee id with a slash", offboardWith("--employee-id", "E/1"), "opaque id"},
		{"bad email", offboardWith("--email", "employee01"), `--email: "employee01" is not an email address`},
		{"bad last day", offboardWith("--last-day", "18/12/2099"), "YYYY-MM-DD"},
		{"bad end of day", offboardWith("--end-of-day", "6pm"), "HH:MM"},
		{"bad time zone", offboardWith("--timezone", "Mars/Olympus"), "IANA"},
		{"bad time zone with --now", []string{"offboard", "--employee-id", "E-01", "--email", "a@example.com", "--now", "--timezone", "Mars/Olympus"}, "IANA"},
		{"unknown disposition", offboardWith("--assets", "shred"), `assets "shred": use return, manager or user`},
		{"user without email", offboardWith("--assets", "user"), "recipient's email is missing"},
		{"user with a bad email", offboardWith("--assets", "user:dee"), "recipient's email is missing or not an email address"},
		{"negative grace days", offboardWith("--grace-days", "-1"), "grace days is negative"},
		{"negative grace period", offboardWith("--grace-period", "-1m"), "grace period is negative"},
		{"unknown subcommand", []string{"offboard", "later"}, `unknown command "later" for "starter offboard"`},
		{"reschedule without date", []string{"offboard", "reschedule", "--employee-id", "E-01"}, `required flag(s) "last-day" not set`},
		{"reschedule malformed date", []string{"offboard", "reschedule", "--employee-id", "E-01", "--last-day", "2099-02-30"}, "YYYY-MM-DD"},
		{"reschedule bad end of day", []string{"offboard", "reschedule", "--employee-id", "E-01", "--last-day", "2099-02-03", "--end-of-day", "25:00"}, "HH:MM"},
		{"now without employee", []string{"offboard", "now"}, `required flag(s) "employee-id" not set`},
		{"now with an email as id", []string{"offboard", "now", "--employee-id", "ada@example.com"}, "opaque id"},
		{"cancel with an empty id", []string{"offboard", "cancel", "--employee-id", " "}, "--employee-id: employee id \" \" must be printable ASCII without spaces"},
		{"cancel with a control character in the reason", []string{"offboard", "cancel", "--employee-id", "E-01", "--reason", "a\x07b"}, "--reason: reason contains a control character"},
		{"now with a zero timeout", []string{"offboard", "now", "--employee-id", "E-01", "--timeout", "0s"}, "--timeout 0s: give a positive duration"},
		{"a long employee id", offboardWith("--employee-id", strings.Repeat("E", 65)), "--employee-id: employee id is 65 characters long: at most 64"},
		{"Local time zone", offboardWith("--timezone", "Local"), `--timezone: time zone "Local" is not an IANA zone`},
		{"rehire with an argument", []string{"offboard", "rehire", "--employee-id", "E-01", "please"}, `unknown command "please"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runStarter(t, map[string]string{}, noDial(t), tc.args...)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.Contains(t, r.stderr, "--help' for usage")
			assert.Empty(t, r.stdout)
		})
	}
}

func TestOffboardHelpShowsExamplesOnEveryCommand(t *testing.T) {
	for _, cmd := range [][]string{{"offboard"}, {"offboard", "reschedule"}, {"offboard", "now"}, {"offboard", "cancel"}, {"offboard", "rehire"}} {
		r := runStarter(t, map[string]string{}, noDial(t), append(cmd, "--help")...)
		assert.Equal(t, 0, r.code, "%v", cmd)
		assert.Contains(t, r.stdout, "Examples:", "%v", cmd)
		assert.Contains(t, r.stdout, "starter "+joinArgs(cmd)+" --employee-id E-1004", "%v", cmd)
	}
}

func joinArgs(args []string) string { return strings.Join(args, " ") }

func TestOffboardAssetsFlag(t *testing.T) {
	for v, want := range map[string][2]string{
		"":                     {"", ""},
		"return":               {"return", ""},
		"manager":              {"manager", ""},
		"user:dee@example.com": {"user", "dee@example.com"},
		"user":                 {"user", ""},
	} {
		d, to := parseAssets(v)
		assert.Equal(t, want, [2]string{d, to}, v)
	}
}

// withStartOp stands in for the SDK's operation: it returns the run the call reached.
type withStartOp struct{ run client.WorkflowRun }

func (o withStartOp) Get(context.Context) (client.WorkflowRun, error) { return o.run, nil }

// mockOffboard expects one Update-with-Start and answers the update with st; it records the
// start options, the input and the update options.
type offboardCall struct {
	opts client.StartWorkflowOptions
	in   lifecycle.OffboardingInput
	upd  client.UpdateWorkflowOptions
}

func mockOffboard(t *testing.T, st lifecycle.OffboardingStatus, updateErr error) (*mocks.Client, *offboardCall) {
	c := mocks.NewClient(t)
	run := mocks.NewWorkflowRun(t)
	run.On("GetID").Return("offboarding-E-01")
	run.On("GetRunID").Return("run-1")
	h := mocks.NewWorkflowUpdateHandle(t)
	h.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		if updateErr == nil {
			*args.Get(1).(*lifecycle.OffboardingStatus) = st
		}
	}).Return(updateErr)
	call := &offboardCall{}
	c.On("NewWithStartWorkflowOperation", mock.Anything, lifecycle.OffboardingWorkflowName, mock.Anything).
		Run(func(args mock.Arguments) {
			call.opts = args.Get(0).(client.StartWorkflowOptions)
			call.in = args.Get(2).(lifecycle.OffboardingInput)
		}).Return(withStartOp{run})
	c.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) {
			call.upd = args.Get(1).(client.UpdateWithStartWorkflowOptions).UpdateOptions
		}).
		Return(h, nil)
	c.On("Close").Return()
	return c, call
}

var scheduledState = lifecycle.OffboardingStatus{
	Stage:          lifecycle.StageOffScheduled,
	ScheduledAt:    time.Date(2099, 12, 19, 2, 0, 0, 0, time.UTC),
	ScheduledLocal: "2099-12-18 18:00",
	TimeZone:       "America/Los_Angeles",
	Grants:         []lifecycle.GrantState{{GrantID: 3001, Entitlement: "okta-base", State: "active"}},
	Assets:         []lifecycle.AssetState{{AssetID: 8001, Label: "MBP-0001", State: "assigned"}},
}

func TestOffboardBuildsTheInputStartOptionsAndReschedule(t *testing.T) {
	c, call := mockOffboard(t, scheduledState, nil)
	r := runStarter(t, map[string]string{"ATOMICFLOW_TASK_QUEUE": "hr-queue", "ATOMICFLOW_UI_URL": "https://temporal.example.com/"}, mockDial(c),
		offboardWith("--timezone", "America/Los_Angeles", "--end-of-day", "17:30", "--assets", "user:dee@example.com",
			"--grace-days", "7", "--workspace-id", "3")...)
	require.Equal(t, 0, r.code, r.stderr)

	seven := 7
	assert.Equal(t, lifecycle.OffboardingInput{
		WorkspaceID: 3, EmployeeID: "E-01", Email: "employee01@example.com", LastDay: "2099-12-18",
		TimeZone: "America/Los_Angeles", EndOfDay: "17:30", Assets: lifecycle.AssetsUser, AssetsTo: "dee@example.com",
		GraceDays: &seven,
	}, call.in)
	o := call.opts
	assert.Equal(t, "offboarding-E-01", o.ID)
	assert.Equal(t, "hr-queue", o.TaskQueue)
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, o.WorkflowIDConflictPolicy)
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, o.WorkflowIDReusePolicy)
	id, _ := o.TypedSearchAttributes.GetKeyword(lifecycle.EmployeeIDKey)
	stage, _ := o.TypedSearchAttributes.GetKeyword(lifecycle.LifecycleStageKey)
	assert.Equal(t, "E-01", id)
	assert.Equal(t, lifecycle.StageOffPlanning, stage)
	assert.Equal(t, "Offboarding E-01 · last day 2099-12-18 America/Los_Angeles", o.StaticSummary)
	for _, pii := range []string{"employee01", "dee", "@"} {
		assert.NotContains(t, o.StaticSummary, pii)
		assert.NotContains(t, o.StaticDetails, pii)
	}
	assert.Contains(t, o.StaticDetails, "17:30 (America/Los_Angeles)")
	assert.Contains(t, o.StaticDetails, "deleted 7 days after offboarding")
	assert.Contains(t, o.StaticDetails, "to a named user")

	assert.Equal(t, lifecycle.UpdateReschedule, call.upd.UpdateName)
	assert.Equal(t, []any{lifecycle.RescheduleRequest{LastDay: "2099-12-18", EndOfDay: "17:30"}}, call.upd.Args)
	assert.Equal(t, client.WorkflowUpdateStageCompleted, call.upd.WaitForStage)
	assert.Empty(t, call.upd.UpdateID, "the SDK's id, kept across its retries; see startOffboarding")

	assert.Contains(t, r.stdout, "Started offboarding-E-01 (run run-1).")
	assert.Contains(t, r.stdout, "2099-12-18 18:00 (America/Los_Angeles) = 2099-12-19T02:00:00Z")
	assert.Contains(t, r.stdout, "okta-base (grant 3001, active)")
	assert.Contains(t, r.stdout, "MBP-0001 (asset 8001, assigned)")
	assert.Contains(t, r.stdout, "https://temporal.example.com/namespaces/hr/workflows/offboarding-E-01")
}

func TestOffboardDefaultsLeaveTheWorkflowDefaults(t *testing.T) {
	c, call := mockOffboard(t, scheduledState, nil)
	r := runStarter(t, map[string]string{}, mockDial(c), validOffboard...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Nil(t, call.in.GraceDays, "the workflow's default grace period")
	assert.Empty(t, call.in.Assets)
	assert.Equal(t, []any{lifecycle.RescheduleRequest{LastDay: "2099-12-18", EndOfDay: lifecycle.DefaultEndOfDay}}, call.upd.Args)
	assert.Equal(t, "Offboarding E-01 · last day 2099-12-18 UTC", call.opts.StaticSummary)
	assert.Contains(t, call.opts.StaticDetails, "deleted 30 days after offboarding")
	assert.Contains(t, call.opts.StaticDetails, "**Assets:** return")
}

func TestOffboardNowSendsRevokeNowAndDefaultsTheLastDayToToday(t *testing.T) {
	c, call := mockOffboard(t, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffRevoking}, nil)
	before := time.Now().In(mustZone(t, "Asia/Kolkata")).Format(time.DateOnly)
	r := runStarter(t, map[string]string{}, mockDial(c), "offboard", "--employee-id", "E-01", "--email", "employee01@example.com",
		"--now", "--timezone", "Asia/Kolkata", "--grace-days", "0")
	after := time.Now().In(mustZone(t, "Asia/Kolkata")).Format(time.DateOnly)
	require.Equal(t, 0, r.code, r.stderr)
	assert.True(t, call.in.Immediate)
	assert.Contains(t, []string{before, after}, call.in.LastDay)
	require.NotNil(t, call.in.GraceDays)
	assert.Zero(t, *call.in.GraceDays)
	assert.Equal(t, lifecycle.UpdateRevokeNow, call.upd.UpdateName)
	assert.Equal(t, []any{lifecycle.RevokeNowRequest{Reason: "starter offboard --now"}}, call.upd.Args)
	assert.Contains(t, call.opts.StaticSummary, "· immediate")
	assert.Contains(t, call.opts.StaticDetails, "never deleted")
}

func TestOffboardLastDayAlreadyEndedRevokesNow(t *testing.T) {
	c, call := mockOffboard(t, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffRevoking}, nil)
	r := runStarter(t, map[string]string{}, mockDial(c), offboardWith("--last-day", "2001-02-03", "--allow-past")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.False(t, call.in.Immediate, "the input keeps its date; the workflow proceeds at once anyway")
	assert.Equal(t, lifecycle.UpdateRevokeNow, call.upd.UpdateName)
	assert.Equal(t, []any{lifecycle.RevokeNowRequest{Reason: "the last day 2001-02-03 ended at 2001-02-03T18:00:00Z, before the command ran"}}, call.upd.Args)
	assert.Contains(t, r.stderr, "Note: the last day 2001-02-03 ended at 2001-02-03T18:00:00Z, before the command ran: offboarding now.")
}

func TestOffboardJSON(t *testing.T) {
	c, _ := mockOffboard(t, scheduledState, nil)
	r := runStarter(t, map[string]string{}, mockDial(c), offboardWith("--json")...)
	require.Equal(t, 0, r.code, r.stderr)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	assert.Equal(t, map[string]any{
		"workflow_id":       "offboarding-E-01",
		"run_id":            "run-1",
		"already_running":   false,
		"already_completed": false,
		"namespace":         "hr",
		"ui_url":            "http://localhost:8233/namespaces/hr/workflows/offboarding-E-01",
		"update":            "reschedule",
		"status":            "running",
		"state": map[string]any{
			"stage":           "offboarding.scheduled",
			"scheduled_at":    "2099-12-19T02:00:00Z",
			"scheduled_local": "2099-12-18 18:00",
			"time_zone":       "America/Los_Angeles",
			"grants":          []any{map[string]any{"grant_id": 3001.0, "entitlement": "okta-base", "state": "active"}},
			"assets":          []any{map[string]any{"asset_id": 8001.0, "label": "MBP-0001", "state": "assigned"}},
			"delete_at":       "0001-01-01T00:00:00Z",
		},
	}, got)
}

func TestOffboardUpdateRejectionExits1WithTheReason(t *testing.T) {
	rejected := temporal.NewApplicationError("the offboarding already revoked access: reschedule is too late", "")
	c, _ := mockOffboard(t, lifecycle.OffboardingStatus{}, rejected)
	r := runStarter(t, map[string]string{}, mockDial(c), validOffboard...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "offboarding-E-01 rejected reschedule: the offboarding already revoked access: reschedule is too late")
	assert.NotContains(t, r.stderr, "--help")
}

func TestOffboardReachesACompletedOffboarding(t *testing.T) {
	for _, tc := range []struct {
		outcome string
		again   bool
	}{
		{lifecycle.OutcomeCompleted, false},
		{lifecycle.OutcomeCancelled, true},
		{lifecycle.OutcomeRehired, true},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			c := mocks.NewClient(t)
			var policies []enumspb.WorkflowIdReusePolicy
			c.On("NewWithStartWorkflowOperation", mock.Anything, lifecycle.OffboardingWorkflowName, mock.Anything).
				Run(func(args mock.Arguments) {
					policies = append(policies, args.Get(0).(client.StartWorkflowOptions).WorkflowIDReusePolicy)
				}).Return(withStartOp{})
			already := serviceerror.NewWorkflowExecutionAlreadyStarted("already completed", "req", "run-0")
			c.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(nil, errFailedStart(already)).Once()
			prev := mocks.NewWorkflowRun(t)
			prev.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
				*args.Get(1).(*lifecycle.OffboardingResult) = lifecycle.OffboardingResult{Outcome: tc.outcome, UserID: 42}
			}).Return(nil)
			c.On("GetWorkflow", mock.Anything, "offboarding-E-01", "run-0").Return(prev)
			if tc.again {
				c.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(nil, errors.New("second start reached")).Once()
			}
			c.On("Close").Return()

			r := runStarter(t, map[string]string{}, mockDial(c), validOffboard...)
			if !tc.again {
				require.Equal(t, 0, r.code, r.stderr)
				assert.Contains(t, r.stdout, "offboarding-E-01 already completed (run run-0, outcome completed): a completed offboarding is not run again.")
				assert.Equal(t, []enumspb.WorkflowIdReusePolicy{enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY}, policies)
				return
			}
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, "second start reached")
			assert.Equal(t, []enumspb.WorkflowIdReusePolicy{enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
				enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE}, policies, "a new departure starts a new run")
		})
	}
}

// errFailedStart wraps err as the SDK does when the start operation of Update-with-Start fails.
func errFailedStart(err error) error { return fmt.Errorf("failed workflow start: %w", err) }

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestOffboardSubcommandsSendTheirUpdate(t *testing.T) {
	cases := []struct {
		args []string
		name string
		arg  any
	}{
		{[]string{"reschedule", "--last-day", "2099-01-02", "--end-of-day", "12:00"}, lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2099-01-02", EndOfDay: "12:00"}},
		{[]string{"reschedule", "--last-day", "2099-01-02"}, lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2099-01-02"}},
		{[]string{"now", "--reason", "left early"}, lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{Reason: "left early"}},
		{[]string{"cancel", "--reason", "withdrawn"}, lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "withdrawn"}},
		{[]string{"rehire"}, lifecycle.UpdateRehire, lifecycle.RehireRequest{}},
	}
	for _, tc := range cases {
		t.Run(joinArgs(tc.args), func(t *testing.T) {
			c := mocks.NewClient(t)
			steerable(c, 1)
			if tc.name == lifecycle.UpdateReschedule {
				withHistory(t, c, lifecycle.OffboardingInput{EmployeeID: "E-01", TimeZone: "Europe/Paris"})
			}
			h := mocks.NewWorkflowUpdateHandle(t)
			h.On("RunID").Return("run-1")
			h.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
				*args.Get(1).(*lifecycle.OffboardingStatus) = scheduledState
			}).Return(nil)
			var opts client.UpdateWorkflowOptions
			c.On("UpdateWorkflow", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
				opts = args.Get(1).(client.UpdateWorkflowOptions)
			}).Return(h, nil)
			c.On("Close").Return()

			args := append([]string{"offboard"}, tc.args...)
			r := runStarter(t, map[string]string{}, mockDial(c), append(args, "--employee-id", "E-01", "--json")...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, "offboarding-E-01", opts.WorkflowID)
			assert.Empty(t, opts.RunID, "the current run")
			assert.Equal(t, tc.name, opts.UpdateName)
			assert.Equal(t, []any{tc.arg}, opts.Args)
			assert.Equal(t, client.WorkflowUpdateStageAccepted, opts.WaitForStage, "accepted within --timeout, then its answer")

			var got offboardUpdateResult
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
			assert.Equal(t, offboardUpdateResult{WorkflowID: "offboarding-E-01", RunID: "run-1", Namespace: "hr",
				UIURL: "http://localhost:8233/namespaces/hr/workflows/offboarding-E-01", Update: tc.name, State: scheduledState}, got)
		})
	}
}

func TestOffboardSubcommandErrorsExit1(t *testing.T) {
	t.Run("not running", func(t *testing.T) {
		c := mocks.NewClient(t)
		c.On("DescribeWorkflowExecution", mock.Anything, "offboarding-E-09", "").Return(nil, serviceerror.NewNotFound("workflow not found"))
		c.On("Close").Return()
		r := runStarter(t, map[string]string{}, mockDial(c), "offboard", "now", "--employee-id", "E-09")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "offboarding-E-09 does not exist (never started in this namespace): nothing was sent")
	})
	t.Run("rejected", func(t *testing.T) {
		c := mocks.NewClient(t)
		steerable(c, 1)
		h := mocks.NewWorkflowUpdateHandle(t)
		h.On("Get", mock.Anything, mock.Anything).Return(temporal.NewApplicationError("nothing to rehire: access was never revoked", ""))
		c.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(h, nil)
		c.On("Close").Return()
		r := runStarter(t, map[string]string{}, mockDial(c), "offboard", "rehire", "--employee-id", "E-01")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, "starter: offboarding-E-01 rejected rehire: nothing to rehire: access was never revoked (nothing changed)\n", r.stderr)
		assert.Empty(t, r.stdout)
	})
}

// The answer of a start or an update made while the run still plans says so, not "none"; a held
// or blocked run says why.
func TestOffboardingStateWhilePlanningHeldOrBlocked(t *testing.T) {
	var b bytes.Buffer
	printOffboardingState(&b, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffPlanning})
	for _, field := range []string{"Request", "Access", "Assets"} {
		assert.Regexp(t, field+`:\s+planning \(not known yet\)\n`, b.String())
	}
	b.Reset()
	printOffboardingState(&b, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffHeld, Hold: "HR last working day 2025-01-31 is 305 days in the past"})
	assert.Regexp(t, `Held:\s+HR last working day 2025-01-31 is 305 days in the past \(nothing is revoked until starter offboard now, or cancel\)`, b.String())
	assert.Regexp(t, `Access:\s+none\n`, b.String(), "planned: nothing to revoke is none")
	b.Reset()
	printOffboardingState(&b, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffBlocked, Blocked: "ATOMICWORK_AUTH: the worker's key for workspace 1 is refused"})
	assert.Regexp(t, `Blocked:\s+ATOMICWORK_AUTH: the worker's key for workspace 1 is refused`, b.String())
}

func TestOnboardingStateWhilePlanningOrBlocked(t *testing.T) {
	var b bytes.Buffer
	printOnboardingState(&b, lifecycle.OnboardingStatus{Stage: lifecycle.StagePlanning, StartDate: "2026-12-14"})
	assert.Regexp(t, `Request:\s+planning \(not known yet\)\n`, b.String())
	b.Reset()
	printOnboardingState(&b, lifecycle.OnboardingStatus{Stage: lifecycle.StageBlocked, Blocked: "ATOMICWORK_AUTH: refused"})
	assert.Regexp(t, `Blocked:\s+ATOMICWORK_AUTH: refused\n`, b.String())
}

func TestOffboardingStatePrintsEscalationsAndDeletion(t *testing.T) {
	st := scheduledState
	st.Stage = lifecycle.StageOffEscalated
	st.Escalations = []string{"ITREQ-9"}
	st.DeleteAt = time.Date(2100, 1, 18, 2, 0, 0, 0, time.UTC)
	st.Assets = []lifecycle.AssetState{{AssetID: 8001, Label: "MBP-0001", State: "reassigned", ToUserID: 1002}}
	st.Note = "okta-base deprovisioning failed"
	var b bytes.Buffer
	printOffboardingState(&b, st)
	for _, want := range []string{"offboarding.escalated", "Escalations:", "ITREQ-9", "Account deletion:", "2100-01-18T02:00:00Z",
		"MBP-0001 (asset 8001, reassigned to user 1002)", "okta-base deprovisioning failed"} {
		assert.Contains(t, b.String(), want)
	}
}
