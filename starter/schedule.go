package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // time zones are checked before dialing, whatever the host has installed

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/workflows"
)

// Schedules: recurring jobs as Temporal Schedules, with fixed ids (DESIGN.md practice 9).
//
// Ownership: every schedule the starter creates (schedule create or schedule apply) carries the
// schedule memo managed-by=atomicflow. `schedule apply --prune` deletes only schedules with that
// memo, so schedules made with the Temporal CLI, the UI or other code are never pruned. (The memo
// is set at creation only: Temporal's Go SDK cannot change a schedule's memo later, so a schedule
// created elsewhere that apply updates stays unmarked, and is never pruned.)

const (
	// defaultCatchupWindow is explicit: the server's own default is one year, so after an outage
	// every missed run would fire.
	defaultCatchupWindow = time.Hour
	// minCatchupWindow is the server's minimum; a shorter window would be stored as 10s.
	minCatchupWindow = 10 * time.Second
	// managedMemoKey/managedMemoValue mark the schedules atomicflow manages (see above).
	managedMemoKey   = "managed-by"
	managedMemoValue = "atomicflow"
)

// overlapPolicies maps the flag and file values to Temporal's overlap policies.
var overlapPolicies = map[string]enumspb.ScheduleOverlapPolicy{
	"skip":            enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	"buffer-one":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	"buffer-all":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	"cancel-other":    enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
	"terminate-other": enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER,
	"allow-all":       enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
}

const overlapNames = "skip, buffer-one, buffer-all, cancel-other, terminate-other or allow-all"

func parseOverlap(s string) (enumspb.ScheduleOverlapPolicy, error) {
	if p, ok := overlapPolicies[strings.ToLower(strings.TrimSpace(s))]; ok {
		return p, nil
	}
	return 0, fmt.Errorf("%q is not an overlap policy: use %s", s, overlapNames)
}

func overlapName(p enumspb.ScheduleOverlapPolicy) string {
	for name, v := range overlapPolicies {
		if v == p {
			return name
		}
	}
	if p == enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED {
		return "skip (server default)"
	}
	return p.String()
}

// schedWorkflow is a workflow a schedule can start: its type, its input and what the UI shows.
type schedWorkflow struct {
	typeName string
	// newInput returns a pointer to a zero input; validate checks the decoded input and names
	// the input keys that are wrong.
	newInput func() any
	validate func(in any) []string
	summary  func(scheduleID string, in any) string
	details  func(scheduleID string, in any) string
	// stage is the LifecycleStage a scheduled run starts with, so `starter list` finds it at once.
	stage string
}

// schedWorkflows are the workflows a schedule may start, by their flag and file name.
var schedWorkflows = map[string]schedWorkflow{
	"reconciliation": {
		typeName: workflows.ReconciliationWorkflowName,
		newInput: func() any { return &workflows.ReconciliationInput{} },
		validate: func(v any) []string {
			in := v.(*workflows.ReconciliationInput)
			var problems []string
			if in.WorkspaceID < 0 {
				problems = append(problems, "input.workspace_id\x00is negative: use 0 for the worker's default workspace")
			}
			if in.StaleOnboardingDays < 0 {
				problems = append(problems, fmt.Sprintf("input.stale_onboarding_days\x00is negative: use 0 for the default (%d days)", workflows.DefaultStaleOnboardingDays))
			}
			if val, ok := v.(interface{ Validate() error }); ok && len(problems) == 0 {
				if err := val.Validate(); err != nil {
					problems = append(problems, "input\x00"+err.Error())
				}
			}
			return problems
		},
		summary: func(id string, v any) string {
			s := "Reconciliation · schedule " + id
			if v.(*workflows.ReconciliationInput).DryRun {
				s += " · dry run"
			}
			return s
		},
		details: func(id string, v any) string {
			in := v.(*workflows.ReconciliationInput)
			ws := "the worker's default"
			if in.WorkspaceID != 0 {
				ws = fmt.Sprint(in.WorkspaceID)
			}
			days := workflows.DefaultStaleOnboardingDays
			if in.StaleOnboardingDays > 0 {
				days = in.StaleOnboardingDays
			}
			var b strings.Builder
			fmt.Fprintf(&b, "**Schedule:** %s  \n", id)
			fmt.Fprintf(&b, "**Dry run:** %t  \n", in.DryRun)
			fmt.Fprintf(&b, "**Stale onboarding after:** %d days  \n", days)
			fmt.Fprintf(&b, "**Atomicwork workspace:** %s  \n", ws)
			b.WriteString("**Managed by:** `starter schedule`\n")
			return b.String()
		},
		stage: workflows.StageReconScanning,
	},
}

func schedWorkflowNames() string {
	names := make([]string, 0, len(schedWorkflows))
	for n := range schedWorkflows {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// schedSource is one schedule as schedules.yaml and the create/update flags write it.
type schedSource struct {
	ID             string           `yaml:"id"`
	Workflow       string           `yaml:"workflow"`
	Input          map[string]any   `yaml:"input"`
	Cron           flexList         `yaml:"cron"`
	Calendar       []calendarSource `yaml:"calendar"`
	Interval       flexList         `yaml:"interval"`
	TimeZone       string           `yaml:"time_zone"`
	Jitter         string           `yaml:"jitter"`
	Overlap        string           `yaml:"overlap"`
	CatchupWindow  string           `yaml:"catchup_window"`
	PauseOnFailure bool             `yaml:"pause_on_failure"`
	// Paused, when set, is enforced; unset leaves pausing to operators (new schedules run).
	Paused *bool  `yaml:"paused"`
	Note   string `yaml:"note"`
}

// schedDef is a validated schedule: what the starter wants Temporal to hold.
type schedDef struct {
	id             string
	wf             schedWorkflow
	input          any // pointer to the workflow's input struct
	spec           client.ScheduleSpec
	overlap        enumspb.ScheduleOverlapPolicy
	catchupWindow  time.Duration
	pauseOnFailure bool
	paused         *bool
	note           string
	warnings       []string
}

var schedIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

// build validates the source. label names a field for the user (a flag or a file key); every
// problem is reported, each naming its field.
func (s schedSource) build(label func(field string) string) (schedDef, error) {
	var problems []string
	bad := func(field, msg string) { problems = append(problems, label(field)+" "+msg) }
	d := schedDef{id: s.ID, paused: s.Paused, note: s.Note, pauseOnFailure: s.PauseOnFailure}

	if !schedIDPattern.MatchString(s.ID) {
		bad("id", fmt.Sprintf("%q is not a schedule id: use letters, digits, '.', '_' and '-' (at most 200), e.g. %s", s.ID, workflows.NightlyReconciliationScheduleID))
	}
	wf, ok := schedWorkflows[s.Workflow]
	if !ok {
		bad("workflow", fmt.Sprintf("%q is not a workflow a schedule can start: use %s", s.Workflow, schedWorkflowNames()))
	} else {
		d.wf = wf
		in, msgs := decodeInput(s.Input, wf)
		for _, m := range msgs {
			field, msg, _ := strings.Cut(m, "\x00")
			bad(field, msg)
		}
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
		j, err := parseSchedDuration(s.Jitter)
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
		p, err := parseOverlap(s.Overlap)
		if err != nil {
			bad("overlap", err.Error())
		}
		d.overlap = p
	}
	d.catchupWindow = defaultCatchupWindow
	if s.CatchupWindow != "" {
		cw, err := parseSchedDuration(s.CatchupWindow)
		switch {
		case err != nil:
			bad("catchup_window", err.Error())
		case cw < minCatchupWindow:
			bad("catchup_window", fmt.Sprintf("%q is shorter than Temporal's minimum of 10s", s.CatchupWindow))
		default:
			d.catchupWindow = cw
		}
	}
	if len(problems) > 0 {
		return d, errors.New(strings.Join(problems, "; "))
	}
	if w := dstWarning(d.spec); w != "" {
		d.warnings = append(d.warnings, w)
	}
	return d, nil
}

// decodeInput decodes the input map into the workflow's input struct, unknown keys rejected.
// Problems come back as "field\x00message".
func decodeInput(m map[string]any, wf schedWorkflow) (any, []string) {
	in := wf.newInput()
	if len(m) > 0 {
		raw, err := json.Marshal(m)
		if err != nil {
			return in, []string{"input\x00cannot be read: " + err.Error()}
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(in); err != nil {
			var typeErr *json.UnmarshalTypeError
			switch {
			case errors.As(err, &typeErr):
				return in, []string{fmt.Sprintf("input.%s\x00is a %s, not a %s", typeErr.Field, typeErr.Value, typeErr.Type)}
			case strings.HasPrefix(err.Error(), "json: unknown field "):
				key := strings.TrimPrefix(err.Error(), "json: unknown field ")
				return in, []string{fmt.Sprintf("input\x00has the unknown key %s: %s takes %s", key, wf.typeName, inputKeys(in))}
			default:
				return in, []string{"input\x00" + err.Error()}
			}
		}
	}
	return in, wf.validate(in)
}

// inputKeys lists the JSON keys of an input struct.
func inputKeys(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
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

// action is the workflow the schedule starts. Its id is the schedule's: Temporal appends the
// scheduled time, e.g. nightly-reconciliation-2026-11-26T01:30:00Z.
func (d schedDef) action(taskQueue string) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:        d.id,
		Workflow:  d.wf.typeName,
		Args:      []any{d.input},
		TaskQueue: taskQueue,
		// Ids and settings only: the UI shows these to everyone.
		StaticSummary:         d.wf.summary(d.id, d.input),
		StaticDetails:         d.wf.details(d.id, d.input),
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.LifecycleStageKey.ValueSet(d.wf.stage)),
	}
}

func (d schedDef) options(taskQueue string) client.ScheduleOptions {
	opts := client.ScheduleOptions{
		ID:             d.id,
		Spec:           d.spec,
		Action:         d.action(taskQueue),
		Overlap:        d.overlap,
		CatchupWindow:  d.catchupWindow,
		PauseOnFailure: d.pauseOnFailure,
		Note:           d.note,
		Memo:           map[string]any{managedMemoKey: managedMemoValue},
	}
	if d.paused != nil {
		opts.Paused = *d.paused
	}
	return opts
}

// diff lists what differs between the wanted schedule and the described one; empty means
// unchanged. The pause state and note count only when the definition sets paused.
func (d schedDef) diff(desc *client.ScheduleDescription, env schedEnv) []string {
	var out []string
	s := desc.Schedule
	if !reflect.DeepEqual(normSpec(&d.spec), normSpec(s.Spec)) {
		out = append(out, "spec")
	}
	out = append(out, d.actionDiff(s.Action, env)...)
	pol := s.Policy
	if pol == nil {
		pol = &client.SchedulePolicies{}
	}
	if pol.Overlap != d.overlap {
		out = append(out, "overlap")
	}
	if pol.CatchupWindow != d.catchupWindow {
		out = append(out, "catchup window")
	}
	if pol.PauseOnFailure != d.pauseOnFailure {
		out = append(out, "pause on failure")
	}
	if d.paused != nil {
		st := s.State
		if st == nil {
			st = &client.ScheduleState{}
		}
		if st.Paused != *d.paused {
			out = append(out, "paused")
		}
		if d.note != "" && st.Note != d.note {
			out = append(out, "note")
		}
	}
	return out
}

func (d schedDef) actionDiff(got client.ScheduleAction, env schedEnv) []string {
	want := d.action(env.taskQueue)
	g, ok := got.(*client.ScheduleWorkflowAction)
	if !ok || g == nil {
		return []string{"action"}
	}
	var out []string
	if name, _ := g.Workflow.(string); name != want.Workflow {
		out = append(out, "workflow")
	}
	if g.ID != want.ID {
		out = append(out, "workflow id")
	}
	if g.TaskQueue != want.TaskQueue {
		out = append(out, "task queue")
	}
	if !sameInput(g.Args, d, env.dc) {
		out = append(out, "input")
	}
	if g.StaticSummary != want.StaticSummary || g.StaticDetails != want.StaticDetails {
		out = append(out, "summary")
	}
	if g.WorkflowExecutionTimeout != 0 || g.WorkflowRunTimeout != 0 || g.WorkflowTaskTimeout != 0 || g.RetryPolicy != nil || len(g.Memo) > 0 {
		out = append(out, "workflow options")
	}
	stage, _ := g.TypedSearchAttributes.GetKeyword(workflows.LifecycleStageKey)
	if stage != d.wf.stage || g.TypedSearchAttributes.Size() != want.TypedSearchAttributes.Size() || len(g.UntypedSearchAttributes) > 0 {
		out = append(out, "search attributes")
	}
	return out
}

// sameInput decodes the described arguments into the workflow's input struct and compares.
// An argument that cannot be decoded (a key the starter lacks) counts as changed: the update then
// writes the wanted input again, which is safe.
func sameInput(args []any, d schedDef, dc converter.DataConverter) bool {
	if len(args) != 1 {
		return false
	}
	got := d.wf.newInput()
	switch a := args[0].(type) {
	case *commonpb.Payload:
		if err := dc.FromPayload(a, got); err != nil {
			return false
		}
	default:
		raw, err := json.Marshal(a)
		if err != nil || json.Unmarshal(raw, got) != nil {
			return false
		}
	}
	return reflect.DeepEqual(got, d.input)
}

// newSchedule is the schedule an update writes: spec, action and policies from the definition;
// the state from the current one unless the definition sets paused.
func (d schedDef) newSchedule(cur client.ScheduleDescription, taskQueue string) *client.Schedule {
	st := client.ScheduleState{}
	if cur.Schedule.State != nil {
		st = *cur.Schedule.State
	}
	if d.paused != nil {
		if st.Paused != *d.paused && d.note == "" {
			st.Note = map[bool]string{true: "paused", false: "unpaused"}[*d.paused] + " by starter schedule"
		}
		st.Paused = *d.paused
		if d.note != "" {
			st.Note = d.note
		}
	}
	spec := d.spec
	return &client.Schedule{
		Action: d.action(taskQueue),
		Spec:   &spec,
		Policy: &client.SchedulePolicies{Overlap: d.overlap, CatchupWindow: d.catchupWindow, PauseOnFailure: d.pauseOnFailure},
		State:  &st,
	}
}

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
func updateSchedule(ctx context.Context, env schedEnv, d schedDef) (schedOutcome, error) {
	out := schedOutcome{ID: d.id, Outcome: schedUnchanged}
	err := env.sc.GetHandle(ctx, d.id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			out.Unmanaged = !isManaged(in.Description.Memo, env.dc)
			out.Changed = d.diff(&in.Description, env)
			if len(out.Changed) == 0 {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			out.Outcome = schedUpdated
			return &client.ScheduleUpdate{Schedule: d.newSchedule(in.Description, env.taskQueue)}, nil
		},
	})
	return out, err
}

// putSchedule creates the schedule, or updates it when it exists (create is idempotent).
func putSchedule(ctx context.Context, env schedEnv, d schedDef) (schedOutcome, error) {
	_, err := env.sc.Create(ctx, d.options(env.taskQueue))
	if err == nil {
		return schedOutcome{ID: d.id, Outcome: schedCreated}, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return schedOutcome{}, scheduleError(d.id, "create", err)
	}
	out, err := updateSchedule(ctx, env, d)
	if err != nil {
		return out, scheduleError(d.id, "update", err)
	}
	return out, nil
}

// isManaged tells whether a schedule memo carries atomicflow's mark. A memo that cannot be
// decoded (a key the starter lacks) is not ours: --prune must never delete what it cannot tell.
func isManaged(memo *commonpb.Memo, dc converter.DataConverter) bool {
	p := memo.GetFields()[managedMemoKey]
	if p == nil {
		return false
	}
	var v string
	return dc.FromPayload(p, &v) == nil && v == managedMemoValue
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
			//lint:ignore ST1005 Temporal is a name, and this message is the command's output
			return fmt.Errorf("Temporal rejected the spec of schedule %q: %s: check --cron, --calendar, --interval and --time-zone (or the file's cron, calendar, interval and time_zone)", id, msg)
		}
		//lint:ignore ST1005 Temporal is a name, and this message is the command's output
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

// flagLabel names a schedSource field by its flag.
func flagLabel(field string) string {
	field = strings.TrimPrefix(field, "input.")
	if field == "input" {
		return "the workflow input"
	}
	return "--" + strings.ReplaceAll(field, "_", "-")
}

// schedulePutFlags are the flags of create and update.
type schedulePutFlags struct {
	src                 schedSource
	calendars           []string
	paused              bool
	dryRun              bool
	workspaceID         int64
	staleOnboardingDays int
	json                bool
}

func (f *schedulePutFlags) source(cmd *cobra.Command) (schedSource, error) {
	src := f.src
	src.Input = map[string]any{"dry_run": f.dryRun, "workspace_id": f.workspaceID, "stale_onboarding_days": f.staleOnboardingDays}
	for _, c := range f.calendars {
		cal, err := parseCalendarJSON(c)
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
	fl.StringVar(&f.src.ID, "id", "", "schedule id, fixed (required), e.g. "+workflows.NightlyReconciliationScheduleID)
	fl.StringVar(&f.src.Workflow, "workflow", "", "workflow to start: "+schedWorkflowNames()+" (required)")
	fl.StringArrayVar((*[]string)(&f.src.Cron), "cron", nil, "cron `expression`, e.g. \"30 1 * * *\" (repeatable)")
	fl.StringArrayVar(&f.calendars, "calendar", nil, "calendar spec as `JSON`, e.g. '{\"hour\":\"1\",\"minute\":\"30\"}' (repeatable)")
	fl.StringArrayVar((*[]string)(&f.src.Interval), "interval", nil, "fixed `interval` such as 6h or 1d, with an optional /offset, e.g. 1h/15m (repeatable)")
	fl.StringVar(&f.src.TimeZone, "time-zone", "UTC", "IANA time zone the calendars are read in")
	fl.StringVar(&f.src.Jitter, "jitter", "", "random delay of each run, up to this duration, e.g. 10m (default none)")
	fl.StringVar(&f.src.Overlap, "overlap", "skip", "when a run is still going at the next time: "+overlapNames)
	fl.StringVar(&f.src.CatchupWindow, "catchup-window", "1h", "how late a missed run may still start after an outage (minimum 10s)")
	fl.BoolVar(&f.src.PauseOnFailure, "pause-on-failure", false, "pause the schedule when a run fails")
	fl.BoolVar(&f.paused, "paused", false, "create (or set) the schedule paused; without it an existing schedule keeps its state")
	fl.StringVar(&f.src.Note, "note", "", "note shown with the schedule's state, e.g. why it is paused")
	fl.BoolVar(&f.dryRun, "dry-run", false, "reconciliation input: report drift without fixing it")
	fl.Int64Var(&f.workspaceID, "workspace-id", 0, "reconciliation input: Atomicwork workspace id (default: the worker's default workspace)")
	fl.IntVar(&f.staleOnboardingDays, "stale-onboarding-days", 0, fmt.Sprintf("reconciliation input: report onboarding requests open this many days after the start date (default %d)", workflows.DefaultStaleOnboardingDays))
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
	d, err := src.build(flagLabel)
	if err != nil {
		return usageError{err}
	}
	for _, w := range d.warnings {
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
			return scheduleError(d.id, "update", err)
		}
	} else if out, err = putSchedule(ctx, env, d); err != nil {
		return err
	}
	link := scheduleURL(a.env("ATOMICFLOW_UI_URL", defaultUIURL), conn.Namespace, d.id)
	if f.json {
		return writeJSON(a.stdout, struct {
			schedOutcome
			UIURL string `json:"ui_url"`
		}{out, link})
	}
	fmt.Fprintln(a.stdout, out)
	if desc, err := env.sc.GetHandle(ctx, d.id).Describe(ctx); err == nil && len(desc.Info.NextActionTimes) > 0 {
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
				p, err := parseOverlap(overlap)
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
	cmd.Flags().StringVar(&overlap, "overlap", "", "overlap policy for this run: "+overlapNames+" (default: the schedule's)")
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
				if policy, err = parseOverlap(overlap); err != nil {
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
	cmd.Flags().StringVar(&overlap, "overlap", "", "overlap policy for the backfill: "+overlapNames+" (default: the schedule's)")
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
		ID: id, Managed: isManaged(desc.Memo, dc), Spec: specText(s.Spec), UIURL: link,
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
		v.Overlap, v.CatchupWindow, v.PauseOnFailure = overlapName(s.Policy.Overlap), s.Policy.CatchupWindow.String(), s.Policy.PauseOnFailure
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
		row := scheduleListRow{ID: e.ID, Workflow: e.WorkflowType.Name, Spec: specText(e.Spec), Paused: e.Paused, Note: e.Note, Managed: isManaged(e.Memo, env.dc)}
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
