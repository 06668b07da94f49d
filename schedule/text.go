package schedule

import (
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/client"
)

// Specs printed back in cron form.

// CronText prints a calendar as a cron string: 5 fields when the second is 0 and every year
// matches, 7 otherwise.
func CronText(c client.ScheduleCalendarSpec) string {
	n := normCalendars([]client.ScheduleCalendarSpec{c})[0]
	fields := []string{
		rangeText(n.Minute, 0, 59), rangeText(n.Hour, 0, 23), rangeText(n.DayOfMonth, 1, 31),
		rangeText(n.Month, 1, 12), rangeText(n.DayOfWeek, 0, 6),
	}
	sec := rangeText(n.Second, 0, 59)
	if sec != "0" || len(n.Year) > 0 {
		year := "*"
		if len(n.Year) > 0 {
			year = rangeText(n.Year, minCalendarYear, maxCalendarYear)
		}
		fields = append(append([]string{sec}, fields...), year)
	}
	s := strings.Join(fields, " ")
	if c.Comment != "" {
		s += " # " + c.Comment
	}
	return s
}

func rangeText(rs []client.ScheduleRange, lo, hi int) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		var p string
		switch {
		case r.Start == lo && r.End == hi:
			p = "*"
		case r.Start == r.End:
			p = strconv.Itoa(r.Start)
		default:
			p = fmt.Sprintf("%d-%d", r.Start, r.End)
		}
		if r.Step > 1 && r.Start != r.End {
			p += "/" + strconv.Itoa(r.Step)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ",")
}

// SpecText is a one-line description of a spec, for list and describe.
func SpecText(s *client.ScheduleSpec) string {
	if s == nil {
		return "none"
	}
	var parts []string
	for _, c := range s.Calendars {
		parts = append(parts, "cron "+CronText(c))
	}
	for _, iv := range s.Intervals {
		p := "every " + iv.Every.String()
		if iv.Offset > 0 {
			p += " offset " + iv.Offset.String()
		}
		parts = append(parts, p)
	}
	parts = append(parts, s.CronExpressions...)
	if len(parts) == 0 {
		return "none (trigger or backfill only)"
	}
	tz := s.TimeZoneName
	if tz == "" {
		tz = "UTC"
	}
	out := strings.Join(parts, "; ") + " (" + tz + ")"
	if s.Jitter > 0 {
		out += ", jitter " + s.Jitter.String()
	}
	return out
}
