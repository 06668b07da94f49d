package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"

	"github.com/atomicflow/atomicflow/schedule"
)

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
	defs, err := schedule.LoadFile(f.file, data)
	if err != nil {
		return usageError{err}
	}
	if f.prune && len(defs) == 0 {
		return usageError{fmt.Errorf("%s lists no schedules, and --prune would delete every schedule atomicflow manages: list at least one, or use 'schedule delete'", f.file)}
	}
	for _, d := range defs {
		for _, w := range d.Warnings() {
			fmt.Fprintf(a.stderr, "Warning: schedule %q: %s\n", d.ID(), w)
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
func applySchedules(ctx context.Context, env schedEnv, defs []schedule.Definition, prune, dryRun bool) ([]schedOutcome, error) {
	var outcomes []schedOutcome
	var errs []error
	listed := map[string]bool{}
	for _, d := range defs {
		listed[d.ID()] = true
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
func applySchedule(ctx context.Context, env schedEnv, d schedule.Definition) (schedOutcome, error) {
	out, err := updateSchedule(ctx, env, d)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return putSchedule(ctx, env, d)
	}
	if err != nil {
		return out, scheduleError(d.ID(), "update", err)
	}
	return out, nil
}

// planSchedule says what applySchedule would do, changing nothing.
func planSchedule(ctx context.Context, env schedEnv, d schedule.Definition) (schedOutcome, error) {
	desc, err := env.sc.GetHandle(ctx, d.ID()).Describe(ctx)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return schedOutcome{ID: d.ID(), Outcome: schedCreated}, nil
	case err != nil:
		return schedOutcome{}, scheduleError(d.ID(), "describe", err)
	}
	out := schedOutcome{ID: d.ID(), Outcome: schedUnchanged, Changed: d.Diff(desc, env.taskQueue, env.dc), Unmanaged: !schedule.IsManaged(desc.Memo, env.dc)}
	if len(out.Changed) > 0 {
		out.Outcome = schedUpdated
	}
	return out, nil
}
