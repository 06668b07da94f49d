package workflows

import (
	"fmt"
	"html"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

const offboardingCatalogItem = "Employee Offboarding"

// Revocations are followed until settled; one still IN_PROGRESS past the deadline is escalated.
// These values shape the history: changing one changes the timers and activities a run records,
// so it needs workflow.GetVersion and a replay fixture.
const (
	revocationDeadline  = time.Hour
	revocationPollFirst = 2 * time.Second
	revocationPollMax   = time.Minute
	// Escalations are polled for resolution with backoff up to an hour.
	escalationPollFirst = time.Minute
	escalationPollMax   = time.Hour
	// cleanupRounds bounds revoke-and-reclaim passes over what the leaver still holds (access
	// granted meanwhile, an asset assigned back by someone).
	cleanupRounds = 3
)

// Offboarding removes a leaver's access and devices at the end of their last working day in their
// time zone, verifies the end state, and deletes the account after the grace period.
func Offboarding(ctx workflow.Context, in lifecycle.OffboardingInput) (lifecycle.OffboardingResult, error) {
	o, err := newOffboarding(ctx, in)
	if err != nil {
		return lifecycle.OffboardingResult{}, err
	}
	return o.run(ctx)
}

type offboarding struct {
	in     lifecycle.OffboardingInput
	id     string
	logger log.Logger
	loc    *time.Location
	at     time.Time // when access ends

	status  lifecycle.OffboardingStatus
	leaver  activities.Leaver
	request activities.RequestRef
	// escalations lists the (grant, IT request) pairs in the order they were opened.
	escalations []escalation

	// calls runs the activities: a refused key blocks the run instead of failing it.
	calls *keyBlocking

	// Set by update handlers, consumed by the main loop.
	changed      bool
	revokeNow    bool
	nowAsked     bool // by the revoke_now update, not the input's Immediate
	cancelReason string
	rehireReason string
	reschedules  int
	dateAsOf     time.Time // when HR decided the current date (newestIntent)
	// holdReason, from the input or the hold update, keeps the run from revoking anything until
	// revoke_now, cancel or a reschedule (which releases it: released says so in its note).
	holdReason string
	holds      int
	released   bool
}

type escalation struct {
	grantID int64
	request string
}

func newOffboarding(ctx workflow.Context, in lifecycle.OffboardingInput) (*offboarding, error) {
	if err := in.Validate(); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidInput, nil)
	}
	at, _ := lifecycle.EndOfWorkingDay(in.LastDay, in.EndOfDay, in.TimeZone) // validated above
	o := &offboarding{
		in:     in,
		id:     workflow.GetInfo(ctx).WorkflowExecution.ID,
		logger: log.With(workflow.GetLogger(ctx), "EmployeeId", in.EmployeeID),
		loc:    at.Location(),
		at:     at,
		status: lifecycle.OffboardingStatus{Stage: lifecycle.StageOffPlanning, TimeZone: zoneName(in.TimeZone), Grants: []lifecycle.GrantState{}, Assets: []lifecycle.AssetState{}},
	}
	o.revokeNow = in.Immediate
	o.holdReason = strings.TrimSpace(in.Hold)
	o.calls = &keyBlocking{blockedStage: lifecycle.StageOffBlocked, workspaceID: in.WorkspaceID,
		stage: &o.status.Stage, blocked: &o.status.Blocked, setStage: o.setStage}
	o.setSchedule(at)
	if err := workflow.SetQueryHandler(ctx, lifecycle.QueryStatus, func() (lifecycle.OffboardingStatus, error) { return o.status, nil }); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, lifecycle.UpdateReschedule, o.reschedule,
		workflow.UpdateHandlerOptions{Validator: o.validateReschedule}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, lifecycle.UpdateRevokeNow, o.revokeAtOnce,
		workflow.UpdateHandlerOptions{Validator: o.validateRevokeNow}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, lifecycle.UpdateHold, o.hold,
		workflow.UpdateHandlerOptions{Validator: o.validateHold}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, lifecycle.UpdateCancel, o.cancel,
		workflow.UpdateHandlerOptions{Validator: o.validateCancel}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, lifecycle.UpdateRehire, o.rehire,
		workflow.UpdateHandlerOptions{Validator: o.validateRehire}); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *offboarding) run(ctx workflow.Context) (lifecycle.OffboardingResult, error) {
	o.setStage(ctx, lifecycle.StageOffPlanning)
	if err := o.plan(ctx); err != nil {
		return o.result(""), err
	}
	if err := o.waitUntilScheduled(ctx); err != nil {
		return o.result(""), err
	}
	if o.cancelReason != "" {
		return o.withdraw(ctx)
	}
	if err := o.offboard(ctx); err != nil {
		return o.result(""), err
	}
	return o.gracePeriod(ctx)
}

// plan finds the leaver, lists what they hold and opens the offboarding request with the plan.
func (o *offboarding) plan(ctx workflow.Context) error {
	if err := o.execute(apiCall(ctx, "find the leaver"), acts.LookupLeaver, activities.LeaverRequest{
		WorkspaceID: o.in.WorkspaceID, Email: o.in.Email, EmployeeID: o.in.EmployeeID,
		Disposition: o.disposition(), RecipientEmail: o.in.AssetsTo,
	}).Get(ctx, &o.leaver); err != nil {
		return err
	}
	o.status.UserID = o.leaver.UserID
	access, err := o.listAccess(ctx)
	if err != nil {
		return err
	}
	o.track(access)
	if err := o.execute(apiCall(ctx, "open the offboarding request"), acts.EnsureRequest, activities.RequestToOpen{
		WorkspaceID: o.in.WorkspaceID, Marker: activities.Marker(o.id, "request"), RequesterID: o.leaver.UserID,
		Subject:     fmt.Sprintf("Employee offboarding: %s, last day %s", o.in.EmployeeID, o.in.LastDay),
		Description: o.planHTML(access), CatalogItem: offboardingCatalogItem,
		ItemFields: map[string]any{"employee": o.leaver.UserID, "last_working_day": o.in.LastDay},
	}).Get(ctx, &o.request); err != nil {
		return err
	}
	o.status.RequestID = o.request.DisplayID
	o.setStage(ctx, lifecycle.StageOffPlanning)
	return o.note(ctx, "plan", o.planHTML(access))
}

// waitUntilScheduled sleeps until the end of the last working day; reschedule re-arms the timer,
// revoke_now and cancel end the wait, a hold suspends it.
func (o *offboarding) waitUntilScheduled(ctx workflow.Context) error {
	if err := o.holdIfAsked(ctx); err != nil {
		return err
	}
	o.setStage(ctx, lifecycle.StageOffScheduled)
	noted := 0
	for !o.revokeNow && o.cancelReason == "" {
		if o.reschedules > noted {
			noted = o.reschedules
			what := "Rescheduled"
			if o.released {
				what, o.released = "Hold released by a reschedule", false
			}
			if err := o.note(ctx, fmt.Sprintf("reschedule-%d", noted), "<p>"+what+": access now ends "+html.EscapeString(o.when())+".</p>"); err != nil {
				return err
			}
			if o.steeredDuringNote(ctx) {
				return nil
			}
		}
		wait := o.at.Sub(workflow.Now(ctx))
		if wait <= 0 {
			return nil
		}
		o.changed = false
		workflow.SetCurrentDetails(ctx, o.details())
		changed, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      wait,
			TimerOptions: workflow.TimerOptions{Summary: "until the end of the last working day " + o.in.LastDay},
		}, func() bool { return o.changed || o.holdReason != "" }) // a hold given during a note is not lost
		if err != nil {
			return err
		}
		if !changed {
			return nil
		}
		if o.holdReason != "" {
			if err := o.holdIfAsked(ctx); err != nil {
				return err
			}
			if !o.revokeNow && o.cancelReason == "" {
				o.setStage(ctx, lifecycle.StageOffScheduled)
			}
		}
	}
	return nil
}

// steeredDuringNoteChange versions the check below: runs recorded before it waited for the timer.
const steeredDuringNoteChange = "offboarding-steer-during-note"

// steeredDuringNote reports a revoke_now or cancel accepted while a reschedule note was being
// written: the wait that follows would not see it (it only watches later changes), and the
// accepted change would wait for the old timer, days perhaps. Versioned only when it happens.
func (o *offboarding) steeredDuringNote(ctx workflow.Context) bool {
	if !o.revokeNow && o.cancelReason == "" {
		return false
	}
	return workflow.GetVersion(ctx, steeredDuringNoteChange, workflow.DefaultVersion, 1) == 1
}

// holdChange versions holds: a run recorded before them ignored Hold.
const holdChange = "offboarding-hold"

// holdIfAsked keeps a held offboarding from revoking anything: it says so on the request and waits,
// with no timer, for revoke_now, cancel or a reschedule (which releases the hold).
func (o *offboarding) holdIfAsked(ctx workflow.Context) error {
	if o.holdReason == "" {
		return nil
	}
	if workflow.GetVersion(ctx, holdChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		o.holdReason, o.status.Hold = "", ""
		return nil
	}
	// A hold stops the input's Immediate too; a revoke_now update given since still applies.
	o.revokeNow = o.nowAsked
	if !o.revokeNow && o.cancelReason == "" {
		o.holds++
		o.status.Hold = o.holdReason
		o.setStage(ctx, lifecycle.StageOffHeld)
		if err := o.note(ctx, fmt.Sprintf("held-%d", o.holds), o.heldHTML()); err != nil {
			return err
		}
		if err := workflow.Await(ctx, func() bool { return o.holdReason == "" || o.revokeNow || o.cancelReason != "" }); err != nil {
			return err
		}
	}
	o.holdReason, o.status.Hold = "", ""
	return nil
}

// heldHTML is the note of a held offboarding: why, and what releases it.
func (o *offboarding) heldHTML() string {
	id := html.EscapeString(o.in.EmployeeID)
	return "<p>Offboarding held: " + html.EscapeString(o.holdReason) + ". Nothing is revoked or reclaimed until an operator decides: " +
		"<code>starter offboard now --employee-id " + id + "</code> offboards at once, " +
		"<code>starter offboard cancel --employee-id " + id + "</code> withdraws the offboarding, and " +
		"<code>starter offboard reschedule --employee-id " + id + " --last-day YYYY-MM-DD</code> (today or later) schedules it.</p>"
}

// withdraw ends a cancelled offboarding: nothing is revoked; the request says why and is resolved.
func (o *offboarding) withdraw(ctx workflow.Context) (lifecycle.OffboardingResult, error) {
	if err := o.note(ctx, "cancelled", "<p>Offboarding cancelled: "+html.EscapeString(o.cancelReason)+". Nothing was revoked or reclaimed.</p>"); err != nil {
		return o.result(""), err
	}
	if err := o.resolveRequest(ctx); err != nil {
		return o.result(""), err
	}
	o.setStage(ctx, lifecycle.StageOffCancelled)
	return o.result(lifecycle.OutcomeCancelled), nil
}

// offboard revokes, reclaims, records the termination, verifies and resolves the request.
func (o *offboarding) offboard(ctx workflow.Context) error {
	for round := 1; ; round++ {
		access, err := o.listAccess(ctx)
		if err != nil {
			return err
		}
		o.track(access)
		pending := o.unexplained(access)
		if len(pending.Grants) == 0 && len(pending.Assets) == 0 {
			break
		}
		if round > cleanupRounds {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"after %d rounds user %d still holds %d grants and %d assets: something keeps giving them back; see request %s",
				cleanupRounds, o.leaver.UserID, len(pending.Grants), len(pending.Assets), o.request.DisplayID), activities.ErrNotConverging, nil)
		}
		o.setStage(ctx, lifecycle.StageOffRevoking)
		if err := o.revoke(ctx, pending.Grants); err != nil {
			return err
		}
		o.setStage(ctx, lifecycle.StageOffReclaiming)
		if err := o.reclaim(ctx, pending.Assets); err != nil {
			return err
		}
		o.setStage(ctx, lifecycle.StageOffVerifying)
	}
	if err := o.execute(apiCall(ctx, "record the termination"), acts.RecordTermination, activities.TerminationRequest{
		WorkspaceID: o.in.WorkspaceID, UserID: o.leaver.UserID, TerminatedOn: o.terminatedOn(ctx),
	}).Get(ctx, nil); err != nil {
		return err
	}
	if err := o.awaitEscalations(ctx); err != nil {
		return err
	}
	if err := o.note(ctx, "summary", o.summaryHTML()); err != nil {
		return err
	}
	return o.resolveRequest(ctx)
}

// revoke revokes grants with deprovisioning and follows them until each is revoked, or escalated
// because it failed or is still in progress past the deadline.
func (o *offboarding) revoke(ctx workflow.Context, grants []activities.HeldGrant) error {
	var ids []int64
	for _, g := range grants {
		var res activities.RevokeResult
		if err := o.execute(apiCall(ctx, "revoke "+g.Entitlement), acts.RevokeGrant, activities.RevokeRequest{
			WorkspaceID: o.in.WorkspaceID, GrantID: g.GrantID, Reason: "offboarding " + o.in.EmployeeID,
		}).Get(ctx, &res); err != nil {
			return err
		}
		o.setGrant(g.GrantID, g.Entitlement, lifecycle.GrantStateRevoking)
		ids = append(ids, g.GrantID)
	}
	deadline := workflow.Now(ctx).Add(revocationDeadline)
	for wait := revocationPollFirst; len(ids) > 0; wait = min(2*wait, revocationPollMax) {
		if err := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "follow deprovisioning"}).Get(ctx, nil); err != nil {
			return err
		}
		var states []activities.RevocationState
		if err := o.execute(apiCall(ctx, "check deprovisioning"), acts.RevocationStates, activities.RevocationStatesRequest{
			WorkspaceID: o.in.WorkspaceID, GrantIDs: ids,
		}).Get(ctx, &states); err != nil {
			return err
		}
		overdue := !workflow.Now(ctx).Before(deadline)
		var still []int64
		for _, st := range states {
			switch {
			case st.Status == lifecycle.GrantStatusRevoked || st.Status == lifecycle.GrantStatusExpired:
				o.setGrant(st.GrantID, "", lifecycle.GrantStateRevoked)
			case st.Revocation == lifecycle.RevocationFailed || overdue:
				o.setGrant(st.GrantID, "", lifecycle.GrantStateFailed)
				if err := o.escalate(ctx, st); err != nil {
					return err
				}
			default:
				still = append(still, st.GrantID)
			}
		}
		ids = still
		workflow.SetCurrentDetails(ctx, o.details())
	}
	return nil
}

// escalate opens one IT incident for a grant that could not be deprovisioned.
func (o *offboarding) escalate(ctx workflow.Context, st activities.RevocationState) error {
	var ref activities.RequestRef
	name := o.grantName(st.GrantID)
	if err := o.execute(apiCall(ctx, "escalate "+name), acts.OpenEscalation, activities.EscalationRequest{
		WorkspaceID: o.in.WorkspaceID, Marker: activities.Marker(o.id, fmt.Sprintf("escalation-%d", st.GrantID)), RequesterID: o.leaver.UserID,
		Subject: fmt.Sprintf("Offboarding %s: remove %s by hand (grant %d)", o.in.EmployeeID, name, st.GrantID),
		Description: fmt.Sprintf("<p>Deprovisioning of grant %d (%s) for leaver %s did not complete (revocation %s). "+
			"Remove the access in the identity provider, then resolve this incident: atomicflow then marks the grant revoked "+
			"and finishes offboarding request %s.</p>", st.GrantID, html.EscapeString(name), html.EscapeString(o.in.EmployeeID),
			html.EscapeString(strings.ToLower(orDash(st.Revocation))), o.request.DisplayID),
	}).Get(ctx, &ref); err != nil {
		return err
	}
	o.escalations = append(o.escalations, escalation{grantID: st.GrantID, request: ref.DisplayID})
	o.status.Escalations = append(o.status.Escalations, ref.DisplayID)
	o.setStage(ctx, lifecycle.StageOffEscalated)
	return o.note(ctx, fmt.Sprintf("escalated-%d", st.GrantID), fmt.Sprintf("<p>Grant %d (%s) could not be deprovisioned: escalated to IT as %s.</p>",
		st.GrantID, html.EscapeString(name), ref.DisplayID))
}

// awaitEscalations waits until IT resolved every escalation, then marks those grants revoked.
func (o *offboarding) awaitEscalations(ctx workflow.Context) error {
	if len(o.escalations) == 0 {
		return nil
	}
	o.setStage(ctx, lifecycle.StageOffEscalated)
	open := o.escalations
	for wait := escalationPollFirst; len(open) > 0; wait = min(2*wait, escalationPollMax) {
		var still []escalation
		for _, e := range open {
			var done bool
			if err := o.execute(apiCall(ctx, "check escalation "+e.request), acts.RequestDone, activities.RequestStatusRequest{
				WorkspaceID: o.in.WorkspaceID, DisplayID: e.request,
			}).Get(ctx, &done); err != nil {
				return err
			}
			if !done {
				still = append(still, e)
				continue
			}
			if err := o.execute(apiCall(ctx, "mark the escalated grant revoked"), acts.ConfirmRevoked, activities.ConfirmRevokedRequest{
				WorkspaceID: o.in.WorkspaceID, GrantID: e.grantID, Reason: "removed by IT, escalation " + e.request,
			}).Get(ctx, nil); err != nil {
				return err
			}
			o.setGrant(e.grantID, "", lifecycle.GrantStateRevoked)
		}
		if open = still; len(open) == 0 {
			break
		}
		o.status.Note = fmt.Sprintf("waiting for IT to resolve %d escalation(s); next check in %s", len(open), wait)
		workflow.SetCurrentDetails(ctx, o.details())
		if err := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "wait for IT to resolve escalations"}).Get(ctx, nil); err != nil {
			return err
		}
	}
	o.status.Note = ""
	o.setStage(ctx, lifecycle.StageOffVerifying)
	access, err := o.listAccess(ctx)
	if err != nil {
		return err
	}
	o.track(access)
	if len(access.Grants) > 0 || len(access.Assets) > 0 {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("escalations are resolved but user %d still holds %d grants and %d assets: see request %s",
			o.leaver.UserID, len(access.Grants), len(access.Assets), o.request.DisplayID), activities.ErrNotConverging, nil)
	}
	return nil
}

// reclaim moves each asset to its destination (stock, the manager or the named user).
func (o *offboarding) reclaim(ctx workflow.Context, assets []activities.HeldAsset) error {
	for _, a := range assets {
		var res activities.ReclaimResult
		if err := o.execute(apiCall(ctx, "reclaim "+a.Label), acts.ReclaimAsset, activities.ReclaimRequest{
			WorkspaceID: o.in.WorkspaceID, AssetID: a.AssetID, FromUserID: o.leaver.UserID, ToUserID: o.leaver.RecipientID,
		}).Get(ctx, &res); err != nil {
			return err
		}
		switch {
		case !res.Moved:
			o.setAsset(a, lifecycle.AssetStateGone, 0)
		case res.ToUserID == 0:
			o.setAsset(a, lifecycle.AssetStateReturned, 0)
		default:
			o.setAsset(a, lifecycle.AssetStateReassigned, res.ToUserID)
		}
	}
	workflow.SetCurrentDetails(ctx, o.details())
	return nil
}

// gracePeriod keeps the account for the grace period, then deletes it; rehire restores it instead.
func (o *offboarding) gracePeriod(ctx workflow.Context) (lifecycle.OffboardingResult, error) {
	grace := o.in.Grace()
	if grace == 0 {
		o.setStage(ctx, lifecycle.StageOffCompleted)
		return o.result(lifecycle.OutcomeCompleted), nil
	}
	o.status.DeleteAt = workflow.Now(ctx).Add(grace).UTC()
	o.setStage(ctx, lifecycle.StageOffGracePeriod)
	rehired, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      grace,
		TimerOptions: workflow.TimerOptions{Summary: "grace period before the account is deleted"},
	}, func() bool { return o.rehireReason != "" })
	if err != nil {
		return o.result(""), err
	}
	o.status.DeleteAt = time.Time{}
	if rehired {
		if err := o.execute(apiCall(ctx, "restore the account"), acts.RestoreLeaver, activities.UserRequest{
			WorkspaceID: o.in.WorkspaceID, UserID: o.leaver.UserID,
		}).Get(ctx, nil); err != nil {
			return o.result(""), err
		}
		if err := o.note(ctx, "rehired", "<p>Rehired: "+html.EscapeString(o.rehireReason)+". The account deletion was cancelled and the account restored; access and equipment are requested anew through onboarding.</p>"); err != nil {
			return o.result(""), err
		}
		o.setStage(ctx, lifecycle.StageOffRehired)
		return o.result(lifecycle.OutcomeRehired), nil
	}
	if err := o.execute(apiCall(ctx, "delete the account"), acts.DeleteLeaver, activities.UserRequest{
		WorkspaceID: o.in.WorkspaceID, UserID: o.leaver.UserID,
	}).Get(ctx, nil); err != nil {
		return o.result(""), err
	}
	o.setStage(ctx, lifecycle.StageOffCompleted)
	res := o.result(lifecycle.OutcomeCompleted)
	res.Deleted = true
	return res, nil
}

func (o *offboarding) validateReschedule(ctx workflow.Context, req lifecycle.RescheduleRequest) error {
	if err := o.validateBeforeRevoking(ctx, lifecycle.RevokeNowRequest{}); err != nil {
		return err
	}
	if err := staleChange(o.dateAsOf, req.AsOf); err != nil {
		return err
	}
	endOfDay := req.EndOfDay
	if endOfDay == "" {
		endOfDay = o.in.EndOfDay
	}
	if _, err := lifecycle.EndOfWorkingDay(req.LastDay, endOfDay, o.in.TimeZone); err != nil {
		return err
	}
	today := workflow.Now(ctx).In(o.loc).Format(time.DateOnly)
	if req.LastDay < today {
		return fmt.Errorf("last day %s is before today (%s in %s): use revoke_now to offboard at once", req.LastDay, today, zoneName(o.in.TimeZone))
	}
	return nil
}

func (o *offboarding) reschedule(ctx workflow.Context, req lifecycle.RescheduleRequest) (lifecycle.OffboardingStatus, error) {
	if !newestIntent(&o.dateAsOf, req.AsOf) {
		return o.status, nil // an HR change older than the one applied
	}
	if req.EndOfDay != "" {
		o.in.EndOfDay = req.EndOfDay
	}
	at, _ := lifecycle.EndOfWorkingDay(req.LastDay, o.in.EndOfDay, o.in.TimeZone) // validated
	// A reschedule releases a hold, even to the date already set.
	released := o.holdReason != ""
	o.released = o.released || released
	o.holdReason, o.status.Hold = "", ""
	if at.Equal(o.at) && !released {
		return o.status, nil // a repeated HR event: nothing changes
	}
	o.in.LastDay = req.LastDay
	o.setSchedule(at)
	o.reschedules++
	o.changed = true
	o.logger.Info("Offboarding rescheduled", "LastDay", req.LastDay)
	return o.status, nil
}

func (o *offboarding) validateCancel(ctx workflow.Context, _ lifecycle.CancelRequest) error {
	return o.validateBeforeRevoking(ctx, lifecycle.RevokeNowRequest{})
}

func (o *offboarding) validateBeforeRevoking(ctx workflow.Context, _ lifecycle.RevokeNowRequest) error {
	switch stage := o.calls.current(); stage {
	case lifecycle.StageOffPlanning, lifecycle.StageOffScheduled, lifecycle.StageOffHeld:
		if o.cancelReason != "" {
			return fmt.Errorf("the offboarding is being cancelled")
		}
		return nil
	default:
		return fmt.Errorf("the offboarding is past its scheduled time (stage %s): it can no longer be moved, held or cancelled", stage)
	}
}

func (o *offboarding) validateRevokeNow(ctx workflow.Context, req lifecycle.RevokeNowRequest) error {
	if err := o.validateBeforeRevoking(ctx, req); err != nil {
		return err
	}
	return staleChange(o.dateAsOf, req.AsOf)
}

func (o *offboarding) validateHold(ctx workflow.Context, req lifecycle.HoldRequest) error {
	if err := o.validateBeforeRevoking(ctx, lifecycle.RevokeNowRequest{}); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return fmt.Errorf("a hold needs a reason: say why nothing may be revoked yet")
	}
	if err := staleChange(o.dateAsOf, req.AsOf); err != nil {
		return err
	}
	if o.revokeNow {
		return fmt.Errorf("the offboarding was asked to revoke at once: it can no longer be held; cancel it instead")
	}
	return nil
}

// hold holds the run: the main loop moves it to lifecycle.StageOffHeld and notes why.
func (o *offboarding) hold(ctx workflow.Context, req lifecycle.HoldRequest) (lifecycle.OffboardingStatus, error) {
	if !newestIntent(&o.dateAsOf, req.AsOf) {
		return o.status, nil // an HR change older than the one applied
	}
	o.holdReason = strings.TrimSpace(req.Reason)
	o.status.Hold = o.holdReason
	o.changed = true
	o.logger.Info("Offboarding held")
	return o.status, nil
}

// revokeAtOnce answers the revoke_now update: the leaver is offboarded now, not at the scheduled time.
func (o *offboarding) revokeAtOnce(ctx workflow.Context, req lifecycle.RevokeNowRequest) (lifecycle.OffboardingStatus, error) {
	if !newestIntent(&o.dateAsOf, req.AsOf) {
		return o.status, nil // a passed HR date superseded by a newer change
	}
	o.revokeNow, o.nowAsked, o.changed = true, true, true
	o.setSchedule(workflow.Now(ctx))
	o.logger.Info("Offboarding now", "Reason", req.Reason)
	return o.status, nil
}

func (o *offboarding) cancel(ctx workflow.Context, req lifecycle.CancelRequest) (lifecycle.OffboardingStatus, error) {
	o.cancelReason = strings.TrimSpace(req.Reason)
	if o.cancelReason == "" {
		o.cancelReason = "the termination was withdrawn"
	}
	o.status.Note = "cancelled: " + o.cancelReason
	o.changed = true
	return o.status, nil
}

func (o *offboarding) validateRehire(ctx workflow.Context, _ lifecycle.RehireRequest) error {
	if o.status.Stage != lifecycle.StageOffGracePeriod {
		return fmt.Errorf("a rehire applies during the grace period only (stage %s)", o.status.Stage)
	}
	if o.rehireReason != "" {
		return fmt.Errorf("the rehire is already being processed")
	}
	return nil
}

func (o *offboarding) rehire(ctx workflow.Context, req lifecycle.RehireRequest) (lifecycle.OffboardingStatus, error) {
	o.rehireReason = strings.TrimSpace(req.Reason)
	if o.rehireReason == "" {
		o.rehireReason = "rehired"
	}
	return o.status, nil
}

// listAccess reads what the leaver holds now.
func (o *offboarding) listAccess(ctx workflow.Context) (activities.Access, error) {
	var access activities.Access
	err := o.execute(apiCall(ctx, "list the leaver's access and assets"), acts.ListAccess, activities.AccessRequest{
		WorkspaceID: o.in.WorkspaceID, UserID: o.leaver.UserID,
	}).Get(ctx, &access)
	return access, err
}

// unexplained is what the leaver holds that is neither escalated nor being deprovisioned.
func (o *offboarding) unexplained(access activities.Access) activities.Access {
	out := activities.Access{Assets: access.Assets}
	for _, g := range access.Grants {
		if !o.escalated(g.GrantID) && g.Revocation != lifecycle.RevocationInProgress {
			out.Grants = append(out.Grants, g)
		}
	}
	return out
}

func (o *offboarding) escalated(grantID int64) bool {
	for _, e := range o.escalations {
		if e.grantID == grantID {
			return true
		}
	}
	return false
}

// track adds newly seen grants and assets to the status.
func (o *offboarding) track(access activities.Access) {
	for _, g := range access.Grants {
		if o.grantIndex(g.GrantID) < 0 {
			o.status.Grants = append(o.status.Grants, lifecycle.GrantState{GrantID: g.GrantID, Entitlement: g.Entitlement, State: lifecycle.GrantStateActive})
		}
	}
	for _, a := range access.Assets {
		found := false
		for _, s := range o.status.Assets {
			found = found || s.AssetID == a.AssetID
		}
		if !found {
			o.status.Assets = append(o.status.Assets, lifecycle.AssetState{AssetID: a.AssetID, Label: a.Label, State: lifecycle.AssetStateAssigned})
		}
	}
}

func (o *offboarding) grantIndex(id int64) int {
	for i, g := range o.status.Grants {
		if g.GrantID == id {
			return i
		}
	}
	return -1
}

func (o *offboarding) grantName(id int64) string {
	if i := o.grantIndex(id); i >= 0 && o.status.Grants[i].Entitlement != "" {
		return o.status.Grants[i].Entitlement
	}
	return fmt.Sprintf("grant %d", id)
}

func (o *offboarding) setGrant(id int64, entitlement, state string) {
	if i := o.grantIndex(id); i >= 0 {
		o.status.Grants[i].State = state
		return
	}
	o.status.Grants = append(o.status.Grants, lifecycle.GrantState{GrantID: id, Entitlement: entitlement, State: state})
}

func (o *offboarding) setAsset(a activities.HeldAsset, state string, to int64) {
	for i := range o.status.Assets {
		if o.status.Assets[i].AssetID == a.AssetID {
			o.status.Assets[i].State, o.status.Assets[i].ToUserID = state, to
			return
		}
	}
	o.status.Assets = append(o.status.Assets, lifecycle.AssetState{AssetID: a.AssetID, Label: a.Label, State: state, ToUserID: to})
}

func (o *offboarding) setSchedule(at time.Time) {
	o.at = at
	o.status.ScheduledAt = at.UTC()
	o.status.ScheduledLocal = at.In(o.loc).Format("2006-01-02 15:04 MST")
}

// terminatedOn is the last working day, or today (local) when offboarded early.
func (o *offboarding) terminatedOn(ctx workflow.Context) string {
	today := workflow.Now(ctx).In(o.loc).Format(time.DateOnly)
	if today < o.in.LastDay {
		return today
	}
	return o.in.LastDay
}

func (o *offboarding) disposition() string {
	if o.in.Assets == "" {
		return lifecycle.AssetsReturn
	}
	return o.in.Assets
}

func (o *offboarding) note(ctx workflow.Context, step, body string) error {
	return o.execute(apiCall(ctx, "note: "+step), acts.AddNote, activities.NoteRequest{
		WorkspaceID: o.in.WorkspaceID, DisplayID: o.request.DisplayID, Marker: activities.Marker(o.id, step),
		Description: body, Private: true,
	}).Get(ctx, nil)
}

func (o *offboarding) resolveRequest(ctx workflow.Context) error {
	return o.execute(apiCall(ctx, "resolve the offboarding request"), acts.ResolveRequest, activities.RequestToResolve{
		WorkspaceID: o.in.WorkspaceID, DisplayID: o.request.DisplayID,
	}).Get(ctx, nil)
}

// execute runs an activity; a refused key blocks the run until it works again.
func (o *offboarding) execute(ctx workflow.Context, activity any, args ...any) *blockingFuture {
	return o.calls.execute(ctx, activity, args...)
}

func (o *offboarding) setStage(ctx workflow.Context, stage string) {
	o.status.Stage = stage
	publishStage(ctx, o.logger, o.in.EmployeeID, stage, o.leaver.UserID, o.request.DisplayID)
	workflow.SetCurrentDetails(ctx, o.details())
}

// when is the scheduled instant in local time and UTC.
func (o *offboarding) when() string {
	return o.status.ScheduledLocal + " (" + o.status.ScheduledAt.Format("2006-01-02 15:04") + " UTC)"
}

// details is the UI's live view: ids and states only, no names or emails.
func (o *offboarding) details() string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**Stage:** %s  \n**Employee:** %s  \n**Access ends:** %s", o.status.Stage, o.in.EmployeeID, o.when()))
	if o.request.DisplayID != "" {
		b.WriteString("  \n**Request:** " + o.request.DisplayID)
	}
	if len(o.status.Grants) > 0 {
		parts := make([]string, 0, len(o.status.Grants))
		for _, g := range o.status.Grants {
			parts = append(parts, fmt.Sprintf("%d %s", g.GrantID, g.State))
		}
		b.WriteString("  \n**Grants:** " + strings.Join(parts, ", "))
	}
	if len(o.status.Assets) > 0 {
		parts := make([]string, 0, len(o.status.Assets))
		for _, a := range o.status.Assets {
			parts = append(parts, fmt.Sprintf("%d %s", a.AssetID, a.State))
		}
		b.WriteString("  \n**Assets:** " + strings.Join(parts, ", "))
	}
	if len(o.status.Escalations) > 0 {
		b.WriteString("  \n**Escalations:** " + strings.Join(o.status.Escalations, ", "))
	}
	if !o.status.DeleteAt.IsZero() {
		b.WriteString("  \n**Account deletion:** " + o.status.DeleteAt.Format("2006-01-02 15:04") + " UTC")
	}
	if o.status.Note != "" {
		b.WriteString("  \n**Note:** " + o.status.Note)
	}
	if o.status.Hold != "" {
		b.WriteString("  \n**Held:** " + o.status.Hold)
	}
	if o.status.Blocked != "" {
		b.WriteString("  \n**Blocked:** " + o.status.Blocked)
	}
	return b.String()
}

func (o *offboarding) planHTML(access activities.Access) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("<p>Offboarding plan for %s: access ends %s.</p>", html.EscapeString(o.in.EmployeeID), html.EscapeString(o.when())))
	if o.leaver.EmailDiffers {
		b.WriteString(fmt.Sprintf("<p>User %d was found by employee id: its email in Atomicwork is not the one in the HR record. "+
			"Check which is current; the offboarding goes on with this account.</p>", o.leaver.UserID))
	}
	b.WriteString("<ul>")
	for _, g := range access.Grants {
		b.WriteString(fmt.Sprintf("<li>Revoke grant %d (%s), with deprovisioning in the identity provider</li>", g.GrantID, html.EscapeString(g.Entitlement)))
	}
	dest := "back to stock (available)"
	switch o.disposition() {
	case lifecycle.AssetsManager:
		dest = fmt.Sprintf("to the manager (user %d)", o.leaver.RecipientID)
	case lifecycle.AssetsUser:
		dest = fmt.Sprintf("to user %d", o.leaver.RecipientID)
	}
	for _, a := range access.Assets {
		b.WriteString(fmt.Sprintf("<li>Reclaim %s (asset %d) %s</li>", html.EscapeString(a.Label), a.AssetID, dest))
	}
	if g := o.in.Grace(); g > 0 {
		b.WriteString(fmt.Sprintf("<li>Delete the account %s after offboarding</li>", graceText(g)))
	}
	b.WriteString("</ul>")
	return b.String()
}

func (o *offboarding) summaryHTML() string {
	var b strings.Builder
	b.WriteString("<p>Offboarding done and verified: no active grant, no assigned asset.</p><ul>")
	for _, g := range o.status.Grants {
		b.WriteString(fmt.Sprintf("<li>Grant %d (%s): %s</li>", g.GrantID, html.EscapeString(g.Entitlement), g.State))
	}
	for _, a := range o.status.Assets {
		where := a.State
		if a.ToUserID != 0 {
			where = fmt.Sprintf("%s to user %d", a.State, a.ToUserID)
		}
		b.WriteString(fmt.Sprintf("<li>%s (asset %d): %s</li>", html.EscapeString(a.Label), a.AssetID, where))
	}
	for _, e := range o.status.Escalations {
		b.WriteString("<li>Escalation " + e + " resolved by IT</li>")
	}
	b.WriteString("</ul>")
	return b.String()
}

func (o *offboarding) result(outcome string) lifecycle.OffboardingResult {
	return lifecycle.OffboardingResult{Outcome: outcome, UserID: o.leaver.UserID, RequestID: o.request.DisplayID,
		Grants: o.status.Grants, Assets: o.status.Assets, Reason: o.cancelReason + o.rehireReason}
}

func graceText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
