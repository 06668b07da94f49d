package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones are checked before anything is sent, whatever the host has installed

	"go.temporal.io/sdk/client"
)

// Specs. Cron strings, calendars and intervals become structured calendar and interval specs
// here, with the same grammar and defaults as the Temporal server's own cron parser (server
// v1.29.1 service/worker/scheduler/calendar.go). So every mistake is reported before anything is
// sent, naming the flag or key, and the server stores exactly what was sent: the server turns
// cron strings into structured calendars anyway, and comparing structured specs is what tells
// "unchanged" from "changed".

// calField is one field of a calendar spec: a string such as "1-5" or "mon,wed"; a YAML or JSON
// number is accepted too.
type calField string

func (f *calField) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = calField(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("expected a string such as \"1-5\" or a number")
	}
	*f = calField(n.String())
	return nil
}

// CalendarSource is a calendar spec as --calendar (JSON) and schedules.yaml write it. Unset fields
// take the server's defaults: second, minute and hour 0; day_of_month, month, day_of_week and
// year every value.
type CalendarSource struct {
	Second     calField `json:"second,omitempty" yaml:"second"`
	Minute     calField `json:"minute,omitempty" yaml:"minute"`
	Hour       calField `json:"hour,omitempty" yaml:"hour"`
	DayOfMonth calField `json:"day_of_month,omitempty" yaml:"day_of_month"`
	Month      calField `json:"month,omitempty" yaml:"month"`
	DayOfWeek  calField `json:"day_of_week,omitempty" yaml:"day_of_week"`
	Year       calField `json:"year,omitempty" yaml:"year"`
	Comment    string   `json:"comment,omitempty" yaml:"comment"`
}

const calendarKeys = "second, minute, hour, day_of_month, month, day_of_week, year, comment"

// ParseCalendarJSON reads one --calendar value: a calendar spec as JSON.
func ParseCalendarJSON(s string) (CalendarSource, error) {
	var c CalendarSource
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		msg := err.Error()
		if field, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			msg = "unknown key " + field + " (keys: " + calendarKeys + ")"
		}
		return c, fmt.Errorf("%q is not a calendar spec: %s; write JSON such as '{\"hour\":\"1\",\"minute\":\"30\",\"day_of_week\":\"mon-fri\"}'", s, msg)
	}
	if dec.More() {
		return c, fmt.Errorf("%q is not one calendar spec: repeat --calendar for several", s)
	}
	return c, nil
}

// Field bounds and parse modes, as the server has them.
const (
	minCalendarYear = 2000
	maxCalendarYear = 2100
	maxCommentLen   = 200
)

type parseMode int

const (
	parseModeInt parseMode = iota
	parseModeYear
	parseModeMonth
	parseModeDow
)

var (
	monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	dowNames   = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
)

// structured turns a calendar source into the structured spec the server would derive.
func (c CalendarSource) structured() (client.ScheduleCalendarSpec, error) {
	var errs []string
	field := func(s calField, name, def string, lo, hi int, mode parseMode) []client.ScheduleRange {
		r, err := makeRange(string(s), name, def, lo, hi, mode)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return r
	}
	cal := client.ScheduleCalendarSpec{
		Second:     field(c.Second, "second", "0", 0, 59, parseModeInt),
		Minute:     field(c.Minute, "minute", "0", 0, 59, parseModeInt),
		Hour:       field(c.Hour, "hour", "0", 0, 23, parseModeInt),
		DayOfMonth: field(c.DayOfMonth, "day of month", "*", 1, 31, parseModeInt),
		Month:      field(c.Month, "month", "*", 1, 12, parseModeMonth),
		DayOfWeek:  field(c.DayOfWeek, "day of week", "*", 0, 7, parseModeDow),
		Year:       field(c.Year, "year", "*", minCalendarYear, maxCalendarYear, parseModeYear),
		Comment:    c.Comment,
	}
	if len(c.Comment) > maxCommentLen {
		errs = append(errs, fmt.Sprintf("comment is longer than %d bytes", maxCommentLen))
	}
	if len(errs) > 0 {
		return cal, errors.New(strings.Join(errs, "; "))
	}
	return cal, nil
}

// parseCron parses one cron string: 5 fields (minute hour day-of-month month day-of-week), 6
// (plus year) or 7 (second first, year last); @yearly, @monthly, @weekly, @daily, @hourly;
// @every <interval>[/<offset>]; an optional CRON_TZ=<zone> prefix and "# comment" suffix. As on
// the server, day of month and day of week are ANDed, not ORed as some crons do.
func parseCron(s string) (cal *client.ScheduleCalendarSpec, iv *client.ScheduleIntervalSpec, tz string, err error) {
	c := strings.TrimSpace(s)
	if strings.HasPrefix(c, "TZ=") || strings.HasPrefix(c, "CRON_TZ=") {
		prefix, rest, found := strings.Cut(c, " ")
		if !found {
			return nil, nil, "", errors.New("it has a time zone but no fields")
		}
		c = rest
		_, tz, _ = strings.Cut(prefix, "=")
		if _, err := time.LoadLocation(tz); err != nil || tz == "" {
			return nil, nil, "", fmt.Errorf("time zone %q is not an IANA zone such as Europe/Paris", tz)
		}
	}
	c, comment, _ := strings.Cut(c, "#")
	c, comment = strings.TrimSpace(c), strings.TrimSpace(comment)
	if rest, ok := strings.CutPrefix(c, "@every"); ok {
		spec, err := parseInterval(strings.TrimSpace(rest))
		if err != nil {
			return nil, nil, "", err
		}
		return nil, &spec, tz, nil
	}
	switch c {
	case "@yearly", "@annually":
		c = "0 0 1 1 *"
	case "@monthly":
		c = "0 0 1 * *"
	case "@weekly":
		c = "0 0 * * 0"
	case "@daily", "@midnight":
		c = "0 0 * * *"
	case "@hourly":
		c = "0 * * * *"
	}
	f := strings.Fields(c)
	src := CalendarSource{Comment: comment}
	switch len(f) {
	case 5:
		src.Minute, src.Hour, src.DayOfMonth, src.Month, src.DayOfWeek = calField(f[0]), calField(f[1]), calField(f[2]), calField(f[3]), calField(f[4])
	case 6:
		src.Minute, src.Hour, src.DayOfMonth, src.Month, src.DayOfWeek, src.Year = calField(f[0]), calField(f[1]), calField(f[2]), calField(f[3]), calField(f[4]), calField(f[5])
	case 7:
		src.Second, src.Minute, src.Hour, src.DayOfMonth, src.Month, src.DayOfWeek, src.Year = calField(f[0]), calField(f[1]), calField(f[2]), calField(f[3]), calField(f[4]), calField(f[5]), calField(f[6])
	default:
		return nil, nil, "", fmt.Errorf("it has %d fields, not 5 (minute hour day-of-month month day-of-week), 6 (plus year) or 7 (second first)", len(f))
	}
	spec, err := src.structured()
	if err != nil {
		return nil, nil, "", err
	}
	return &spec, nil, tz, nil
}

// parseInterval reads "<every>[/<offset>]", durations such as 1h, 90m or 1d.
func parseInterval(s string) (client.ScheduleIntervalSpec, error) {
	every, offset, hasOffset := strings.Cut(s, "/")
	e, err := parseDuration(every)
	if err != nil {
		return client.ScheduleIntervalSpec{}, fmt.Errorf("interval %q: %w", s, err)
	}
	var o time.Duration
	if hasOffset {
		if o, err = parseDuration(offset); err != nil {
			return client.ScheduleIntervalSpec{}, fmt.Errorf("interval %q: offset: %w", s, err)
		}
	}
	switch {
	case e < time.Second:
		return client.ScheduleIntervalSpec{}, fmt.Errorf("interval %q is shorter than 1s", s)
	case o < 0 || o >= e:
		return client.ScheduleIntervalSpec{}, fmt.Errorf("interval %q: the offset must be at least 0 and less than the interval", s)
	}
	return client.ScheduleIntervalSpec{Every: e, Offset: o}, nil
}

// parseDuration is time.ParseDuration plus whole days ("1d").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 90s, 10m, 1h or 1d", s)
	}
	return d, nil
}

// makeRange parses one calendar field: "*", "x", "x-z", "x-z/y", "x/y" and comma-separated lists
// of them; month and day-of-week names (at least three and two letters). It is the server's
// makeRange, including its special case for Sunday written as 7.
func makeRange(s, field, def string, lo, hi int, mode parseMode) ([]client.ScheduleRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = def
	}
	if s == "*" && mode == parseModeYear {
		return nil, nil // every year is an empty list
	}
	var ranges []client.ScheduleRange
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		step, hasStep := 1, false
		if before, after, found := strings.Cut(part, "/"); found {
			if strings.Contains(after, "/") {
				return nil, fmt.Errorf("%s %q has too many slashes", field, s)
			}
			n, err := strconv.Atoi(after)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s %q: the step after '/' must be a positive number", field, s)
			}
			part, step, hasStep = before, n, true
		}
		start, end := lo, hi
		if part != "*" {
			if a, b, isRange := strings.Cut(part, "-"); isRange {
				if strings.Contains(b, "-") {
					return nil, fmt.Errorf("%s %q has too many dashes", field, s)
				}
				var err error
				if start, err = parseCalValue(a, lo, hi, mode); err != nil {
					return nil, fmt.Errorf("%s %q: %q is not a value in [%d-%d]", field, s, a, lo, hi)
				}
				if end, err = parseCalValue(b, start, hi, mode); err != nil {
					return nil, fmt.Errorf("%s %q: the range end %q is before its start or not in [%d-%d]", field, s, b, lo, hi)
				}
			} else {
				v, err := parseCalValue(part, lo, hi, mode)
				if err != nil && part == s {
					return nil, fmt.Errorf("%s %q is not a value in [%d-%d]", field, s, lo, hi)
				} else if err != nil {
					return nil, fmt.Errorf("%s %q: %q is not a value in [%d-%d]", field, s, part, lo, hi)
				}
				start = v
				if !hasStep {
					end = v // x/y runs from x to the maximum; x alone is just x
				}
			}
		}
		if mode == parseModeDow && end == 7 { // Sunday as 7: see the server's makeRange
			if (7-start)%step == 0 && (step > 1 || step == 1 && start > 1) {
				ranges = append(ranges, client.ScheduleRange{Start: 0})
				if start == 7 {
					continue
				}
			}
			end = 6
		}
		if start == end {
			end = 0
		}
		if step == 1 {
			step = 0
		}
		ranges = append(ranges, client.ScheduleRange{Start: start, End: end, Step: step})
	}
	return ranges, nil
}

func parseCalValue(s string, lo, hi int, mode parseMode) (int, error) {
	names := map[parseMode][]string{parseModeMonth: monthNames, parseModeDow: dowNames}[mode]
	minLen := map[parseMode]int{parseModeMonth: 3, parseModeDow: 2}[mode]
	if names != nil && len(s) >= minLen {
		ls := strings.ToLower(s)
		for i, name := range names {
			if strings.HasPrefix(name, ls) {
				if mode == parseModeMonth {
					i++
				}
				if i < lo || i > hi {
					return i, errors.New("out of range")
				}
				return i, nil
			}
		}
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if i < lo || i > hi {
		return i, errors.New("out of range")
	}
	return i, nil
}
