package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// stdin is where the confirmation prompt reads its answer; tests replace it.
var stdin io.Reader = os.Stdin

// pollEvery is how often the watching CLI asks the batch for its progress.
const pollEvery = 500 * time.Millisecond

// reassignFlags are the reassign command's flags.
type reassignFlags struct {
	in   lifecycle.ReassignmentInput
	to   string
	yes  bool
	json bool
	all  bool
}

func newReassignCmd(a *app) *cobra.Command {
	f := &reassignFlags{}
	cmd := &cobra.Command{
		Use:   "reassign (--from EMAIL | --asset-id ID... | --all) [--asset-type NAME] [--status S] --to EMAIL|stock",
		Short: "Move assets in bulk to a user or back to stock, with a live progress bar",
		Long: `reassign moves every asset that a selector matches to a user, or back to stock (unassigned,
AVAILABLE), at the rate the Atomicwork API allows. The selector is the current assignee (--from), an
explicit list (--asset-id, repeatable), or both narrowed by --asset-type and --status. Selecting
by --asset-type and --status alone reaches every asset of the company, so it needs --all.

It plans first and shows how many assets match with a sample (with --yes too); --dry-run stops
there. Above the
confirmation threshold (--confirm-above, default 100) it asks before moving anything, unless --yes.
Then it shows a progress bar (done/total, rate, ETA) until the batch ends, and prints the report.

The batch runs in Temporal, not in this command: Ctrl-C stops watching, not the batch. Reattach with
'starter reassign watch --batch-id ID'; steer it with 'reassign pause|resume|cancel --batch-id ID'.
The batch id derives from the request unless --batch-id names it, so repeating a command reaches the
running batch, and running it again after the end moves only what still matches (already moved
assets are skipped). Exit code 1 when an asset failed, the batch failed, or you stopped watching.`,
		Example: `  # a leaver's devices back to stock
  starter reassign --from bo.li@example.com --to stock

  # see what would move, without moving anything
  starter reassign --from bo.li@example.com --asset-type Laptop --to ana.diaz@example.com --dry-run

  # every retired laptop of the company back to stock
  starter reassign --all --asset-type Laptop --status RETIRED --to stock --dry-run

  # three assets to a new owner, marked in use, no prompt
  starter reassign --asset-id 101 --asset-id 102 --asset-id 103 --to ana.diaz@example.com --set-status IN_USE --yes

  starter reassign pause --batch-id r3f9a0c21d4e5
  starter reassign watch --batch-id r3f9a0c21d4e5`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error { return f.run(cmd.Context(), a) }),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.in.Selector.AssigneeEmail, "from", "", "select the assets assigned to this `email`")
	fl.Int64SliceVar(&f.in.Selector.AssetIDs, "asset-id", nil, "select this asset `id` (repeatable)")
	fl.StringVar(&f.in.Selector.AssetType, "asset-type", "", "only assets of this type `name`, e.g. Laptop")
	fl.StringVar(&f.in.Selector.Status, "status", "", "only assets with this `status`, e.g. IN_USE")
	fl.BoolVar(&f.all, "all", false, "select across the whole company, by --asset-type and --status only")
	fl.StringVar(&f.to, "to", "", "the new assignee's `email`, or stock (required)")
	fl.StringVar(&f.in.SetStatus, "set-status", "", "the assets' new `status` (default: unchanged; stock sets AVAILABLE)")
	fl.BoolVar(&f.in.DryRun, "dry-run", false, "show the plan and move nothing")
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation above the threshold")
	fl.IntVar(&f.in.Concurrency, "concurrency", lifecycle.DefaultReassignConcurrency, "assets in flight at once")
	fl.IntVar(&f.in.MaxAssets, "max-assets", 0, "stop after this many assets (default: all)")
	fl.IntVar(&f.in.ConfirmAbove, "confirm-above", lifecycle.DefaultConfirmAbove, "ask for confirmation when more assets match")
	fl.StringVar(&f.in.BatchID, "batch-id", "", "name the batch (default: derived from the request)")
	fl.Int64Var(&f.in.WorkspaceID, "workspace-id", 0, "Atomicwork workspace id (default: the worker's default workspace)")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON, and no progress bar")
	_ = cmd.MarkFlagRequired("to") // cannot fail: the flag exists
	cmd.AddCommand(
		newReassignMessageCmd(a, "pause", "Pause a batch: assets in flight finish, no new one starts", lifecycle.UpdatePause),
		newReassignMessageCmd(a, "resume", "Resume a paused batch", lifecycle.UpdateResume),
		newReassignMessageCmd(a, "cancel", "Cancel a batch: assets in flight finish, then it returns its report", lifecycle.UpdateCancel),
		newReassignMessageCmd(a, "confirm", "Confirm a batch waiting above its threshold", lifecycle.UpdateConfirm),
		newReassignWatchCmd(a),
	)
	return cmd
}

// check names every bad flag; a selector without --from or --asset-id reaches the whole
// company, so it needs --all.
func (f *reassignFlags) check() error {
	var p flagProblems
	sel := f.in.Selector
	narrow := sel.AssigneeEmail != "" || len(sel.AssetIDs) > 0
	switch {
	case f.all && narrow:
		p.add("--all", "selects the whole company: drop it when --from or --asset-id names the assets")
	case !f.all && !narrow && (sel.AssetType != "" || sel.Status != ""):
		p.add("--all", "--asset-type and --status alone select every matching asset of the whole company: "+
			"name the assets with --from or --asset-id, or add --all if the whole company is meant")
	}
	p.email("--from", sel.AssigneeEmail, false)
	for _, id := range sel.AssetIDs {
		if id <= 0 {
			p.add("--asset-id", fmt.Sprintf("%d is not an asset id: ids are positive", id))
		}
	}
	p.text("--asset-type", "asset type", sel.AssetType)
	p.text("--status", "status", sel.Status)
	p.text("--set-status", "new status", f.in.SetStatus)
	if to := strings.TrimSpace(f.to); !strings.EqualFold(to, "stock") {
		p.email("--to", to, true)
	}
	if f.in.MaxAssets < 0 {
		p.add("--max-assets", "is negative: use 0 for all")
	}
	if f.in.WorkspaceID < 0 {
		p.add("--workspace-id", "is negative: omit it for the worker's default workspace")
	}
	return p.err()
}

// input turns the flags into a validated workflow input with its batch id.
func (f *reassignFlags) input() (lifecycle.ReassignmentInput, error) {
	in := f.in
	switch to := strings.TrimSpace(f.to); {
	case strings.EqualFold(to, "stock"):
		in.Target.Stock = true
	default:
		in.Target.AssigneeEmail = to
	}
	in.Confirmed = f.yes
	if in.Concurrency < 1 {
		return in, fmt.Errorf("--concurrency must be between 1 and %d", lifecycle.MaxReassignConcurrency)
	}
	if in.ConfirmAbove < 1 {
		return in, errors.New("--confirm-above must be at least 1: use --yes to skip the confirmation")
	}
	in = in.Normalized()
	if in.BatchID == "" {
		in.BatchID = lifecycle.DeriveBatchID(in)
	}
	return in, in.Validate()
}

func (f *reassignFlags) run(ctx context.Context, a *app) error {
	if err := f.check(); err != nil {
		return err
	}
	in, err := f.input()
	if err != nil {
		return usageError{err}
	}
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	opts := reassignStartOptions(in, a.taskQueue())
	sctx, report := withStartReport(ctx)
	run, err := conn.ExecuteWorkflow(sctx, opts, lifecycle.ReassignmentWorkflowName, in)
	if err != nil {
		return fmt.Errorf("cannot start %s: %w", opts.ID, err)
	}
	w := &watcher{a: a, conn: conn, batchID: in.BatchID, yes: f.yes, json: f.json}
	w.res = reassignResult{WorkflowID: run.GetID(), RunID: run.GetRunID(), BatchID: in.BatchID,
		AlreadyRunning: report.seen && !report.started, Namespace: conn.Namespace,
		UIURL: workflowURL(a.env("ATOMICFLOW_UI_URL", defaultUIURL), conn.Namespace, run.GetID())}
	if !f.json {
		if w.res.AlreadyRunning {
			fmt.Fprintf(a.stderr, "Batch %s is already running (run %s): watching it.\n", in.BatchID, run.GetRunID())
		} else {
			fmt.Fprintf(a.stderr, "Started %s (run %s).\n", run.GetID(), run.GetRunID())
		}
		fmt.Fprintf(a.stderr, "Temporal UI: %s\n", w.res.UIURL)
	}
	return w.watch(ctx)
}

// reassignStartOptions: a deterministic id, a repeat reaching the running batch, and a run after
// the end starting afresh (it skips what already moved).
func reassignStartOptions(in lifecycle.ReassignmentInput, taskQueue string) client.StartWorkflowOptions {
	target := "stock"
	if !in.Target.Stock {
		target = "a user"
	}
	mode := ""
	if in.DryRun {
		mode = " (dry run)"
	}
	return client.StartWorkflowOptions{
		ID:                       lifecycle.ReassignmentID(in.BatchID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(lifecycle.LifecycleStageKey.ValueSet(lifecycle.StageReassignPlanning)),
		// The UI shows these unencrypted by default: the batch id and counts, never emails or names.
		StaticSummary: fmt.Sprintf("Asset reassignment %s to %s%s", in.BatchID, target, mode),
		StaticDetails: fmt.Sprintf("**Batch:** %s  \n**Target:** %s  \n**Concurrency:** %d  \n**Started by:** `starter reassign`\n",
			in.BatchID, target, in.Concurrency),
	}
}

// reassignResult is what reassign prints with --json.
type reassignResult struct {
	WorkflowID     string                          `json:"workflow_id"`
	RunID          string                          `json:"run_id"`
	BatchID        string                          `json:"batch_id"`
	AlreadyRunning bool                            `json:"already_running"`
	Namespace      string                          `json:"namespace"`
	UIURL          string                          `json:"ui_url"`
	Status         string                          `json:"status"` // completed or failed
	Report         *lifecycle.ReassignmentReport   `json:"report,omitempty"`
	Progress       *lifecycle.ReassignmentProgress `json:"progress,omitempty"`
	Failure        string                          `json:"failure,omitempty"`
}

// watcher follows a batch until it ends: progress bar, confirmation prompt, report.
type watcher struct {
	a       *app
	conn    *connection
	batchID string
	yes     bool
	json    bool
	res     reassignResult

	bar       *progressbar.ProgressBar
	asked     bool
	noWorker  bool
	planShown bool
}

func (w *watcher) watch(ctx context.Context) error {
	type outcome struct {
		rep lifecycle.ReassignmentReport
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var rep lifecycle.ReassignmentReport
		err := w.conn.GetWorkflow(ctx, w.res.WorkflowID, "").Get(ctx, &rep) // follows continue-as-new
		done <- outcome{rep, err}
	}()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case o := <-done:
			return w.finish(ctx, o.rep, o.err)
		case <-ctx.Done():
			return w.detached()
		case <-tick.C:
			if err := w.poll(ctx); err != nil {
				return err
			}
		}
	}
}

// poll reads the progress, asks for confirmation when the batch waits for it, and draws the bar.
func (w *watcher) poll(ctx context.Context) error {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := w.conn.QueryWorkflow(qctx, w.res.WorkflowID, "", lifecycle.QueryProgress)
	var p lifecycle.ReassignmentProgress
	if err == nil {
		err = v.Get(&p)
	}
	if err != nil {
		if ctx.Err() == nil && !w.noWorker && !w.json {
			w.noWorker = true
			fmt.Fprintf(w.a.stderr, "No progress yet: %s. Still waiting...\n", w.whyNoProgress(ctx, qctx.Err() != nil, err))
		}
		return nil
	}
	w.res.Progress = &p
	w.showPlan(p)
	if p.Stage == lifecycle.StageReassignConfirming && !w.asked {
		w.asked = true
		return w.confirm(ctx, p)
	}
	w.draw(p)
	return nil
}

// whyNoProgress tells a busy worker (the query timed out although one polls) from none at all.
func (w *watcher) whyNoProgress(ctx context.Context, timedOut bool, err error) string {
	queue := w.a.taskQueue()
	if desc, derr := w.conn.DescribeWorkflowExecution(ctx, w.res.WorkflowID, ""); derr == nil {
		queue = desc.GetWorkflowExecutionInfo().GetTaskQueue()
	}
	tq, terr := w.conn.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	live, gone := pollersLive(tq, time.Now())
	switch {
	case terr == nil && !live:
		return fmt.Sprintf("no worker polls task queue %s%s: start one (make dev, or go run ./worker)", queue, gone)
	case terr == nil && timedOut:
		return fmt.Sprintf("the progress query got no answer within 5s although a worker polls task queue %s: the worker is busy", queue)
	}
	return fmt.Sprintf("the progress query failed (%v)", err)
}

func (w *watcher) draw(p lifecycle.ReassignmentProgress) {
	if w.json || p.Plan == nil || p.Stage == lifecycle.StageReassignConfirming {
		return
	}
	if w.bar == nil {
		w.bar = progressbar.NewOptions(max(p.Total, 1), progressbar.OptionSetWriter(w.a.stderr), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30), progressbar.OptionSetPredictTime(false), progressbar.OptionSetElapsedTime(false),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(true))
	}
	w.bar.ChangeMax(max(p.Total, 1))
	w.bar.Describe(describe(p))
	_ = w.bar.Set(p.Total - p.Remaining)
}

// describe is the bar's text: rate, ETA, and what is unusual.
func describe(p lifecycle.ReassignmentProgress) string {
	var parts []string
	if p.Rate > 0 {
		parts = append(parts, fmt.Sprintf("%.1f assets/s", p.Rate))
		if p.Remaining > 0 && !p.Paused { // a paused batch has no time left to tell
			parts = append(parts, "ETA "+(time.Duration(p.ETASeconds)*time.Second).String())
		}
	}
	if p.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", p.Failed))
	}
	if p.Paused {
		parts = append(parts, "PAUSED: "+p.PauseReason)
	}
	if p.Stage == lifecycle.StageReassignCancelling {
		parts = append(parts, "cancelling")
	}
	if p.Stage == lifecycle.StageReassignVerifying {
		parts = append(parts, "verifying")
	}
	if p.Unfinished > 0 {
		parts = append(parts, fmt.Sprintf("verification %d found %d still to do", p.Verifications, p.Unfinished))
	}
	return strings.Join(parts, ", ")
}

// showPlan prints the plan once, as soon as it is known: with --yes too, so what moves is seen.
func (w *watcher) showPlan(p lifecycle.ReassignmentProgress) {
	if w.planShown || w.json || p.Plan == nil {
		return
	}
	w.planShown = true
	printPlan(w.a.stderr, p)
}

// promptSteer steers a batch from the prompt: its worker has just answered the progress query.
var promptSteer = steerFlags{timeout: defaultSteerTimeout}

// confirm asks on stdin, unless --yes; yes confirms, anything else cancels.
func (w *watcher) confirm(ctx context.Context, p lifecycle.ReassignmentProgress) error {
	out := w.a.stderr
	if !w.yes {
		fmt.Fprintf(out, "Move these %d assets? [y/N] ", p.Total)
		answer, err := readLine(ctx)
		switch {
		case ctx.Err() != nil:
			return w.detached()
		case err != nil:
			fmt.Fprintln(out)
			return fmt.Errorf("no answer (%v): the batch waits for confirmation: run 'starter reassign confirm --batch-id %s' or 'cancel --batch-id %s'",
				err, w.batchID, w.batchID)
		case !strings.EqualFold(answer, "y") && !strings.EqualFold(answer, "yes"):
			_, err := sendUpdate(ctx, w.conn, w.a.stderr, promptSteer, w.res.WorkflowID, lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "not confirmed at the prompt"})
			return err // the result arrives as a cancelled report
		}
	}
	_, err := sendUpdate(ctx, w.conn, w.a.stderr, promptSteer, w.res.WorkflowID, lifecycle.UpdateConfirm, lifecycle.ConfirmRequest{Total: p.Total})
	return err
}

func printPlan(out io.Writer, p lifecycle.ReassignmentProgress) {
	if p.Plan == nil {
		return
	}
	fmt.Fprintf(out, "The selector matches %d assets. First ones:\n", p.Total)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ASSET\tLABEL\tTYPE\tASSIGNEE ID\tSTATUS")
	for _, s := range p.Plan.Sample {
		if s.Missing {
			fmt.Fprintf(tw, "  %d\t(not found)\t\t\t\n", s.AssetID)
			continue
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%d\t%s\n", s.AssetID, s.Label, s.AssetType, s.AssigneeID, s.Status)
	}
	_ = tw.Flush()
}

// readLine reads one answer from stdin, giving up when ctx ends (Ctrl-C).
func readLine(ctx context.Context) (string, error) {
	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && s != "" {
			err = nil // a last line without a newline
		}
		ch <- line{strings.TrimSpace(s), err}
	}()
	select {
	case l := <-ch:
		return l.s, l.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// detached says how to reattach after Ctrl-C: the batch goes on.
func (w *watcher) detached() error {
	if w.bar != nil {
		_ = w.bar.Exit()
		fmt.Fprintln(w.a.stderr)
	}
	return fmt.Errorf("stopped watching; the batch goes on. Reattach: starter reassign watch --batch-id %s (pause, resume, cancel: starter reassign pause --batch-id %s ...; UI: %s)",
		w.batchID, w.batchID, w.res.UIURL)
}

func (w *watcher) finish(ctx context.Context, rep lifecycle.ReassignmentReport, err error) error {
	if err == nil && rep.Outcome != lifecycle.OutcomeDryRun { // a dry run's report prints its plan
		w.showPlan(lifecycle.ReassignmentProgress{Total: rep.Total, Plan: &rep.Plan})
	}
	if w.bar != nil {
		if err == nil && rep.Outcome == lifecycle.OutcomeCompleted {
			w.bar.ChangeMax(max(rep.Total, 1))
			_ = w.bar.Set(rep.Total)
		}
		_ = w.bar.Exit()
		fmt.Fprintln(w.a.stderr)
	}
	var wfErr *temporal.WorkflowExecutionError
	switch {
	case err == nil:
		w.res.Status, w.res.Report = statusCompleted, &rep
	case ctx.Err() != nil:
		return w.detached()
	case errors.As(err, &wfErr):
		w.res.Status, w.res.Failure = statusFailed, failureMessage(wfErr)
	default:
		return fmt.Errorf("cannot get the result of %s: %w", w.res.WorkflowID, err)
	}
	if w.json {
		if err := writeJSON(w.a.stdout, w.res); err != nil {
			return err
		}
	} else if w.res.Report != nil {
		printReassignReport(w.a.stdout, *w.res.Report)
	}
	switch {
	case w.res.Status == statusFailed:
		return fmt.Errorf("%s failed: %s", w.res.WorkflowID, w.res.Failure)
	case rep.Outcome == lifecycle.OutcomeIncomplete:
		return fmt.Errorf("%s is incomplete: %s", w.res.WorkflowID, unfinishedText(rep.Unfinished, rep.Verifications))
	case rep.Failed > 0:
		return fmt.Errorf("%d of %d assets failed (listed in the report): fix them and run the same command again", rep.Failed, rep.Total)
	}
	return nil
}

// sendUpdate sends an update to a batch under the steering rules and returns its answer.
func sendUpdate(ctx context.Context, c client.Client, notes io.Writer, s steerFlags, workflowID, name string, arg any) (lifecycle.ReassignmentProgress, error) {
	var p lifecycle.ReassignmentProgress
	_, err := steer(ctx, c, notes, s, steerRequest{workflowID, name, arg}, &p)
	return p, err
}

// newReassignMessageCmd is pause, resume, cancel or confirm of a batch.
func newReassignMessageCmd(a *app, name, short, update string) *cobra.Command {
	var batchID, reason string
	var asJSON bool
	var sf steerFlags
	cmd := &cobra.Command{
		Use:   name + " --batch-id ID",
		Short: short,
		Long: short + `.

It waits at most --timeout for the batch to accept. With no worker polling its task queue it sends
nothing (unless --send-without-worker); a request sent but not accepted in time may still apply,
and the command says so and exits 3.`,
		Example: "  starter reassign " + name + " --batch-id r3f9a0c21d4e5",
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			var p flagProblems
			if !validBatchID(batchID) {
				p.add("--batch-id", fmt.Sprintf("%q is not a batch id (starter reassign prints it)", batchID))
			}
			p.text("--reason", "reason", reason)
			p.add("--timeout", sf.check())
			if err := p.err(); err != nil {
				return err
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			var arg any
			switch update {
			case lifecycle.UpdatePause:
				arg = lifecycle.PauseRequest{Reason: reason}
			case lifecycle.UpdateCancel:
				arg = lifecycle.CancelRequest{Reason: reason}
			case lifecycle.UpdateResume:
				arg = lifecycle.ResumeRequest{}
			default:
				arg = lifecycle.ConfirmRequest{}
			}
			prog, err := sendUpdate(cmd.Context(), conn, a.stderr, sf, lifecycle.ReassignmentID(batchID), update, arg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, prog)
			}
			fmt.Fprintf(a.stdout, "%s: %s. %d of %d handled (%d moved, %d skipped, %d failed), %d in flight.\n",
				lifecycle.ReassignmentID(batchID), strings.TrimPrefix(prog.Stage, "reassignment."), prog.Total-prog.Remaining, prog.Total,
				prog.Done, prog.Skipped, prog.Failed, prog.InFlight)
			fmt.Fprintf(a.stdout, "Watch it: starter reassign watch --batch-id %s\n", batchID)
			return nil
		}),
	}
	cmd.Flags().StringVar(&batchID, "batch-id", "", "the batch (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the batch's progress as JSON")
	sf.bind(cmd)
	if update == lifecycle.UpdatePause || update == lifecycle.UpdateCancel {
		cmd.Flags().StringVar(&reason, "reason", "", "why, for the report and the UI")
	}
	_ = cmd.MarkFlagRequired("batch-id")
	return cmd
}

func newReassignWatchCmd(a *app) *cobra.Command {
	var batchID string
	var yes, asJSON bool
	cmd := &cobra.Command{
		Use:   "watch --batch-id ID",
		Short: "Watch a batch until it ends (reattach after Ctrl-C)",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if !validBatchID(batchID) {
				return usageError{fmt.Errorf("--batch-id %q is not a batch id (starter reassign prints it)", batchID)}
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			id := lifecycle.ReassignmentID(batchID)
			desc, err := conn.DescribeWorkflowExecution(cmd.Context(), id, "")
			var notFound *serviceerror.NotFound
			if errors.As(err, &notFound) {
				return fmt.Errorf("no batch %s: check the id (starter reassign prints it)", batchID)
			}
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", id, err)
			}
			w := &watcher{a: a, conn: conn, batchID: batchID, yes: yes, json: asJSON}
			w.res = reassignResult{WorkflowID: id, RunID: desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), BatchID: batchID,
				Namespace: conn.Namespace, UIURL: workflowURL(a.env("ATOMICFLOW_UI_URL", defaultUIURL), conn.Namespace, id)}
			return w.watch(cmd.Context())
		}),
	}
	cmd.Flags().StringVar(&batchID, "batch-id", "", "the batch (required)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "confirm without asking if the batch waits for confirmation")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON, and no progress bar")
	_ = cmd.MarkFlagRequired("batch-id")
	return cmd
}

func validBatchID(id string) bool {
	in := lifecycle.ReassignmentInput{BatchID: id, Selector: lifecycle.AssetSelector{AssetIDs: []int64{1}}, Target: lifecycle.AssetTarget{Stock: true}}
	return in.Validate() == nil
}
