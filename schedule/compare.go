package schedule

import (
	"slices"
	"time"

	"go.temporal.io/sdk/client"
)

// Normal forms, for comparing a wanted spec with a described one. The server cleans ranges when
// it describes a schedule (End at least Start, Step at least 1) and the SDK fills unset calendar
// fields with defaults when it sends one; normSpec applies both, so equal schedules compare equal.

func normRanges(rs []client.ScheduleRange, def []client.ScheduleRange) []client.ScheduleRange {
	if rs == nil {
		rs = def
	}
	if len(rs) == 0 {
		return nil
	}
	out := make([]client.ScheduleRange, len(rs))
	for i, r := range rs {
		if r.End < r.Start {
			r.End = r.Start
		}
		if r.Step == 0 {
			r.Step = 1
		}
		out[i] = r
	}
	return out
}

func normCalendars(cals []client.ScheduleCalendarSpec) []client.ScheduleCalendarSpec {
	if len(cals) == 0 {
		return nil
	}
	out := make([]client.ScheduleCalendarSpec, len(cals))
	for i, c := range cals {
		out[i] = client.ScheduleCalendarSpec{
			Second:     normRanges(c.Second, []client.ScheduleRange{{Start: 0}}),
			Minute:     normRanges(c.Minute, []client.ScheduleRange{{Start: 0}}),
			Hour:       normRanges(c.Hour, []client.ScheduleRange{{Start: 0}}),
			DayOfMonth: normRanges(c.DayOfMonth, []client.ScheduleRange{{Start: 1, End: 31}}),
			Month:      normRanges(c.Month, []client.ScheduleRange{{Start: 1, End: 12}}),
			DayOfWeek:  normRanges(c.DayOfWeek, []client.ScheduleRange{{Start: 0, End: 6}}),
			Year:       normRanges(c.Year, nil),
			Comment:    c.Comment,
		}
	}
	return out
}

// normSpec returns the comparable form of a spec; a nil spec is the empty spec.
func normSpec(s *client.ScheduleSpec) client.ScheduleSpec {
	if s == nil {
		s = &client.ScheduleSpec{}
	}
	out := client.ScheduleSpec{
		Calendars:    normCalendars(s.Calendars),
		Skip:         normCalendars(s.Skip),
		Jitter:       s.Jitter,
		TimeZoneName: s.TimeZoneName,
		StartAt:      s.StartAt.UTC(),
		EndAt:        s.EndAt.UTC(),
	}
	if len(s.Intervals) > 0 {
		out.Intervals = slices.Clone(s.Intervals)
	}
	if len(s.CronExpressions) > 0 {
		out.CronExpressions = slices.Clone(s.CronExpressions)
	}
	if out.TimeZoneName == "" {
		out.TimeZoneName = "UTC"
	}
	if s.StartAt.IsZero() {
		out.StartAt = time.Time{}
	}
	if s.EndAt.IsZero() {
		out.EndAt = time.Time{}
	}
	return out
}
