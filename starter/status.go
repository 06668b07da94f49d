package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

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
		s.DateLabel, s.Date = kind.historyDate(ctx, conn, id)
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

func printSnapshot(w io.Writer, s *workflowSnapshot) {
	kind, _ := kindNamed(s.Kind)
	lines := []line{{"Workflow", fmt.Sprintf("%s (%s, run %s)", s.WorkflowID, s.Type, s.RunID)}}
	status := s.Status + ", started " + s.StartTime.UTC().Format(time.RFC3339)
	if s.CloseTime != nil {
		status += ", closed " + s.CloseTime.UTC().Format(time.RFC3339)
	}
	lines = append(lines, line{"Status", status})
	if s.Summary != "" && kind.date == nil { // a moving date's summary is stale: the current date is below
		lines = append(lines, line{"Summary", s.Summary})
	}
	if s.ScheduledBy != "" {
		lines = append(lines, line{"Started by", "schedule " + s.ScheduledBy})
	}
	if len(s.State) > 0 {
		lines = append(lines, kind.stateLines(s.State)...)
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
			lines = append(lines, kind.resultLines(s.Result)...)
		}
	}
	lines = append(lines, line{"Temporal UI", s.UIURL})
	writeLines(w, lines)
}
