package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/schedule"
)

// Schedules: recurring jobs as Temporal Schedules, with fixed ids (DESIGN.md practice 9). The
// schedule package builds and compares them; the commands here send them and print the answers.

// Outcomes of putting a schedule.
const (
	schedCreated   = "created"
	schedUpdated   = "updated"
	schedUnchanged = "unchanged"
	schedDeleted   = "deleted"
)

// schedOutcome is what happened to one schedule.
type schedOutcome struct {
	ID      string   `json:"id"`
	Outcome string   `json:"outcome"`
	Changed []string `json:"changed,omitempty"`
	// Unmanaged: the schedule exists without atomicflow's memo, so --prune never deletes it.
	Unmanaged bool `json:"unmanaged,omitempty"`
}

func (o schedOutcome) String() string {
	s := fmt.Sprintf("%-9s %s", o.Outcome, o.ID)
	if len(o.Changed) > 0 {
		s += " (" + strings.Join(o.Changed, ", ") + ")"
	}
	if o.Unmanaged {
		s += " [not created by atomicflow: --prune never deletes it]"
	}
	return s
}

// updateSchedule updates the schedule to the definition when it differs. ScheduleHandle.Update
// is read-modify-write: the comparison runs on the description Update itself read, so an
// unchanged schedule gets no UpdateSchedule call at all.
func updateSchedule(ctx context.Context, env schedEnv, d schedule.Definition) (schedOutcome, error) {
	out := schedOutcome{ID: d.ID(), Outcome: schedUnchanged}
	err := env.sc.GetHandle(ctx, d.ID()).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			out.Unmanaged = !schedule.IsManaged(in.Description.Memo, env.dc)
			out.Changed = d.Diff(&in.Description, env.taskQueue, env.dc)
			if len(out.Changed) == 0 {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			out.Outcome = schedUpdated
			return &client.ScheduleUpdate{Schedule: d.Updated(in.Description, env.taskQueue)}, nil
		},
	})
	return out, err
}

// putSchedule creates the schedule, or updates it when it exists (create is idempotent).
func putSchedule(ctx context.Context, env schedEnv, d schedule.Definition) (schedOutcome, error) {
	_, err := env.sc.Create(ctx, d.Options(env.taskQueue))
	if err == nil {
		return schedOutcome{ID: d.ID(), Outcome: schedCreated}, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return schedOutcome{}, scheduleError(d.ID(), "create", err)
	}
	out, err := updateSchedule(ctx, env, d)
	if err != nil {
		return out, scheduleError(d.ID(), "update", err)
	}
	return out, nil
}

// schedEnv is what schedule operations share: the schedule client, the task queue scheduled
// workflows run on, and the converter that reads back what the starter wrote.
type schedEnv struct {
	sc        client.ScheduleClient
	taskQueue string
	dc        converter.DataConverter
}

func (a *app) schedEnv(conn *connection) schedEnv {
	return schedEnv{sc: conn.ScheduleClient(), taskQueue: a.taskQueue(), dc: payloadReader(a.lookup)}
}

// payloadReader decodes the payloads the starter reads back (schedule inputs and memos) with the
// encryption keys of ATOMICFLOW_CODEC_KEYS when set, as the starter's client encodes them. The
// codec's converter also reads plain payloads, so this works whether or not encryption is on; a
// key configuration the starter cannot use falls back to the plain converter (and such payloads
// then count as unreadable: changed, and not managed).
func payloadReader(lookup func(string) (string, bool)) converter.DataConverter {
	ring, err := codec.FromEnv(lookup)
	if err != nil {
		return converter.GetDefaultDataConverter()
	}
	return codec.DataConverter(ring)
}

// scheduleError says what failed, in terms an operator can act on.
func scheduleError(id, what string, err error) error {
	var notFound *serviceerror.NotFound
	var invalid *serviceerror.InvalidArgument
	var unknownKey *codec.UnknownKeyError
	switch {
	case errors.As(err, &unknownKey) || strings.Contains(err.Error(), "payload encoding is not supported"):
		return fmt.Errorf("cannot %s schedule %q: its payloads are encrypted with a key the starter lacks: set %s (or %s) to the worker's keys: %w",
			what, id, codec.EnvKeys, codec.EnvKeysFile, err)
	case errors.As(err, &notFound):
		return fmt.Errorf("no schedule %q: `starter schedule list` shows the schedules; `starter schedule create` makes one", id)
	case errors.As(err, &invalid):
		msg := invalid.Error()
		if strings.Contains(msg, "spec") {
			return fmt.Errorf("Temporal rejected the spec of schedule %q: %s: check --cron, --calendar, --interval and --time-zone (or the file's cron, calendar, interval and time_zone)", id, msg)
		}
		return fmt.Errorf("Temporal rejected %s of schedule %q: %s", what, id, msg)
	}
	return fmt.Errorf("cannot %s schedule %q: %w", what, id, err)
}

func scheduleURL(uiBase, namespace, id string) string {
	return fmt.Sprintf("%s/namespaces/%s/schedules/%s", strings.TrimRight(uiBase, "/"), url.PathEscape(namespace), url.PathEscape(id))
}

// The schedule command tree.

func newScheduleCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Manage recurring jobs as Temporal Schedules (create, apply a file, pause, trigger, ...)",
		Long: `schedule manages atomicflow's recurring jobs as Temporal Schedules with fixed ids.

Schedules live in version control: 'starter schedule apply -f schedules.yaml' makes Temporal's
schedules match the file. The other subcommands act on one schedule by its --id.

Every schedule the starter creates carries the schedule memo managed-by=atomicflow; 'apply
--prune' deletes only schedules with that mark, never ones made with the Temporal CLI or UI.`,
		Example: `  starter schedule apply -f schedules.yaml
  starter schedule list
  starter schedule describe --id nightly-reconciliation
  starter schedule trigger --id nightly-reconciliation`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("name a subcommand: create, update, apply, list, describe, pause, unpause, trigger, backfill or delete")}
		}),
	}
	cmd.AddCommand(newSchedulePutCmd(a, false), newSchedulePutCmd(a, true), newScheduleApplyCmd(a),
		newScheduleListCmd(a), newScheduleDescribeCmd(a), newSchedulePauseCmd(a, true), newSchedulePauseCmd(a, false),
		newScheduleTriggerCmd(a), newScheduleBackfillCmd(a), newScheduleDeleteCmd(a))
	return cmd
}

// flagLabel names a schedule.Source field by its flag.
func flagLabel(field string) string {
	field = strings.TrimPrefix(field, "input.")
	if field == "input" {
		return "the workflow input"
	}
	return "--" + strings.ReplaceAll(field, "_", "-")
}

// schedulePutFlags are the flags of create and update.
type schedulePutFlags struct {
	src                 schedule.Source
	calendars           []string
	paused              bool
	dryRun              bool
	workspaceID         int64
	staleOnboardingDays int
	json                bool
}

func (f *schedulePutFlags) source(cmd *cobra.Command) (schedule.Source, error) {
	src := f.src
	src.Input = map[string]any{"dry_run": f.dryRun, "workspace_id": f.workspaceID, "stale_onboarding_days": f.staleOnboardingDays}
	for _, c := range f.calendars {
		cal, err := schedule.ParseCalendarJSON(c)
		if err != nil {
			return src, fmt.Errorf("--calendar %w", err)
		}
		src.Calendar = append(src.Calendar, cal)
	}
	if cmd.Flags().Changed("paused") {
		src.Paused = &f.paused
	}
	if !cmd.Flags().Changed("time-zone") {
		src.TimeZone = "" // UTC, unless a cron string says CRON_TZ=
	}
	return src, nil
}

func newSchedulePutCmd(a *app, update bool) *cobra.Command {
	f := &schedulePutFlags{}
	cmd := &cobra.Command{
		Use:   "create --id ID --workflow reconciliation (--cron EXPR | --calendar JSON | --interval DURATION)",
		Short: "Create a schedule, or update it when the id exists (idempotent)",
		Long: `create makes a Temporal Schedule with a fixed id. Running it again with the same id updates the
schedule instead of failing, and changes nothing when it already matches.

When: --cron (5 fields "minute hour day-of-month month day-of-week", 6 with a year, 7 with seconds
first; @daily, @hourly, ...; "@every 1h"), --calendar (JSON with second, minute, hour, day_of_month,
month, day_of_week, year), --interval (1h, 1d, "1h/15m" with an offset); each repeatable. Day of
month and day of week are ANDed. Calendars are read in --time-zone (default UTC); zones with
daylight saving time skip or double runs between 00:00 and 04:00 on change days, so nightly jobs
run at 01:xx UTC.

Policies are explicit: --overlap (default skip), --catchup-window (default 1h, never the server's
one year), --jitter, --pause-on-failure. --paused and --note set the pause state; without --paused
an existing schedule keeps its pause state.

The scheduled workflow runs on ATOMICFLOW_TASK_QUEUE, with id <schedule id>-<scheduled time>.`,
		Example: `  # the nightly reconciliation at 01:30 UTC, up to 10 minutes later
  starter schedule create --id nightly-reconciliation --workflow reconciliation \
    --cron "30 1 * * *" --jitter 10m --overlap skip --catchup-window 1h

  # a weekday dry run at 07:00 in Paris
  starter schedule create --id recon-dry-run --workflow reconciliation --dry-run \
    --calendar '{"hour":"7","day_of_week":"mon-fri"}' --time-zone Europe/Paris`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error { return f.run(cmd, a, update) }),
	}
	if update {
		cmd.Use = "update --id ID --workflow reconciliation (--cron EXPR | --calendar JSON | --interval DURATION)"
		cmd.Short = "Replace an existing schedule's spec, workflow and policies"
		cmd.Long = `update replaces an existing schedule's spec, workflow and policies with the ones the flags give
(like 'temporal schedule update', it is a full replacement: flags left out take their defaults).
It fails when the schedule does not exist; 'schedule create' creates or updates. Nothing is sent
when the schedule already matches. Flags as for 'schedule create'.`
		cmd.Example = `  starter schedule update --id nightly-reconciliation --workflow reconciliation \
    --cron "45 1 * * *" --jitter 10m --catchup-window 2h`
	}
	fl := cmd.Flags()
	fl.StringVar(&f.src.ID, "id", "", "schedule id, fixed (required), e.g. "+lifecycle.NightlyReconciliationScheduleID)
	fl.StringVar(&f.src.Workflow, "workflow", "", "workflow to start: "+schedule.WorkflowNames()+" (required)")
	fl.StringArrayVar((*[]string)(&f.src.Cron), "cron", nil, "cron `expression`, e.g. \"30 1 * * *\" (repeatable)")
	fl.StringArrayVar(&f.calendars, "calendar", nil, "calendar spec as `JSON`, e.g. '{\"hour\":\"1\",\"minute\":\"30\"}' (repeatable)")
	fl.StringArrayVar((*[]string)(&f.src.Interval), "interval", nil, "fixed `interval` such as 6h or 1d, with an optional /offset, e.g. 1h/15m (repeatable)")
	fl.StringVar(&f.src.TimeZone, "time-zone", "UTC", "IANA time zone the calendars are read in")
	fl.StringVar(&f.src.Jitter, "jitter", "", "random delay of each run, up to this duration, e.g. 10m (default none)")
	fl.StringVar(&f.src.Overlap, "overlap", "skip", "when a run is still going at the next time: "+schedule.OverlapNames)
	fl.StringVar(&f.src.CatchupWindow, "catchup-window", "1h", "how late a missed run may still start after an outage (minimum 10s)")
	fl.BoolVar(&f.src.PauseOnFailure, "pause-on-failure", false, "pause the schedule when a run fails")
	fl.BoolVar(&f.paused, "paused", false, "create (or set) the schedule paused; without it an existing schedule keeps its state")
	fl.StringVar(&f.src.Note, "note", "", "note shown with the schedule's state, e.g. why it is paused")
	fl.BoolVar(&f.dryRun, "dry-run", false, "reconciliation input: report drift without fixing it")
	fl.Int64Var(&f.workspaceID, "workspace-id", 0, "reconciliation input: Atomicwork workspace id (default: the worker's default workspace)")
	fl.IntVar(&f.staleOnboardingDays, "stale-onboarding-days", 0, fmt.Sprintf("reconciliation input: report onboarding requests open this many days after the start date (default %d)", lifecycle.DefaultStaleOnboardingDays))
	fl.BoolVar(&f.json, "json", false, "print JSON instead of text")
	for _, name := range []string{"id", "workflow"} {
		_ = cmd.MarkFlagRequired(name) // cannot fail: the flags exist
	}
	return cmd
}

func (f *schedulePutFlags) run(cmd *cobra.Command, a *app, update bool) error {
	ctx := cmd.Context()
	src, err := f.source(cmd)
	if err != nil {
		return usageError{err}
	}
	d, err := src.Build(flagLabel)
	if err != nil {
		return usageError{err}
	}
	for _, w := range d.Warnings() {
		fmt.Fprintln(a.stderr, "Warning: "+w)
	}
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	env := a.schedEnv(conn)
	var out schedOutcome
	if update {
		if out, err = updateSchedule(ctx, env, d); err != nil {
			return scheduleError(d.ID(), "update", err)
		}
	} else if out, err = putSchedule(ctx, env, d); err != nil {
		return err
	}
	link := scheduleURL(a.env("ATOMICFLOW_UI_URL", defaultUIURL), conn.Namespace, d.ID())
	if f.json {
		return writeJSON(a.stdout, struct {
			schedOutcome
			UIURL string `json:"ui_url"`
		}{out, link})
	}
	fmt.Fprintln(a.stdout, out)
	if desc, err := env.sc.GetHandle(ctx, d.ID()).Describe(ctx); err == nil && len(desc.Info.NextActionTimes) > 0 {
		fmt.Fprintf(a.stdout, "Next run: %s\n", desc.Info.NextActionTimes[0].UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(a.stdout, "Temporal UI: %s\n", link)
	return nil
}

// scheduleIDFlag binds the --id every single-schedule command takes.
func scheduleIDFlag(cmd *cobra.Command, id *string) {
	cmd.Flags().StringVar(id, "id", "", "schedule id (required)")
	_ = cmd.MarkFlagRequired("id") // cannot fail: the flag exists
}

// checkScheduleID accepts any id without spaces: schedules made elsewhere can be steered too.
func checkScheduleID(id string) error {
	if strings.TrimSpace(id) == "" || strings.ContainsAny(id, " \t\r\n") {
		return fmt.Errorf("--id %q is not a schedule id: `starter schedule list` shows them", id)
	}
	return nil
}

// withSchedule validates the id, dials and runs fn on the schedule's handle.
func withSchedule(ctx context.Context, a *app, id string, fn func(conn *connection, h client.ScheduleHandle) error) error {
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(conn, conn.ScheduleClient().GetHandle(ctx, id))
}

func newSchedulePauseCmd(a *app, pause bool) *cobra.Command {
	var id, note string
	verb, example := "pause", `  starter schedule pause --id nightly-reconciliation --note "Atomicwork maintenance until Monday"`
	short := "Pause a schedule: no runs until it is unpaused (running workflows go on)"
	if !pause {
		verb, example = "unpause", `  starter schedule unpause --id nightly-reconciliation --note "maintenance over"`
		short = "Unpause a schedule: runs start again at the next scheduled time"
	}
	cmd := &cobra.Command{
		Use:     verb + " --id ID [--note TEXT]",
		Short:   short,
		Long:    short + ". The note is shown with the schedule's state in 'schedule describe' and the UI.",
		Example: example,
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkScheduleID(id); err != nil {
				return usageError{err}
			}
			if note == "" {
				note = verb + "d with starter schedule " + verb
			}
			return withSchedule(cmd.Context(), a, id, func(_ *connection, h client.ScheduleHandle) error {
				var err error
				if pause {
					err = h.Pause(cmd.Context(), client.SchedulePauseOptions{Note: note})
				} else {
					err = h.Unpause(cmd.Context(), client.ScheduleUnpauseOptions{Note: note})
				}
				if err != nil {
					return scheduleError(id, verb, err)
				}
				fmt.Fprintf(a.stdout, "%sd %s (note: %s)\n", verb, id, note)
				return nil
			})
		}),
	}
	scheduleIDFlag(cmd, &id)
	cmd.Flags().StringVar(&note, "note", "", "why, shown with the schedule's state")
	return cmd
}

func newScheduleTriggerCmd(a *app) *cobra.Command {
	var id, overlap string
	cmd := &cobra.Command{
		Use:   "trigger --id ID [--overlap POLICY]",
		Short: "Start the schedule's workflow now, once, outside its spec",
		Long: `trigger starts the schedule's workflow now, once. --overlap overrides the schedule's overlap
policy for this run (with the default skip, nothing starts while a run is still going).`,
		Example: `  starter schedule trigger --id nightly-reconciliation
  starter schedule trigger --id nightly-reconciliation --overlap allow-all`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkScheduleID(id); err != nil {
				return usageError{err}
			}
			var policy enumspb.ScheduleOverlapPolicy
			if overlap != "" {
				p, err := schedule.ParseOverlap(overlap)
				if err != nil {
					return usageError{fmt.Errorf("--overlap %w", err)}
				}
				policy = p
			}
			return withSchedule(cmd.Context(), a, id, func(_ *connection, h client.ScheduleHandle) error {
				if err := h.Trigger(cmd.Context(), client.ScheduleTriggerOptions{Overlap: policy}); err != nil {
					return scheduleError(id, "trigger", err)
				}
				fmt.Fprintf(a.stdout, "triggered %s: its workflow id is %s-<time>; `starter list --scheduled-by %s` finds it\n", id, id, id)
				return nil
			})
		}),
	}
	scheduleIDFlag(cmd, &id)
	cmd.Flags().StringVar(&overlap, "overlap", "", "overlap policy for this run: "+schedule.OverlapNames+" (default: the schedule's)")
	return cmd
}

func newScheduleBackfillCmd(a *app) *cobra.Command {
	var id, start, end, overlap string
	cmd := &cobra.Command{
		Use:   "backfill --id ID --start RFC3339 --end RFC3339 [--overlap POLICY]",
		Short: "Run the schedule for the times it would have run in a past period, now",
		Long: `backfill takes, at once, every action the schedule's spec gives between --start and --end (RFC
3339 times), as if that time were passing now. --overlap overrides the overlap policy for the
backfill (default: the schedule's; use allow-all or buffer-all to run every missed time).`,
		Example: `  starter schedule backfill --id nightly-reconciliation \
    --start 2026-11-20T00:00:00Z --end 2026-11-23T00:00:00Z --overlap buffer-all`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkScheduleID(id); err != nil {
				return usageError{err}
			}
			from, err := time.Parse(time.RFC3339, start)
			if err != nil {
				return usageError{fmt.Errorf("--start %q is not an RFC 3339 time such as 2026-11-20T00:00:00Z", start)}
			}
			to, err := time.Parse(time.RFC3339, end)
			if err != nil {
				return usageError{fmt.Errorf("--end %q is not an RFC 3339 time such as 2026-11-23T00:00:00Z", end)}
			}
			if !to.After(from) {
				return usageError{fmt.Errorf("--end %s is not after --start %s", end, start)}
			}
			var policy enumspb.ScheduleOverlapPolicy
			if overlap != "" {
				if policy, err = schedule.ParseOverlap(overlap); err != nil {
					return usageError{fmt.Errorf("--overlap %w", err)}
				}
			}
			return withSchedule(cmd.Context(), a, id, func(_ *connection, h client.ScheduleHandle) error {
				err := h.Backfill(cmd.Context(), client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{{Start: from, End: to, Overlap: policy}}})
				if err != nil {
					return scheduleError(id, "backfill", err)
				}
				fmt.Fprintf(a.stdout, "backfilling %s from %s to %s\n", id, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
				return nil
			})
		}),
	}
	scheduleIDFlag(cmd, &id)
	cmd.Flags().StringVar(&start, "start", "", "start of the period, RFC 3339 (required)")
	cmd.Flags().StringVar(&end, "end", "", "end of the period, RFC 3339 (required)")
	cmd.Flags().StringVar(&overlap, "overlap", "", "overlap policy for the backfill: "+schedule.OverlapNames+" (default: the schedule's)")
	_ = cmd.MarkFlagRequired("start")
	_ = cmd.MarkFlagRequired("end")
	return cmd
}

func newScheduleDeleteCmd(a *app) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "delete --id ID",
		Short: "Delete a schedule (its running workflows go on)",
		Long: `delete removes the schedule at once, without asking. Workflows it started keep running. A
schedule that schedules.yaml lists comes back at the next 'schedule apply'.`,
		Example: `  starter schedule delete --id recon-dry-run`,
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkScheduleID(id); err != nil {
				return usageError{err}
			}
			return withSchedule(cmd.Context(), a, id, func(_ *connection, h client.ScheduleHandle) error {
				if err := h.Delete(cmd.Context()); err != nil {
					return scheduleError(id, "delete", err)
				}
				fmt.Fprintf(a.stdout, "deleted %s\n", id)
				return nil
			})
		}),
	}
	scheduleIDFlag(cmd, &id)
	return cmd
}

// scheduleView is what describe prints (its JSON is the --json output).
type scheduleView struct {
	ID             string          `json:"id"`
	Managed        bool            `json:"managed_by_atomicflow"`
	Spec           string          `json:"spec"`
	TimeZone       string          `json:"time_zone"`
	Jitter         string          `json:"jitter,omitempty"`
	Workflow       string          `json:"workflow,omitempty"`
	WorkflowID     string          `json:"workflow_id,omitempty"`
	TaskQueue      string          `json:"task_queue,omitempty"`
	Input          json.RawMessage `json:"input,omitempty"`
	Overlap        string          `json:"overlap"`
	CatchupWindow  string          `json:"catchup_window"`
	PauseOnFailure bool            `json:"pause_on_failure"`
	Paused         bool            `json:"paused"`
	Note           string          `json:"note,omitempty"`
	NextRuns       []time.Time     `json:"next_runs"`
	RecentRuns     []scheduleRun   `json:"recent_runs"`
	Running        []string        `json:"running"`
	Actions        int             `json:"actions"`
	MissedCatchup  int             `json:"missed_catchup_window"`
	SkippedOverlap int             `json:"skipped_overlap"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at,omitzero"`
	UIURL          string          `json:"ui_url"`
}

type scheduleRun struct {
	WorkflowID   string    `json:"workflow_id"`
	ScheduledFor time.Time `json:"scheduled_for"`
	StartedAt    time.Time `json:"started_at"`
}

func newScheduleDescribeCmd(a *app) *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "describe --id ID [--json]",
		Short:   "Show a schedule: spec, workflow, policies, state, next and recent runs",
		Example: `  starter schedule describe --id nightly-reconciliation`,
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkScheduleID(id); err != nil {
				return usageError{err}
			}
			return withSchedule(cmd.Context(), a, id, func(conn *connection, h client.ScheduleHandle) error {
				desc, err := h.Describe(cmd.Context())
				if err != nil {
					return scheduleError(id, "describe", err)
				}
				v := newScheduleView(id, desc, scheduleURL(a.env("ATOMICFLOW_UI_URL", defaultUIURL), conn.Namespace, id), payloadReader(a.lookup))
				if asJSON {
					return writeJSON(a.stdout, v)
				}
				printScheduleView(a.stdout, v)
				return nil
			})
		}),
	}
	scheduleIDFlag(cmd, &id)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

func newScheduleView(id string, desc *client.ScheduleDescription, link string, dc converter.DataConverter) scheduleView {
	s := desc.Schedule
	v := scheduleView{
		ID: id, Managed: schedule.IsManaged(desc.Memo, dc), Spec: schedule.SpecText(s.Spec), UIURL: link,
		NextRuns: desc.Info.NextActionTimes, RecentRuns: []scheduleRun{}, Running: []string{},
		Actions: desc.Info.NumActions, MissedCatchup: desc.Info.NumActionsMissedCatchupWindow,
		SkippedOverlap: desc.Info.NumActionsSkippedOverlap, CreatedAt: desc.Info.CreatedAt,
	}
	if !desc.Info.LastUpdateAt.IsZero() && desc.Info.LastUpdateAt.Unix() > 0 {
		v.UpdatedAt = desc.Info.LastUpdateAt
	}
	if s.Spec != nil {
		v.TimeZone = s.Spec.TimeZoneName
		if s.Spec.Jitter > 0 {
			v.Jitter = s.Spec.Jitter.String()
		}
	}
	if v.TimeZone == "" {
		v.TimeZone = "UTC"
	}
	if wa, ok := s.Action.(*client.ScheduleWorkflowAction); ok {
		v.Workflow, _ = wa.Workflow.(string)
		v.WorkflowID, v.TaskQueue = wa.ID, wa.TaskQueue
		if len(wa.Args) == 1 {
			if p, ok := wa.Args[0].(*commonpb.Payload); ok {
				var raw json.RawMessage
				if dc.FromPayload(p, &raw) == nil {
					v.Input = raw
				}
			}
		}
	}
	if s.Policy != nil {
		v.Overlap, v.CatchupWindow, v.PauseOnFailure = schedule.OverlapName(s.Policy.Overlap), s.Policy.CatchupWindow.String(), s.Policy.PauseOnFailure
	}
	if s.State != nil {
		v.Paused, v.Note = s.State.Paused, s.State.Note
	}
	for _, r := range desc.Info.RecentActions {
		run := scheduleRun{ScheduledFor: r.ScheduleTime, StartedAt: r.ActualTime}
		if r.StartWorkflowResult != nil {
			run.WorkflowID = r.StartWorkflowResult.WorkflowID
		}
		v.RecentRuns = append(v.RecentRuns, run)
	}
	for _, r := range desc.Info.RunningWorkflows {
		v.Running = append(v.Running, r.WorkflowID)
	}
	if v.NextRuns == nil {
		v.NextRuns = []time.Time{}
	}
	return v
}

func printScheduleView(w io.Writer, v scheduleView) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	managed := "no (not created by atomicflow: apply --prune never deletes it)"
	if v.Managed {
		managed = "atomicflow"
	}
	fmt.Fprintf(tw, "Schedule:\t%s\n", v.ID)
	fmt.Fprintf(tw, "Managed by:\t%s\n", managed)
	fmt.Fprintf(tw, "When:\t%s\n", v.Spec)
	fmt.Fprintf(tw, "Workflow:\t%s, id %s-<time>, task queue %s\n", v.Workflow, v.WorkflowID, v.TaskQueue)
	if len(v.Input) > 0 {
		fmt.Fprintf(tw, "Input:\t%s\n", v.Input)
	}
	fmt.Fprintf(tw, "Overlap:\t%s\n", v.Overlap)
	fmt.Fprintf(tw, "Catch-up window:\t%s\n", v.CatchupWindow)
	fmt.Fprintf(tw, "Pause on failure:\t%t\n", v.PauseOnFailure)
	state := "active"
	if v.Paused {
		state = "paused"
	}
	if v.Note != "" {
		state += " (" + v.Note + ")"
	}
	fmt.Fprintf(tw, "State:\t%s\n", state)
	next := make([]string, 0, 3)
	for i, t := range v.NextRuns {
		if i == 3 {
			break
		}
		next = append(next, t.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "Next runs:\t%s\n", orNone(strings.Join(next, ", ")))
	fmt.Fprintf(tw, "Actions taken:\t%d (missed the catch-up window: %d, skipped by overlap: %d)\n", v.Actions, v.MissedCatchup, v.SkippedOverlap)
	for _, r := range v.RecentRuns {
		fmt.Fprintf(tw, "Recent run:\t%s (for %s, started %s)\n", r.WorkflowID, r.ScheduledFor.UTC().Format(time.RFC3339), r.StartedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "Running:\t%s\n", orNone(strings.Join(v.Running, ", ")))
	created := v.CreatedAt.UTC().Format(time.RFC3339)
	if !v.UpdatedAt.IsZero() {
		created += ", updated " + v.UpdatedAt.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "Created:\t%s\n", created)
	fmt.Fprintf(tw, "Temporal UI:\t%s\n", v.UIURL)
	_ = tw.Flush() // the writer is the terminal; nothing to do if it fails
}

// scheduleListRow is one row of schedule list (its JSON is the --json output).
type scheduleListRow struct {
	ID       string     `json:"id"`
	Workflow string     `json:"workflow"`
	Spec     string     `json:"spec"`
	Paused   bool       `json:"paused"`
	Note     string     `json:"note,omitempty"`
	NextRun  *time.Time `json:"next_run,omitempty"`
	Managed  bool       `json:"managed_by_atomicflow"`
}

// listSchedules reads every schedule of the namespace. Listing is eventually consistent: a
// schedule created a moment ago may be missing.
func listSchedules(ctx context.Context, env schedEnv) ([]scheduleListRow, error) {
	it, err := env.sc.List(ctx, client.ScheduleListOptions{PageSize: 200})
	if err != nil {
		return nil, fmt.Errorf("cannot list schedules: %w", err)
	}
	rows := []scheduleListRow{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("cannot list schedules: %w", err)
		}
		row := scheduleListRow{ID: e.ID, Workflow: e.WorkflowType.Name, Spec: schedule.SpecText(e.Spec), Paused: e.Paused, Note: e.Note, Managed: schedule.IsManaged(e.Memo, env.dc)}
		if len(e.NextActionTimes) > 0 {
			t := e.NextActionTimes[0]
			row.NextRun = &t
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows, nil
}

func newScheduleListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the namespace's schedules, marking the ones atomicflow manages",
		Long: `list shows every schedule of the namespace: id, workflow, spec, state, next run, and whether
atomicflow manages it (memo managed-by=atomicflow: the ones 'apply --prune' may delete). The list
is eventually consistent: a schedule created a moment ago can take a second to appear.`,
		Example: `  starter schedule list
  starter schedule list --json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			rows, err := listSchedules(cmd.Context(), a.schedEnv(conn))
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(a.stdout, "No schedules. 'starter schedule apply -f schedules.yaml' creates atomicflow's.")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SCHEDULE ID\tWORKFLOW\tWHEN\tSTATE\tNEXT RUN\tMANAGED")
			for _, r := range rows {
				state, next, managed := "active", "-", "-"
				if r.Paused {
					state = "paused"
				}
				if r.NextRun != nil && !r.Paused {
					next = r.NextRun.UTC().Format(time.RFC3339)
				}
				if r.Managed {
					managed = "atomicflow"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Workflow, r.Spec, state, next, managed)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}
