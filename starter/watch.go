package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomicflow/atomicflow/lifecycle"
)

func newWatchCmd(a *app) *cobra.Command {
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "watch <workflow-id>",
		Short: "Follow a workflow: print each stage change and finished step until it closes",
		Long: `watch polls a workflow's status query every second and prints what changes (stage transitions,
finished steps, grants and assets changing state, reassignment progress) until the workflow closes,
then prints how it ended. Without a worker it follows the stage search attribute.

Ctrl-C stops watching and never touches the workflow; 'starter watch <workflow-id>' reattaches.
The exit code is 0 when the workflow completed (or you stopped watching), 1 when it failed, was
cancelled, terminated or timed out.`,
		Example: `  starter watch onboarding-E-2002
  starter watch asset-reassignment-leaver-E-01`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if err := checkWorkflowID(id); err != nil {
				return usageError{err}
			}
			if interval < 10*time.Millisecond {
				return usageError{fmt.Errorf("--interval %s is below 10ms", interval)}
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			return watchWorkflow(cmd.Context(), a, conn, id, interval)
		}),
	}
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "how often to poll")
	_ = cmd.Flags().MarkHidden("interval") // for tests and demos; a second is right for people
	return cmd
}

// fact is one thing watch follows; a changed value is printed.
type fact struct{ key, label, value string }

func watchWorkflow(ctx context.Context, a *app, conn *connection, id string, interval time.Duration) error {
	s, err := takeSnapshot(ctx, a, conn, id, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "Watching %s (%s). Ctrl-C stops watching, never the workflow; reattach with: starter watch %s\n", id, s.Type, id)
	fmt.Fprintf(a.stdout, "Temporal UI: %s\n", s.UIURL)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	seen := map[string]string{}
	lastRun, lastNote := s.RunID, ""
	for {
		if s.RunID != lastRun {
			printEvent(a.stdout, "continued as new: run "+s.RunID)
			lastRun = s.RunID
		}
		if note := s.StateError; note != lastNote {
			if note != "" && note != "stopped" {
				printEvent(a.stdout, "live state unavailable: "+note)
			}
			lastNote = note
		}
		for _, f := range factsOf(s) {
			prev, had := seen[f.key]
			switch {
			case !had:
				printEvent(a.stdout, f.label+": "+f.value)
			case prev != f.value:
				printEvent(a.stdout, f.label+": "+prev+" → "+f.value)
			}
			seen[f.key] = f.value
		}
		if !s.running() {
			return watchEnded(ctx, a.stdout, conn, s)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(a.stderr, "Stopped watching; %s goes on. Reattach with: starter watch %s\n", id, id)
			return nil
		case <-ticker.C:
		}
		next, err := takeSnapshot(ctx, a, conn, id, false)
		switch {
		case ctx.Err() != nil:
			fmt.Fprintf(a.stderr, "Stopped watching; %s goes on. Reattach with: starter watch %s\n", id, id)
			return nil
		case err != nil:
			if msg := "cannot read " + id + ": " + err.Error() + "; retrying"; msg != lastNote {
				printEvent(a.stdout, msg)
				lastNote = msg
			}
			continue
		}
		s = next
	}
}

// watchEnded prints how the workflow ended; anything but completed is an error (exit 1), and so
// is a completed batch that reports assets still to do.
func watchEnded(ctx context.Context, w io.Writer, conn *connection, s *workflowSnapshot) error {
	readOutcome(ctx, conn, s)
	printEvent(w, s.WorkflowID+" "+s.Status)
	if len(s.Result) > 0 {
		writeLines(w, append([]line{{"Result", ""}}, resultLines(s.Kind, s.Result)...))
	}
	if s.Status == "completed" {
		return unfinishedResult(s.WorkflowID, s.Kind, s.Result)
	}
	if s.Failure != "" {
		return fmt.Errorf("%s %s: %s", s.WorkflowID, s.Status, s.Failure)
	}
	return errors.New(s.WorkflowID + " " + s.Status)
}

func printEvent(w io.Writer, msg string) {
	fmt.Fprintf(w, "%s  %s\n", time.Now().Format("15:04:05"), msg)
}

// factsOf lists what watch follows in a snapshot: the stage, and for each kind the steps and items
// whose changes matter to an operator. Values that change every second (rates, timestamps) are left
// out, so an idle workflow prints nothing.
func factsOf(s *workflowSnapshot) []fact {
	var out []fact
	if s.Stage != "" {
		out = append(out, fact{"stage", "stage", s.Stage})
	}
	if len(s.State) == 0 {
		return out
	}
	switch s.Kind {
	case "onboarding":
		var st lifecycle.OnboardingStatus
		if json.Unmarshal(s.State, &st) == nil {
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
	case "offboarding":
		var st lifecycle.OffboardingStatus
		if json.Unmarshal(s.State, &st) == nil {
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
	case "reassignment":
		var p lifecycle.ReassignmentProgress
		if json.Unmarshal(s.State, &p) == nil {
			out = append(out, fact{"progress", "progress", progressText(p)})
			if p.Paused {
				out = append(out, fact{"paused", "paused", orNone(p.PauseReason)})
			}
			return out
		}
	}
	// Another workflow: its top-level scalar fields.
	var obj map[string]json.RawMessage
	if json.Unmarshal(s.State, &obj) != nil {
		return out
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		if k == "stage" || k == "as_of" || k == "rate" || k == "eta_seconds" || len(v) == 0 || v[0] == '{' || v[0] == '[' {
			continue
		}
		out = append(out, fact{"field:" + k, k, compactJSON(v)})
	}
	return out
}
