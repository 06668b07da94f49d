package schedule

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/internal/devserver"
)

// The server turns cron strings into calendars itself: a schedule made from the strings and one
// made from what parseCron gives must be described alike.
func TestCronParsingMatchesTheServers(t *testing.T) {
	srv := devserver.ForTest(t)
	ctx := context.Background()
	sc := srv.Client().ScheduleClient()
	describe := func(id string) *client.ScheduleSpec {
		t.Helper()
		desc, err := sc.GetHandle(ctx, id).Describe(ctx)
		require.NoError(t, err)
		return desc.Schedule.Spec
	}

	crons := []string{"30 1 * * *", "0 12 * * MON-WED,FRI", "0 0 * * 7", "0 0 * * 3-7", "0 0 * * 1-7/2", "0 0 * * 0-7",
		"*/15 9-17 * * 1-5", "5/20 * * * *", "0 9 1 jan,jul *", "0 0 1 1 * 2027", "0 0 1 1 * 2027-2030/2", "15 0 0 1 1 * *",
		"@daily", "@weekly", "@monthly", "@yearly", "@hourly", "0 2 * * * # nightly", "0 0 * * sun", "0 0 * * tue-thu", "0 0 1-31/10 * *"}
	var ours []client.ScheduleCalendarSpec
	for _, cr := range crons {
		cal, _, _, err := parseCron(cr)
		require.NoError(t, err, cr)
		ours = append(ours, *cal)
	}
	action := &client.ScheduleWorkflowAction{ID: "parity", Workflow: "Parity", TaskQueue: "parity-q"}
	_, err := sc.Create(ctx, client.ScheduleOptions{ID: "parity-server", Spec: client.ScheduleSpec{CronExpressions: crons}, Action: action, Paused: true})
	require.NoError(t, err)
	_, err = sc.Create(ctx, client.ScheduleOptions{ID: "parity-ours", Spec: client.ScheduleSpec{Calendars: ours}, Action: action, Paused: true})
	require.NoError(t, err)
	server, mine := describe("parity-server"), describe("parity-ours")
	require.Len(t, server.Calendars, len(crons))
	for i, cr := range crons {
		assert.Equal(t, normCalendars(server.Calendars[i:i+1]), normCalendars(mine.Calendars[i:i+1]), cr)
	}

	_, iv, _, err := parseCron("@every 90m/15m")
	require.NoError(t, err)
	_, err = sc.Create(ctx, client.ScheduleOptions{ID: "parity-every", Spec: client.ScheduleSpec{CronExpressions: []string{"@every 90m/15m"}}, Action: action, Paused: true})
	require.NoError(t, err)
	assert.Equal(t, []client.ScheduleIntervalSpec{*iv}, describe("parity-every").Intervals)
}
