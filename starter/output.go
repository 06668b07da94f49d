package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
)

// workflowURL links a workflow in the Temporal UI.
func workflowURL(uiBase, namespace, workflowID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(uiBase, "/"), url.PathEscape(namespace), url.PathEscape(workflowID))
}

// printStarted says what the start did and where to watch it.
func printStarted(w io.Writer, res onboardResult) {
	switch {
	case res.AlreadyCompleted:
		fmt.Fprintf(w, "%s already completed (run %s): a completed onboarding is not run again.\n", res.WorkflowID, res.RunID)
	case res.AlreadyRunning:
		fmt.Fprintf(w, "%s is already running (run %s): this start reached it; nothing new was started.\n", res.WorkflowID, res.RunID)
	default:
		fmt.Fprintf(w, "Started %s (run %s).\n", res.WorkflowID, res.RunID)
	}
	if res.State != nil {
		printOnboardingState(w, *res.State)
	}
	fmt.Fprintf(w, "Temporal UI: %s\n", res.UIURL)
}

// printResult prints a finished onboarding; a failure is reported by the exit path instead.
func printResult(w io.Writer, res onboardResult) {
	if res.Result != nil {
		writeLines(w, onboardingResultLines(*res.Result))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// planning is what a plan still being made shows instead of "none".
const planning = "planning (not known yet)"

// orPlanning is orNone, except while the run still plans: then nothing is not "none".
func orPlanning(stillPlanning bool, s string) string {
	if s == "" && stillPlanning {
		return planning
	}
	return orNone(s)
}

// line is one "Label: value" line; writeLines aligns a block of them.
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

// indented are lines shown under a heading such as "Result:".
func indented(lines []line) []line {
	out := make([]line, len(lines))
	for i, l := range lines {
		out[i] = line{"  " + l.label, l.value}
	}
	return out
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
