package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// listFlags are the list command's filters.
type listFlags struct {
	stage, kind, employeeID, scheduledBy string
	open, closed                         bool
	limit                                int
	json                                 bool
}

// maxListLimit bounds --limit: the list is for people, the UI for browsing.
const maxListLimit = 1000

func newListCmd(a *app) *cobra.Command {
	f := &listFlags{}
	cmd := &cobra.Command{
		Use:   "list [--stage S] [--type T] [--employee-id ID] [--open|--closed] [--limit N] [--json]",
		Short: "List workflows by stage, type, employee or state (a visibility query)",
		Long: `list finds atomicflow's workflows with a Temporal visibility query over their search attributes:
LifecycleStage (--stage), EmployeeId (--employee-id), the workflow type (--type) and the execution
status (--open, --closed), running ones first, then the most recently closed. Filters combine
with AND. Visibility is eventually
consistent: a workflow started a moment ago can take a second to appear.

Stages look like onboarding.access, offboarding.scheduled, reassignment.running (see
'starter status'). Runs started by a schedule are found with --scheduled-by <schedule id>.`,
		Example: `  starter list --type onboarding --open
  starter list --employee-id E-2002
  starter list --stage offboarding.scheduled --json
  starter list --type reconciliation --scheduled-by nightly-reconciliation --limit 7`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error { return f.run(cmd.Context(), a) }),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.stage, "stage", "", "lifecycle stage, e.g. onboarding.access")
	fl.StringVar(&f.kind, "type", "", "workflow type: "+kindNames())
	fl.StringVar(&f.employeeID, "employee-id", "", "HR employee id")
	fl.StringVar(&f.scheduledBy, "scheduled-by", "", "id of the schedule that started the runs")
	fl.BoolVar(&f.open, "open", false, "only running workflows")
	fl.BoolVar(&f.closed, "closed", false, "only closed workflows (completed, failed, cancelled, terminated, timed out)")
	fl.IntVar(&f.limit, "limit", 50, fmt.Sprintf("at most this many workflows (1-%d)", maxListLimit))
	fl.BoolVar(&f.json, "json", false, "print JSON instead of a table")
	cmd.MarkFlagsMutuallyExclusive("open", "closed")
	return cmd
}

// query validates the filters and builds the visibility query.
func (f *listFlags) query() (string, error) {
	var conds []string
	if f.kind != "" {
		kind, ok := kindNamed(f.kind)
		if !ok {
			return "", fmt.Errorf("--type %q is not a workflow type: use %s", f.kind, kindNames())
		}
		conds = append(conds, "WorkflowType = "+quoteQuery(kind.typeName))
	}
	if f.stage != "" {
		if err := checkQueryValue("--stage", f.stage); err != nil {
			return "", err
		}
		conds = append(conds, lifecycle.LifecycleStageKey.GetName()+" = "+quoteQuery(f.stage))
	}
	if f.employeeID != "" {
		if p := lifecycle.EmployeeIDProblem(f.employeeID); p != "" {
			return "", fmt.Errorf("--employee-id: %s", p)
		}
		conds = append(conds, lifecycle.EmployeeIDKey.GetName()+" = "+quoteQuery(f.employeeID))
	}
	if f.scheduledBy != "" {
		if err := checkQueryValue("--scheduled-by", f.scheduledBy); err != nil {
			return "", err
		}
		conds = append(conds, scheduledByKey.GetName()+" = "+quoteQuery(f.scheduledBy))
	}
	switch {
	case f.open:
		conds = append(conds, "ExecutionStatus = 'Running'")
	case f.closed:
		conds = append(conds, "ExecutionStatus != 'Running'")
	}
	if f.limit < 1 || f.limit > maxListLimit {
		return "", fmt.Errorf("--limit %d is out of range: use 1 to %d", f.limit, maxListLimit)
	}
	return strings.Join(conds, " AND "), nil
}

// checkQueryValue rejects values no search attribute of ours holds: empty, or with control
// characters. Quotes and backslashes are fine: quoteQuery escapes them.
func checkQueryValue(flag, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%s is empty", flag)
	}
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%s %q has control characters", flag, v)
	}
	return nil
}

// quoteQuery quotes a value for Temporal's visibility query language: a single-quoted string
// with backslashes and quotes escaped, so a value can never end the literal early.
func quoteQuery(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`)
	return "'" + r.Replace(v) + "'"
}

// listRow is one workflow of the list (its JSON is the --json output).
type listRow struct {
	WorkflowID string     `json:"workflow_id"`
	RunID      string     `json:"run_id"`
	Type       string     `json:"type"`
	Stage      string     `json:"stage,omitempty"`
	EmployeeID string     `json:"employee_id,omitempty"`
	Status     string     `json:"status"`
	StartTime  time.Time  `json:"start_time"`
	CloseTime  *time.Time `json:"close_time,omitempty"`
}

func (f *listFlags) run(ctx context.Context, a *app) error {
	q, err := f.query()
	if err != nil {
		return usageError{err}
	}
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rows, err := listWorkflows(ctx, conn, q, f.limit)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(a.stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(a.stdout, "No workflows match.")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKFLOW ID\tTYPE\tSTAGE\tSTATUS\tSTARTED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.WorkflowID, r.Type, dashIfEmpty(r.Stage), r.Status, r.StartTime.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// listWorkflows pages through the query's results up to limit.
func listWorkflows(ctx context.Context, conn *connection, query string, limit int) ([]listRow, error) {
	rows := []listRow{}
	var token []byte
	for len(rows) < limit {
		resp, err := conn.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace:     conn.Namespace,
			PageSize:      int32(min(limit-len(rows), 100)),
			NextPageToken: token,
			Query:         query,
		})
		if err != nil {
			return nil, fmt.Errorf("cannot list workflows (query %q): %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			if len(rows) == limit {
				break
			}
			row := listRow{
				WorkflowID: e.GetExecution().GetWorkflowId(),
				RunID:      e.GetExecution().GetRunId(),
				Type:       e.GetType().GetName(),
				Status:     statusName(e.GetStatus()),
				StartTime:  e.GetStartTime().AsTime(),
				Stage:      keywordAttr(e.GetSearchAttributes(), lifecycle.LifecycleStageKey.GetName()),
				EmployeeID: keywordAttr(e.GetSearchAttributes(), lifecycle.EmployeeIDKey.GetName()),
			}
			if e.GetCloseTime() != nil {
				t := e.GetCloseTime().AsTime()
				row.CloseTime = &t
			}
			rows = append(rows, row)
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	return rows, nil
}

// keywordAttr reads a Keyword search attribute; search attributes are plain JSON, never encoded.
func keywordAttr(sa *commonpb.SearchAttributes, name string) string {
	p := sa.GetIndexedFields()[name]
	if p == nil {
		return ""
	}
	var v string
	if converter.GetDefaultDataConverter().FromPayload(p, &v) != nil {
		return ""
	}
	return v
}
