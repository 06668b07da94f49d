package main

import (
	"fmt"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// How the CLI shows a reconciliation: its report. Its status query's answer is shown, and
// followed by watch, field by field.

var reconciliationKind = workflowKind{
	name:     "reconciliation",
	typeName: lifecycle.ReconciliationWorkflowName,
	query:    lifecycle.QueryStatus,
	result:   decoded(reconciliationResultLines),
}

// reconciliationResultLines are the drift a run found, one line each under the counts.
func reconciliationResultLines(r lifecycle.ReconciliationReport) []line {
	out := []line{{"Dry run", fmt.Sprint(r.DryRun)}, {"Drift", fmt.Sprintf("%d found, %d fixed, %d failed", len(r.Drift), r.Fixed, r.Failed)}}
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
		out = append(out, line{"  " + d.Kind, what + " (" + state + ")"})
	}
	if r.RequestID != "" {
		out = append(out, line{"Summary note on", r.RequestID})
	}
	return out
}
