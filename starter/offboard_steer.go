package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
)

// Steering a running offboarding: reschedule, now, cancel and rehire each send it one update
// under the steering rules and print its new state. Each is one entry of offboardSubcommands:
// its help, and the flags it adds to the shared ones.

// offboardSubcommand is one subcommand of starter offboard.
type offboardSubcommand struct {
	use, short, long, example string
	// flags binds the subcommand's own flags on cmd and returns its run.
	flags func(cmd *cobra.Command) offboardRun
}

// offboardRun checks the subcommand's flags and sends its update to the leaver's offboarding.
type offboardRun func(ctx context.Context, a *app, u *offboardUpdateFlags) error

var offboardSubcommands = []offboardSubcommand{
	{
		use:   "reschedule --employee-id ID --last-day YYYY-MM-DD",
		short: "Move a running offboarding to another last working day (earlier or later)",
		long: `reschedule moves the termination of a running offboarding: access ends at the end of the new
last day, in the employee's time zone as the offboarding was started. A new end that has already
passed (a day before today, or today after its end of day) is refused unless --allow-past: then
the leaver is offboarded at once. The workflow rejects a reschedule after the revocation has begun.

It waits at most --timeout for the workflow to accept. With no worker polling its task queue it
sends nothing (unless --send-without-worker); a request sent but not accepted in time may still
apply, and the command says so and exits 3.`,
		example: `  starter offboard reschedule --employee-id E-1004 --last-day 2026-12-23
  starter offboard reschedule --employee-id E-1004 --last-day 2026-12-23 --end-of-day 12:00 --json`,
		flags: rescheduleFlags,
	},
	{
		use:   "now --employee-id ID",
		short: "Offboard a running offboarding at once instead of at the end of the last day",
		long: `now revokes access and reclaims assets of a scheduled offboarding immediately, without waiting for
the end of the last working day.`,
		example: `  starter offboard now --employee-id E-1004
  starter offboard now --employee-id E-1004 --reason "left early" --json`,
		flags: reasonUpdate(lifecycle.UpdateRevokeNow, func(reason string) any { return lifecycle.RevokeNowRequest{Reason: reason} }),
	},
	{
		use:   "cancel --employee-id ID",
		short: "Cancel a scheduled offboarding: the termination was withdrawn",
		long: `cancel ends a scheduled offboarding without revoking anything: the termination was withdrawn.
The offboarding request is resolved with a note. The workflow rejects a cancel once revocation has
begun (use rehire during the grace period instead).`,
		example: `  starter offboard cancel --employee-id E-1004 --reason "resignation withdrawn"`,
		flags:   reasonUpdate(lifecycle.UpdateCancel, func(reason string) any { return lifecycle.CancelRequest{Reason: reason} }),
	},
	{
		use:   "rehire --employee-id ID",
		short: "Rehire a leaver during the grace period: cancel the deletion and restore the account",
		long: `rehire, during the grace period after an offboarding, cancels the deletion of the account and
restores it. Access and assets are not given back: onboard the employee again for those.`,
		example: `  starter offboard rehire --employee-id E-1004 --reason "returning contractor"`,
		flags:   reasonUpdate(lifecycle.UpdateRehire, func(reason string) any { return lifecycle.RehireRequest{Reason: reason} }),
	},
}

// newOffboardSubcommands are starter offboard's steering subcommands.
func newOffboardSubcommands(a *app) []*cobra.Command {
	cmds := make([]*cobra.Command, 0, len(offboardSubcommands))
	for _, s := range offboardSubcommands {
		u := &offboardUpdateFlags{}
		cmd := &cobra.Command{Use: s.use, Short: s.short, Long: s.long, Example: s.example, Args: cobra.NoArgs}
		u.bind(cmd)
		run := s.flags(cmd)
		cmd.RunE = runE(func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), a, u) })
		cmds = append(cmds, cmd)
	}
	return cmds
}

// reasonUpdate binds --reason, which becomes a note on the request, and sends update with the
// argument request makes of it.
func reasonUpdate(update string, request func(reason string) any) func(*cobra.Command) offboardRun {
	return func(cmd *cobra.Command) offboardRun {
		var reason string
		cmd.Flags().StringVar(&reason, "reason", "", "why, recorded on the offboarding request")
		return func(ctx context.Context, a *app, u *offboardUpdateFlags) error {
			var p flagProblems
			p.text("--reason", "reason", reason)
			return u.send(ctx, a, p, update, request(reason))
		}
	}
}

// rescheduleFlags binds the new date, and --allow-past for one that has already ended.
func rescheduleFlags(cmd *cobra.Command) offboardRun {
	var req lifecycle.RescheduleRequest
	var allowPast bool
	cmd.Flags().StringVar(&req.LastDay, "last-day", "", "new last working day, YYYY-MM-DD (required)")
	cmd.Flags().StringVar(&req.EndOfDay, "end-of-day", "", "when that day ends, HH:MM local time (default: as the offboarding was started)")
	cmd.Flags().BoolVar(&allowPast, "allow-past", false, "accept a new end that has already passed: the leaver is offboarded at once")
	_ = cmd.MarkFlagRequired("last-day") // cannot fail: the flag exists
	return func(ctx context.Context, a *app, u *offboardUpdateFlags) error {
		return u.reschedule(ctx, a, req, allowPast)
	}
}

// offboardUpdateFlags are the flags every subcommand shares.
type offboardUpdateFlags struct{ employeeSteerFlags }

func (u *offboardUpdateFlags) bind(cmd *cobra.Command) { u.employeeSteerFlags.bind(cmd, "leaver") }

// offboardUpdateResult is what a subcommand prints (its JSON is the --json output).
type offboardUpdateResult = steerResult[lifecycle.OffboardingStatus]

// send checks the shared flags and p's own problems, then sends one update to the running
// offboarding under the steering rules and prints its new state.
func (u *offboardUpdateFlags) send(ctx context.Context, a *app, p flagProblems, name string, arg any) error {
	return checkAndSteer(ctx, a, &u.employeeSteerFlags, p, u.request(name, arg), printOffboardingState)
}

// request is the update name with arg to the leaver's offboarding.
func (u *offboardUpdateFlags) request(name string, arg any) steerRequest {
	return steerRequest{lifecycle.OffboardingID(u.employeeID), name, arg}
}

// sendOn is send on an open connection.
func (u *offboardUpdateFlags) sendOn(ctx context.Context, a *app, conn *connection, name string, arg any) error {
	return steerAndPrint(ctx, a, conn, u.steer, u.json, u.request(name, arg), printOffboardingState)
}

// reschedule checks the date in the running offboarding's own zone (read from its input, so no
// worker is needed) and refuses one already past unless allowPast, which offboards at once.
func (u *offboardUpdateFlags) reschedule(ctx context.Context, a *app, req lifecycle.RescheduleRequest, allowPast bool) error {
	var p flagProblems
	u.check(&p)
	if _, err := lifecycle.EndOfWorkingDay(req.LastDay, "", ""); err != nil {
		p.add("--last-day", err.Error())
	}
	if _, err := lifecycle.EndOfWorkingDay(time.DateOnly, req.EndOfDay, ""); err != nil {
		p.add("--end-of-day", err.Error())
	}
	if err := p.err(); err != nil {
		return err
	}
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var in lifecycle.OffboardingInput
	rctx, cancel := context.WithTimeout(ctx, u.steer.timeout)
	defer cancel()
	if err := runInput(rctx, conn, lifecycle.OffboardingID(u.employeeID), &in); err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return u.sendOn(ctx, a, conn, lifecycle.UpdateReschedule, req) // which says it does not exist
		}
		return fmt.Errorf("cannot read the time zone of %s: %w; nothing was sent", lifecycle.OffboardingID(u.employeeID), err)
	}
	problem := pastRescheduleProblem(req, in.EndOfDay, in.TimeZone, a.clock())
	switch {
	case problem == "":
		return u.sendOn(ctx, a, conn, lifecycle.UpdateReschedule, req)
	case !allowPast:
		return usageError{fmt.Errorf("--last-day: %s", problem)}
	}
	reason := fmt.Sprintf("rescheduled to last day %s, which has already ended", req.LastDay)
	fmt.Fprintf(a.stderr, "Note: %s: offboarding now (--allow-past).\n", reason)
	return u.sendOn(ctx, a, conn, lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{Reason: reason})
}
