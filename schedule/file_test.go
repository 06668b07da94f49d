package schedule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/lifecycle"
)

func TestShippedSchedulesFileIsValid(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "schedules.yaml"))
	require.NoError(t, err)
	defs, err := LoadFile("schedules.yaml", data)
	require.NoError(t, err)
	require.Len(t, defs, 1)
	d := defs[0]
	assert.Equal(t, lifecycle.NightlyReconciliationScheduleID, d.id)
	assert.Equal(t, lifecycle.ReconciliationWorkflowName, d.wf.typeName)
	assert.Equal(t, "30 1 * * *", CronText(d.spec.Calendars[0]))
	assert.Equal(t, "UTC", d.spec.TimeZoneName)
	assert.Equal(t, 10*time.Minute, d.spec.Jitter)
	assert.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, d.overlap)
	assert.Equal(t, time.Hour, d.catchupWindow)
	assert.Nil(t, d.paused, "pausing is left to operators")
	assert.Empty(t, d.warnings)
}

func TestLoadFileRejectsBadFiles(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown key", "schedules:\n  - id: a\n    workflow: reconciliation\n    cron: '0 1 * * *'\n    jiter: 5m\n", `unknown key jiter`},
		{"unknown input key", "schedules:\n  - id: a\n    workflow: reconciliation\n    cron: '0 1 * * *'\n    input: {dryrun: true}\n", `schedule "a": input: has the unknown key "dryrun"`},
		{"bad cron", "schedules:\n  - id: a\n    workflow: reconciliation\n    cron: ['0 1 * * *', '0 25 * * *']\n", `schedule "a": cron: "0 25 * * *": hour`},
		{"duplicate id", "schedules:\n  - {id: a, workflow: reconciliation, cron: '0 1 * * *'}\n  - {id: a, workflow: reconciliation, cron: '0 2 * * *'}\n", `schedule "a": id: listed twice`},
		{"no id", "schedules:\n  - {workflow: reconciliation, cron: '0 1 * * *'}\n", `schedule 1: id:`},
		{"top-level list", "- id: a\n", "line 1: cannot unmarshal !!seq into a file with the key schedules"},
		// yaml names Go types where the file has the wrong shape; the user reads the shape instead.
		{"schedules not a list", "schedules: {id: a}\n", "line 1: cannot unmarshal !!map into a list of schedules"},
		{"schedule not a mapping", "schedules:\n  - [a]\n", "line 2: cannot unmarshal !!seq into a schedule"},
		{"calendar not a list", "schedules:\n  - {id: a, workflow: reconciliation, calendar: {hour: 1}}\n", "line 2: cannot unmarshal !!map into a list of calendars"},
		{"calendar not a mapping", "schedules:\n  - {id: a, workflow: reconciliation, calendar: [[1]]}\n", "line 2: cannot unmarshal !!seq into a calendar"},
		{"empty", "", "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadFile("s.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "s.yaml"), "the error names the file: %v", err)
		})
	}

	// Calendar fields may be numbers or strings; cron and interval one value or a list.
	defs, err := LoadFile("s.yaml", []byte(`schedules:
  - id: weekdays
    workflow: reconciliation
    calendar:
      - {hour: 7, minute: 30, day_of_week: mon-fri}
    interval: [6h, "1d/2h"]
`))
	require.NoError(t, err)
	require.Len(t, defs, 1)
	assert.Equal(t, "30 7 * * 1-5", CronText(defs[0].spec.Calendars[0]))
	assert.Equal(t, []client.ScheduleIntervalSpec{{Every: 6 * time.Hour}, {Every: 24 * time.Hour, Offset: 2 * time.Hour}}, defs[0].spec.Intervals)
}
