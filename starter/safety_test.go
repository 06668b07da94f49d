package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"

	"github.com/atomicflow/atomicflow/internal/version"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// noon on 2026-12-02 UTC: in Los Angeles it is 04:00 the same day, in Kolkata 17:30.
var clock = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func TestOffboardPastLastDayNeedsIntent(t *testing.T) {
	base := []string{"offboard", "--employee-id", "E-01", "--email", "employee01@example.com"}
	// The year typo: 2025 instead of 2026. It would have offboarded at once.
	r := runStarterAt(t, clock, map[string]string{}, noDial(t), append(base, "--last-day", "2025-12-01")...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--last-day: 2025-12-01 is before today (2026-12-02 in UTC)")
	assert.Contains(t, r.stderr, "--now")
	assert.Contains(t, r.stderr, "--allow-past")
	assert.Empty(t, r.stdout)

	// Yesterday in the employee's zone (01:30 on the 2nd in Kolkata), although still today in UTC.
	r = runStarterAt(t, time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC), map[string]string{}, noDial(t),
		append(base, "--last-day", "2026-12-01", "--timezone", "Asia/Kolkata")...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "2026-12-01 is before today (2026-12-02 in Asia/Kolkata)")
}

func TestOffboardPastLastDayWithIntentOffboardsAtOnce(t *testing.T) {
	base := []string{"offboard", "--employee-id", "E-01", "--email", "employee01@example.com", "--last-day", "2025-12-01"}
	for _, flag := range []string{"--now", "--allow-past"} {
		t.Run(flag, func(t *testing.T) {
			c, call := mockOffboard(t, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffRevoking}, nil)
			r := runStarterAt(t, clock, map[string]string{}, mockDial(c), append(base, flag)...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, lifecycle.UpdateRevokeNow, call.upd.UpdateName)
		})
	}
}

func TestOffboardTodayOrLaterIsNotPast(t *testing.T) {
	cases := []struct {
		name, lastDay, tz, update string
	}{
		// Yesterday in UTC is still today in Los Angeles (04:00): scheduled for 18:00 there.
		{"today in the employee's zone", "2026-12-02", "America/Los_Angeles", lifecycle.UpdateReschedule},
		// Today in Kolkata, 17:30 there with the day ending at 17:00: offboards now, as before.
		{"today, its end already gone", "2026-12-02", "Asia/Kolkata", lifecycle.UpdateRevokeNow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, call := mockOffboard(t, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffScheduled}, nil)
			r := runStarterAt(t, clock, map[string]string{}, mockDial(c), "offboard", "--employee-id", "E-01",
				"--email", "employee01@example.com", "--last-day", tc.lastDay, "--timezone", tc.tz, "--end-of-day", "17:00")
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, tc.update, call.upd.UpdateName)
		})
	}
}

func TestOffboardReschedulePastNeedsIntent(t *testing.T) {
	run := lifecycle.OffboardingInput{EmployeeID: "E-01", TimeZone: "Asia/Kolkata"}
	// Today in Kolkata (17:30 there), its default end 18:00 still ahead: a reschedule.
	t.Run("today, its end ahead", func(t *testing.T) {
		c := mocks.NewClient(t)
		withHistory(t, c, run)
		steerable(c, 1)
		opts := expectUpdate(t, c, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffScheduled})
		r := runStarterAt(t, clock, map[string]string{}, mockDial(c), "offboard", "reschedule", "--employee-id", "E-01", "--last-day", "2026-12-02")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, lifecycle.UpdateReschedule, opts.UpdateName)
	})
	// Today with --end-of-day 17:00, already gone in Kolkata: past.
	for _, args := range [][]string{{"--last-day", "2026-12-02", "--end-of-day", "17:00"}, {"--last-day", "2025-12-01"}} {
		t.Run("past "+joinArgs(args), func(t *testing.T) {
			c := mocks.NewClient(t) // no UpdateWorkflow: nothing may be sent
			withHistory(t, c, run)
			c.On("Close").Return()
			r := runStarterAt(t, clock, map[string]string{}, mockDial(c), append([]string{"offboard", "reschedule", "--employee-id", "E-01"}, args...)...)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, "--last-day: "+args[1]+" ended at")
			assert.Contains(t, r.stderr, "Asia/Kolkata")
			assert.Contains(t, r.stderr, "--allow-past")
		})
	}
	t.Run("past with --allow-past revokes now", func(t *testing.T) {
		c := mocks.NewClient(t)
		withHistory(t, c, run)
		steerable(c, 1)
		opts := expectUpdate(t, c, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffRevoking})
		r := runStarterAt(t, clock, map[string]string{}, mockDial(c), "offboard", "reschedule", "--employee-id", "E-01",
			"--last-day", "2026-12-02", "--end-of-day", "17:00", "--allow-past")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, lifecycle.UpdateRevokeNow, opts.UpdateName)
		assert.Equal(t, []any{lifecycle.RevokeNowRequest{Reason: "rescheduled to last day 2026-12-02, which has already ended"}}, opts.Args)
	})
}

// expectUpdate expects one update answered with st and returns its options once sent.
func expectUpdate(t *testing.T, c *mocks.Client, st any) *client.UpdateWorkflowOptions {
	h := mocks.NewWorkflowUpdateHandle(t)
	h.On("RunID").Return("run-1").Maybe()
	h.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		switch out := args.Get(1).(type) {
		case *lifecycle.OffboardingStatus:
			*out = st.(lifecycle.OffboardingStatus)
		case *lifecycle.OnboardingStatus:
			*out = st.(lifecycle.OnboardingStatus)
		case *lifecycle.ReassignmentProgress:
			*out = st.(lifecycle.ReassignmentProgress)
		}
	}).Return(nil)
	opts := &client.UpdateWorkflowOptions{}
	c.On("UpdateWorkflow", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		*opts = args.Get(1).(client.UpdateWorkflowOptions)
	}).Return(h, nil)
	c.On("Close").Return()
	return opts
}

func onboardAt(t *testing.T, start string, extra ...string) result {
	c := mocks.NewClient(t)
	run := mocks.NewWorkflowRun(t)
	run.On("GetID").Return("onboarding-E-1001").Maybe()
	run.On("GetRunID").Return("run-1").Maybe()
	c.On("ExecuteWorkflow", mock.Anything, mock.Anything, lifecycle.OnboardingWorkflowName, mock.Anything).Return(run, nil).Maybe()
	c.On("Close").Return().Maybe()
	args := append([]string{"onboard", "--employee-id", "E-1001", "--email", "ada@example.com", "--first-name", "Ada",
		"--last-name", "Lovelace", "--start-date", start}, extra...)
	return runStarterAt(t, clock, map[string]string{}, mockDial(c), args...)
}

func TestOnboardPastStartDate(t *testing.T) {
	t.Run("a few days back: a warning, and it starts", func(t *testing.T) {
		r := onboardAt(t, "2026-11-25")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "Warning: the start date 2026-11-25 is 7 day(s) before today (2026-12-02 in UTC)")
		assert.Contains(t, r.stdout, "Started onboarding-E-1001")
	})
	t.Run("30 days back still starts", func(t *testing.T) {
		r := onboardAt(t, "2026-11-02")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "30 day(s) before today")
	})
	t.Run("more than 30 days back is refused", func(t *testing.T) {
		r := runStarterAt(t, clock, map[string]string{}, noDial(t), "onboard", "--employee-id", "E-1001", "--email", "ada@example.com",
			"--first-name", "Ada", "--last-name", "Lovelace", "--start-date", "2025-12-01")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "--start-date: 2025-12-01 is 366 days before today (2026-12-02 in UTC), more than 30")
		assert.Contains(t, r.stderr, "--allow-past")
	})
	t.Run("with --allow-past it starts", func(t *testing.T) {
		r := onboardAt(t, "2025-12-01", "--allow-past")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "Warning: the start date 2025-12-01 is 366 day(s) before today")
	})
	t.Run("today is not past", func(t *testing.T) {
		r := onboardAt(t, "2026-12-02")
		require.Equal(t, 0, r.code, r.stderr)
		assert.NotContains(t, r.stderr, "Warning")
	})
}

func TestReassignWholeCompanyNeedsAll(t *testing.T) {
	for _, args := range [][]string{
		{"reassign", "--asset-type", "Laptop", "--to", "stock"},
		{"reassign", "--status", "IN_USE", "--to", "stock", "--yes"},
		{"reassign", "--asset-type", "Laptop", "--status", "IN_USE", "--to", "ana@example.com"},
	} {
		r := runStarter(t, map[string]string{}, noDial(t), args...)
		assert.Equal(t, 2, r.code, "%v", args)
		for _, flag := range []string{"--from", "--asset-id", "--all"} {
			assert.Contains(t, r.stderr, flag, "%v", args)
		}
		assert.Contains(t, r.stderr, "whole company")
	}
	r := runStarter(t, map[string]string{}, noDial(t), "reassign", "--all", "--from", "bo@example.com", "--to", "stock")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--all: selects the whole company: drop it when --from or --asset-id names the assets")
}

func TestReassignWithAllStartsTheBatch(t *testing.T) {
	f := &reassignFlags{to: "stock", all: true}
	f.in.Selector.AssetType = "Laptop"
	f.in.Concurrency, f.in.ConfirmAbove = 20, 100
	require.NoError(t, f.check())
	in, err := f.input()
	require.NoError(t, err)
	assert.Equal(t, lifecycle.AssetSelector{AssetType: "Laptop"}, in.Selector)
}

func TestEveryFieldIsValidatedNamingItsFlag(t *testing.T) {
	long := strings.Repeat("x", lifecycle.MaxTextLen+1)
	onboard := func(extra ...string) []string { return with(extra...) }
	cases := []struct {
		args []string
		want string
	}{
		{onboard("--employee-id", "E 1"), "--employee-id: employee id \"E 1\" must be printable ASCII"},
		{onboard("--employee-id", strings.Repeat("E", 65)), "--employee-id: employee id is 65 characters long"},
		{onboard("--first-name", long), "--first-name: first name is 257 characters long: at most 256"},
		{onboard("--last-name", "Love\nlace"), "--last-name: last name contains a control character"},
		{onboard("--title", long), "--title: title is 257 characters long"},
		{onboard("--department", "Eng\tineering"), "--department: department contains a control character"},
		{onboard("--timezone", "Local"), "--timezone: time zone \"Local\" is not an IANA zone"},
		{onboard("--timezone", "Mars/Olympus"), "--timezone: time zone \"Mars/Olympus\" is not an IANA zone"},
		{onboard("--start-date", "2026-13-01"), "--start-date: start date \"2026-13-01\" is not a date"},
		{onboard("--entitlement", "okta\x00"), "--entitlement: entitlement contains a control character"},
		{onboard("--asset-type", long), "--asset-type: asset type is 257 characters long"},
		{onboard("--workspace-id", "-1"), "--workspace-id: workspace id is negative"},
		{[]string{"onboard", "reschedule", "--employee-id", "E/1", "--start-date", "2099-01-01"}, "--employee-id: employee id \"E/1\" must be an opaque id"},
		{[]string{"onboard", "reschedule", "--employee-id", "E-1", "--start-date", "01/01/2099"}, "--start-date: start date \"01/01/2099\" is not a date"},
		{[]string{"onboard", "cancel", "--employee-id", "E-1"}, "--reason: say why"},
		{[]string{"onboard", "cancel", "--employee-id", "E-1", "--reason", long}, "--reason: reason is 257 characters long"},
		{offboardWith("--employee-id", "E@1"), "--employee-id: employee id \"E@1\" must be an opaque id"},
		{offboardWith("--timezone", "Local"), "--timezone: time zone \"Local\" is not an IANA zone"},
		{offboardWith("--end-of-day", "6pm"), "--end-of-day: end of day \"6pm\" is not a time"},
		{offboardWith("--assets", "user:dee"), "--assets: user:dee: the recipient's email is missing"},
		{offboardWith("--workspace-id", "-2"), "--workspace-id: workspace id is negative"},
		{[]string{"offboard", "now", "--employee-id", "E-1", "--reason", "a\nb"}, "--reason: reason contains a control character"},
		{[]string{"reassign", "--from", "bo@example.com", "--to", "stock", "--asset-type", long}, "--asset-type: asset type is 257 characters long"},
		{[]string{"reassign", "--from", "bo@example.com", "--to", "stock", "--status", "IN\nUSE"}, "--status: status contains a control character"},
		{[]string{"reassign", "--asset-id", "-3", "--to", "stock"}, "--asset-id: -3 is not an asset id"},
		{[]string{"reassign", "pause", "--batch-id", "b1", "--reason", "a\x1bb"}, "--reason: reason contains a control character"},
		{[]string{"reassign", "cancel", "--batch-id", "b1", "--timeout", "-1s"}, "--timeout -1s: give a positive duration"},
	}
	for _, tc := range cases {
		t.Run(joinArgs(tc.args), func(t *testing.T) {
			r := runStarter(t, map[string]string{}, noDial(t), tc.args...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		r := runStarter(t, map[string]string{}, noDial(t), args...)
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, version.String("starter")+"\n", r.stdout)
	}
}

// progressValue answers a progress query with p.
func progressValue(t *testing.T, p lifecycle.ReassignmentProgress) *mocks.Value {
	v := mocks.NewEncodedValue(t)
	v.On("Get", mock.Anything).Run(func(args mock.Arguments) { *args.Get(0).(*lifecycle.ReassignmentProgress) = p }).Return(nil)
	return v
}

func TestReassignShowsThePlanWithYes(t *testing.T) {
	plan := &lifecycle.ReassignmentPlan{Matched: 250, Sample: []lifecycle.AssetSample{{AssetID: 101, Label: "MBP-101", AssetType: "Laptop", Status: "IN_USE"}}}
	running := lifecycle.ReassignmentProgress{Stage: lifecycle.StageReassignRunning, Total: 250, Remaining: 250, Plan: plan, Confirmed: true}
	c := mocks.NewClient(t)
	c.On("QueryWorkflow", mock.Anything, "asset-reassignment-b1", "", lifecycle.QueryProgress).Return(progressValue(t, running), nil)
	var stderr bytes.Buffer
	w := &watcher{a: &app{stderr: &stderr, stdout: &bytes.Buffer{}}, conn: &connection{Client: c}, batchID: "b1", yes: true}
	w.res.WorkflowID = "asset-reassignment-b1"
	require.NoError(t, w.poll(context.Background()))
	require.NoError(t, w.poll(context.Background()))
	assert.Equal(t, 1, strings.Count(stderr.String(), "The selector matches 250 assets. First ones:"), stderr.String())
	assert.Contains(t, stderr.String(), "MBP-101")

	// A batch that ended before any poll saw its plan: the report's plan is printed.
	var late bytes.Buffer
	w = &watcher{a: &app{stderr: &late, stdout: &bytes.Buffer{}}, batchID: "b2", yes: true}
	require.NoError(t, w.finish(context.Background(), lifecycle.ReassignmentReport{BatchID: "b2", Outcome: lifecycle.OutcomeCompleted, Total: 1, Done: 1, Plan: *plan}, nil))
	assert.Contains(t, late.String(), "The selector matches 1 assets. First ones:")
	assert.Contains(t, late.String(), "MBP-101")
}

func TestWatchingABatchOnABusyWorkerSaysSo(t *testing.T) {
	c := mocks.NewClient(t)
	steerable(c, 1)
	c.On("QueryWorkflow", mock.Anything, "asset-reassignment-b1", "", lifecycle.QueryProgress).Return(func(ctx context.Context, _, _, _ string, _ ...any) (converter.EncodedValue, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	var stderr bytes.Buffer
	w := &watcher{a: &app{stderr: &stderr, stdout: &bytes.Buffer{}, lookup: func(string) (string, bool) { return "", false }},
		conn: &connection{Client: c}, batchID: "b1"}
	w.res.WorkflowID = "asset-reassignment-b1"
	require.NoError(t, w.poll(context.Background()))
	assert.Contains(t, stderr.String(), "the progress query got no answer within 5s although a worker polls task queue atomicflow: the worker is busy")
	assert.NotContains(t, stderr.String(), "is a worker running?")
}
