package hrevents

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/atomicflow/atomicflow/runs"
)

// Results of an event Temporal took.
const (
	// ResultApplied (202): Temporal accepted the start or the update.
	ResultApplied = "applied"
	// ResultIgnored (200): nothing to do, e.g. the workflow it applies to has already closed, or
	// HR decided a newer change (a stale runs.RejectedError).
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
	runs        Runs
	now         func() time.Time
	maxPastDays int
}

// NewRouter routes to rs; now is the clock (time.Now in production). A last working day more than
// maxPastDays in the past holds the offboarding instead of offboarding at once.
func NewRouter(rs Runs, now func() time.Time, maxPastDays int) *Router {
	return &Router{runs: rs, now: now, maxPastDays: maxPastDays}
}

// Route hands ev to Temporal. Its errors are a *Problem (409), runs.ErrUnavailable, or another
// Temporal failure.
func (r *Router) Route(ctx context.Context, ev Event) (Outcome, error) {
	planner, ok := planners[ev.Type]
	if !ok {
		return Outcome{}, fmt.Errorf("event type %s has no route", ev.Type) // Parse admits known types only
	}
	plans, err := planner(r, ctx, ev)
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	for _, p := range plans {
		if out, err = r.carry(ctx, ev, p); err != nil || out.Result != ResultApplied {
			return out, err
		}
	}
	return out, nil
}

// carry delivers p: an update alone (update), or a start with or without an update, which follows
// a closed run only for an event that occurred after it closed and as p.again says (rule 3).
func (r *Router) carry(ctx context.Context, ev Event, p plan) (Outcome, error) {
	switch {
	case p.note != "":
		return ignored(p.workflowID, p.runID, p.note), nil
	case p.start == nil:
		return r.update(ctx, p.workflowID, *p.update, p.early)
	}
	d := runs.Delivery{WorkflowID: p.workflowID, Start: p.start, Update: p.update}
	run, err := r.runs.Deliver(ctx, d)
	var ran *runs.AlreadyRanError
	if errors.As(err, &ran) {
		prev, derr := r.runs.Latest(ctx, p.workflowID)
		if derr != nil {
			return Outcome{}, derr
		}
		again := false
		if prev.ClosedAt.Before(ev.OccurredAt) { // else an event of that run, delivered late
			if again, derr = p.again(ctx, prev); derr != nil {
				return Outcome{}, derr
			}
		}
		if !again {
			return ignored(p.workflowID, prev.RunID, p.what+" already ran (outcome "+prev.Outcome+"): it is not run again"), nil
		}
		d.Again = true
		run, err = r.runs.Deliver(ctx, d)
	}
	out, err := result(run, err)
	out.Held = p.held && out.Result == ResultApplied
	return out, err
}

// update sends u to the running workflow id. When none runs, early says whether the workflow
// should exist and the event came before the one that starts it (rule 2).
func (r *Router) update(ctx context.Context, id string, u runs.Update, early bool) (Outcome, error) {
	run, err := r.runs.Deliver(ctx, runs.Delivery{WorkflowID: id, Update: &u})
	if !errors.Is(err, runs.ErrNotRunning) {
		return result(run, err)
	}
	prev, err := r.runs.Latest(ctx, id)
	switch {
	case errors.Is(err, runs.ErrNotFound) && early:
		return Outcome{}, notYet(id + " has not started yet: deliver this event again after the one that starts it")
	case errors.Is(err, runs.ErrNotFound):
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
func result(run runs.Run, err error) (Outcome, error) {
	var rejected *runs.RejectedError
	switch {
	case errors.As(err, &rejected) && rejected.Stale:
		return ignored(run.WorkflowID, run.RunID, rejected.Reason), nil
	case errors.As(err, &rejected):
		return Outcome{Result: ResultRejected, WorkflowID: run.WorkflowID, RunID: run.RunID, Note: rejected.Reason}, nil
	case err != nil:
		return Outcome{}, err
	}
	return applied(run), nil
}

func applied(run runs.Run) Outcome {
	return Outcome{Result: ResultApplied, WorkflowID: run.WorkflowID, RunID: run.RunID}
}

func ignored(workflowID, runID, note string) Outcome {
	return Outcome{Result: ResultIgnored, WorkflowID: workflowID, RunID: runID, Note: note}
}

// notYet asks the HR system to deliver the event again later (409 with Retry-After).
func notYet(msg string) *Problem {
	return &Problem{Status: http.StatusConflict, Code: CodeNotStartedYet, Message: msg}
}
