package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

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
