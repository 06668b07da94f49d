package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
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
	kind, _ := kindNamed(s.Kind)
	readOutcome(ctx, conn, s)
	printEvent(w, s.WorkflowID+" "+s.Status)
	if len(s.Result) > 0 {
		writeLines(w, append([]line{{"Result", ""}}, kind.resultLines(s.Result)...))
	}
	if s.Status == "completed" {
		return kind.unfinishedResult(s.WorkflowID, s.Result)
	}
	if s.Failure != "" {
		return fmt.Errorf("%s %s: %s", s.WorkflowID, s.Status, s.Failure)
	}
	return errors.New(s.WorkflowID + " " + s.Status)
}

func printEvent(w io.Writer, msg string) {
	fmt.Fprintf(w, "%s  %s\n", time.Now().Format("15:04:05"), msg)
}

// factsOf lists what watch follows in a snapshot: the stage, and the kind's steps and items whose
// changes matter to an operator. Values that change every second (rates, timestamps) are left out,
// so an idle workflow prints nothing.
func factsOf(s *workflowSnapshot) []fact {
	var out []fact
	if s.Stage != "" {
		out = append(out, fact{"stage", "stage", s.Stage})
	}
	if len(s.State) == 0 {
		return out
	}
	kind, _ := kindNamed(s.Kind)
	return append(out, kind.factsOf(s.State)...)
}
