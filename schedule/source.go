// Package schedule models atomicflow's recurring jobs as Temporal Schedules: a schedule as
// schedules.yaml and the `starter schedule` flags write it (Source, LoadFile), its validation into
// the Definition the starter sends (every problem named by its field), the server's cron,
// calendar and interval grammar, and the comparison of a Definition with the schedule Temporal
// describes (Definition.Diff). It sends nothing itself: the starter's commands do.
package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

const (
	// defaultCatchupWindow is explicit: the server's own default is one year, so after an outage
	// every missed run would fire.
	defaultCatchupWindow = time.Hour
	// minCatchupWindow is the server's minimum; a shorter window would be stored as 10s.
	minCatchupWindow = 10 * time.Second
)

// StringList is one string or a list of strings: schedules.yaml may write `cron: "30 1 * * *"`
// or a list of them.
type StringList []string

// Source is one schedule as schedules.yaml and the create/update flags write it.
type Source struct {
	ID             string           `yaml:"id"`
	Workflow       string           `yaml:"workflow"`
	Input          map[string]any   `yaml:"input"`
	Cron           StringList       `yaml:"cron"`
	Calendar       []CalendarSource `yaml:"calendar"`
	Interval       StringList       `yaml:"interval"`
	TimeZone       string           `yaml:"time_zone"`
	Jitter         string           `yaml:"jitter"`
	Overlap        string           `yaml:"overlap"`
	CatchupWindow  string           `yaml:"catchup_window"`
	PauseOnFailure bool             `yaml:"pause_on_failure"`
	// Paused, when set, is enforced; unset leaves pausing to operators (new schedules run).
	Paused *bool  `yaml:"paused"`
	Note   string `yaml:"note"`
}

// problem is one thing wrong with a Source: Field is the source key it is about ("cron",
// "input.dry_run"), Message what is wrong and what to do.
type problem struct {
	Field   string
	Message string
}

// problemsError is the error of a source with problems, each field named by label.
func problemsError(problems []problem, label func(field string) string) error {
	if len(problems) == 0 {
		return nil
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = label(p.Field) + " " + p.Message
	}
	return errors.New(strings.Join(msgs, "; "))
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

// Build validates the source into a Definition. label names a field for the user (a flag or a
// file key); every problem is reported, each naming its field.
func (s Source) Build(label func(field string) string) (Definition, error) {
	var problems []problem
	bad := func(field, msg string) { problems = append(problems, problem{field, msg}) }
	d := Definition{id: s.ID, paused: s.Paused, note: s.Note, pauseOnFailure: s.PauseOnFailure}

	if !idPattern.MatchString(s.ID) {
		bad("id", fmt.Sprintf("%q is not a schedule id: use letters, digits, '.', '_' and '-' (at most 200), e.g. %s", s.ID, exampleID))
	}
	wf, ok := scheduledWorkflows[s.Workflow]
	if !ok {
		bad("workflow", fmt.Sprintf("%q is not a workflow a schedule can start: use %s", s.Workflow, WorkflowNames()))
	} else {
		d.wf = wf
		in, inputProblems := decodeInput(s.Input, wf)
		problems = append(problems, inputProblems...)
		d.input = in
	}

	tz := strings.TrimSpace(s.TimeZone)
	if tz == "" {
		tz = "UTC"
	}
	if _, err := time.LoadLocation(tz); err != nil {
		bad("time_zone", fmt.Sprintf("%q is not an IANA time zone such as UTC or Europe/Paris", s.TimeZone))
	}
	cronTZ := ""
	for _, c := range s.Cron {
		cal, iv, ctz, err := parseCron(c)
		if err != nil {
			bad("cron", fmt.Sprintf("%q: %v", c, err))
			continue
		}
		if ctz != "" {
			if cronTZ != "" && ctz != cronTZ || s.TimeZone != "" && ctz != s.TimeZone {
				bad("cron", fmt.Sprintf("%q: its CRON_TZ=%s conflicts with another time zone: set the zone once, with %s", c, ctz, label("time_zone")))
				continue
			}
			cronTZ, tz = ctz, ctz
		}
		if cal != nil {
			d.spec.Calendars = append(d.spec.Calendars, *cal)
		}
		if iv != nil {
			d.spec.Intervals = append(d.spec.Intervals, *iv)
		}
	}
	for _, c := range s.Calendar {
		cal, err := c.structured()
		if err != nil {
			bad("calendar", err.Error())
			continue
		}
		d.spec.Calendars = append(d.spec.Calendars, cal)
	}
	for _, v := range s.Interval {
		iv, err := parseInterval(v)
		if err != nil {
			bad("interval", err.Error())
			continue
		}
		d.spec.Intervals = append(d.spec.Intervals, iv)
	}
	if len(s.Cron)+len(s.Calendar)+len(s.Interval) == 0 {
		bad("cron", fmt.Sprintf("is missing: give when the schedule runs with %s, %s or %s", label("cron"), label("calendar"), label("interval")))
	}
	d.spec.TimeZoneName = tz

	if s.Jitter != "" {
		j, err := parseDuration(s.Jitter)
		switch {
		case err != nil:
			bad("jitter", err.Error())
		case j < 0:
			bad("jitter", "is negative")
		default:
			d.spec.Jitter = j
		}
	}
	d.overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
	if s.Overlap != "" {
		p, err := ParseOverlap(s.Overlap)
		if err != nil {
			bad("overlap", err.Error())
		}
		d.overlap = p
	}
	d.catchupWindow = defaultCatchupWindow
	if s.CatchupWindow != "" {
		cw, err := parseDuration(s.CatchupWindow)
		switch {
		case err != nil:
			bad("catchup_window", err.Error())
		case cw < minCatchupWindow:
			bad("catchup_window", fmt.Sprintf("%q is shorter than Temporal's minimum of 10s", s.CatchupWindow))
		default:
			d.catchupWindow = cw
		}
	}
	if err := problemsError(problems, label); err != nil {
		return d, err
	}
	if w := dstWarning(d.spec); w != "" {
		d.warnings = append(d.warnings, w)
	}
	return d, nil
}

// decodeInput decodes the input map into the workflow's input struct, unknown keys rejected, and
// has the workflow validate it.
func decodeInput(m map[string]any, wf scheduledWorkflow) (input, []problem) {
	in := wf.newInput()
	if len(m) > 0 {
		raw, err := json.Marshal(m)
		if err != nil {
			return in, []problem{{"input", "cannot be read: " + err.Error()}}
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(in); err != nil {
			var typeErr *json.UnmarshalTypeError
			switch {
			case errors.As(err, &typeErr):
				return in, []problem{{"input." + typeErr.Field, fmt.Sprintf("is a %s, not a %s", typeErr.Value, typeErr.Type)}}
			case strings.HasPrefix(err.Error(), "json: unknown field "):
				key := strings.TrimPrefix(err.Error(), "json: unknown field ")
				return in, []problem{{"input", fmt.Sprintf("has the unknown key %s: %s takes %s", key, wf.typeName, inputKeys(in))}}
			default:
				return in, []problem{{"input", err.Error()}}
			}
		}
	}
	return in, validateInput(in, wf.fixes)
}

// validateInput runs the input's Validate and puts each problem on the input key it is about, so
// that the user learns which flag or file key to change: each key is validated alone (every other
// key zero), and a key refused alone is the problem's field, with the fix fixes gives for it. A
// refusal that no key explains alone stays on "input", in Validate's words.
func validateInput(in input, fixes map[string]string) []problem {
	err := in.Validate()
	if err == nil {
		return nil
	}
	v := reflect.ValueOf(in).Elem()
	var problems []problem
	for i := range v.NumField() {
		key := jsonKey(v.Type().Field(i))
		if key == "" {
			continue
		}
		alone := reflect.New(v.Type())
		alone.Elem().Field(i).Set(v.Field(i))
		if err := alone.Interface().(input).Validate(); err != nil {
			problems = append(problems, problem{"input." + key, keyProblem(err, key, fixes[key])})
		}
	}
	if len(problems) == 0 {
		return []problem{{"input", err.Error()}}
	}
	return problems
}

// keyProblem words Validate's refusal of one key for a message that follows the key's label.
// Validate says "invalid <workflow> input: <key name> <what is wrong>"; the label already names
// the input and the key, so both go, and the fix is added.
func keyProblem(err error, key, fix string) string {
	msg := err.Error()
	if _, problem, found := strings.Cut(msg, ": "); found {
		msg = problem
	}
	for _, name := range []string{key, strings.ReplaceAll(key, "_", " ")} {
		if rest, ok := strings.CutPrefix(msg, name+" "); ok {
			msg = rest
			break
		}
	}
	if fix != "" {
		msg += ": " + fix
	}
	return msg
}

// jsonKey is the JSON key of an exported struct field, "" for none.
func jsonKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// inputKeys lists the JSON keys of an input struct.
func inputKeys(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := range t.NumField() {
		if key := jsonKey(t.Field(i)); key != "" {
			keys = append(keys, key)
		}
	}
	return strings.Join(keys, ", ")
}

// dstWarning warns about a calendar in a zone with daylight saving time that runs between
// midnight and 04:00 local time, when clocks change: such a run is skipped or doubled on DST days.
func dstWarning(spec client.ScheduleSpec) string {
	loc, err := time.LoadLocation(spec.TimeZoneName)
	if err != nil || len(spec.Calendars) == 0 {
		return ""
	}
	y := time.Now().Year()
	_, jan := time.Date(y, 1, 1, 12, 0, 0, 0, loc).Zone()
	_, jul := time.Date(y, 7, 1, 12, 0, 0, 0, loc).Zone()
	if jan == jul {
		return ""
	}
	for _, c := range normCalendars(spec.Calendars) {
		for _, r := range c.Hour {
			for h := r.Start; h <= r.End; h += r.Step {
				if h < 4 {
					return fmt.Sprintf("%s observes daylight saving time, and a run at %02d:xx local time can be skipped or doubled on the days clocks change: prefer UTC (01:xx UTC is safe) or a later hour", spec.TimeZoneName, h)
				}
			}
		}
	}
	return ""
}
