package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// workflowKind is one of atomicflow's workflow types, as status, list and watch know it.
type workflowKind struct {
	name     string // the --type value
	typeName string // the registered workflow type
	query    string // the query that returns its live state
}

var workflowKinds = []workflowKind{
	{"onboarding", lifecycle.OnboardingWorkflowName, lifecycle.QueryStatus},
	{"offboarding", lifecycle.OffboardingWorkflowName, lifecycle.QueryStatus},
	{"reassignment", lifecycle.ReassignmentWorkflowName, lifecycle.QueryProgress},
	{"reconciliation", lifecycle.ReconciliationWorkflowName, lifecycle.QueryStatus},
}

// kindOfType returns the kind of a workflow type; unknown types get the status query.
func kindOfType(typeName string) workflowKind {
	for _, k := range workflowKinds {
		if k.typeName == typeName {
			return k
		}
	}
	return workflowKind{name: "", typeName: typeName, query: lifecycle.QueryStatus}
}

// scheduledByKey is the system search attribute naming the schedule that started a run.
var scheduledByKey = temporal.NewSearchAttributeKeyKeyword("TemporalScheduledById")

// statusName is the short, lower-case name of an execution status: running, completed, ...
func statusName(s enumspb.WorkflowExecutionStatus) string {
	name := strings.TrimPrefix(s.String(), "WORKFLOW_EXECUTION_STATUS_")
	return strings.ToLower(strings.ReplaceAll(name, "_", "-"))
}

// queryTimeout bounds a status query: a worker that died a moment ago is still listed as a poller.
const queryTimeout = 10 * time.Second

// workflowSnapshot is what status prints (its JSON is the --json output) and what watch compares.
type workflowSnapshot struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Type       string `json:"type"`
	Kind       string `json:"kind,omitempty"`
	// Status is running, completed, failed, canceled, terminated, timed-out or continued-as-new.
	Status string `json:"status"`
	// Stage is the live stage: the query's, else the LifecycleStage search attribute.
	Stage       string     `json:"stage,omitempty"`
	EmployeeID  string     `json:"employee_id,omitempty"`
	ScheduledBy string     `json:"scheduled_by,omitempty"`
	TaskQueue   string     `json:"task_queue"`
	StartTime   time.Time  `json:"start_time"`
	CloseTime   *time.Time `json:"close_time,omitempty"`
	Summary     string     `json:"summary,omitempty"`
	UIURL       string     `json:"ui_url"`
	// Query names the query behind State; StateError says why there is no State.
	Query      string          `json:"query"`
	State      json.RawMessage `json:"state,omitempty"`
	StateError string          `json:"state_error,omitempty"`
	// Result is a completed workflow's result; Failure why a closed one did not complete;
	// ResultError why the result cannot be shown (encrypted, keys missing).
	Result      json.RawMessage `json:"result,omitempty"`
	Failure     string          `json:"failure,omitempty"`
	ResultError string          `json:"result_error,omitempty"`
	// Retrying are the pending activities that failed and try again, with their last error.
	Retrying []retryingActivity `json:"retrying,omitempty"`
	// DateLabel and Date are the run's current day one or last day read from its history, when
	// no live state answers (the static summary keeps the date it started with).
	DateLabel string `json:"date_label,omitempty"`
	Date      string `json:"date,omitempty"`
}

func (s *workflowSnapshot) running() bool { return s.Status == "running" }

// describeWorkflow describes the latest run of id, with a clear error for an unknown id.
func describeWorkflow(ctx context.Context, conn *connection, id string) (*client.WorkflowExecutionDescription, error) {
	desc, err := conn.DescribeWorkflow(ctx, id, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return nil, fmt.Errorf("no workflow %q in namespace %s: check the id; `starter list` shows recent workflows", id, conn.Namespace)
	case err != nil:
		return nil, fmt.Errorf("cannot describe %s: %w", id, err)
	}
	return desc, nil
}

// takeSnapshot reads a workflow: describe, then the live state from its query (when a worker
// can answer), and for a closed run its result or failure.
func takeSnapshot(ctx context.Context, a *app, conn *connection, id string, withResult bool) (*workflowSnapshot, error) {
	desc, err := describeWorkflow(ctx, conn, id)
	if err != nil {
		return nil, err
	}
	kind := kindOfType(desc.WorkflowType.Name)
	s := &workflowSnapshot{
		WorkflowID: id,
		RunID:      desc.WorkflowExecution.RunID,
		Type:       desc.WorkflowType.Name,
		Kind:       kind.name,
		Status:     statusName(desc.Status),
		TaskQueue:  desc.TaskQueueName,
		StartTime:  desc.WorkflowStartTime,
		CloseTime:  desc.WorkflowCloseTime,
		UIURL:      workflowURL(a.env("ATOMICFLOW_UI_URL", defaultUIURL), conn.Namespace, id),
		Query:      kind.query,
	}
	s.Stage, _ = desc.TypedSearchAttributes.GetKeyword(lifecycle.LifecycleStageKey)
	s.EmployeeID, _ = desc.TypedSearchAttributes.GetKeyword(lifecycle.EmployeeIDKey)
	s.ScheduledBy, _ = desc.TypedSearchAttributes.GetKeyword(scheduledByKey)
	s.Summary, _ = desc.GetStaticSummary() // informative only

	s.State, s.StateError = queryState(ctx, conn, s)
	if stage := stageOf(s.State); stage != "" {
		s.Stage = stage
	}
	if s.running() {
		s.Retrying = retryingActivities(ctx, conn, id, s.RunID)
	}
	if len(s.State) == 0 {
		s.DateLabel, s.Date = historyDate(ctx, conn, s.Kind, id)
	}
	if withResult && !s.running() {
		readOutcome(ctx, conn, s)
	}
	return s, nil
}

// queryState runs the kind's query when a worker polls the workflow's task queue. Without one a
// query would wait for a worker until it times out, so it is not sent; a closed workflow's query
// needs a worker too (it replays the history).
func queryState(ctx context.Context, conn *connection, s *workflowSnapshot) (json.RawMessage, string) {
	tq, err := conn.DescribeTaskQueue(ctx, s.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return nil, fmt.Sprintf("cannot tell whether a worker polls task queue %s: %v", s.TaskQueue, err)
	}
	if live, gone := pollersLive(tq, time.Now()); !live {
		return nil, fmt.Sprintf("no worker polls task queue %s%s, so the %s query cannot be answered: start the worker (make dev, or go run ./worker with ATOMICFLOW_TASK_QUEUE=%s)", s.TaskQueue, gone, s.Query, s.TaskQueue)
	}
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := conn.QueryWorkflow(qctx, s.WorkflowID, s.RunID, s.Query)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, "stopped"
	case qctx.Err() != nil || isDeadline(err):
		return nil, slowQuery(s.Query, s.TaskQueue)
	default:
		return nil, fmt.Sprintf("the %s query failed: %v", s.Query, err)
	}
	var raw json.RawMessage
	if err := v.Get(&raw); err != nil {
		if isEncrypted(err) {
			return nil, fmt.Sprintf("the %s query's answer is encrypted: %s", s.Query, codecKeysHint)
		}
		return nil, fmt.Sprintf("the %s query's answer cannot be read: %v", s.Query, err)
	}
	return raw, ""
}

// readOutcome records a closed run's result, or why it did not complete.
func readOutcome(ctx context.Context, conn *connection, s *workflowSnapshot) {
	var raw json.RawMessage
	err := conn.GetWorkflow(ctx, s.WorkflowID, s.RunID).Get(ctx, &raw)
	if err == nil {
		s.Result = raw
		return
	}
	var wfErr *temporal.WorkflowExecutionError
	switch {
	case errors.As(err, &wfErr):
		s.Failure = failureMessage(wfErr)
	case isEncrypted(err):
		s.ResultError = "encrypted: " + codecKeysHint
	default:
		s.ResultError = "cannot be read: " + err.Error()
	}
}

// stageOf reads the stage field every status struct of ours has.
func stageOf(raw json.RawMessage) string {
	var v struct {
		Stage string `json:"stage"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v.Stage
}

func newStatusCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status <workflow-id> [--json]",
		Short: "Show a workflow's live state (its status or progress query), or how it ended",
		Long: `status shows a workflow's live state: the answer of its query (status for onboarding and
offboarding, progress for a bulk reassignment), with its stage and key fields, and a link to the
Temporal UI. The query needs a running worker; without one, status shows what Temporal knows (the
stage search attribute). A closed workflow shows how it ended and its result.

Workflow ids: onboarding-<employee id>, offboarding-<employee id>, asset-reassignment-<batch id>,
and <schedule id>-<time> for scheduled runs ('starter list' finds them).`,
		Example: `  starter status onboarding-E-2002
  starter status offboarding-E-01 --json
  starter status asset-reassignment-leaver-E-01`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if err := checkWorkflowID(id); err != nil {
				return usageError{err}
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			s, err := takeSnapshot(cmd.Context(), a, conn, id, true)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, s)
			}
			printSnapshot(a.stdout, s)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

func checkWorkflowID(id string) error {
	if strings.TrimSpace(id) == "" || strings.ContainsAny(id, "\t\r\n") {
		return fmt.Errorf("workflow id %q is empty or has control characters: give an id such as onboarding-E-2002", id)
	}
	return nil
}

// Printing: one aligned block of "Label: value" lines.

type line struct{ label, value string }

func writeLines(w io.Writer, lines []line) {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintf(tw, "%s:\t%s\n", l.label, l.value)
	}
	_ = tw.Flush() // a bytes.Buffer does not fail
	for l := range strings.Lines(b.String()) {
		fmt.Fprintln(w, strings.TrimRight(l, " \n"))
	}
}

func printSnapshot(w io.Writer, s *workflowSnapshot) {
	lines := []line{{"Workflow", fmt.Sprintf("%s (%s, run %s)", s.WorkflowID, s.Type, s.RunID)}}
	status := s.Status + ", started " + s.StartTime.UTC().Format(time.RFC3339)
	if s.CloseTime != nil {
		status += ", closed " + s.CloseTime.UTC().Format(time.RFC3339)
	}
	lines = append(lines, line{"Status", status})
	if s.Summary != "" && !datedKind(s.Kind) {
		lines = append(lines, line{"Summary", s.Summary})
	}
	if s.ScheduledBy != "" {
		lines = append(lines, line{"Started by", "schedule " + s.ScheduledBy})
	}
	if len(s.State) > 0 {
		lines = append(lines, stateLines(s.Kind, s.State)...)
	} else {
		lines = append(lines, line{"Stage", orNone(s.Stage)})
		if s.Date != "" {
			lines = append(lines, line{s.DateLabel, s.Date + " (from its history)"})
		}
		if s.StateError != "" {
			lines = append(lines, line{"Live state", "unavailable, " + s.StateError})
		}
	}
	lines = append(lines, retryLines(s.Retrying)...)
	if !s.running() {
		if s.Failure != "" {
			lines = append(lines, line{"Failure", s.Failure})
		}
		if s.ResultError != "" {
			lines = append(lines, line{"Result", s.ResultError})
		}
		if len(s.Result) > 0 {
			lines = append(lines, line{"Result", ""})
			lines = append(lines, resultLines(s.Kind, s.Result)...)
		}
	}
	lines = append(lines, line{"Temporal UI", s.UIURL})
	writeLines(w, lines)
}

// datedKind: the static summary of these kinds names the date they started with, which a
// reschedule moves; status shows the current one instead (live state, or history).
func datedKind(kind string) bool { return kind == "onboarding" || kind == "offboarding" }

// failedStep is an onboarding step that failed for good: the step and its error.
func failedStep(f *lifecycle.StepFailure) string {
	return f.Step + ": " + f.Error
}

// stateLines are a query's answer: the fields that matter for each kind.
func stateLines(kind string, raw json.RawMessage) []line {
	switch kind {
	case "onboarding":
		var st lifecycle.OnboardingStatus
		if json.Unmarshal(raw, &st) == nil {
			out := []line{{"Stage", st.Stage}, {"Day one", fmt.Sprintf("%s (%s)", orNone(st.StartDate), zoneName(st.TimeZone))}}
			if st.UserID != 0 {
				out = append(out, line{"Atomicwork user", fmt.Sprint(st.UserID)})
			}
			out = append(out, line{"Request", orNone(st.RequestID)},
				line{"Done", orNone(strings.Join(st.Done, ", "))}, line{"Pending", orPlanning(st.Stage, strings.Join(st.Pending, ", "))})
			if st.Waiting != "" {
				out = append(out, line{"Waiting", st.Waiting})
			}
			if st.Failed != nil {
				out = append(out, line{"Failed step", failedStep(st.Failed)})
			}
			if st.Blocked != "" {
				out = append(out, line{"Blocked", st.Blocked})
			}
			if st.Cancelled {
				out = append(out, line{"Cancelled", orNone(st.CancelNote)})
			}
			return out
		}
	case "offboarding":
		var st lifecycle.OffboardingStatus
		if json.Unmarshal(raw, &st) == nil {
			out := []line{{"Stage", st.Stage}}
			if !st.ScheduledAt.IsZero() {
				out = append(out, line{"Access ends", fmt.Sprintf("%s (%s) = %s", orNone(st.ScheduledLocal), zoneName(st.TimeZone), st.ScheduledAt.UTC().Format(time.RFC3339))})
			}
			if st.UserID != 0 {
				out = append(out, line{"Atomicwork user", fmt.Sprint(st.UserID)})
			}
			out = append(out, line{"Request", orNone(st.RequestID)})
			grants := make([]string, 0, len(st.Grants))
			for _, g := range st.Grants {
				grants = append(grants, fmt.Sprintf("%s (grant %d, %s)", g.Entitlement, g.GrantID, g.State))
			}
			assets := make([]string, 0, len(st.Assets))
			for _, as := range st.Assets {
				a := fmt.Sprintf("%s (asset %d, %s", as.Label, as.AssetID, as.State)
				if as.ToUserID != 0 {
					a += fmt.Sprintf(" to user %d", as.ToUserID)
				}
				assets = append(assets, a+")")
			}
			out = append(out, line{"Access", orPlanning(st.Stage, strings.Join(grants, ", "))}, line{"Assets", orPlanning(st.Stage, strings.Join(assets, ", "))})
			if st.Hold != "" {
				out = append(out, line{"Held", st.Hold + " (nothing is revoked until starter offboard now, or cancel)"})
			}
			if st.Blocked != "" {
				out = append(out, line{"Blocked", st.Blocked})
			}
			if len(st.Escalations) > 0 {
				out = append(out, line{"Escalations", strings.Join(st.Escalations, ", ")})
			}
			if !st.DeleteAt.IsZero() {
				out = append(out, line{"Account deletion", st.DeleteAt.UTC().Format(time.RFC3339)})
			}
			if st.Note != "" {
				out = append(out, line{"Note", st.Note})
			}
			return out
		}
	case "reassignment":
		var p lifecycle.ReassignmentProgress
		if json.Unmarshal(raw, &p) == nil {
			out := []line{{"Stage", p.Stage}, {"Progress", progressText(p)}}
			if p.Plan == nil && isPlanning(p.Stage) {
				out[1] = line{"Progress", planning}
			}
			if p.InFlight > 0 {
				out = append(out, line{"In flight", fmt.Sprint(p.InFlight)})
			}
			switch {
			case p.Rate > 0 && !p.Paused && p.Remaining > 0:
				out = append(out, line{"Rate", fmt.Sprintf("%.1f assets/s, about %s left", p.Rate, (time.Duration(p.ETASeconds) * time.Second).String())})
			case p.Rate > 0:
				out = append(out, line{"Rate", fmt.Sprintf("%.1f assets/s", p.Rate)}) // paused or done: no time left to tell
			}
			if p.Paused {
				out = append(out, line{"Paused", orNone(p.PauseReason)})
			}
			if p.Verifications > 0 {
				out = append(out, line{"Verified", fmt.Sprintf("%d time(s); the last found %d assets still matching and not at the target", p.Verifications, p.Unfinished)})
			}
			for _, n := range p.Notes {
				out = append(out, line{"Note", n})
			}
			if !p.Confirmed && p.Stage == lifecycle.StageReassignConfirming {
				out = append(out, line{"Confirmation", fmt.Sprintf("needed (more than %d assets match)", p.ConfirmAbove)})
			}
			if p.DryRun {
				out = append(out, line{"Dry run", "yes"})
			}
			return append(out, line{"Run", fmt.Sprint(p.Run)})
		}
	}
	return genericLines(raw, "")
}

func progressText(p lifecycle.ReassignmentProgress) string {
	s := fmt.Sprintf("%d of %d done, %d skipped, %d failed, %d remaining", p.Done, p.Total, p.Skipped, p.Failed, p.Remaining)
	if p.Unfinished > 0 {
		s += fmt.Sprintf(", %d found still to do by verification %d", p.Unfinished, p.Verifications)
	}
	return s
}

// unfinishedResult is the error of a completed workflow whose result says work remains: a
// reassignment that ended incomplete. Nil otherwise.
func unfinishedResult(workflowID, kind string, raw json.RawMessage) error {
	var r lifecycle.ReassignmentReport
	if kind != "reassignment" || json.Unmarshal(raw, &r) != nil || r.Outcome != lifecycle.OutcomeIncomplete {
		return nil
	}
	return fmt.Errorf("%s is incomplete: %s", workflowID, unfinishedText(r.Unfinished, r.Verifications))
}

// resultLines are a completed workflow's result, indented under "Result:".
func resultLines(kind string, raw json.RawMessage) []line {
	var out []line
	add := func(label, value string) { out = append(out, line{"  " + label, value}) }
	switch kind {
	case "onboarding":
		var r lifecycle.OnboardingResult
		if json.Unmarshal(raw, &r) == nil {
			add("Outcome", r.Outcome)
			if r.Reason != "" {
				add("Reason", r.Reason)
			}
			if r.Failed != nil {
				add("Failed step", failedStep(r.Failed))
			}
			add("Atomicwork user", fmt.Sprint(r.UserID))
			add("Request", orNone(r.RequestID))
			grants := make([]string, 0, len(r.Grants))
			for _, g := range r.Grants {
				grants = append(grants, fmt.Sprintf("%s (grant %d%s)", g.Entitlement, g.GrantID, heldBefore(g.Preexisting)))
			}
			add("Access", orNone(strings.Join(grants, ", ")))
			assets := make([]string, 0, len(r.Assets))
			for _, as := range r.Assets {
				if as.Assigned {
					assets = append(assets, fmt.Sprintf("%s %s (asset %d%s)", as.AssetTypeName, as.Label, as.AssetID, heldBefore(as.Preexisting)))
				} else {
					assets = append(assets, as.AssetTypeName+": none assigned")
				}
			}
			add("Assets", orNone(strings.Join(assets, ", ")))
			return out
		}
	case "offboarding":
		var r lifecycle.OffboardingResult
		if json.Unmarshal(raw, &r) == nil {
			add("Outcome", r.Outcome)
			if r.Reason != "" {
				add("Reason", r.Reason)
			}
			add("Atomicwork user", fmt.Sprint(r.UserID))
			add("Request", orNone(r.RequestID))
			grants := make([]string, 0, len(r.Grants))
			for _, g := range r.Grants {
				grants = append(grants, fmt.Sprintf("%s (grant %d, %s)", g.Entitlement, g.GrantID, g.State))
			}
			add("Access", orNone(strings.Join(grants, ", ")))
			assets := make([]string, 0, len(r.Assets))
			for _, as := range r.Assets {
				assets = append(assets, fmt.Sprintf("%s (asset %d, %s)", as.Label, as.AssetID, as.State))
			}
			add("Assets", orNone(strings.Join(assets, ", ")))
			add("Account deleted", fmt.Sprint(r.Deleted))
			return out
		}
	case "reassignment":
		var r lifecycle.ReassignmentReport
		if json.Unmarshal(raw, &r) == nil {
			add("Outcome", r.Outcome)
			if r.Reason != "" {
				add("Reason", r.Reason)
			}
			add("Assets", fmt.Sprintf("%d of %d done, %d skipped, %d failed, %d not processed", r.Done, r.Total, r.Skipped, r.Failed, r.NotProcessed))
			if r.Outcome == lifecycle.OutcomeIncomplete {
				add("Still to do", unfinishedText(r.Unfinished, r.Verifications))
			}
			for _, n := range r.Notes {
				add("Note", n)
			}
			for _, f := range r.Failures {
				add("Failed", fmt.Sprintf("asset %d: %s [%s]", f.AssetID, f.Reason, f.Type))
			}
			if r.FailuresOmitted > 0 {
				add("Failed", fmt.Sprintf("%d more, not listed", r.FailuresOmitted))
			}
			add("Runs", fmt.Sprint(r.Runs))
			return out
		}
	case "reconciliation":
		var r lifecycle.ReconciliationReport
		if json.Unmarshal(raw, &r) == nil {
			add("Dry run", fmt.Sprint(r.DryRun))
			add("Drift", fmt.Sprintf("%d found, %d fixed, %d failed", len(r.Drift), r.Fixed, r.Failed))
			for _, d := range r.Drift {
				what := fmt.Sprintf("%s, user %d", d.Kind, d.UserID)
				if d.ID != 0 {
					what += fmt.Sprintf(", id %d", d.ID)
				}
				if d.Request != "" {
					what += ", request " + d.Request
				}
				state := "not fixed"
				if d.Fixed {
					state = "fixed"
				}
				if d.Detail != "" {
					state += ": " + d.Detail
				}
				add("  "+d.Kind, what+" ("+state+")")
			}
			if r.RequestID != "" {
				add("Summary note on", r.RequestID)
			}
			return out
		}
	}
	return genericLines(raw, "  ")
}

// genericLines are a JSON object's top-level fields: scalars as they are, the rest compact.
func genericLines(raw json.RawMessage, indent string) []line {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return []line{{indent + "Value", compactJSON(raw)}}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]line, 0, len(keys))
	for _, k := range keys {
		out = append(out, line{indent + k, compactJSON(obj[k])})
	}
	return out
}

func compactJSON(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	out := b.String()
	if len(out) > 200 {
		out = out[:197] + "..."
	}
	return out
}
