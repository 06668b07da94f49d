package schedule

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// schedules.yaml: the schedules atomicflow keeps in version control.
//
//	schedules:
//	  - id: nightly-reconciliation      # fixed schedule id (required)
//	    workflow: reconciliation        # what it starts (required)
//	    input: {dry_run: false}         # the workflow's input; unknown keys are rejected
//	    cron: "30 1 * * *"              # and/or calendar: [{hour: 1, minute: 30}], interval: [6h]
//	    time_zone: UTC
//	    jitter: 10m
//	    overlap: skip
//	    catchup_window: 1h
//	    pause_on_failure: false
//	    paused: false                   # optional: when set, apply enforces it (and note)
//	    note: "..."
//
// apply decides "unchanged" by comparing, for each listed schedule, what the file asks with what
// Temporal describes (Definition.Diff): the spec (structured calendars, intervals, time zone,
// jitter), the action (workflow type, id, task queue, decoded input, summary, search attributes)
// and the policies; the pause state too when the file sets paused. Nothing differs → no
// UpdateSchedule call.

// UnmarshalYAML reads one string or a list of strings.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = StringList{n.Value}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = s
		return nil
	}
	return fmt.Errorf("line %d: expected a string or a list of strings", n.Line)
}

// UnmarshalYAML lets calendar fields be YAML numbers (hour: 1) as well as strings (hour: "1-5").
func (f *calField) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a value such as 1, \"1-5\" or \"mon,wed\"", n.Line)
	}
	*f = calField(n.Value)
	return nil
}

type file struct {
	Schedules []Source `yaml:"schedules"`
}

var (
	yamlUnknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
	// yamlGoType finds this package's Go types in yaml's errors ("cannot unmarshal !!seq into
	// schedule.file"); yamlShapes says what the file should have held there instead.
	yamlGoType = regexp.MustCompile(`(\[\])?schedule\.\w+`)
	yamlShapes = map[string]string{
		"schedule.file":             "a file with the key schedules",
		"[]schedule.Source":         "a list of schedules",
		"schedule.Source":           "a schedule",
		"[]schedule.CalendarSource": "a list of calendars",
		"schedule.CalendarSource":   "a calendar",
	}
)

// LoadFile reads and validates the whole file, data read from path; every problem names the
// schedule and key.
func LoadFile(path string, data []byte) ([]Definition, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty: list schedules under 'schedules:'", path)
		}
		msg := yamlUnknownField.ReplaceAllString(err.Error(), "unknown key $1")
		msg = yamlGoType.ReplaceAllStringFunc(msg, func(t string) string {
			if shape, ok := yamlShapes[t]; ok {
				return shape
			}
			return t
		})
		msg = strings.ReplaceAll(strings.TrimPrefix(msg, "yaml: "), "\n ", "")
		return nil, fmt.Errorf("%s: %s (keys: id, workflow, input, cron, calendar, interval, time_zone, jitter, overlap, catchup_window, pause_on_failure, paused, note)", path, msg)
	}
	var problems []string
	defs := make([]Definition, 0, len(f.Schedules))
	seen := map[string]bool{}
	for i, s := range f.Schedules {
		name := fmt.Sprintf("schedule %d", i+1)
		if s.ID != "" {
			name = fmt.Sprintf("schedule %q", s.ID)
		}
		label := func(field string) string { return fmt.Sprintf("%s: %s:", name, field) }
		d, err := s.Build(label)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if seen[d.id] {
			problems = append(problems, label("id")+" listed twice")
			continue
		}
		seen[d.id] = true
		defs = append(defs, d)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s", path, strings.Join(problems, "; "))
	}
	return defs, nil
}
