package workflows

import (
	"errors"
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

// acts is a nil *Activities used only to name activity methods in ExecuteActivity; the worker
// registers the real struct.
var acts *activities.Activities

// Catalog items the workflows open requests from when they exist.
const onboardingCatalogItem = "New Hire Onboarding"

// Onboarding makes a new hire an Atomicwork user with a request, access and assets by day one,
// exactly once; a cancellation undoes what it did.
func Onboarding(ctx workflow.Context, in lifecycle.OnboardingInput) (lifecycle.OnboardingResult, error) {
	o, err := newOnboarding(ctx, in)
	if err != nil {
		return lifecycle.OnboardingResult{}, err
	}
	return o.run(ctx)
}

type onboarding struct {
	in     lifecycle.OnboardingInput
	id     string
	logger log.Logger
	since  time.Time
	dayOne time.Time

	status       lifecycle.OnboardingStatus
	dateChanged  bool
	dateAsOf     time.Time // when HR decided the current start date (newestIntent)
	cancelReason string
	// runCtx is cancelled by the cancel update. It exists before the handlers are registered: an
	// update that arrives with the start runs before run does.
	runCtx    workflow.Context
	cancelRun workflow.CancelFunc
	// calls runs the activities: a refused key blocks the run instead of failing it, and so does
	// a step's permanent failure (step) until an operator retries or cancels.
	calls *keyBlocking
	// failures counts the step failures, for their notes' markers; retry is the operator's go.
	failures int
	retry    bool

	user    activities.UserRef
	request activities.RequestRef
	grants  []lifecycle.GrantRef
	assets  []lifecycle.AssetAssignment
	// undo holds a compensation for every step that started, pushed before the step runs: each
	// finds what its step did by itself, so a step in flight at cancellation is undone too.
	undo []compensationStep
}

// compensationStep undoes one step; it must be idempotent and a no-op if the step did nothing.
type compensationStep struct {
	summary string
	run     func(ctx workflow.Context) error
}

// newOnboarding validates the input and registers the handlers before anything can fail later.
func newOnboarding(ctx workflow.Context, in lifecycle.OnboardingInput) (*onboarding, error) {
	if err := in.Validate(); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidInput, nil)
	}
	dayOne, _ := lifecycle.StartOfDay(in.StartDate, in.TimeZone) // validated above
	info := workflow.GetInfo(ctx)
	o := &onboarding{
		in:     in,
		id:     info.WorkflowExecution.ID,
		logger: log.With(workflow.GetLogger(ctx), "EmployeeId", in.EmployeeID),
		since:  workflow.Now(ctx),
		dayOne: dayOne,
		status: lifecycle.OnboardingStatus{Stage: lifecycle.StagePlanning, StartDate: in.StartDate, TimeZone: zoneName(in.TimeZone), DayOneAt: dayOne.UTC()},
	}
	o.runCtx, o.cancelRun = workflow.WithCancel(ctx)
	o.calls = &keyBlocking{blockedStage: lifecycle.StageBlocked, workspaceID: in.WorkspaceID,
		stage: &o.status.Stage, blocked: &o.status.Blocked, setStage: o.setStage, stepFailed: o.stepFailed}
	if err := workflow.SetQueryHandler(ctx, lifecycle.QueryStatus, func() (lifecycle.OnboardingStatus, error) {
		return o.status, nil
	}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, lifecycle.UpdateSetStartDate, o.setStartDate,
		workflow.UpdateHandlerOptions{Validator: o.validateStartDate}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, lifecycle.UpdateCancel, o.cancel,
		workflow.UpdateHandlerOptions{Validator: o.validateCancel}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, lifecycle.UpdateRetry, o.retryStep,
		workflow.UpdateHandlerOptions{Validator: o.validateRetry}); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *onboarding) run(ctx workflow.Context) (lifecycle.OnboardingResult, error) {
	o.setStage(ctx, lifecycle.StagePlanning)

	err := o.provision(o.runCtx)
	if err == nil {
		o.setStage(ctx, lifecycle.StageCompleted)
		return o.result(lifecycle.OutcomeCompleted), nil
	}
	if !o.endedByCancel(ctx, err) {
		o.logger.Error("Onboarding failed", "Stage", o.status.Stage, "Error", err)
		return o.result(""), err
	}
	if o.cancelReason == "" {
		o.cancelReason = "the onboarding workflow was cancelled"
	}
	// Compensation runs on a disconnected context so it survives the cancellation.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if err := o.compensate(dctx); err != nil {
		o.logger.Error("Compensation failed", "Error", err)
		return o.result(lifecycle.OutcomeCancelled), err
	}
	o.setStage(dctx, lifecycle.StageCancelled)
	return o.result(lifecycle.OutcomeCancelled), nil
}

// cancelWinsChange versions endedByCancel: runs recorded before it failed in that race.
const cancelWinsChange = "onboarding-cancel-wins-failed-step"

// endedByCancel reports whether provisioning ended because of a cancellation. A step in flight when
// the cancel arrives may end with its attempt's failure instead of a cancellation (the server does
// not retry an activity whose cancellation was requested): the operator asked to undo, so that
// failure ends the run like the cancellation it raced with. Versioned only when it happens.
func (o *onboarding) endedByCancel(ctx workflow.Context, err error) bool {
	if temporal.IsCanceledError(err) {
		return true
	}
	return cancelRaced(err, o.cancelReason) && workflow.GetVersion(ctx, cancelWinsChange, workflow.DefaultVersion, 1) == 1
}

// cancelRaced: a failure while a cancel was asked for.
func cancelRaced(err error, cancelReason string) bool { return err != nil && cancelReason != "" }

// provision runs the steps in order; each one is idempotent, so a replayed or retried step converges.
func (o *onboarding) provision(ctx workflow.Context) error {
	var plan lifecycle.Plan
	if err := o.execute(apiCall(ctx, "resolve the provisioning plan"), acts.ResolvePlan, activities.PlanRequest{
		WorkspaceID: o.in.WorkspaceID, Department: o.in.Department, Title: o.in.Title,
		Entitlements: o.in.Entitlements, AssetTypes: o.in.AssetTypes,
	}).Get(ctx, &plan); err != nil {
		return err
	}
	o.status.Plan = &plan
	o.status.Pending = planSteps(plan)

	o.setStage(ctx, lifecycle.StageAccount)
	o.onCancel("deactivate the user if this onboarding created it", func(ctx workflow.Context) error {
		return o.execute(ctx, acts.DeactivateUser, activities.DeactivateUserRequest{
			WorkspaceID: o.in.WorkspaceID, Email: o.in.Email, EmployeeID: o.in.EmployeeID, WorkflowID: o.id,
			Adopted: o.user.Adopted}).Get(ctx, nil)
	})
	if err := o.execute(apiCall(ctx, "find, restore or create the user"), acts.EnsureUser, activities.EnsureUserRequest{
		WorkspaceID: o.in.WorkspaceID, WorkflowID: o.id, Email: o.in.Email, FirstName: o.in.FirstName, LastName: o.in.LastName,
		Title: o.in.Title, EmployeeID: o.in.EmployeeID, TimeZone: o.in.TimeZone, StartDate: o.in.StartDate, ManagerEmail: o.in.ManagerEmail,
	}).Get(ctx, &o.user); err != nil {
		return err
	}
	o.status.UserID = o.user.UserID
	o.done(ctx, "user")

	o.setStage(ctx, lifecycle.StageRequest)
	o.onCancel("note the cancellation and resolve the request", func(ctx workflow.Context) error {
		return o.execute(ctx, acts.CloseRequest, activities.RequestToClose{
			WorkspaceID: o.in.WorkspaceID, Marker: activities.Marker(o.id, "request"), RequesterID: o.user.UserID,
			NoteMarker: activities.Marker(o.id, "cancelled"),
			Note: "<p>Onboarding cancelled: " + html.EscapeString(o.cancelReason) +
				". Access granted by this onboarding was revoked and its equipment returned to stock.</p>",
		}).Get(ctx, nil)
	})
	if err := o.step(ctx, "open the onboarding request", acts.EnsureRequest, activities.RequestToOpen{
		WorkspaceID: o.in.WorkspaceID, Marker: activities.Marker(o.id, "request"), RequesterID: o.user.UserID,
		Subject:     fmt.Sprintf("New hire onboarding: %s %s (%s), starts %s", o.in.FirstName, o.in.LastName, o.in.EmployeeID, o.in.StartDate),
		Description: o.planHTML(plan), CatalogItem: onboardingCatalogItem,
		ItemFields: map[string]any{"employee_name": strings.TrimSpace(o.in.FirstName + " " + o.in.LastName),
			"start_date": o.in.StartDate, "department": o.in.Department},
	}).Get(ctx, &o.request); err != nil {
		return err
	}
	o.status.RequestID = o.request.DisplayID
	if err := o.note(apiCall(ctx, "note the plan"), "plan", o.planHTML(plan)); err != nil {
		return err
	}
	o.done(ctx, "request")

	o.setStage(ctx, lifecycle.StageAccess)
	for _, e := range plan.Entitlements {
		o.onCancel("revoke "+e.Name, func(ctx workflow.Context) error {
			return o.execute(ctx, acts.UndoGrant, activities.UndoGrantRequest{
				WorkspaceID: o.in.WorkspaceID, UserID: o.user.UserID, EntitlementID: e.ID, Since: o.since,
				Reason: "onboarding cancelled: " + o.cancelReason}).Get(ctx, nil)
		})
		var g lifecycle.GrantRef
		if err := o.step(ctx, "grant "+e.Name, acts.EnsureGrant, activities.GrantRequest{
			WorkspaceID: o.in.WorkspaceID, UserID: o.user.UserID, EntitlementID: e.ID, Entitlement: e.Name, Since: o.since,
		}).Get(ctx, &g); err != nil {
			return err
		}
		o.grants = append(o.grants, g)
		o.done(ctx, "grant "+e.Name)
	}

	o.setStage(ctx, lifecycle.StageAssets)
	for _, t := range plan.AssetTypes {
		o.onCancel("return the "+t.Name, func(ctx workflow.Context) error {
			return o.execute(ctx, acts.UndoAsset, activities.UndoAssetRequest{
				WorkspaceID: o.in.WorkspaceID, UserID: o.user.UserID, AssetTypeID: t.ID, Since: o.since}).Get(ctx, nil)
		})
		a, err := o.assignAsset(ctx, t)
		if err != nil {
			return err
		}
		o.assets = append(o.assets, a)
		o.done(ctx, "asset "+t.Name)
	}

	if err := o.waitForDayOne(ctx); err != nil {
		return err
	}

	o.setStage(ctx, lifecycle.StageDayOne)
	// Assets are claimed without a conditional write: re-check each is still the hire's on day one.
	for i, t := range plan.AssetTypes {
		a, err := o.assignAsset(ctx, t)
		if err != nil {
			return err
		}
		o.assets[i] = a
	}
	if err := o.note(apiCall(ctx, "note day one"), "day-one", fmt.Sprintf("<p>Day one: %s starts today. Access and equipment are ready: %s.</p>",
		html.EscapeString(o.in.FirstName), html.EscapeString(strings.Join(o.status.Done, ", ")))); err != nil {
		return err
	}
	return o.step(ctx, "resolve the onboarding request", acts.ResolveRequest, activities.RequestToResolve{
		WorkspaceID: o.in.WorkspaceID, DisplayID: o.request.DisplayID,
	}).Get(ctx, nil)
}

// assignAsset claims one asset of a type, waiting with backoff while none is available.
func (o *onboarding) assignAsset(ctx workflow.Context, t lifecycle.PlannedAssetType) (lifecycle.AssetAssignment, error) {
	wait := assetRetryFirst
	for noted := false; ; {
		var a lifecycle.AssetAssignment
		if err := o.step(ctx, "assign a "+t.Name, acts.AssignAsset, activities.AssignAssetRequest{
			WorkspaceID: o.in.WorkspaceID, UserID: o.user.UserID, AssetTypeID: t.ID, AssetTypeName: t.Name, Since: o.since,
		}).Get(ctx, &a); err != nil {
			return a, err
		}
		if a.Assigned {
			o.status.Waiting = ""
			return a, nil
		}
		if !noted {
			if err := o.note(apiCall(ctx, "note the missing "+t.Name), "no-asset-"+t.Name, fmt.Sprintf(
				"<p>No %s is available. atomicflow keeps checking and assigns one as soon as one is in stock.</p>",
				html.EscapeString(t.Name))); err != nil {
				return a, err
			}
			noted = true
		}
		prev := o.status.Stage
		o.status.Waiting = "no " + t.Name + " available; next check in " + wait.String()
		o.setStage(ctx, lifecycle.StageWaitingForAsset)
		if err := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "wait for a " + t.Name}).Get(ctx, nil); err != nil {
			return a, err
		}
		o.setStage(ctx, prev)
		wait = min(2*wait, assetRetryMax)
	}
}

// waitForDayOne sleeps until local midnight of the start date; set_start_date re-arms the timer.
func (o *onboarding) waitForDayOne(ctx workflow.Context) error {
	o.setStage(ctx, lifecycle.StageWaitingStart)
	for {
		wait := o.dayOne.Sub(workflow.Now(ctx))
		if wait <= 0 {
			return nil
		}
		o.dateChanged = false
		o.status.Waiting = "day one at " + o.dayOne.UTC().Format(time.RFC3339)
		changed, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      wait,
			TimerOptions: workflow.TimerOptions{Summary: "until day one " + o.in.StartDate},
		}, func() bool { return o.dateChanged })
		if err != nil {
			return err
		}
		if !changed {
			o.status.Waiting = ""
			return nil
		}
	}
}

func (o *onboarding) validateStartDate(ctx workflow.Context, req lifecycle.SetStartDateRequest) error {
	if _, err := lifecycle.StartOfDay(req.StartDate, o.in.TimeZone); err != nil {
		return err
	}
	switch stage := o.calls.current(); stage {
	case lifecycle.StageDayOne, lifecycle.StageCompleted, lifecycle.StageCompensating, lifecycle.StageCancelled:
		return fmt.Errorf("the onboarding is past its start date (stage %s): the start date can no longer change", stage)
	}
	return staleChange(o.dateAsOf, req.AsOf)
}

func (o *onboarding) setStartDate(ctx workflow.Context, req lifecycle.SetStartDateRequest) (lifecycle.OnboardingStatus, error) {
	if !newestIntent(&o.dateAsOf, req.AsOf) {
		return o.status, nil // an HR change older than the one applied
	}
	o.dayOne, _ = lifecycle.StartOfDay(req.StartDate, o.in.TimeZone) // validated
	o.in.StartDate = req.StartDate
	o.status.StartDate, o.status.DayOneAt = req.StartDate, o.dayOne.UTC()
	o.dateChanged = true
	o.logger.Info("Start date changed", "StartDate", req.StartDate)
	return o.status, nil
}

func (o *onboarding) validateCancel(ctx workflow.Context, req lifecycle.CancelRequest) error {
	switch stage := o.calls.current(); stage {
	case lifecycle.StageCompleted, lifecycle.StageCompensating, lifecycle.StageCancelled:
		return fmt.Errorf("the onboarding is %s: there is nothing to cancel", strings.TrimPrefix(stage, "onboarding."))
	}
	return nil
}

func (o *onboarding) cancel(ctx workflow.Context, req lifecycle.CancelRequest) (lifecycle.OnboardingStatus, error) {
	o.cancelReason = strings.TrimSpace(req.Reason)
	if o.cancelReason == "" {
		o.cancelReason = "the onboarding was cancelled"
	}
	o.status.Cancelled, o.status.CancelNote = true, o.cancelReason
	o.cancelRun()
	return o.status, nil
}

// onCancel registers the compensation of a step about to run.
func (o *onboarding) onCancel(summary string, run func(ctx workflow.Context) error) {
	o.undo = append(o.undo, compensationStep{summary: summary, run: run})
}

// compensate runs the registered compensations newest first; what the hire had before this
// onboarding (an existing account, older grants and assets) is left alone by each of them.
func (o *onboarding) compensate(ctx workflow.Context) error {
	o.setStage(ctx, lifecycle.StageCompensating)
	o.status.Cancelled, o.status.CancelNote = true, o.cancelReason
	var errs []error
	for i := len(o.undo) - 1; i >= 0; i-- {
		step := o.undo[i]
		if err := step.run(compensation(ctx, step.summary)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", step.summary, err))
		}
	}
	return errors.Join(errs...)
}

// note adds a marked note to the onboarding request, once, as a step; ctx carries the activity options.
func (o *onboarding) note(ctx workflow.Context, step, body string) error {
	return o.calls.executeStep(ctx, acts.AddNote, o.noteRequest(step, body)).Get(ctx, nil)
}

func (o *onboarding) noteRequest(step, body string) activities.NoteRequest {
	return activities.NoteRequest{WorkspaceID: o.in.WorkspaceID, DisplayID: o.request.DisplayID,
		Marker: activities.Marker(o.id, step), Description: body, Private: true}
}

// execute runs an activity; a refused key blocks the run until it works again.
func (o *onboarding) execute(ctx workflow.Context, activity any, args ...any) *blockingFuture {
	return o.calls.execute(ctx, activity, args...)
}

// step runs the activity of a provisioning step (summary names it): a refused key blocks the
// run, and so does a failure for good, until an operator retries the step or cancels.
func (o *onboarding) step(ctx workflow.Context, summary string, activity any, args ...any) *blockingFuture {
	return o.calls.executeStep(apiCall(ctx, summary), activity, args...)
}

// stepFailuresBlockChange versions the blocking on a failed step: histories recorded before it
// failed the run, leaving what was done in place.
const stepFailuresBlockChange = "step-failures-block"

// stepFailed notes a step's failure on the request and holds the run in lifecycle.StageBlocked until an
// operator retries the step (nil) or cancels the onboarding (the cancellation, then compensation).
func (o *onboarding) stepFailed(ctx workflow.Context, step string, err error) error {
	if workflow.GetVersion(ctx, stepFailuresBlockChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return err
	}
	o.failures++
	failure := &lifecycle.StepFailure{Step: step, Error: errorText(err)}
	o.logger.Error("Onboarding step failed: blocked until an operator retries or cancels", "Step", step, "Error", err)
	noted, nerr := o.noteFailure(ctx, failure)
	if temporal.IsCanceledError(nerr) {
		return nerr
	}
	if nerr == nil {
		failure.Note = noted
	}
	o.status.Failed, o.retry = failure, false
	o.calls.block(ctx, o.failureReason(failure, nerr))
	if err := workflow.Await(ctx, func() bool { return o.retry }); err != nil {
		o.calls.cancelled()
		return err
	}
	o.status.Failed = nil
	o.calls.unblock(ctx)
	return nil
}

// noteFailure records a failed step on the request (once per failure: the marker is the
// failure's number) and returns the note's marker; with no request yet there is nothing to note on.
func (o *onboarding) noteFailure(ctx workflow.Context, f *lifecycle.StepFailure) (string, error) {
	if o.request.DisplayID == "" {
		return "", errors.New("no onboarding request exists yet to note it on")
	}
	step := fmt.Sprintf("failed-%d", o.failures)
	id := html.EscapeString(o.in.EmployeeID)
	body := fmt.Sprintf("<p>Onboarding blocked: the step %q failed: %s. Nothing more is done until an operator "+
		"fixes the cause and runs <code>starter onboard retry --employee-id %s</code>, or undoes what this onboarding did "+
		"with <code>starter onboard cancel --employee-id %s --reason TEXT</code>.</p>",
		html.EscapeString(f.Step), html.EscapeString(f.Error), id, id)
	err := o.execute(apiCall(ctx, "note the failed step"), acts.AddNote, o.noteRequest(step, body)).Get(ctx, nil)
	return activities.Marker(o.id, step), err
}

// failureReason is status.Blocked for a failed step: what failed, where it is noted, and what to do.
func (o *onboarding) failureReason(f *lifecycle.StepFailure, noteErr error) string {
	where := "noted on request " + o.request.DisplayID
	if noteErr != nil {
		where = "not noted on the request (" + errorText(noteErr) + ")"
	}
	return fmt.Sprintf("step %q failed: %s; %s. Fix the cause, then run: starter onboard retry --employee-id %s; "+
		"or undo what was done: starter onboard cancel --employee-id %s --reason TEXT", f.Step, f.Error, where, o.in.EmployeeID, o.in.EmployeeID)
}

// validateRetry accepts a retry only while the run waits on a failed step.
func (o *onboarding) validateRetry(ctx workflow.Context, _ lifecycle.RetryRequest) error {
	if o.status.Failed == nil || o.status.Cancelled {
		return fmt.Errorf("the onboarding is not blocked on a failed step (stage %s): there is nothing to retry", o.status.Stage)
	}
	return nil
}

func (o *onboarding) retryStep(ctx workflow.Context, _ lifecycle.RetryRequest) (lifecycle.OnboardingStatus, error) {
	o.retry = true
	o.logger.Info("Retrying the failed step", "Step", o.status.Failed.Step)
	return o.status, nil
}

// errorText is an activity failure as an operator reads it: the error type and its message.
func errorText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() != "" {
		return appErr.Type() + ": " + appErr.Message()
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		return "the step did not finish in time (" + timeout.Error() + ")"
	}
	return err.Error()
}

// setStage records a stage in the status, the search attributes and the UI's current details.
func (o *onboarding) setStage(ctx workflow.Context, stage string) {
	o.status.Stage = stage
	publishStage(ctx, o.logger, o.in.EmployeeID, stage, o.user.UserID, o.request.DisplayID)
	workflow.SetCurrentDetails(ctx, o.details())
}

func (o *onboarding) done(ctx workflow.Context, step string) {
	o.status.Done = append(o.status.Done, step)
	for i, p := range o.status.Pending {
		if p == step {
			o.status.Pending = append(o.status.Pending[:i:i], o.status.Pending[i+1:]...)
			break
		}
	}
	workflow.SetCurrentDetails(ctx, o.details())
}

// details is the UI's live view: ids and steps only, no names or emails.
func (o *onboarding) details() string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**Stage:** %s  \n**Employee:** %s  \n**Day one:** %s (%s)", o.status.Stage, o.in.EmployeeID,
		o.in.StartDate, zoneName(o.in.TimeZone)))
	if o.request.DisplayID != "" {
		b.WriteString(fmt.Sprintf("  \n**Request:** %s", o.request.DisplayID))
	}
	if o.status.Waiting != "" {
		b.WriteString(fmt.Sprintf("  \n**Waiting:** %s", o.status.Waiting))
	}
	if len(o.status.Done) > 0 {
		b.WriteString(fmt.Sprintf("  \n**Done:** %s", strings.Join(o.status.Done, ", ")))
	}
	if len(o.status.Pending) > 0 {
		b.WriteString(fmt.Sprintf("  \n**Pending:** %s", strings.Join(o.status.Pending, ", ")))
	}
	if o.status.Blocked != "" {
		b.WriteString("  \n**Blocked:** " + o.status.Blocked)
	}
	return b.String()
}

func (o *onboarding) result(outcome string) lifecycle.OnboardingResult {
	return lifecycle.OnboardingResult{Outcome: outcome, UserID: o.user.UserID, RequestID: o.request.DisplayID,
		Grants: o.grants, Assets: o.assets, Reason: o.cancelReason, Failed: o.status.Failed}
}

// planHTML is the plan as a request note.
func (o *onboarding) planHTML(plan lifecycle.Plan) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("<p>Onboarding plan for %s %s (%s), day one %s at 00:00 %s (%s UTC).</p><ul>",
		html.EscapeString(o.in.FirstName), html.EscapeString(o.in.LastName), html.EscapeString(o.in.EmployeeID),
		o.in.StartDate, zoneName(o.in.TimeZone), o.dayOne.UTC().Format("2006-01-02 15:04")))
	for _, e := range plan.Entitlements {
		b.WriteString(fmt.Sprintf("<li>Access: %s</li>", html.EscapeString(e.Name)))
	}
	for _, t := range plan.AssetTypes {
		b.WriteString(fmt.Sprintf("<li>Equipment: one %s</li>", html.EscapeString(t.Name)))
	}
	b.WriteString("</ul>")
	return b.String()
}

// planSteps lists the steps of a plan, as the status query shows them.
func planSteps(plan lifecycle.Plan) []string {
	steps := []string{"user", "request"}
	for _, e := range plan.Entitlements {
		steps = append(steps, "grant "+e.Name)
	}
	for _, t := range plan.AssetTypes {
		steps = append(steps, "asset "+t.Name)
	}
	return steps
}

func zoneName(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}
