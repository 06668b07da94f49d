package hrevents

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Results of an event Temporal took.
const (
	// ResultApplied (202): Temporal accepted the start or the update.
	ResultApplied = "applied"
	// ResultIgnored (200): nothing to do, e.g. the workflow it applies to has already closed, or
	// HR decided a newer change (StaleError).
	ResultIgnored = "ignored"
	// ResultRejected (200): the workflow refused the change, e.g. a new date once revocation began.
	ResultRejected = "rejected"
	// ResultDuplicate (200): the event id was answered before (see Handler).
	ResultDuplicate = "duplicate"
)

// Outcome is what an event did.
type Outcome struct {
	Result     string
	WorkflowID string
	RunID      string
	// Note says why an event was ignored or rejected.
	Note string
	// Held: the offboarding revokes nothing until an operator confirms it (a last working day
	// more than the router's maxPastDays in the past).
	Held bool
}

// DefaultMaxPastDays is how many days after a last working day a termination still offboards at
// once: HR systems send retroactive terminations legitimately. An older one is held.
const DefaultMaxPastDays = 30

// MaxPastDaysVar is the setting of `starter listen` that overrides DefaultMaxPastDays; hold
// reasons name it.
const MaxPastDaysVar = "ATOMICFLOW_HR_MAX_PAST_DAYS"

// Router turns events into workflow starts and updates on the deterministic ids
// onboarding-<employee id> and offboarding-<employee id>.
//
// Out-of-order deliveries follow four rules. Each is decided from Temporal's state and the event
// alone, so a restarted receiver answers a redelivery as the first delivery was answered.
//
//  1. Dates: the newest decision wins. Every date change carries the event's occurred_at, and the
//     workflow refuses a change older than the one it applied (workflows' AsOf and
//     ErrStaleChange: answered 200 ignored), so a termination_changed that arrives first starts
//     the offboarding with its date and the late terminated leaves it alone.
//  2. An event for a workflow that has not started yet (a cancellation, or a change of a hire whose
//     start date is still ahead) is answered 409 with Retry-After, never 2xx: the HR system
//     delivers it again after the event that starts the workflow. 2xx would drop it.
//  3. A closed run is followed by a new one only for a new decision, one that occurred after that
//     run closed: a hire after a cancelled onboarding, a rehire, or a termination after an
//     offboarding whose employee stayed (cancelled), came back during its grace period (rehired)
//     or was rehired since it completed (an onboarding-<id> run started after it closed: a
//     boomerang). A late event that occurred before is ignored. A termination that occurred after
//     a completed offboarding, with no rehire seen since, is answered 409: the rehire it follows
//     may still be on its way.
//  4. A rehire answers a termination. A rehire that occurred after the latest onboarding-<id> run
//     started, while no offboarding has started since that run did (none exists, or the latest
//     one is older), came before its termination: it is answered 409, and once
//     the termination has started its offboarding, the rehire cancels it (or rehires during the
//     grace period). A rehire for an employee atomicflow never onboarded nor offboarded onboards;
//     one that occurred before the onboarding-<id> run started is that run's own (a redelivery).
//
// Limits: a termination decided between a completed offboarding's close and its rehire (a late
// correction of that offboarding) offboards again once the rehire has reached atomicflow; the
// rehire's own occurred_at is not kept, so the router cannot tell. A rehire for an employee
// atomicflow has no run for is onboarded even if its termination is still on its way. Updates go
// to the latest run of an id: an old event delivered again after a new run started, and after the
// receiver forgot its id (a restart), reaches the new run; Temporal de-duplicates update ids per
// run only.
type Router struct {
	temporal    Temporal
	now         func() time.Time
	maxPastDays int
}

// NewRouter routes to t; now is the clock (time.Now in production). A last working day more than
// maxPastDays in the past holds the offboarding instead of offboarding at once.
func NewRouter(t Temporal, now func() time.Time, maxPastDays int) *Router {
	return &Router{temporal: t, now: now, maxPastDays: maxPastDays}
}

// Route hands ev to Temporal. Its errors are a *Problem (409), ErrUnavailable, or another
// Temporal failure.
func (r *Router) Route(ctx context.Context, ev Event) (Outcome, error) {
	id := ev.Employee.EmployeeID
	switch ev.Type {
	case TypeHired:
		return r.onboard(ctx, ev, func(prev RunInfo) bool { return prev.Outcome == lifecycle.OutcomeCancelled })
	case TypeUpdated:
		return r.updated(ctx, ev)
	case TypeHireCancelled:
		return r.update(ctx, lifecycle.OnboardingID(id), Update{ev.ID, lifecycle.UpdateCancel,
			lifecycle.CancelRequest{Reason: "the hire was cancelled in the HR system (event " + ev.ID + ")"}}, true)
	case TypeTerminated, TypeTerminationChanged:
		u, hold := r.lastDayUpdate(ev)
		return r.offboard(ctx, ev, u, hold)
	case TypeAccessRevoked:
		// No AsOf: an immediate revocation is never superseded by a date.
		return r.offboard(ctx, ev, Update{ev.ID, lifecycle.UpdateRevokeNow,
			lifecycle.RevokeNowRequest{Reason: "access revoked immediately in the HR system (event " + ev.ID + ")"}}, "")
	case TypeTerminationCancelled:
		return r.update(ctx, lifecycle.OffboardingID(id), Update{ev.ID, lifecycle.UpdateCancel,
			lifecycle.CancelRequest{Reason: "the termination was cancelled in the HR system (event " + ev.ID + ")"}}, true)
	case TypeRehired:
		return r.rehired(ctx, ev)
	}
	return Outcome{}, fmt.Errorf("event type %s has no route", ev.Type) // Parse admits known types only
}

// onboard starts the onboarding or reaches the running one; rerun says whether the closed run
// prev may be followed by a new one (rule 3 adds that the event occurred after it closed).
func (r *Router) onboard(ctx context.Context, ev Event, rerun func(prev RunInfo) bool) (Outcome, error) {
	in := ev.OnboardingInput()
	run, err := r.temporal.StartOnboarding(ctx, in, false)
	if errors.Is(err, ErrClosed) {
		prev, derr := r.temporal.Describe(ctx, lifecycle.OnboardingID(in.EmployeeID))
		if derr != nil {
			return Outcome{}, derr
		}
		if !rerun(prev) || !prev.ClosedAt.Before(ev.OccurredAt) {
			return ignored(lifecycle.OnboardingID(in.EmployeeID), prev.RunID, "the onboarding already ran (outcome "+prev.Outcome+"): it is not run again"), nil
		}
		run, err = r.temporal.StartOnboarding(ctx, in, true)
	}
	if err != nil {
		return Outcome{}, err
	}
	return applied(run), nil
}

// updated moves a running onboarding's start date. Other changes (title, department) are not
// applied: the onboarding planned access from the record it started with.
func (r *Router) updated(ctx context.Context, ev Event) (Outcome, error) {
	id := lifecycle.OnboardingID(ev.Employee.EmployeeID)
	if ev.Employee.StartDate == "" {
		return ignored(id, "", "no start date in the event: nothing atomicflow applies"), nil
	}
	// A start date still ahead belongs to a hire whose onboarding should exist (rule 2); a past
	// one to a mover, whom only the record concerns.
	dayOne, _ := lifecycle.StartOfDay(ev.Employee.StartDate, ev.Employee.TimeZone) // validated
	return r.update(ctx, id, Update{ev.ID, lifecycle.UpdateSetStartDate,
		lifecycle.SetStartDateRequest{StartDate: ev.Employee.StartDate, AsOf: ev.OccurredAt}}, dayOne.After(r.now()))
}

// offboard starts the offboarding with u, or sends u to the running one (Update-with-Start). A
// hold reason holds a new run from its start (u is then the hold update, for a running one).
func (r *Router) offboard(ctx context.Context, ev Event, u Update, hold string) (Outcome, error) {
	in := ev.OffboardingInput(r.now())
	in.Hold = hold
	run, err := r.temporal.UpdateWithStartOffboarding(ctx, in, u, false)
	if errors.Is(err, ErrClosed) {
		prev, derr := r.temporal.Describe(ctx, lifecycle.OffboardingID(in.EmployeeID))
		if derr != nil {
			return Outcome{}, derr
		}
		again, derr := r.offboardAgain(ctx, ev, prev)
		if derr != nil {
			return Outcome{}, derr
		}
		if !again {
			return ignored(lifecycle.OffboardingID(in.EmployeeID), prev.RunID, "the offboarding already ran (outcome "+prev.Outcome+"): it is not run again"), nil
		}
		run, err = r.temporal.UpdateWithStartOffboarding(ctx, in, u, true)
	}
	out, err := result(run, err)
	out.Held = hold != "" && out.Result == ResultApplied
	return out, err
}

// offboardAgain says whether the termination ev follows the closed offboarding prev with a new
// run (rule 3): a decision taken after prev closed, for an employee who stayed, came back in the
// grace period, or was rehired since. With no rehire seen since a completed one, the answer is a
// 409 Problem.
func (r *Router) offboardAgain(ctx context.Context, ev Event, prev RunInfo) (bool, error) {
	if !prev.ClosedAt.Before(ev.OccurredAt) {
		return false, nil // an event of that run, delivered late
	}
	switch prev.Outcome {
	case lifecycle.OutcomeCancelled, lifecycle.OutcomeRehired:
		return true, nil
	case lifecycle.OutcomeCompleted:
	default:
		return false, nil
	}
	on, err := r.latestOnboarding(ctx, ev.Employee.EmployeeID)
	if err != nil {
		return false, err
	}
	if on.StartedAt.After(prev.ClosedAt) {
		return true, nil // a boomerang: rehired after the offboarding closed
	}
	id := lifecycle.OffboardingID(ev.Employee.EmployeeID)
	return false, notYet(id + " has completed and no rehire has reached atomicflow since: a termination decided after it " +
		"offboards once its employee.rehired has been delivered; deliver this event again after it (without a rehire, the employee was offboarded already)")
}

// latestOnboarding describes onboarding-<employeeID>'s latest run; the zero RunInfo when there is none.
func (r *Router) latestOnboarding(ctx context.Context, employeeID string) (RunInfo, error) {
	on, err := r.temporal.Describe(ctx, lifecycle.OnboardingID(employeeID))
	if errors.Is(err, ErrNotFound) {
		return RunInfo{}, nil
	}
	return on, err
}

// lastDayUpdate moves the offboarding to the event's last working day, or offboards now when that
// day has already ended, or holds it (with the returned reason) when it ended more than
// maxPastDays ago: such a date may be a typo, and revocation cannot be undone. All carry
// occurred_at (rule 1).
func (r *Router) lastDayUpdate(ev Event) (Update, string) {
	day, now := ev.Employee.LastWorkingDay, r.now()
	end, _ := lifecycle.EndOfWorkingDay(day, "", ev.Employee.TimeZone) // validated
	if end.After(now) {
		// EndOfDay stays empty: a running offboarding keeps its own end of day.
		return Update{ev.ID, lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: day, AsOf: ev.OccurredAt}}, ""
	}
	if past := daysSince(day, now.In(end.Location())); past > r.maxPastDays {
		id := ev.Employee.EmployeeID
		reason := fmt.Sprintf("HR last working day %s is %d days in the past (more than %s=%d): "+
			"confirm with `starter offboard now --employee-id %s` or cancel with `starter offboard cancel --employee-id %s`",
			day, past, MaxPastDaysVar, r.maxPastDays, id, id)
		return Update{ev.ID, lifecycle.UpdateHold, lifecycle.HoldRequest{Reason: reason, AsOf: ev.OccurredAt}}, reason
	}
	return Update{ev.ID, lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{
		Reason: "the last working day " + day + " has ended (HR event " + ev.ID + ")", AsOf: ev.OccurredAt}}, ""
}

// daysSince counts the calendar days from day (YYYY-MM-DD, validated) to today's date at now.
func daysSince(day string, now time.Time) int {
	d, _ := time.Parse(time.DateOnly, day)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return int(today.Sub(d).Hours() / 24)
}

// rehired cancels a pending or held offboarding (the employee never left) or, once access was removed,
// cancels the account's deletion during the grace period and onboards the employee again. A rehire
// that came before its termination is answered 409 (rule 4).
func (r *Router) rehired(ctx context.Context, ev Event) (Outcome, error) {
	offID := lifecycle.OffboardingID(ev.Employee.EmployeeID)
	reason := "rehired in the HR system (event " + ev.ID + ")"
	off, err := r.temporal.Describe(ctx, offID)
	switch {
	case errors.Is(err, ErrNotFound): // no offboarding: onboard, unless the employee is onboarded
	case err != nil:
		return Outcome{}, err
	case off.Running && (off.Stage == lifecycle.StageOffPlanning || off.Stage == lifecycle.StageOffScheduled || off.Stage == lifecycle.StageOffHeld):
		return r.update(ctx, offID, Update{ev.ID, lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: reason}}, true)
	case off.Running && off.Stage == lifecycle.StageOffGracePeriod:
		out, err := r.update(ctx, offID, Update{ev.ID, lifecycle.UpdateRehire, lifecycle.RehireRequest{Reason: reason}}, true)
		if err != nil || out.Result != ResultApplied {
			return out, err
		}
		return r.onboard(ctx, ev, func(RunInfo) bool { return true })
	case off.Running:
		return Outcome{}, notYet("the offboarding is removing access (stage " + off.Stage + "); a rehire applies once it reaches its grace period")
	case off.Outcome == lifecycle.OutcomeCancelled:
		return ignored(offID, off.RunID, "the offboarding was cancelled before anything was revoked: nothing to restore"), nil
	}
	if err := r.beforeItsTermination(ctx, ev, off.StartedAt); err != nil {
		return Outcome{}, err
	}
	return r.onboard(ctx, ev, func(RunInfo) bool { return true })
}

// beforeItsTermination answers 409 for a rehire ev that occurred after the latest onboarding run
// started, when that run started after the last offboarding did (offStarted, zero when none
// ran; a rehire's onboarding starts during its offboarding's grace period or after it): the
// employee is employed, and the termination this rehire answers has not arrived. A cancelled
// onboarding employs no one.
func (r *Router) beforeItsTermination(ctx context.Context, ev Event, offStarted time.Time) error {
	on, err := r.latestOnboarding(ctx, ev.Employee.EmployeeID)
	switch {
	case err != nil:
		return err
	case on.RunID == "", !on.StartedAt.After(offStarted), !ev.OccurredAt.After(on.StartedAt):
		return nil
	case !on.Running && on.Outcome == lifecycle.OutcomeCancelled:
		return nil
	}
	id := ev.Employee.EmployeeID
	return notYet(lifecycle.OnboardingID(id) + " has run and no offboarding has started since: this rehire answers a termination " +
		"that has not reached atomicflow; deliver it again after that employee.terminated (" + lifecycle.OffboardingID(id) + " then exists)")
}

// update sends u to the running workflow id. When none runs, early says whether the workflow
// should exist and the event came before the one that starts it (rule 2).
func (r *Router) update(ctx context.Context, id string, u Update, early bool) (Outcome, error) {
	run, err := r.temporal.Update(ctx, id, u)
	if !errors.Is(err, ErrNotRunning) {
		return result(run, err)
	}
	prev, err := r.temporal.Describe(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound) && early:
		return Outcome{}, notYet(id + " has not started yet: deliver this event again after the one that starts it")
	case errors.Is(err, ErrNotFound):
		return ignored(id, "", id+" never ran: nothing to change"), nil
	case err != nil:
		return Outcome{}, err
	case prev.Running: // it started in between
		return Outcome{}, notYet(id + " has just started: deliver this event again")
	}
	return ignored(id, prev.RunID, fmt.Sprintf("%s already ended (outcome %s): nothing to change", id, prev.Outcome)), nil
}

// result turns a start or update answer into an outcome: applied, ignored (a stale change) or
// rejected.
func result(run Run, err error) (Outcome, error) {
	var (
		rejected *RejectedError
		stale    *StaleError
	)
	switch {
	case errors.As(err, &stale):
		return ignored(run.WorkflowID, run.RunID, stale.Reason), nil
	case errors.As(err, &rejected):
		return Outcome{Result: ResultRejected, WorkflowID: run.WorkflowID, RunID: run.RunID, Note: rejected.Reason}, nil
	case err != nil:
		return Outcome{}, err
	}
	return applied(run), nil
}

func applied(run Run) Outcome {
	return Outcome{Result: ResultApplied, WorkflowID: run.WorkflowID, RunID: run.RunID}
}

func ignored(workflowID, runID, note string) Outcome {
	return Outcome{Result: ResultIgnored, WorkflowID: workflowID, RunID: runID, Note: note}
}

// notYet asks the HR system to deliver the event again later (409 with Retry-After).
func notYet(msg string) *Problem {
	return &Problem{Status: http.StatusConflict, Code: CodeNotStartedYet, Message: msg}
}
