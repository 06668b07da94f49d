package main

import (
	"context"
	"errors"
	"fmt"
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

// onboardFlags are the onboard command's flags; the input fields bind directly.
type onboardFlags struct {
	in        lifecycle.OnboardingInput
	wait      bool
	json      bool
	allowPast bool
	steer     steerFlags
}

func newOnboardCmd(a *app) *cobra.Command {
	f := &onboardFlags{}
	cmd := &cobra.Command{
		Use:   "onboard --employee-id ID --email EMAIL --first-name NAME --last-name NAME --start-date YYYY-MM-DD",
		Short: "Start (or reach and move) the onboarding of a new hire, and steer it",
		Long: `onboard starts the onboarding workflow of a new hire: an Atomicwork user, an onboarding request,
access and assets, all ready on day one.

The workflow id is onboarding-<employee id>, so repeating the command reaches the running
onboarding instead of starting a second one, and a completed onboarding is not run again (a failed
one is). A running onboarding reached with a --start-date is moved to it (its other settings stay
as they were started). Entitlements and asset types come from the worker's provisioning policy
unless --entitlement or --asset-type name them.

A start date before today (in the hire's zone) is accepted with a warning: provisioning late does
no harm. More than 30 days before today is refused unless --allow-past: it is likely a typo.

The subcommands reschedule and cancel steer a running onboarding. Like moving it, they wait at most
--timeout for the workflow to accept; with no worker polling its task queue they send nothing
(unless --send-without-worker); a request sent but not accepted in time may still apply, and the
command says so and exits 3.`,
		Example: `  starter onboard --employee-id E-2002 --email ada@example.com --first-name Ada --last-name Lovelace \
    --start-date 2026-12-01 --department Engineering --title "Software Engineer" --timezone Europe/London

  # explicit access instead of the policy, and wait for day one to be ready
  starter onboard --employee-id E-1002 --email bo@example.com --first-name Bo --last-name Li \
    --start-date 2026-12-01 --entitlement okta-base --entitlement slack-member --asset-type Laptop --wait`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error { return f.run(cmd.Context(), a) }),
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.allowPast, "allow-past", false, fmt.Sprintf("accept a --start-date more than %d days before today", maxOnboardPastDays))
	f.steer.bind(cmd)
	fl.StringVar(&f.in.EmployeeID, "employee-id", "", "HR employee id, an opaque id (required)")
	fl.StringVar(&f.in.Email, "email", "", "work email address (required)")
	fl.StringVar(&f.in.FirstName, "first-name", "", "first name (required)")
	fl.StringVar(&f.in.LastName, "last-name", "", "last name (required)")
	fl.StringVar(&f.in.StartDate, "start-date", "", "first working day, YYYY-MM-DD (required)")
	fl.StringVar(&f.in.Title, "title", "", "job title (matches policy rules)")
	fl.StringVar(&f.in.Department, "department", "", "department (matches policy rules)")
	fl.StringVar(&f.in.ManagerEmail, "manager-email", "", "manager's email address")
	fl.StringVar(&f.in.TimeZone, "timezone", "", "IANA time zone of the hire, e.g. Europe/Paris (default UTC)")
	fl.Int64Var(&f.in.WorkspaceID, "workspace-id", 0, "Atomicwork workspace id (default: the worker's default workspace)")
	fl.StringArrayVar(&f.in.Entitlements, "entitlement", nil, "entitlement `name` to grant instead of the policy's (repeatable)")
	fl.StringArrayVar(&f.in.AssetTypes, "asset-type", nil, "asset type `name` to assign instead of the policy's (repeatable)")
	fl.BoolVar(&f.wait, "wait", false, "wait until the onboarding finishes and print its result")
	fl.BoolVar(&f.json, "json", false, "print JSON instead of text")
	for _, name := range []string{"employee-id", "email", "first-name", "last-name", "start-date"} {
		_ = cmd.MarkFlagRequired(name) // cannot fail: the flags exist
	}
	cmd.AddCommand(newOnboardRescheduleCmd(a), newOnboardCancelCmd(a), newOnboardRetryCmd(a))
	return cmd
}

// check names every bad flag with the shared field rules, and the start date's distance in the
// past: a warning (returned) up to maxOnboardPastDays, refused beyond unless --allow-past.
func (f *onboardFlags) check(now time.Time) (warning string, err error) {
	in := f.in
	var p flagProblems
	p.add("--employee-id", lifecycle.EmployeeIDProblem(in.EmployeeID))
	p.email("--email", in.Email, true)
	if strings.TrimSpace(in.FirstName) == "" {
		p.add("--first-name", "first name is empty")
	}
	p.text("--first-name", "first name", in.FirstName)
	p.text("--last-name", "last name", in.LastName)
	p.text("--title", "title", in.Title)
	p.text("--department", "department", in.Department)
	p.email("--manager-email", in.ManagerEmail, false)
	zoneProblem := lifecycle.TimeZoneProblem(in.TimeZone)
	p.add("--timezone", zoneProblem)
	for _, e := range in.Entitlements {
		p.text("--entitlement", "entitlement", e)
	}
	for _, t := range in.AssetTypes {
		p.text("--asset-type", "asset type", t)
	}
	if in.WorkspaceID < 0 {
		p.add("--workspace-id", "workspace id is negative: omit it for the worker's default workspace")
	}
	p.add("--timeout", f.steer.check())
	if _, err := lifecycle.StartOfDay(in.StartDate, ""); err != nil {
		p.add("--start-date", err.Error())
	} else if zoneProblem == "" {
		warning = f.pastStart(&p, now)
	}
	if err := p.err(); err != nil {
		return "", err
	}
	if err := in.Validate(); err != nil { // the workflow's own rules, in case they say more
		return "", usageError{err}
	}
	return warning, nil
}

// pastStart warns about a start date before today, and refuses one too far back.
func (f *onboardFlags) pastStart(p *flagProblems, now time.Time) string {
	days := pastStartDate(f.in.StartDate, f.in.TimeZone, now)
	today := localToday(now, f.in.TimeZone)
	switch {
	case days == 0:
		return ""
	case days > maxOnboardPastDays && !f.allowPast:
		p.add("--start-date", fmt.Sprintf("%s is %d days before today (%s in %s), more than %d: fix the date, or add --allow-past if it is right",
			f.in.StartDate, days, today, zoneName(f.in.TimeZone), maxOnboardPastDays))
		return ""
	}
	return fmt.Sprintf("Warning: the start date %s is %d day(s) before today (%s in %s): the hire is provisioned at once, late.",
		f.in.StartDate, days, today, zoneName(f.in.TimeZone))
}

// run validates the input before dialing, so bad flags never reach Temporal.
func (f *onboardFlags) run(ctx context.Context, a *app) error {
	warning, err := f.check(a.clock())
	if err != nil {
		return err
	}
	if warning != "" {
		fmt.Fprintln(a.stderr, warning)
	}
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	res, err := startOnboarding(ctx, conn.Client, a.taskQueue(), f.in)
	if err != nil {
		return err
	}
	res.Namespace = conn.Namespace
	res.UIURL = workflowURL(a.env("ATOMICFLOW_UI_URL", defaultUIURL), conn.Namespace, res.WorkflowID)
	if res.AlreadyRunning {
		if err := f.moveRunning(ctx, a, conn, &res); err != nil {
			if !f.json {
				printStarted(a.stdout, res)
			}
			return err
		}
	}
	if !f.json {
		printStarted(a.stdout, res)
	}
	if f.wait {
		if !f.json {
			fmt.Fprintln(a.stderr, "Waiting for the onboarding to finish (Ctrl-C stops waiting, not the onboarding)...")
		}
		if err := waitOnboarding(ctx, conn.Client, &res); err != nil {
			return err
		}
		if !f.json {
			printResult(a.stdout, res)
		}
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

// Statuses of an onboardResult.
const (
	statusRunning   = "running"
	statusCompleted = "completed"
	statusFailed    = "failed"
)

// onboardResult is what onboard prints (its JSON is the --json output).
type onboardResult struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// AlreadyRunning: the start reached a running onboarding; nothing new was started.
	AlreadyRunning bool `json:"already_running"`
	// AlreadyCompleted: the onboarding completed before; it is not run again.
	AlreadyCompleted bool   `json:"already_completed"`
	Namespace        string `json:"namespace"`
	UIURL            string `json:"ui_url"`
	// State is the running onboarding's answer to the start date it was moved to (AlreadyRunning).
	State *lifecycle.OnboardingStatus `json:"state,omitempty"`
	// Status is running, completed or failed; Result and Failure are set with --wait.
	Status  string                      `json:"status"`
	Result  *lifecycle.OnboardingResult `json:"result,omitempty"`
	Failure string                      `json:"failure,omitempty"`
}

// onboardingStartOptions are the start options of an onboarding: a deterministic id, a repeat
// reaching the running run, and no redo of a completed one.
func onboardingStartOptions(in lifecycle.OnboardingInput, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       lifecycle.OnboardingID(in.EmployeeID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		// A completed onboarding comes back as an error, told apart from a running one.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			lifecycle.EmployeeIDKey.ValueSet(in.EmployeeID),
			lifecycle.LifecycleStageKey.ValueSet(lifecycle.StagePlanning),
		),
		// The UI shows these unencrypted by default: ids and dates only, never names or emails.
		StaticSummary: fmt.Sprintf("Onboarding %s · day one %s", in.EmployeeID, in.StartDate),
		StaticDetails: onboardingDetails(in),
	}
}

func onboardingDetails(in lifecycle.OnboardingInput) string {
	ws := "the worker's default"
	if in.WorkspaceID != 0 {
		ws = strconv.FormatInt(in.WorkspaceID, 10)
	}
	tz := in.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Employee id:** %s  \n", in.EmployeeID)
	fmt.Fprintf(&b, "**Day one:** %s (%s)  \n", in.StartDate, tz)
	fmt.Fprintf(&b, "**Atomicwork workspace:** %s  \n", ws)
	b.WriteString("**Started by:** `starter onboard`\n")
	return b.String()
}

// startOnboarding starts the onboarding or reaches the existing one.
func startOnboarding(ctx context.Context, c client.Client, taskQueue string, in lifecycle.OnboardingInput) (onboardResult, error) {
	opts := onboardingStartOptions(in, taskQueue)
	ctx, report := withStartReport(ctx)
	run, err := c.ExecuteWorkflow(ctx, opts, lifecycle.OnboardingWorkflowName, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &already):
		return onboardResult{WorkflowID: opts.ID, RunID: already.RunId, AlreadyCompleted: true, Status: statusCompleted}, nil
	case err != nil:
		return onboardResult{}, fmt.Errorf("cannot start %s: %w", opts.ID, err)
	}
	return onboardResult{
		WorkflowID:     run.GetID(),
		RunID:          run.GetRunID(),
		AlreadyRunning: report.seen && !report.started,
		Status:         statusRunning,
	}, nil
}

// waitOnboarding waits for the run's end and records its result or failure in res.
func waitOnboarding(ctx context.Context, c client.Client, res *onboardResult) error {
	return waitResult(ctx, c, "onboarding", res.WorkflowID, res.RunID, res.UIURL, &res.Status, &res.Result, &res.Failure)
}

// waitResult waits for a run's end and sets status with either result or failure. Stopping the wait
// (ctx ended) is an error that says the workflow goes on.
func waitResult[T any](ctx context.Context, c client.Client, what, workflowID, runID, uiURL string, status *string, result **T, failure *string) error {
	var out T
	err := c.GetWorkflow(ctx, workflowID, runID).Get(ctx, &out)
	switch {
	case err == nil:
		*status, *result = statusCompleted, &out
	case ctx.Err() != nil:
		return fmt.Errorf("stopped waiting; the %s goes on: follow it at %s", what, uiURL)
	default:
		var wfErr *temporal.WorkflowExecutionError
		if !errors.As(err, &wfErr) {
			return fmt.Errorf("cannot get the result of %s: %w", workflowID, err)
		}
		*status, *failure = statusFailed, failureMessage(wfErr)
	}
	return nil
}

// failureMessage is the cause of a workflow failure, with its error type when it has one. An
// encrypted failure read without the keys says which variable to set.
func failureMessage(err *temporal.WorkflowExecutionError) string {
	cause := errors.Unwrap(err)
	if cause == nil {
		return err.Error()
	}
	var app *temporal.ApplicationError
	msg, errType := cause.Error(), ""
	if errors.As(cause, &app) {
		msg, errType = app.Message(), app.Type()
	}
	if msg == encodedFailure {
		if errType != "" {
			return fmt.Sprintf("encrypted [%s]: %s", errType, codecKeysHint)
		}
		return "encrypted: " + codecKeysHint
	}
	if errType != "" {
		return fmt.Sprintf("%s [%s]", msg, errType)
	}
	return cause.Error()
}
