package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// How the CLI shows a bulk reassignment: its progress query's answer, its report and what watch
// follows. The report has two views: status's and watch's summary lines, and the full report
// (every count, timing and failure type) that starter reassign prints when the batch ends.

var reassignmentKind = workflowKind{
	name:       "reassignment",
	typeName:   lifecycle.ReassignmentWorkflowName,
	query:      lifecycle.QueryProgress,
	state:      decoded(reassignmentStateLines),
	result:     decoded(reassignmentResultLines),
	facts:      decoded(reassignmentFacts),
	unfinished: incompleteBatch,
}

func reassignmentStateLines(p lifecycle.ReassignmentProgress) []line {
	out := []line{{"Stage", p.Stage}, {"Progress", progressText(p)}}
	if p.Plan == nil && p.Stage == lifecycle.StageReassignPlanning {
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

// reassignmentResultLines are status's and watch's summary of a finished batch.
func reassignmentResultLines(r lifecycle.ReassignmentReport) []line {
	out := []line{{"Outcome", r.Outcome}}
	if r.Reason != "" {
		out = append(out, line{"Reason", r.Reason})
	}
	out = append(out, line{"Assets", fmt.Sprintf("%d of %d done, %d skipped, %d failed, %d not processed", r.Done, r.Total, r.Skipped, r.Failed, r.NotProcessed)})
	if r.Outcome == lifecycle.OutcomeIncomplete {
		out = append(out, line{"Still to do", unfinishedText(r.Unfinished, r.Verifications)})
	}
	for _, n := range r.Notes {
		out = append(out, line{"Note", n})
	}
	for _, f := range r.Failures {
		out = append(out, line{"Failed", fmt.Sprintf("asset %d: %s [%s]", f.AssetID, f.Reason, f.Type)})
	}
	if r.FailuresOmitted > 0 {
		out = append(out, line{"Failed", fmt.Sprintf("%d more, not listed", r.FailuresOmitted)})
	}
	return append(out, line{"Runs", fmt.Sprint(r.Runs)})
}

// reassignmentFacts: the counts, and a pause; the rate and ETA change every second.
func reassignmentFacts(p lifecycle.ReassignmentProgress) []fact {
	out := []fact{{"progress", "progress", progressText(p)}}
	if p.Paused {
		out = append(out, fact{"paused", "paused", orNone(p.PauseReason)})
	}
	return out
}

// incompleteBatch is the error of a completed batch that ended incomplete; nil otherwise.
func incompleteBatch(workflowID string, raw json.RawMessage) error {
	var r lifecycle.ReassignmentReport
	if json.Unmarshal(raw, &r) != nil || r.Outcome != lifecycle.OutcomeIncomplete {
		return nil
	}
	return fmt.Errorf("%s is incomplete: %s", workflowID, unfinishedText(r.Unfinished, r.Verifications))
}

func progressText(p lifecycle.ReassignmentProgress) string {
	s := fmt.Sprintf("%d of %d done, %d skipped, %d failed, %d remaining", p.Done, p.Total, p.Skipped, p.Failed, p.Remaining)
	if p.Unfinished > 0 {
		s += fmt.Sprintf(", %d found still to do by verification %d", p.Unfinished, p.Verifications)
	}
	return s
}

// unfinishedText says what an incomplete batch left: the count, and what to do.
func unfinishedText(n, verifications int) string {
	return fmt.Sprintf("%d assets still match the selector and are not at the target after %d verification(s): check them, then run the same command again",
		n, verifications)
}

// printReassignReport is the full report starter reassign prints when the batch ends.
func printReassignReport(out io.Writer, r lifecycle.ReassignmentReport) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Batch:\t%s\n", r.BatchID)
	fmt.Fprintf(tw, "Outcome:\t%s\n", r.Outcome)
	if r.Reason != "" {
		fmt.Fprintf(tw, "Reason:\t%s\n", r.Reason)
	}
	if r.Outcome == lifecycle.OutcomeDryRun {
		fmt.Fprintf(tw, "Would move:\t%d assets (nothing was written)\n", r.Total)
		_ = tw.Flush()
		printPlan(out, lifecycle.ReassignmentProgress{Total: r.Total, Plan: &r.Plan, ConfirmAbove: 0})
		return
	}
	fmt.Fprintf(tw, "Assets:\t%d: %d moved, %d skipped (%d already at the target, %d no longer matching), %d failed",
		r.Total, r.Done, r.Skipped, r.AlreadyAtTarget, r.NoLongerMatching, r.Failed)
	if r.NotProcessed > 0 {
		fmt.Fprintf(tw, ", %d not processed", r.NotProcessed)
	}
	fmt.Fprintln(tw)
	if r.Outcome == lifecycle.OutcomeIncomplete {
		fmt.Fprintf(tw, "Still to do:\t%s\n", unfinishedText(r.Unfinished, r.Verifications))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(tw, "Note:\t%s\n", n)
	}
	fmt.Fprintf(tw, "Time:\t%s running, %.1f assets/s, %d run(s)\n", (time.Duration(r.ActiveSeconds) * time.Second).String(), r.Rate, r.Runs)
	_ = tw.Flush()
	if r.Failed == 0 {
		return
	}
	fmt.Fprintln(out, "Failures:")
	for _, f := range r.Failures {
		fmt.Fprintf(out, "  asset %d: %s: %s\n", f.AssetID, f.Type, f.Reason)
	}
	if r.FailuresOmitted > 0 {
		fmt.Fprintf(out, "  ... and %d more, not listed (counts by type:", r.FailuresOmitted)
		for _, c := range r.FailureTypes {
			fmt.Fprintf(out, " %s %d", c.Type, c.Count)
		}
		fmt.Fprintln(out, ")")
	}
}
