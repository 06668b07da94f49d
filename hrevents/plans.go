package hrevents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/runs"
)

// What each event type asks of the workflows, as plans the Router carries out.

// A plan is what an event asks of one workflow; the router carries it out under rules 2 and 3.
type plan struct {
	workflowID string
	// what names the workflow in notes: "the onboarding".
	what string
	// start is the input of the run to start when none runs; nil when the event only reaches a
	// running run.
	start any
	// update is the message; nil when the event only starts a run.
	update *runs.Update
	// again says, for a start, whether the closed run prev may be followed by a new one (rule 3),
	// once the router has seen that the event occurred after prev closed.
	again func(ctx context.Context, prev runs.RunInfo) (bool, error)
	// early says, for an update alone, that its workflow should exist by now: when it does not,
	// the event came before the one that starts it (rule 2).
	early bool
	// held: the event holds the offboarding, a new run from its start (its input carries the
	// hold) and a running one by the update.
	held bool
	// note, when set, says why the event changes nothing: nothing is delivered, and runID names
	// the run it concerns.
	note, runID string
}

// planners holds, per event type, what an event asks: plans the router carries out in order,
// stopping at the first that is not applied. A new event type adds one.
var planners = map[string]func(r *Router, ctx context.Context, ev Event) ([]plan, error){
	TypeHired:                (*Router).hired,
	TypeUpdated:              (*Router).updated,
	TypeHireCancelled:        (*Router).hireCancelled,
	TypeTerminated:           (*Router).terminated,
	TypeTerminationChanged:   (*Router).terminated,
	TypeAccessRevoked:        (*Router).accessRevoked,
	TypeTerminationCancelled: (*Router).terminationCancelled,
	TypeRehired:              (*Router).rehired,
}

// hired starts the onboarding; a new hire follows a closed one only if it was cancelled.
func (r *Router) hired(_ context.Context, ev Event) ([]plan, error) {
	return []plan{onboarding(ev, func(prev runs.RunInfo) bool { return runs.OnboardingMayRunAgain(prev.Outcome) })}, nil
}

// updated moves a running onboarding's start date. Other changes (title, department) are not
// applied: the onboarding planned access from the record it started with.
func (r *Router) updated(_ context.Context, ev Event) ([]plan, error) {
	id := lifecycle.OnboardingID(ev.Employee.EmployeeID)
	if ev.Employee.StartDate == "" {
		return []plan{{workflowID: id, note: "no start date in the event: nothing atomicflow applies"}}, nil
	}
	// A start date still ahead belongs to a hire whose onboarding should exist (rule 2); a past
	// one to a mover, whom only the record concerns.
	dayOne, _ := lifecycle.StartOfDay(ev.Employee.StartDate, ev.Employee.TimeZone) // validated
	return []plan{{workflowID: id, update: &runs.Update{ID: ev.ID, Name: lifecycle.UpdateSetStartDate,
		Arg: lifecycle.SetStartDateRequest{StartDate: ev.Employee.StartDate, AsOf: ev.OccurredAt}}, early: dayOne.After(r.now())}}, nil
}

func (r *Router) hireCancelled(_ context.Context, ev Event) ([]plan, error) {
	return []plan{{workflowID: lifecycle.OnboardingID(ev.Employee.EmployeeID), early: true, update: &runs.Update{ID: ev.ID,
		Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{Reason: "the hire was cancelled in the HR system (event " + ev.ID + ")"}}}}, nil
}

// terminated moves the offboarding to the event's last working day (lastDayUpdate).
func (r *Router) terminated(_ context.Context, ev Event) ([]plan, error) {
	u, hold := r.lastDayUpdate(ev)
	return []plan{r.offboarding(ev, u, hold)}, nil
}

func (r *Router) accessRevoked(_ context.Context, ev Event) ([]plan, error) {
	// No AsOf: an immediate revocation is never superseded by a date.
	return []plan{r.offboarding(ev, runs.Update{ID: ev.ID, Name: lifecycle.UpdateRevokeNow,
		Arg: lifecycle.RevokeNowRequest{Reason: "access revoked immediately in the HR system (event " + ev.ID + ")"}}, "")}, nil
}

func (r *Router) terminationCancelled(_ context.Context, ev Event) ([]plan, error) {
	return []plan{{workflowID: lifecycle.OffboardingID(ev.Employee.EmployeeID), early: true, update: &runs.Update{ID: ev.ID,
		Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{Reason: "the termination was cancelled in the HR system (event " + ev.ID + ")"}}}}, nil
}

// onboarding plans the start of ev's onboarding, or reaching the running one; again is the rule
// for a closed one.
func onboarding(ev Event, again func(prev runs.RunInfo) bool) plan {
	return plan{workflowID: lifecycle.OnboardingID(ev.Employee.EmployeeID), what: "the onboarding", start: ev.OnboardingInput(),
		again: func(_ context.Context, prev runs.RunInfo) (bool, error) { return again(prev), nil }}
}

// offboarding plans the start of ev's offboarding with u, or sending u to the running one
// (Update-with-Start). A hold reason holds a new run from its start (u is then the hold update,
// for a running one).
func (r *Router) offboarding(ev Event, u runs.Update, hold string) plan {
	in := ev.OffboardingInput(r.now())
	in.Hold = hold
	return plan{workflowID: lifecycle.OffboardingID(in.EmployeeID), what: "the offboarding", start: in, update: &u, held: hold != "",
		again: func(ctx context.Context, prev runs.RunInfo) (bool, error) { return r.offboardAgain(ctx, ev, prev) }}
}

// offboardAgain says whether the termination ev, decided after the closed offboarding prev, follows
// it with a new run (rule 3): for an employee who stayed, came back in the grace period, or was
// rehired since (runs' rerun rules). With no rehire seen since a completed one, the answer is a
// 409 Problem.
func (r *Router) offboardAgain(ctx context.Context, ev Event, prev runs.RunInfo) (bool, error) {
	switch {
	case runs.OffboardingMayRunAgain(prev.Outcome):
		return true, nil
	case prev.Outcome != lifecycle.OutcomeCompleted:
		return false, nil
	}
	on, err := r.latestOnboarding(ctx, ev.Employee.EmployeeID)
	if err != nil {
		return false, err
	}
	if runs.Boomerang(prev, on) {
		return true, nil
	}
	id := lifecycle.OffboardingID(ev.Employee.EmployeeID)
	return false, notYet(id + " has completed and no rehire has reached atomicflow since: a termination decided after it " +
		"offboards once its employee.rehired has been delivered; deliver this event again after it (without a rehire, the employee was offboarded already)")
}

// latestOnboarding describes onboarding-<employeeID>'s latest run; the zero RunInfo when there is none.
func (r *Router) latestOnboarding(ctx context.Context, employeeID string) (runs.RunInfo, error) {
	on, err := r.runs.Latest(ctx, lifecycle.OnboardingID(employeeID))
	if errors.Is(err, runs.ErrNotFound) {
		return runs.RunInfo{}, nil
	}
	return on, err
}

// lastDayUpdate moves the offboarding to the event's last working day, or offboards now when that
// day has already ended, or holds it (with the returned reason) when it ended more than
// maxPastDays ago: such a date may be a typo, and revocation cannot be undone. All carry
// occurred_at (rule 1).
func (r *Router) lastDayUpdate(ev Event) (runs.Update, string) {
	day, now := ev.Employee.LastWorkingDay, r.now()
	end, _ := lifecycle.EndOfWorkingDay(day, "", ev.Employee.TimeZone) // validated
	if end.After(now) {
		// EndOfDay stays empty: a running offboarding keeps its own end of day.
		return runs.Update{ID: ev.ID, Name: lifecycle.UpdateReschedule, Arg: lifecycle.RescheduleRequest{LastDay: day, AsOf: ev.OccurredAt}}, ""
	}
	if past := daysSince(day, now.In(end.Location())); past > r.maxPastDays {
		id := ev.Employee.EmployeeID
		reason := fmt.Sprintf("HR last working day %s is %d days in the past (more than %s=%d): "+
			"confirm with `starter offboard now --employee-id %s` or cancel with `starter offboard cancel --employee-id %s`",
			day, past, MaxPastDaysVar, r.maxPastDays, id, id)
		return runs.Update{ID: ev.ID, Name: lifecycle.UpdateHold, Arg: lifecycle.HoldRequest{Reason: reason, AsOf: ev.OccurredAt}}, reason
	}
	return runs.Update{ID: ev.ID, Name: lifecycle.UpdateRevokeNow, Arg: lifecycle.RevokeNowRequest{
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
func (r *Router) rehired(ctx context.Context, ev Event) ([]plan, error) {
	offID := lifecycle.OffboardingID(ev.Employee.EmployeeID)
	reason := "rehired in the HR system (event " + ev.ID + ")"
	onboard := onboarding(ev, func(runs.RunInfo) bool { return true }) // the employee left after any onboarding

	off, err := r.runs.Latest(ctx, offID)
	switch {
	case errors.Is(err, runs.ErrNotFound): // no offboarding: onboard, unless the employee is onboarded
	case err != nil:
		return nil, err
	case off.Running && (off.Stage == lifecycle.StageOffPlanning || off.Stage == lifecycle.StageOffScheduled || off.Stage == lifecycle.StageOffHeld):
		return []plan{{workflowID: offID, early: true, update: &runs.Update{ID: ev.ID, Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{Reason: reason}}}}, nil
	case off.Running && off.Stage == lifecycle.StageOffGracePeriod:
		return []plan{{workflowID: offID, early: true, update: &runs.Update{ID: ev.ID, Name: lifecycle.UpdateRehire, Arg: lifecycle.RehireRequest{Reason: reason}}},
			onboard}, nil
	case off.Running:
		return nil, notYet("the offboarding is removing access (stage " + off.Stage + "); a rehire applies once it reaches its grace period")
	case off.Outcome == lifecycle.OutcomeCancelled:
		return []plan{{workflowID: offID, runID: off.RunID, note: "the offboarding was cancelled before anything was revoked: nothing to restore"}}, nil
	}
	if err := r.beforeItsTermination(ctx, ev, off.StartedAt); err != nil {
		return nil, err
	}
	return []plan{onboard}, nil
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
