package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// How the CLI shows an offboarding: its status query's answer, its result and what watch follows.

var offboardingKind = workflowKind{
	name:     "offboarding",
	typeName: lifecycle.OffboardingWorkflowName,
	query:    lifecycle.QueryStatus,
	state:    decoded(offboardingStateLines),
	result:   decoded(offboardingResultLines),
	facts:    decoded(offboardingFacts),
	date:     &movingDate{label: "Last day", current: currentLastDay},
}

func offboardingStateLines(st lifecycle.OffboardingStatus) []line {
	stillPlanning := st.Stage == lifecycle.StageOffPlanning
	out := []line{{"Stage", st.Stage}}
	if !st.ScheduledAt.IsZero() {
		out = append(out, line{"Access ends", fmt.Sprintf("%s (%s) = %s", orNone(st.ScheduledLocal), zoneName(st.TimeZone), st.ScheduledAt.UTC().Format(time.RFC3339))})
	}
	if st.UserID != 0 {
		out = append(out, line{"Atomicwork user", fmt.Sprint(st.UserID)})
	}
	out = append(out, line{"Request", orNone(st.RequestID)},
		line{"Access", orPlanning(stillPlanning, grantStates(st.Grants))}, line{"Assets", orPlanning(stillPlanning, assetStates(st.Assets, true))})
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

// offboardingResultLines are a finished offboarding: what status, watch and offboard --wait print.
func offboardingResultLines(r lifecycle.OffboardingResult) []line {
	out := []line{{"Outcome", r.Outcome}}
	if r.Reason != "" {
		out = append(out, line{"Reason", r.Reason})
	}
	return append(out, line{"Atomicwork user", fmt.Sprint(r.UserID)}, line{"Request", orNone(r.RequestID)},
		line{"Access", orNone(grantStates(r.Grants))}, line{"Assets", orNone(assetStates(r.Assets, false))},
		line{"Account deleted", fmt.Sprint(r.Deleted)})
}

func offboardingFacts(st lifecycle.OffboardingStatus) []fact {
	var out []fact
	if !st.ScheduledAt.IsZero() {
		out = append(out, fact{"scheduled", "access ends", st.ScheduledAt.UTC().Format(time.RFC3339)})
	}
	for _, g := range st.Grants {
		out = append(out, fact{fmt.Sprintf("grant:%d", g.GrantID), fmt.Sprintf("grant %s (%d)", g.Entitlement, g.GrantID), g.State})
	}
	for _, as := range st.Assets {
		out = append(out, fact{fmt.Sprintf("asset:%d", as.AssetID), fmt.Sprintf("asset %s (%d)", as.Label, as.AssetID), as.State})
	}
	for _, e := range st.Escalations {
		out = append(out, fact{"escalation:" + e, "escalated", e})
	}
	return out
}

// printOffboardingState prints the status an offboarding update (or its start) returns.
func printOffboardingState(w io.Writer, st lifecycle.OffboardingStatus) {
	stillPlanning := st.Stage == lifecycle.StageOffPlanning
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Stage:\t%s\n", st.Stage)
	if !st.ScheduledAt.IsZero() {
		local := st.ScheduledLocal
		if local == "" {
			local = "?"
		}
		fmt.Fprintf(tw, "Access ends:\t%s (%s) = %s\n", local, zoneName(st.TimeZone), st.ScheduledAt.UTC().Format(time.RFC3339))
	}
	if st.UserID != 0 {
		fmt.Fprintf(tw, "Atomicwork user:\t%d\n", st.UserID)
	}
	fmt.Fprintf(tw, "Request:\t%s\n", orPlanning(stillPlanning, st.RequestID))
	fmt.Fprintf(tw, "Access:\t%s\n", orPlanning(stillPlanning, grantStates(st.Grants)))
	fmt.Fprintf(tw, "Assets:\t%s\n", orPlanning(stillPlanning, assetStates(st.Assets, true)))
	if len(st.Escalations) > 0 {
		fmt.Fprintf(tw, "Escalations:\t%s\n", strings.Join(st.Escalations, ", "))
	}
	if !st.DeleteAt.IsZero() {
		fmt.Fprintf(tw, "Account deletion:\t%s\n", st.DeleteAt.UTC().Format(time.RFC3339))
	}
	if st.Hold != "" {
		fmt.Fprintf(tw, "Held:\t%s (nothing is revoked until starter offboard now, or cancel)\n", st.Hold)
	}
	if st.Blocked != "" {
		fmt.Fprintf(tw, "Blocked:\t%s\n", st.Blocked)
	}
	if st.Note != "" {
		fmt.Fprintf(tw, "Note:\t%s\n", st.Note)
	}
	_ = tw.Flush() // the writer is the terminal; nothing to do if it fails
}

// grantStates lists a leaver's grants with their state.
func grantStates(grants []lifecycle.GrantState) string {
	out := make([]string, 0, len(grants))
	for _, g := range grants {
		out = append(out, fmt.Sprintf("%s (grant %d, %s)", g.Entitlement, g.GrantID, g.State))
	}
	return strings.Join(out, ", ")
}

// assetStates lists a leaver's assets with their state; withRecipient names the user a
// reassigned one went to.
func assetStates(assets []lifecycle.AssetState, withRecipient bool) string {
	out := make([]string, 0, len(assets))
	for _, as := range assets {
		s := fmt.Sprintf("%s (asset %d, %s", as.Label, as.AssetID, as.State)
		if withRecipient && as.ToUserID != 0 {
			s += fmt.Sprintf(" to user %d", as.ToUserID)
		}
		out = append(out, s+")")
	}
	return strings.Join(out, ", ")
}
