package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// moveRunning moves the running onboarding res reached to the flags' start date, unless it
// already starts then (read from its history: no worker needed for a repeated command).
func (f *onboardFlags) moveRunning(ctx context.Context, a *app, conn *connection, res *onboardResult) error {
	rctx, cancel := context.WithTimeout(ctx, f.steer.timeout)
	date, err := currentStartDate(rctx, conn, res.WorkflowID)
	cancel()
	if err != nil {
		return fmt.Errorf("%s is already running, and its start date cannot be read (%w): it was not moved to %s", res.WorkflowID, err, f.in.StartDate)
	}
	if date == f.in.StartDate {
		return nil
	}
	var st lifecycle.OnboardingStatus
	req := steerRequest{res.WorkflowID, lifecycle.UpdateSetStartDate, lifecycle.SetStartDateRequest{StartDate: f.in.StartDate}}
	if _, err := steer(ctx, conn.Client, a.stderr, f.steer, req, &st); err != nil {
		return fmt.Errorf("%s is already running with start date %s; moving it to %s: %w", res.WorkflowID, date, f.in.StartDate, err)
	}
	res.State = &st
	if !f.json {
		fmt.Fprintf(a.stderr, "Moved the start date of %s from %s to %s.\n", res.WorkflowID, date, f.in.StartDate)
	}
	return nil
}

// onboardSteerFlags are the flags the onboarding subcommands share.
type onboardSteerFlags struct{ employeeSteerFlags }

func (u *onboardSteerFlags) bind(cmd *cobra.Command) { u.employeeSteerFlags.bind(cmd, "hire") }

// send checks the shared flags and p's own problems, then sends one update to the running
// onboarding under the steering rules and prints its new state.
func (u *onboardSteerFlags) send(ctx context.Context, a *app, p flagProblems, name string, arg any) error {
	req := steerRequest{lifecycle.OnboardingID(u.employeeID), name, arg}
	return checkAndSteer(ctx, a, &u.employeeSteerFlags, p, req, printOnboardingState)
}

func newOnboardRescheduleCmd(a *app) *cobra.Command {
	u := &onboardSteerFlags{}
	var req lifecycle.SetStartDateRequest
	var allowPast bool
	cmd := &cobra.Command{
		Use:   "reschedule --employee-id ID --start-date YYYY-MM-DD",
		Short: "Move a running onboarding to another start date (earlier or later)",
		Long: `reschedule moves day one of a running onboarding: it begins at local midnight of the new date, in
the hire's time zone as the onboarding was started. The workflow rejects a move once day one has
begun. A date more than 30 days before today is refused unless --allow-past.

It waits at most --timeout for the workflow to accept. With no worker polling its task queue it
sends nothing (unless --send-without-worker); a request sent but not accepted in time may still
apply, and the command says so and exits 3.`,
		Example: `  starter onboard reschedule --employee-id E-2002 --start-date 2026-12-14
  starter onboard reschedule --employee-id E-2002 --start-date 2026-12-14 --timeout 30s --json`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			var p flagProblems
			if _, err := lifecycle.StartOfDay(req.StartDate, ""); err != nil {
				p.add("--start-date", err.Error())
			} else if days := pastStartDate(req.StartDate, "", a.clock()); days > maxOnboardPastDays && !allowPast {
				p.add("--start-date", fmt.Sprintf("%s is %d days before today (UTC), more than %d: fix the date, or add --allow-past if it is right",
					req.StartDate, days, maxOnboardPastDays))
			}
			return u.send(cmd.Context(), a, p, lifecycle.UpdateSetStartDate, req)
		}),
	}
	u.bind(cmd)
	cmd.Flags().StringVar(&req.StartDate, "start-date", "", "new first working day, YYYY-MM-DD (required)")
	cmd.Flags().BoolVar(&allowPast, "allow-past", false, fmt.Sprintf("accept a --start-date more than %d days before today", maxOnboardPastDays))
	_ = cmd.MarkFlagRequired("start-date") // cannot fail: the flag exists
	return cmd
}

func newOnboardCancelCmd(a *app) *cobra.Command {
	u := &onboardSteerFlags{}
	var req lifecycle.CancelRequest
	cmd := &cobra.Command{
		Use:   "cancel --employee-id ID --reason TEXT",
		Short: "Cancel a running onboarding: the hire will not start",
		Long: `cancel stops a running onboarding and undoes what it did (access, assets, the account it created),
leaving alone what the hire had before. The workflow rejects a cancel of a finished onboarding.

It waits at most --timeout for the workflow to accept. With no worker polling its task queue it
sends nothing (unless --send-without-worker); a request sent but not accepted in time may still
apply, and the command says so and exits 3.`,
		Example: `  starter onboard cancel --employee-id E-2002 --reason "offer withdrawn"`,
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			var p flagProblems
			if strings.TrimSpace(req.Reason) == "" {
				p.add("--reason", "say why (it is recorded on the onboarding request)")
			}
			p.text("--reason", "reason", req.Reason)
			return u.send(cmd.Context(), a, p, lifecycle.UpdateCancel, req)
		}),
	}
	u.bind(cmd)
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why, recorded on the onboarding request (required)")
	return cmd
}

func newOnboardRetryCmd(a *app) *cobra.Command {
	u := &onboardSteerFlags{}
	cmd := &cobra.Command{
		Use:   "retry --employee-id ID",
		Short: "Run again the step a blocked onboarding failed on",
		Long: `retry runs again the step an onboarding is blocked on: a step that failed for good (a grant the
API refused, an entitlement withdrawn after planning, ...) holds the run in onboarding.blocked, with
a note on the onboarding request, until an operator fixes the cause and retries, or cancels (which
undoes what the onboarding did). If the step fails again, the run blocks again with a new note.
The workflow rejects a retry of an onboarding that is not blocked on a failed step.

It waits at most --timeout for the workflow to accept. With no worker polling its task queue it
sends nothing (unless --send-without-worker); a request sent but not accepted in time may still
apply, and the command says so and exits 3.`,
		Example: `  starter onboard retry --employee-id E-2002`,
		Args:    cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			return u.send(cmd.Context(), a, flagProblems{}, lifecycle.UpdateRetry, lifecycle.RetryRequest{})
		}),
	}
	u.bind(cmd)
	return cmd
}
