package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

func r(start int, endStep ...int) client.ScheduleRange {
	sr := client.ScheduleRange{Start: start}
	if len(endStep) > 0 {
		sr.End = endStep[0]
	}
	if len(endStep) > 1 {
		sr.Step = endStep[1]
	}
	return sr
}

func rs(rr ...client.ScheduleRange) []client.ScheduleRange { return rr }

func TestParseCron(t *testing.T) {
	cal, iv, tz, err := parseCron("30 1 * * *")
	require.NoError(t, err)
	assert.Nil(t, iv)
	assert.Empty(t, tz)
	assert.Equal(t, client.ScheduleCalendarSpec{
		Second: rs(r(0)), Minute: rs(r(30)), Hour: rs(r(1)),
		DayOfMonth: rs(r(1, 31)), Month: rs(r(1, 12)), DayOfWeek: rs(r(0, 6)),
	}, *cal)
	assert.Equal(t, "30 1 * * *", cronText(*cal))

	cases := []struct {
		cron string
		want func(c client.ScheduleCalendarSpec) any
		is   any
	}{
		{"0 12 * * MON-WED,FRI", func(c client.ScheduleCalendarSpec) any { return c.DayOfWeek }, rs(r(1, 3), r(5))},
		{"0 0 * * 7", func(c client.ScheduleCalendarSpec) any { return c.DayOfWeek }, rs(r(0))},
		{"0 0 * * 3-7", func(c client.ScheduleCalendarSpec) any { return c.DayOfWeek }, rs(r(0), r(3, 6))},
		{"0 0 * * 1-7", func(c client.ScheduleCalendarSpec) any { return c.DayOfWeek }, rs(r(1, 6))},
		{"*/15 * * * *", func(c client.ScheduleCalendarSpec) any { return c.Minute }, rs(r(0, 59, 15))},
		{"5/20 * * * *", func(c client.ScheduleCalendarSpec) any { return c.Minute }, rs(r(5, 59, 20))},
		{"0 9 1 jan,jul *", func(c client.ScheduleCalendarSpec) any { return c.Month }, rs(r(1), r(7))},
		{"0 0 1 1 * 2027", func(c client.ScheduleCalendarSpec) any { return c.Year }, rs(r(2027))},
		{"15 0 0 1 1 * *", func(c client.ScheduleCalendarSpec) any { return c.Second }, rs(r(15))},
		{"@daily", func(c client.ScheduleCalendarSpec) any { return [2][]client.ScheduleRange{c.Hour, c.Minute} }, [2][]client.ScheduleRange{rs(r(0)), rs(r(0))}},
		{"@weekly", func(c client.ScheduleCalendarSpec) any { return c.DayOfWeek }, rs(r(0))},
		{"0 2 * * * # nightly", func(c client.ScheduleCalendarSpec) any { return c.Comment }, "nightly"},
	}
	for _, tc := range cases {
		cal, _, _, err := parseCron(tc.cron)
		require.NoError(t, err, tc.cron)
		assert.Equal(t, tc.is, tc.want(*cal), tc.cron)
	}

	_, iv, _, err = parseCron("@every 90m/15m")
	require.NoError(t, err)
	assert.Equal(t, client.ScheduleIntervalSpec{Every: 90 * time.Minute, Offset: 15 * time.Minute}, *iv)

	_, _, tz, err = parseCron("CRON_TZ=Europe/Paris 0 7 * * *")
	require.NoError(t, err)
	assert.Equal(t, "Europe/Paris", tz)

	for _, bad := range []string{"61 * * * *", "* * * *", "0 24 * * *", "0 0 32 * *", "0 0 * 13 *", "0 0 * * 8", "1-2-3 * * * *",
		"*/0 * * * *", "0 0 * * xyz", "0 0 1 1 * 1999", "@every 0s", "@every 1h/2h", "CRON_TZ=Mars/Olympus 0 0 * * *", "5-1 * * * *"} {
		_, _, _, err := parseCron(bad)
		assert.Error(t, err, bad)
	}
}

func TestCronTextRoundTrips(t *testing.T) {
	for _, c := range []string{"30 1 * * *", "0 12 * * 1-3,5", "*/15 9-17 * * 1-5", "0 0 1 1,7 *", "15 0 0 1 1 * 2027"} {
		cal, _, _, err := parseCron(c)
		require.NoError(t, err)
		assert.Equal(t, c, cronText(*cal))
		again, _, _, err := parseCron(cronText(*cal))
		require.NoError(t, err)
		assert.Equal(t, normCalendars([]client.ScheduleCalendarSpec{*cal}), normCalendars([]client.ScheduleCalendarSpec{*again}))
	}
}

func TestParseCalendarJSON(t *testing.T) {
	c, err := parseCalendarJSON(`{"hour": 7, "minute": "30", "day_of_week": "mon-fri"}`)
	require.NoError(t, err)
	cal, err := c.structured()
	require.NoError(t, err)
	assert.Equal(t, rs(r(7)), cal.Hour)
	assert.Equal(t, rs(r(30)), cal.Minute)
	assert.Equal(t, rs(r(1, 5)), cal.DayOfWeek)

	_, err = parseCalendarJSON(`{"hours": 7}`)
	assert.ErrorContains(t, err, `unknown key "hours"`)
	_, err = parseCalendarJSON(`{"hour": true}`)
	assert.Error(t, err)
	_, err = parseCalendarJSON(`not json`)
	assert.Error(t, err)
}

func TestNormSpecMatchesWhatTheServerDescribes(t *testing.T) {
	cal, _, _, err := parseCron("30 1 * * *")
	require.NoError(t, err)
	sent := client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{*cal}, TimeZoneName: "UTC", Jitter: 10 * time.Minute}
	// What Describe returns: ranges cleaned (End >= Start, Step >= 1), an empty year list.
	described := client.ScheduleSpec{
		Calendars: []client.ScheduleCalendarSpec{{
			Second: rs(r(0, 0, 1)), Minute: rs(r(30, 30, 1)), Hour: rs(r(1, 1, 1)), DayOfMonth: rs(r(1, 31, 1)),
			Month: rs(r(1, 12, 1)), DayOfWeek: rs(r(0, 6, 1)), Year: []client.ScheduleRange{},
		}},
		Intervals: []client.ScheduleIntervalSpec{}, Skip: []client.ScheduleCalendarSpec{},
		TimeZoneName: "UTC", Jitter: 10 * time.Minute,
	}
	assert.Equal(t, normSpec(&sent), normSpec(&described))
	described.Jitter = 0
	assert.NotEqual(t, normSpec(&sent), normSpec(&described))
}

func TestScheduleSourceBuild(t *testing.T) {
	label := func(f string) string { return "[" + f + "]" }
	d, err := schedSource{ID: "nightly-reconciliation", Workflow: "reconciliation", Cron: flexList{"30 1 * * *"},
		Input: map[string]any{"dry_run": true, "stale_onboarding_days": 7}, Jitter: "10m"}.build(label)
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
	assert.Equal(t, map[string]any{managedMemoKey: managedMemoValue}, d.options("q").Memo)

	_, err = schedSource{ID: "x", Workflow: "reconciliation", Cron: flexList{"0 0 * * *"}, Input: map[string]any{"dry_runs": true}}.build(label)
	assert.ErrorContains(t, err, `[input] has the unknown key "dry_runs": Reconciliation takes workspace_id, dry_run, stale_onboarding_days`)
	_, err = schedSource{ID: "x", Workflow: "reconciliation", Cron: flexList{"0 0 * * *"}, Input: map[string]any{"dry_run": "yes"}}.build(label)
	assert.ErrorContains(t, err, "[input.dry_run] is a string, not a bool")

	// Every problem is reported at once, each naming its field.
	_, err = schedSource{ID: "a b", Workflow: "nope", TimeZone: "Mars/Olympus", Jitter: "soon", Overlap: "often", CatchupWindow: "1s"}.build(label)
	require.Error(t, err)
	for _, f := range []string{"[id]", "[workflow]", "[time_zone]", "[jitter]", "[overlap]", "[catchup_window]", "[cron] is missing"} {
		assert.Contains(t, err.Error(), f)
	}
}

func TestDSTWarning(t *testing.T) {
	build := func(cron, tz string) schedDef {
		d, err := schedSource{ID: "x", Workflow: "reconciliation", Cron: flexList{cron}, TimeZone: tz}.build(flagLabel)
		require.NoError(t, err)
		return d
	}
	assert.Empty(t, build("30 1 * * *", "UTC").warnings)
	assert.Empty(t, build("30 6 * * *", "Europe/Berlin").warnings)
	assert.Empty(t, build("30 1 * * *", "Asia/Kolkata").warnings, "no DST in India")
	require.Len(t, build("30 2 * * *", "Europe/Berlin").warnings, 1)
	assert.Contains(t, build("30 2 * * *", "Europe/Berlin").warnings[0], "daylight saving time")
}

func TestShippedSchedulesFileIsValid(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "schedules.yaml"))
	require.NoError(t, err)
	defs, err := loadScheduleFile("schedules.yaml", data)
	require.NoError(t, err)
	require.Len(t, defs, 1)
	d := defs[0]
	assert.Equal(t, lifecycle.NightlyReconciliationScheduleID, d.id)
	assert.Equal(t, lifecycle.ReconciliationWorkflowName, d.wf.typeName)
	assert.Equal(t, "30 1 * * *", cronText(d.spec.Calendars[0]))
	assert.Equal(t, "UTC", d.spec.TimeZoneName)
	assert.Equal(t, 10*time.Minute, d.spec.Jitter)
	assert.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, d.overlap)
	assert.Equal(t, time.Hour, d.catchupWindow)
	assert.Nil(t, d.paused, "pausing is left to operators")
	assert.Empty(t, d.warnings)
}

func TestLoadScheduleFileRejectsBadFiles(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown key", "schedules:\n  - id: a\n    workflow: reconciliation\n    cron: '0 1 * * *'\n    jiter: 5m\n", `unknown key jiter`},
		{"unknown input key", "schedules:\n  - id: a\n    workflow: reconciliation\n    cron: '0 1 * * *'\n    input: {dryrun: true}\n", `schedule "a": input: has the unknown key "dryrun"`},
		{"bad cron", "schedules:\n  - id: a\n    workflow: reconciliation\n    cron: ['0 1 * * *', '0 25 * * *']\n", `schedule "a": cron: "0 25 * * *": hour`},
		{"duplicate id", "schedules:\n  - {id: a, workflow: reconciliation, cron: '0 1 * * *'}\n  - {id: a, workflow: reconciliation, cron: '0 2 * * *'}\n", `schedule "a": id: listed twice`},
		{"no id", "schedules:\n  - {workflow: reconciliation, cron: '0 1 * * *'}\n", `schedule 1: id:`},
		{"top-level list", "- id: a\n", "cannot unmarshal"},
		{"empty", "", "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadScheduleFile("s.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "s.yaml"), "the error names the file: %v", err)
		})
	}

	// Calendar fields may be numbers or strings; cron and interval one value or a list.
	defs, err := loadScheduleFile("s.yaml", []byte(`schedules:
  - id: weekdays
    workflow: reconciliation
    calendar:
      - {hour: 7, minute: 30, day_of_week: mon-fri}
    interval: [6h, "1d/2h"]
`))
	require.NoError(t, err)
	require.Len(t, defs, 1)
	assert.Equal(t, "30 7 * * 1-5", cronText(defs[0].spec.Calendars[0]))
	assert.Equal(t, []client.ScheduleIntervalSpec{{Every: 6 * time.Hour}, {Every: 24 * time.Hour, Offset: 2 * time.Hour}}, defs[0].spec.Intervals)
}

var validCreate = []string{"schedule", "create", "--id", "nightly-reconciliation", "--workflow", "reconciliation", "--cron", "30 1 * * *"}

func createWith(extra ...string) []string {
	return append(append([]string{}, validCreate...), extra...)
}

func TestScheduleFlagsAreValidatedBeforeDialing(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	require.NoError(t, os.WriteFile(empty, []byte("schedules: []\n"), 0o600))
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("schedules:\n  - {id: a, workflow: reconciliation, cron: '0 1 * * *', overlap: never}\n"), 0o600))

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing id", []string{"schedule", "create", "--workflow", "reconciliation", "--cron", "0 1 * * *"}, `required flag(s) "id" not set`},
		{"bad id", createWith("--id", "my schedule"), `--id "my schedule" is not a schedule id`},
		{"bad workflow", createWith("--workflow", "onboarding"), `--workflow "onboarding" is not a workflow a schedule can start: use reconciliation`},
		{"cron out of range", createWith("--cron", "61 * * * *"), `--cron "61 * * * *": minute`},
		{"cron with 4 fields", createWith("--cron", "0 1 * *"), `--cron "0 1 * *": it has 4 fields`},
		{"no spec", []string{"schedule", "create", "--id", "x", "--workflow", "reconciliation"}, "--cron is missing: give when the schedule runs with --cron, --calendar or --interval"},
		{"bad calendar", createWith("--calendar", `{"hours":"1"}`), `--calendar "{\"hours\":\"1\"}" is not a calendar spec: unknown key "hours"`},
		{"calendar out of range", createWith("--calendar", `{"hour":"25"}`), `--calendar hour "25"`},
		{"interval too short", createWith("--interval", "500ms"), "--interval interval \"500ms\" is shorter than 1s"},
		{"interval offset", createWith("--interval", "1h/2h"), "--interval interval \"1h/2h\": the offset must be"},
		{"bad time zone", createWith("--time-zone", "Mars/Olympus"), `--time-zone "Mars/Olympus" is not an IANA time zone`},
		{"cron zone conflict", createWith("--cron", "CRON_TZ=Europe/Paris 0 7 * * *", "--time-zone", "Asia/Tokyo"), "CRON_TZ=Europe/Paris conflicts"},
		{"bad jitter", createWith("--jitter", "soon"), `--jitter "soon" is not a duration`},
		{"bad overlap", createWith("--overlap", "sometimes"), `--overlap "sometimes" is not an overlap policy: use skip, buffer-one`},
		{"short catch-up window", createWith("--catchup-window", "5s"), `--catchup-window "5s" is shorter than Temporal's minimum of 10s`},
		{"negative stale days", createWith("--stale-onboarding-days", "-1"), "--stale-onboarding-days is negative"},
		{"negative workspace", createWith("--workspace-id", "-2"), "--workspace-id is negative"},
		{"update checks too", []string{"schedule", "update", "--id", "x", "--workflow", "reconciliation", "--cron", "0 0 0 0 0"}, `--cron "0 0 0 0 0": day of month`},
		{"trigger overlap", []string{"schedule", "trigger", "--id", "x", "--overlap", "never"}, `--overlap "never" is not an overlap policy`},
		{"backfill start", []string{"schedule", "backfill", "--id", "x", "--start", "yesterday", "--end", "2026-11-23T00:00:00Z"}, `--start "yesterday" is not an RFC 3339 time`},
		{"backfill order", []string{"schedule", "backfill", "--id", "x", "--start", "2026-11-23T00:00:00Z", "--end", "2026-11-20T00:00:00Z"}, "--end 2026-11-20T00:00:00Z is not after --start"},
		{"backfill missing end", []string{"schedule", "backfill", "--id", "x", "--start", "2026-11-23T00:00:00Z"}, `required flag(s) "end" not set`},
		{"delete needs the id", []string{"schedule", "delete"}, `required flag(s) "id" not set`},
		{"pause blank id", []string{"schedule", "pause", "--id", " "}, `--id " " is not a schedule id`},
		{"describe positional", []string{"schedule", "describe", "nightly"}, `unknown command "nightly"`},
		{"apply without file", []string{"schedule", "apply"}, `required flag(s) "file" not set`},
		{"apply missing file", []string{"schedule", "apply", "-f", filepath.Join(dir, "absent.yaml")}, "absent.yaml: cannot read it"},
		{"apply bad file", []string{"schedule", "apply", "-f", bad}, `schedule "a": overlap: "never" is not an overlap policy`},
		{"apply prune of nothing", []string{"schedule", "apply", "-f", empty, "--prune"}, "lists no schedules, and --prune would delete every schedule atomicflow manages"},
		{"schedule alone", []string{"schedule"}, "name a subcommand"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runStarter(t, map[string]string{}, noDial(t), tc.args...)
			assert.Equal(t, 2, res.code, res.stderr)
			assert.Contains(t, res.stderr, tc.want)
			assert.Contains(t, res.stderr, "--help' for usage")
			assert.Empty(t, res.stdout)
		})
	}
}

func TestScheduleHelpShowsExamples(t *testing.T) {
	for _, sub := range []string{"create", "update", "apply", "list", "describe", "pause", "unpause", "trigger", "backfill", "delete"} {
		res := runStarter(t, map[string]string{}, noDial(t), "schedule", sub, "--help")
		assert.Equal(t, 0, res.code, sub)
		assert.Contains(t, res.stdout, "Examples:", sub)
		assert.Contains(t, res.stdout, "starter schedule "+sub, sub)
	}
	res := runStarter(t, map[string]string{}, noDial(t), "schedule", "apply", "--help")
	assert.Contains(t, res.stdout, "managed-by=atomicflow")
}
