package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
