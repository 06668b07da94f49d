package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.Equal(t, "30 1 * * *", CronText(*cal))

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
		assert.Equal(t, c, CronText(*cal))
		again, _, _, err := parseCron(CronText(*cal))
		require.NoError(t, err)
		assert.Equal(t, normCalendars([]client.ScheduleCalendarSpec{*cal}), normCalendars([]client.ScheduleCalendarSpec{*again}))
	}
}

func TestParseCalendarJSON(t *testing.T) {
	c, err := ParseCalendarJSON(`{"hour": 7, "minute": "30", "day_of_week": "mon-fri"}`)
	require.NoError(t, err)
	cal, err := c.structured()
	require.NoError(t, err)
	assert.Equal(t, rs(r(7)), cal.Hour)
	assert.Equal(t, rs(r(30)), cal.Minute)
	assert.Equal(t, rs(r(1, 5)), cal.DayOfWeek)

	_, err = ParseCalendarJSON(`{"hours": 7}`)
	assert.ErrorContains(t, err, `unknown key "hours"`)
	_, err = ParseCalendarJSON(`{"hour": true}`)
	assert.Error(t, err)
	_, err = ParseCalendarJSON(`not json`)
	assert.Error(t, err)
}
