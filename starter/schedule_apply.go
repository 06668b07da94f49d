package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
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
// Temporal describes: the spec (structured calendars, intervals, time zone, jitter), the action
// (workflow type, id, task queue, decoded input, summary, search attributes) and the policies;
// the pause state too when the file sets paused. Nothing differs → no UpdateSchedule call.

// flexList is a YAML value that is one string or a list of strings.
type flexList []string

func (l *flexList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = flexList{n.Value}
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

type scheduleFile struct {
	Schedules []schedSource `yaml:"schedules"`
}

var yamlUnknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// loadScheduleFile reads and validates the whole file; every problem names the schedule and key.
func loadScheduleFile(path string, data []byte) ([]schedDef, error) {
	var f scheduleFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty: list schedules under 'schedules:'", path)
		}
		msg := yamlUnknownField.ReplaceAllString(err.Error(), "unknown key $1")
		msg = strings.ReplaceAll(strings.TrimPrefix(msg, "yaml: "), "\n ", "")
		return nil, fmt.Errorf("%s: %s (keys: id, workflow, input, cron, calendar, interval, time_zone, jitter, overlap, catchup_window, pause_on_failure, paused, note)", path, msg)
	}
	var problems []string
	defs := make([]schedDef, 0, len(f.Schedules))
	seen := map[string]bool{}
	for i, s := range f.Schedules {
		name := fmt.Sprintf("schedule %d", i+1)
		if s.ID != "" {
			name = fmt.Sprintf("schedule %q", s.ID)
		}
		d, err := s.build(func(field string) string { return fmt.Sprintf("%s: %s:", name, field) })
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if seen[d.id] {
			problems = append(problems, fmt.Sprintf("%s: id: listed twice", name))
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

type scheduleApplyFlags struct {
	file   string
	prune  bool
	dryRun bool
}

func newScheduleApplyCmd(a *app) *cobra.Command {
	f := &scheduleApplyFlags{}
	cmd := &cobra.Command{
		Use:   "apply -f schedules.yaml [--prune] [--dry-run]",
		Short: "Make Temporal's schedules match a file: create, update, and with --prune delete",
		Long: `apply makes Temporal's schedules match the file: it creates the schedules the file lists and
Temporal lacks, updates those that differ, and leaves the others alone, printing "unchanged": a
second apply of the same file sends no update at all. The whole file is checked before anything
is sent.

A schedule is unchanged when its spec (calendars, intervals, time zone, jitter), its workflow (type,
id, task queue, input, summary) and its policies (overlap, catch-up window, pause on failure)
match the file; and its pause state and note, when the file sets 'paused'. Without 'paused', the
pause state belongs to operators ('schedule pause'), and apply keeps it.

--prune also deletes the schedules atomicflow manages that the file does not list. atomicflow's
schedules carry the memo managed-by=atomicflow, set by 'schedule create' and 'schedule apply';
schedules made with the Temporal CLI, the UI or other code are never deleted. --dry-run prints
what apply would do and changes nothing.

The format is in the comments of schedules.yaml at the repository root.`,
		Example: `  starter schedule apply -f schedules.yaml
  starter schedule apply -f schedules.yaml --dry-run
  starter schedule apply -f schedules.yaml --prune`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error { return f.run(cmd.Context(), a) }),
	}
	cmd.Flags().StringVarP(&f.file, "file", "f", "", "schedules file, YAML (required)")
	cmd.Flags().BoolVar(&f.prune, "prune", false, "delete atomicflow's schedules that the file does not list")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print what would change; change nothing")
	_ = cmd.MarkFlagRequired("file") // cannot fail: the flag exists
	return cmd
}

func (f *scheduleApplyFlags) run(ctx context.Context, a *app) error {
	data, err := os.ReadFile(f.file)
	if err != nil {
		return usageError{fmt.Errorf("-f %s: cannot read it: %w", f.file, errors.Unwrap(err))}
	}
	defs, err := loadScheduleFile(f.file, data)
	if err != nil {
		return usageError{err}
	}
	if f.prune && len(defs) == 0 {
		return usageError{fmt.Errorf("%s lists no schedules, and --prune would delete every schedule atomicflow manages: list at least one, or use 'schedule delete'", f.file)}
	}
	for _, d := range defs {
		for _, w := range d.warnings {
			fmt.Fprintf(a.stderr, "Warning: schedule %q: %s\n", d.id, w)
		}
	}
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	outcomes, err := applySchedules(ctx, a.schedEnv(conn), defs, f.prune, f.dryRun)
	counts := map[string]int{}
	for _, o := range outcomes {
		counts[o.Outcome]++
		if f.dryRun && o.Outcome != schedUnchanged {
			o.Outcome = "would " + strings.TrimSuffix(o.Outcome, "d")
		}
		fmt.Fprintln(a.stdout, o)
	}
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("%d created, %d updated, %d unchanged, %d deleted", counts[schedCreated], counts[schedUpdated], counts[schedUnchanged], counts[schedDeleted])
	if f.dryRun {
		summary = "Dry run, nothing changed: " + strings.NewReplacer("created", "to create", "updated", "to update", "deleted", "to delete").Replace(summary)
	}
	fmt.Fprintln(a.stdout, summary+".")
	return nil
}

// applySchedules puts every definition, then prunes. It goes on after a failing schedule and
// returns the outcomes so far with all the errors. One schedule at a time: updates are
// read-modify-write, and the starter never races itself.
func applySchedules(ctx context.Context, env schedEnv, defs []schedDef, prune, dryRun bool) ([]schedOutcome, error) {
	var outcomes []schedOutcome
	var errs []error
	listed := map[string]bool{}
	for _, d := range defs {
		listed[d.id] = true
		var out schedOutcome
		var err error
		if dryRun {
			out, err = planSchedule(ctx, env, d)
		} else {
			out, err = applySchedule(ctx, env, d)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		outcomes = append(outcomes, out)
	}
	if prune {
		rows, err := listSchedules(ctx, env)
		if err != nil {
			return outcomes, errors.Join(append(errs, err)...)
		}
		for _, r := range rows {
			if listed[r.ID] || !r.Managed {
				continue
			}
			if !dryRun {
				var notFound *serviceerror.NotFound
				if err := env.sc.GetHandle(ctx, r.ID).Delete(ctx); err != nil && !errors.As(err, &notFound) {
					errs = append(errs, scheduleError(r.ID, "delete", err))
					continue
				}
			}
			outcomes = append(outcomes, schedOutcome{ID: r.ID, Outcome: schedDeleted})
		}
	}
	return outcomes, errors.Join(errs...)
}

// applySchedule updates the schedule when it differs, or creates it when Temporal lacks it.
func applySchedule(ctx context.Context, env schedEnv, d schedDef) (schedOutcome, error) {
	out, err := updateSchedule(ctx, env, d)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return putSchedule(ctx, env, d)
	}
	if err != nil {
		return out, scheduleError(d.id, "update", err)
	}
	return out, nil
}

// planSchedule says what applySchedule would do, changing nothing.
func planSchedule(ctx context.Context, env schedEnv, d schedDef) (schedOutcome, error) {
	desc, err := env.sc.GetHandle(ctx, d.id).Describe(ctx)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return schedOutcome{ID: d.id, Outcome: schedCreated}, nil
	case err != nil:
		return schedOutcome{}, scheduleError(d.id, "describe", err)
	}
	out := schedOutcome{ID: d.id, Outcome: schedUnchanged, Changed: d.diff(desc, env), Unmanaged: !isManaged(desc.Memo, env.dc)}
	if len(out.Changed) > 0 {
		out.Outcome = schedUpdated
	}
	return out, nil
}
