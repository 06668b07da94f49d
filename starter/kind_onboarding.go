package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// How the CLI shows an onboarding: its status query's answer, its result and what watch follows.

var onboardingKind = workflowKind{
	name:     "onboarding",
	typeName: lifecycle.OnboardingWorkflowName,
	query:    lifecycle.QueryStatus,
	state:    decoded(onboardingStateLines),
	result:   decoded(onboardingResultLines),
	facts:    decoded(onboardingFacts),
	date:     &movingDate{label: "Day one", current: currentStartDate},
}

func onboardingStateLines(st lifecycle.OnboardingStatus) []line {
	stillPlanning := st.Stage == lifecycle.StagePlanning
	out := []line{{"Stage", st.Stage}, {"Day one", fmt.Sprintf("%s (%s)", orNone(st.StartDate), zoneName(st.TimeZone))}}
	if st.UserID != 0 {
		out = append(out, line{"Atomicwork user", fmt.Sprint(st.UserID)})
	}
	out = append(out, line{"Request", orNone(st.RequestID)},
		line{"Done", orNone(strings.Join(st.Done, ", "))}, line{"Pending", orPlanning(stillPlanning, strings.Join(st.Pending, ", "))})
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

// onboardingResultLines are a finished onboarding: what status, watch and onboard --wait print.
func onboardingResultLines(r lifecycle.OnboardingResult) []line {
	out := []line{{"Outcome", r.Outcome}}
	if r.Reason != "" {
		out = append(out, line{"Reason", r.Reason})
	}
	if r.Failed != nil {
		out = append(out, line{"Failed step", failedStep(r.Failed)})
	}
	out = append(out, line{"Atomicwork user", fmt.Sprint(r.UserID)}, line{"Request", orNone(r.RequestID)})
	grants := make([]string, 0, len(r.Grants))
	for _, g := range r.Grants {
		grants = append(grants, fmt.Sprintf("%s (grant %d%s)", g.Entitlement, g.GrantID, heldBefore(g.Preexisting)))
	}
	assets := make([]string, 0, len(r.Assets))
	for _, as := range r.Assets {
		if !as.Assigned {
			assets = append(assets, as.AssetTypeName+": none assigned")
			continue
		}
		assets = append(assets, fmt.Sprintf("%s %s (asset %d%s)", as.AssetTypeName, as.Label, as.AssetID, heldBefore(as.Preexisting)))
	}
	return append(out, line{"Access", orNone(strings.Join(grants, ", "))}, line{"Assets", orNone(strings.Join(assets, ", "))})
}

func onboardingFacts(st lifecycle.OnboardingStatus) []fact {
	var out []fact
	for _, d := range st.Done {
		out = append(out, fact{"done:" + d, "done", d})
	}
	if st.UserID != 0 {
		out = append(out, fact{"user", "Atomicwork user", strconv.FormatInt(st.UserID, 10)})
	}
	if st.RequestID != "" {
		out = append(out, fact{"request", "request", st.RequestID})
	}
	if st.Waiting != "" {
		out = append(out, fact{"waiting", "waiting", st.Waiting})
	}
	return out
}

// printOnboardingState prints the status an onboarding update returns: the date it works to and
// what holds it, shorter than status's view.
func printOnboardingState(w io.Writer, st lifecycle.OnboardingStatus) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Stage:\t%s\n", st.Stage)
	fmt.Fprintf(tw, "Day one:\t%s (%s)", orNone(st.StartDate), zoneName(st.TimeZone))
	if !st.DayOneAt.IsZero() {
		fmt.Fprintf(tw, " = %s", st.DayOneAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "Request:\t%s\n", orPlanning(st.Stage == lifecycle.StagePlanning, st.RequestID))
	if st.Failed != nil {
		fmt.Fprintf(tw, "Failed step:\t%s\n", failedStep(st.Failed))
	}
	if st.Blocked != "" {
		fmt.Fprintf(tw, "Blocked:\t%s\n", st.Blocked)
	}
	if st.Cancelled {
		fmt.Fprintf(tw, "Cancelled:\t%s\n", orNone(st.CancelNote))
	}
	_ = tw.Flush() // the writer is the terminal; nothing to do if it fails
}

// failedStep is an onboarding step that failed for good: the step and its error.
func failedStep(f *lifecycle.StepFailure) string {
	return f.Step + ": " + f.Error
}

func heldBefore(preexisting bool) string {
	if preexisting {
		return ", held before"
	}
	return ""
}
