package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// offboardFlags are the offboard command's flags; most input fields bind directly.
type offboardFlags struct {
	in          lifecycle.OffboardingInput
	assets      string // return, manager or user:<email>
	graceDays   int
	gracePeriod time.Duration
	wait        bool
	json        bool
	allowPast   bool
	timeout     time.Duration
}

func newOffboardCmd(a *app) *cobra.Command {
	f := &offboardFlags{}
	cmd := &cobra.Command{
		Use:   "offboard --employee-id ID --email EMAIL --last-day YYYY-MM-DD",
		Short: "Schedule (or move) the offboarding of a leaver, and steer it",
		Long: `offboard schedules the offboarding workflow of a leaver: at the end of the last working day in
the employee's time zone (18:00 unless --end-of-day says otherwise) every grant is revoked and
deprovisioned, every asset reclaimed, and after the grace period the account is deleted.

The workflow id is offboarding-<employee id>, and the command reaches a running offboarding instead
of starting a second one: a new --last-day becomes a reschedule of that run, and --now offboards it
at once. Only the date (and --now) reaches a running offboarding; its other settings stay as they
were started. A last day before today (in the employee's zone) is refused unless --now or
--allow-past says it is meant: it would offboard at once; a last day ending earlier today
offboards at once. A completed offboarding is not
run again, unless its termination was cancelled or the employee rehired: then this is a new
departure and starts a new run.

The subcommands reschedule, now, cancel and rehire steer a running offboarding and print its new
state. The workflow checks each request; a request it rejects (a rehire before anything was
revoked) exits 1 with its reason and changes nothing. Each waits at most --timeout for the
workflow to accept: with no worker polling its task queue it sends nothing (unless
--send-without-worker), and a request sent but not accepted in time may still apply: the command
says so and exits 3 (check with starter status offboarding-<employee id>).`,
		Example: `  starter offboard --employee-id E-1004 --email ana.diaz@example.com --last-day 2026-12-18 \
    --timezone America/Los_Angeles

  # laptop and phone go to the manager; the account is deleted 7 days after the last day
  starter offboard --employee-id E-02 --email bo@example.com --last-day 2026-12-18 --assets manager --grace-days 7

  # devices to a named colleague, access ends at noon local time
  starter offboard --employee-id E-03 --email cy@example.com --last-day 2026-12-18 --end-of-day 12:00 \
    --timezone Asia/Kolkata --assets user:dee@example.com

  # offboard at once, and wait until it is done
  starter offboard --employee-id E-04 --email ed@example.com --now --grace-days 0 --wait`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error { return f.run(cmd, a) }),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.in.EmployeeID, "employee-id", "", "HR employee id, an opaque id (required)")
	fl.StringVar(&f.in.Email, "email", "", "the leaver's work email address (required)")
	fl.StringVar(&f.in.LastDay, "last-day", "", "last working day, YYYY-MM-DD (required unless --now; default with --now: today)")
	fl.StringVar(&f.in.TimeZone, "timezone", "", "IANA time zone of the employee, e.g. America/Los_Angeles (default UTC)")
	fl.StringVar(&f.in.EndOfDay, "end-of-day", "", "when the last day ends, HH:MM local time (default "+lifecycle.DefaultEndOfDay+")")
	fl.StringVar(&f.assets, "assets", "", "what happens to the leaver's assets: return (to stock), manager, or user:<email> (default return)")
	fl.BoolVar(&f.in.Immediate, "now", false, "offboard now instead of at the end of the last day")
	fl.IntVar(&f.graceDays, "grace-days", lifecycle.DefaultGraceDays, "days the account is kept before deletion; 0 never deletes")
	fl.DurationVar(&f.gracePeriod, "grace-period", 0, "exact grace period such as 10m, overriding --grace-days (demos and tests)")
	fl.Int64Var(&f.in.WorkspaceID, "workspace-id", 0, "Atomicwork workspace id (default: the worker's default workspace)")
	fl.BoolVar(&f.wait, "wait", false, "wait until the offboarding finishes, grace period included, and print its result")
	fl.BoolVar(&f.json, "json", false, "print JSON instead of text")
	fl.BoolVar(&f.allowPast, "allow-past", false, "accept a --last-day before today: the leaver is offboarded at once")
	fl.DurationVar(&f.timeout, "timeout", defaultSteerTimeout, "how long to wait for the workflow to answer the start (or the move of a running one)")
	for _, name := range []string{"employee-id", "email"} {
		_ = cmd.MarkFlagRequired(name) // cannot fail: the flags exist
	}
	cmd.AddCommand(newOffboardSubcommands(a)...)
	return cmd
}

// input completes the bound flags into the workflow input; the caller validates it.
func (f *offboardFlags) input(cmd *cobra.Command, now time.Time) (lifecycle.OffboardingInput, error) {
	in := f.in
	if in.LastDay == "" {
		if !in.Immediate {
			return in, errors.New(`required flag(s) "last-day" not set (or use --now)`)
		}
		if loc, err := time.LoadLocation(in.TimeZone); err == nil { // a bad zone is reported by Validate
			in.LastDay = now.In(loc).Format(time.DateOnly)
		}
	}
	in.Assets, in.AssetsTo = parseAssets(f.assets)
	if cmd.Flags().Changed("grace-days") {
		in.GraceDays = &f.graceDays
	}
	in.GracePeriod = f.gracePeriod
	return in, nil
}

// parseAssets maps --assets to the input's disposition: user:<email> names the recipient.
func parseAssets(v string) (disposition, to string) {
	if rest, ok := strings.CutPrefix(v, lifecycle.AssetsUser+":"); ok {
		return lifecycle.AssetsUser, rest
	}
	return v, ""
}

// check names every bad flag with the shared field rules, and refuses a past last day unless
// --now or --allow-past says it is meant.
func (f *offboardFlags) check(in lifecycle.OffboardingInput, now time.Time) error {
	var p flagProblems
	p.add("--employee-id", lifecycle.EmployeeIDProblem(in.EmployeeID))
	p.email("--email", in.Email, true)
	zoneProblem := lifecycle.TimeZoneProblem(in.TimeZone)
	p.add("--timezone", zoneProblem)
	if _, err := lifecycle.EndOfWorkingDay(in.LastDay, "", ""); err != nil {
		p.add("--last-day", err.Error())
	} else if zoneProblem == "" && !in.Immediate && !f.allowPast {
		p.add("--last-day", pastLastDayProblem(in.LastDay, in.TimeZone, now))
	}
	if _, err := lifecycle.EndOfWorkingDay(time.DateOnly, in.EndOfDay, ""); err != nil {
		p.add("--end-of-day", err.Error())
	}
	switch in.Assets {
	case "", lifecycle.AssetsReturn, lifecycle.AssetsManager:
	case lifecycle.AssetsUser:
		if !lifecycle.IsEmail(in.AssetsTo) {
			p.add("--assets", fmt.Sprintf("user:%s: the recipient's email is missing or not an email address: give user:<email>", in.AssetsTo))
		}
	default:
		p.add("--assets", fmt.Sprintf("assets %q: use return, manager or user:<email>", in.Assets))
	}
	if in.GraceDays != nil && *in.GraceDays < 0 {
		p.add("--grace-days", "grace days is negative: use 0 to never delete the account")
	}
	if in.GracePeriod < 0 {
		p.add("--grace-period", "grace period is negative")
	}
	if in.WorkspaceID < 0 {
		p.add("--workspace-id", "workspace id is negative: omit it for the worker's default workspace")
	}
	if f.timeout <= 0 {
		p.add("--timeout", fmt.Sprintf("%s: give a positive duration such as 10s", f.timeout))
	}
	if err := p.err(); err != nil {
		return err
	}
	if err := in.Validate(); err != nil { // the workflow's own rules, in case they say more
		return usageError{err}
	}
	return nil
}

// run validates the input before dialing, so bad flags never reach Temporal.
func (f *offboardFlags) run(cmd *cobra.Command, a *app) error {
	ctx := cmd.Context()
	now := a.clock()
	in, err := f.input(cmd, now)
	if err != nil {
		return usageError{err}
	}
	if err := f.check(in, now); err != nil {
		return err
	}
	upd, note := offboardingUpdate(in, now)
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	sctx, cancel := context.WithTimeout(ctx, f.timeout)
	res, err := startOffboarding(sctx, conn.Client, a.taskQueue(), in, upd)
	timedOut := sctx.Err() != nil || waitEnded(err)
	cancel()
	if err != nil && timedOut {
		id := lifecycle.OffboardingID(in.EmployeeID)
		return pendingError{fmt.Errorf("the offboarding %s (with %s) was sent, but no worker answered within %s: it applies when a worker gets to it; "+
			"check with: starter status %s (is a worker polling task queue %s?)", id, upd.name, f.timeout, id, a.taskQueue())}
	}
	if err != nil {
		return err
	}
	res.Namespace = conn.Namespace
	res.UIURL = workflowURL(a.env("ATOMICFLOW_UI_URL", defaultUIURL), conn.Namespace, res.WorkflowID)
	if res.AlreadyRunning && res.State != nil {
		if tz, ran := zoneName(in.TimeZone), zoneName(res.State.TimeZone); tz != ran {
			fmt.Fprintf(a.stderr, "Note: the running offboarding keeps its time zone %s; --timezone %s was not applied.\n", ran, tz)
		}
	}
	if note != "" && !res.AlreadyCompleted {
		fmt.Fprintln(a.stderr, "Note: "+note)
	}
	if !f.json {
		printOffboardStarted(a.stdout, res)
	}
	if f.wait && res.Status == statusRunning {
		if !f.json {
			fmt.Fprintln(a.stderr, "Waiting for the offboarding to finish, grace period included (Ctrl-C stops waiting, not the offboarding)...")
		}
		if err := waitOffboarding(ctx, conn.Client, &res); err != nil {
			return err
		}
	}
	if !f.json && f.wait {
		printOffboardResult(a.stdout, res.Result)
	}
	if f.json {
		if err := writeJSON(a.stdout, res); err != nil {
			return err
		}
	}
	if res.Status == statusFailed {
		return fmt.Errorf("%s failed: %s", res.WorkflowID, res.Failure)
	}
	return nil
}

// offboardUpdate is the update an offboard command sends with its start: the flags' date as a
// reschedule (a no-op for a run already scheduled then, or the one this call starts), or
// revoke_now with --now or a last day that has already ended. note explains the latter.
type offboardUpdate struct {
	name string
	arg  any
}

func offboardingUpdate(in lifecycle.OffboardingInput, now time.Time) (upd offboardUpdate, note string) {
	if in.Immediate {
		return offboardUpdate{lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{Reason: "starter offboard --now"}}, ""
	}
	at, _ := lifecycle.EndOfWorkingDay(in.LastDay, in.EndOfDay, in.TimeZone) // validated by the caller
	if !at.After(now) {
		reason := fmt.Sprintf("the last day %s ended at %s, before the command ran", in.LastDay, at.UTC().Format(time.RFC3339))
		return offboardUpdate{lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{Reason: reason}}, reason + ": offboarding now."
	}
	return offboardUpdate{lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: in.LastDay, EndOfDay: endOfDay(in.EndOfDay)}}, ""
}

func endOfDay(v string) string {
	if v == "" {
		return lifecycle.DefaultEndOfDay
	}
	return v
}

func zoneName(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}

// offboardResult is what offboard prints (its JSON is the --json output).
type offboardResult struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// AlreadyRunning: the command reached a running offboarding; nothing new was started.
	AlreadyRunning bool `json:"already_running"`
	// AlreadyCompleted: the offboarding completed before; it is not run again.
	AlreadyCompleted bool   `json:"already_completed"`
	Namespace        string `json:"namespace"`
	UIURL            string `json:"ui_url"`
	// Update is the update sent with the start (reschedule or revoke_now), State its answer;
	// both are empty when the offboarding had already completed.
	Update string                       `json:"update,omitempty"`
	State  *lifecycle.OffboardingStatus `json:"state,omitempty"`
	// Status is running, completed or failed; Result and Failure are set with --wait.
	Status  string                       `json:"status"`
	Result  *lifecycle.OffboardingResult `json:"result,omitempty"`
	Failure string                       `json:"failure,omitempty"`
}

// offboardingStartOptions are the start options of an offboarding: a deterministic id, a repeat
// reaching the running run, and no redo of a completed one (see startOffboarding for the exception).
func offboardingStartOptions(in lifecycle.OffboardingInput, taskQueue string) client.StartWorkflowOptions {
	summary := fmt.Sprintf("Offboarding %s · last day %s %s", in.EmployeeID, in.LastDay, zoneName(in.TimeZone))
	if in.Immediate {
		summary += " · immediate"
	}
	return client.StartWorkflowOptions{
		ID:                       lifecycle.OffboardingID(in.EmployeeID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			lifecycle.EmployeeIDKey.ValueSet(in.EmployeeID),
			lifecycle.LifecycleStageKey.ValueSet(lifecycle.StageOffPlanning),
		),
		// The UI shows these unencrypted by default: ids, dates and settings only, never names or emails.
		StaticSummary: summary,
		StaticDetails: offboardingDetails(in),
	}
}

func offboardingDetails(in lifecycle.OffboardingInput) string {
	ws := "the worker's default"
	if in.WorkspaceID != 0 {
		ws = strconv.FormatInt(in.WorkspaceID, 10)
	}
	assets := in.Assets
	switch assets {
	case "":
		assets = lifecycle.AssetsReturn
	case lifecycle.AssetsUser:
		assets = "to a named user" // the recipient's email stays in the (encrypted) input
	}
	grace := "never deleted"
	if d := in.Grace(); d > 0 {
		grace = "deleted " + formatGrace(d) + " after offboarding"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Employee id:** %s  \n", in.EmployeeID)
	fmt.Fprintf(&b, "**Last day:** %s, access ends %s (%s)  \n", in.LastDay, endOfDay(in.EndOfDay), zoneName(in.TimeZone))
	if in.Immediate {
		b.WriteString("**Immediate:** yes  \n")
	}
	fmt.Fprintf(&b, "**Assets:** %s  \n", assets)
	fmt.Fprintf(&b, "**Account:** %s  \n", grace)
	fmt.Fprintf(&b, "**Atomicwork workspace:** %s  \n", ws)
	b.WriteString("**Started by:** `starter offboard`\n")
	return b.String()
}

func formatGrace(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		days := int(d / (24 * time.Hour))
		if days == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", days)
	}
	return d.String()
}

// startOffboarding starts the offboarding with the update, or sends the update to the running
// one (Update-with-Start), and returns the update's answer. The update id is left to the SDK, which
// keeps it across its own retries of the call; a repeated command sends a new update, which the
// workflow answers as a no-op when it changes nothing. (An id derived from the date would answer a
// move back to an earlier date, A → B → A, with the stale result of the first A.)
func startOffboarding(ctx context.Context, c client.Client, taskQueue string, in lifecycle.OffboardingInput, upd offboardUpdate) (offboardResult, error) {
	opts := offboardingStartOptions(in, taskQueue)
	res, err := updateWithStart(ctx, c, opts, in, upd)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &already) {
		return res, err
	}
	// The last run completed. A cancelled termination or a rehire left the employee active, so this
	// is a new departure; any other completed offboarding is not run again.
	var prev lifecycle.OffboardingResult
	if err := c.GetWorkflow(ctx, opts.ID, already.RunId).Get(ctx, &prev); err != nil {
		return offboardResult{}, fmt.Errorf("%s ran before (run %s) and its result cannot be read: %w", opts.ID, already.RunId, err)
	}
	if prev.Outcome == lifecycle.OutcomeCancelled || prev.Outcome == lifecycle.OutcomeRehired {
		opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
		return updateWithStart(ctx, c, opts, in, upd)
	}
	return offboardResult{WorkflowID: opts.ID, RunID: already.RunId, AlreadyCompleted: true, Status: statusCompleted, Result: &prev}, nil
}

func updateWithStart(ctx context.Context, c client.Client, opts client.StartWorkflowOptions, in lifecycle.OffboardingInput, upd offboardUpdate) (offboardResult, error) {
	ctx, report := withStartReport(ctx)
	op := c.NewWithStartWorkflowOperation(opts, lifecycle.OffboardingWorkflowName, in)
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   upd.name,
			Args:         []any{upd.arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &already):
		return offboardResult{}, already
	case err != nil:
		return offboardResult{}, fmt.Errorf("cannot start or reach %s: %w", opts.ID, err)
	}
	run, err := op.Get(ctx)
	if err != nil {
		return offboardResult{}, fmt.Errorf("cannot start or reach %s: %w", opts.ID, err)
	}
	res := offboardResult{
		WorkflowID:     run.GetID(),
		RunID:          run.GetRunID(),
		AlreadyRunning: report.seen && !report.started,
		Update:         upd.name,
		Status:         statusRunning,
	}
	var st lifecycle.OffboardingStatus
	if err := h.Get(ctx, &st); err != nil {
		if res.AlreadyRunning {
			return res, updateFailure(opts.ID, upd.name, err, "the offboarding goes on unchanged")
		}
		return res, updateFailure(opts.ID, upd.name, err, fmt.Sprintf("the offboarding started (run %s) with the input's own date", res.RunID))
	}
	res.State = &st
	return res, nil
}

// waitOffboarding waits for the run's end and records its result or failure in res.
func waitOffboarding(ctx context.Context, c client.Client, res *offboardResult) error {
	return waitResult(ctx, c, "offboarding", res.WorkflowID, res.RunID, res.UIURL, &res.Status, &res.Result, &res.Failure)
}

// updateFailure says why an update failed: the workflow's own reason when it rejected it.
func updateFailure(workflowID, update string, err error, after string) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return fmt.Errorf("%s rejected %s: %s (%s)", workflowID, update, app.Message(), after)
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("%s is not running (never started, or already finished): nothing to %s; start one with `starter offboard`", workflowID, update)
	}
	return fmt.Errorf("%s: %s failed: %w", workflowID, update, err)
}

// Printing.

// printOffboardStarted says what the command did, the resulting schedule and where to watch it.
func printOffboardStarted(w io.Writer, res offboardResult) {
	switch {
	case res.AlreadyCompleted:
		outcome := ""
		if res.Result != nil {
			outcome = ", outcome " + res.Result.Outcome
		}
		fmt.Fprintf(w, "%s already completed (run %s%s): a completed offboarding is not run again.\n", res.WorkflowID, res.RunID, outcome)
	case res.AlreadyRunning:
		fmt.Fprintf(w, "%s is already running (run %s): this command reached it with %s; nothing new was started.\n",
			res.WorkflowID, res.RunID, res.Update)
	default:
		fmt.Fprintf(w, "Started %s (run %s).\n", res.WorkflowID, res.RunID)
	}
	if res.State != nil {
		printOffboardingState(w, *res.State)
	}
	fmt.Fprintf(w, "Temporal UI: %s\n", res.UIURL)
}

// printOffboardResult prints a finished offboarding; a failure is reported by the exit path instead.
func printOffboardResult(w io.Writer, r *lifecycle.OffboardingResult) {
	if r != nil {
		writeLines(w, offboardingResultLines(*r))
	}
}
