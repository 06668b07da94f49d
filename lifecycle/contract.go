// Package lifecycle is atomicflow's contract: the workflow names, ids, messages, search
// attributes, stages and the input, status and result types that workflows, activities, the
// starter CLI, the webhook receiver and tests share. It imports nothing of atomicflow's, so what
// starts or reads a run links no workflow, activity or API client code (layering_test.go).
package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// DefaultTaskQueue is the task queue of workflows and activities unless ATOMICFLOW_TASK_QUEUE says otherwise.
const DefaultTaskQueue = "atomicflow"

// Workflow type names, registered explicitly so renaming a Go function never breaks running workflows.
const (
	OnboardingWorkflowName = "Onboarding"
)

// Message names.
const (
	// QueryStatus returns the workflow's status struct (OnboardingStatus for onboarding).
	QueryStatus = "status"
	// UpdateSetStartDate moves an onboarding's start date (SetStartDateRequest).
	UpdateSetStartDate = "set_start_date"
	// UpdateCancel cancels a workflow with compensation (CancelRequest).
	UpdateCancel = "cancel"
	// UpdateRetry runs again the step an onboarding is blocked on (RetryRequest); the answer is
	// the status.
	UpdateRetry = "retry"
)

// Search attributes: opaque ids only, never names or emails (they are not encrypted).
var (
	EmployeeIDKey        = temporal.NewSearchAttributeKeyKeyword("EmployeeId")
	LifecycleStageKey    = temporal.NewSearchAttributeKeyKeyword("LifecycleStage")
	AtomicworkUserIDKey  = temporal.NewSearchAttributeKeyKeyword("AtomicworkUserId")
	AtomicworkRequestKey = temporal.NewSearchAttributeKeyKeyword("AtomicworkRequest")
)

// SearchAttributes lists every key to register on a server (dev server flags, tests, compose).
func SearchAttributes() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{EmployeeIDKey, LifecycleStageKey, AtomicworkUserIDKey, AtomicworkRequestKey}
}

// OnboardingID is the workflow id of an employee's onboarding: a repeated HR event lands on the same run.
func OnboardingID(employeeID string) string { return "onboarding-" + employeeID }

// Onboarding stages, in order; the LifecycleStage search attribute holds them.
const (
	StagePlanning        = "onboarding.planning"
	StageAccount         = "onboarding.account"
	StageRequest         = "onboarding.request"
	StageAccess          = "onboarding.access"
	StageAssets          = "onboarding.assets"
	StageWaitingForAsset = "onboarding.waiting-for-asset"
	StageWaitingStart    = "onboarding.waiting-for-start-date"
	StageDayOne          = "onboarding.day-one"
	StageCompleted       = "onboarding.completed"
	StageCompensating    = "onboarding.compensating"
	StageCancelled       = "onboarding.cancelled"
	// StageBlocked: an API call is refused for the worker's key (401/403, ATOMICWORK_AUTH); the
	// run retries slowly and resumes by itself when the key works again. Also: a step failed for
	// good (OnboardingStatus.Failed); the run waits for UpdateRetry or UpdateCancel.
	StageBlocked = "onboarding.blocked"
)

// OnboardingInput starts an onboarding. It carries a workspace id, never an Atomicwork key.
type OnboardingInput struct {
	// WorkspaceID is the Atomicwork workspace; 0 means the worker's default workspace.
	WorkspaceID  int64  `json:"workspace_id,omitempty"`
	EmployeeID   string `json:"employee_id"`
	Email        string `json:"email"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Title        string `json:"title,omitempty"`
	Department   string `json:"department,omitempty"`
	ManagerEmail string `json:"manager_email,omitempty"`
	// TimeZone is an IANA zone such as Europe/Paris; UTC when empty.
	TimeZone string `json:"time_zone,omitempty"`
	// StartDate is the first working day, YYYY-MM-DD; day one begins at local midnight.
	StartDate string `json:"start_date"`
	// Entitlements and AssetTypes, when set, replace what the provisioning policy gives.
	Entitlements []string `json:"entitlements,omitempty"`
	AssetTypes   []string `json:"asset_types,omitempty"`
}

// Validate checks the input before anything is written; its error names the field and the fix.
func (in OnboardingInput) Validate() error {
	var problems []string
	if p := EmployeeIDProblem(in.EmployeeID); p != "" {
		problems = append(problems, p)
	}
	if !IsEmail(in.Email) {
		problems = append(problems, "email is not an email address")
	}
	if strings.TrimSpace(in.FirstName) == "" {
		problems = append(problems, "first name is empty")
	}
	problems = append(problems, textProblems([2]string{"first name", in.FirstName}, [2]string{"last name", in.LastName},
		[2]string{"title", in.Title}, [2]string{"department", in.Department})...)
	if in.ManagerEmail != "" && !IsEmail(in.ManagerEmail) {
		problems = append(problems, "manager email is not an email address")
	}
	if _, err := StartOfDay(in.StartDate, in.TimeZone); err != nil {
		problems = append(problems, err.Error())
	}
	if in.WorkspaceID < 0 {
		problems = append(problems, "workspace id is negative")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid onboarding input: %s", strings.Join(problems, "; "))
	}
	return nil
}

// OnboardingStatus is the answer of the status query.
type OnboardingStatus struct {
	Stage      string    `json:"stage"`
	Plan       *Plan     `json:"plan,omitempty"`
	StartDate  string    `json:"start_date"`
	TimeZone   string    `json:"time_zone"`
	DayOneAt   time.Time `json:"day_one_at"`
	UserID     int64     `json:"user_id,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	Done       []string  `json:"done"`
	Pending    []string  `json:"pending"`
	Waiting    string    `json:"waiting,omitempty"`
	Cancelled  bool      `json:"cancelled"`
	CancelNote string    `json:"cancel_note,omitempty"`
	// Blocked is the error that holds the run in StageBlocked (the key is refused, or Failed), ""
	// otherwise.
	Blocked string `json:"blocked,omitempty"`
	// Failed is the step the run is blocked on, until retried.
	Failed *StepFailure `json:"failed,omitempty"`
}

// StepFailure is an onboarding step that failed for a reason other than a cancellation: the run
// waits for an operator to retry it or cancel the onboarding.
type StepFailure struct {
	Step  string `json:"step"`
	Error string `json:"error"`
	// Note is the marker of the note on the request that records the failure, "" if none could be added.
	Note string `json:"note,omitempty"`
}

// RetryRequest is the argument of the retry update.
type RetryRequest struct{}

// OnboardingResult is what a finished onboarding did. A cancelled onboarding is a result, not an error.
type OnboardingResult struct {
	Outcome   string            `json:"outcome"` // completed or cancelled
	UserID    int64             `json:"user_id"`
	RequestID string            `json:"request_id"`
	Grants    []GrantRef        `json:"grants"`
	Assets    []AssetAssignment `json:"assets"`
	Reason    string            `json:"reason,omitempty"`
	// Failed is the step the run was blocked on when it was cancelled.
	Failed *StepFailure `json:"failed,omitempty"`
}

// Outcomes of OnboardingResult.
const (
	OutcomeCompleted = "completed"
	OutcomeCancelled = "cancelled"
)

// SetStartDateRequest is the argument of the set_start_date update.
type SetStartDateRequest struct {
	StartDate string `json:"start_date"`
	// AsOf is when HR decided the date (the event's occurred_at): a request older than the newest
	// one applied changes nothing, so out-of-order HR events keep the newest intention. Zero (an
	// operator's command) always applies.
	AsOf time.Time `json:"as_of,omitzero"`
}

// ErrStaleChange is the error type with which a date update's validator refuses a change that HR
// decided before the newest one applied (its AsOf is older): it changes nothing, and the webhook
// answers it 200 "ignored".
const ErrStaleChange = "STALE_HR_CHANGE"

// CancelRequest is the argument of the cancel update.
type CancelRequest struct {
	Reason string `json:"reason"`
}

// StartOfDay returns local midnight of date (YYYY-MM-DD) in the IANA zone tz (UTC when empty).
// It is plain date maths, tested without Temporal; the worker embeds the zone database.
func StartOfDay(date, tz string) (time.Time, error) { return localMidnight(date, tz, "start date") }

// localMidnight parses date in tz; what names the date in errors.
func localMidnight(date, tz, what string) (time.Time, error) {
	loc, err := loadZone(tz)
	if err != nil {
		return time.Time{}, err
	}
	d, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not a date in the form YYYY-MM-DD", what, date)
	}
	return d, nil
}

// Offboarding: a leaver keeps no access and no device, at the end of the last working day.

// OffboardingWorkflowName is the offboarding workflow type.
const OffboardingWorkflowName = "Offboarding"

// OffboardingID is the workflow id of an employee's offboarding.
func OffboardingID(employeeID string) string { return "offboarding-" + employeeID }

// Offboarding updates (UpdateCancel and QueryStatus are shared with onboarding).
const (
	// UpdateReschedule moves the termination (RescheduleRequest); the answer is the new status.
	UpdateReschedule = "reschedule"
	// UpdateRevokeNow offboards at once (RevokeNowRequest).
	UpdateRevokeNow = "revoke_now"
	// UpdateRehire, during the grace period, cancels the deletion and restores the account (RehireRequest).
	UpdateRehire = "rehire"
	// UpdateHold stops a scheduled offboarding from revoking anything until revoke_now or cancel
	// (HoldRequest): an HR change to a last day too far in the past to act on unseen.
	UpdateHold = "hold"
)

// Offboarding stages.
const (
	StageOffPlanning    = "offboarding.planning"
	StageOffScheduled   = "offboarding.scheduled"
	StageOffRevoking    = "offboarding.revoking"
	StageOffReclaiming  = "offboarding.reclaiming"
	StageOffEscalated   = "offboarding.escalated"
	StageOffVerifying   = "offboarding.verifying"
	StageOffGracePeriod = "offboarding.grace-period"
	StageOffCompleted   = "offboarding.completed"
	StageOffCancelled   = "offboarding.cancelled"
	StageOffRehired     = "offboarding.rehired"
	// StageOffHeld: the offboarding revokes nothing until an operator says so (revoke_now) or
	// cancels it, e.g. an HR last day too far in the past to act on unseen (OffboardingInput.Hold).
	StageOffHeld = "offboarding.held"
	// StageOffBlocked: as StageBlocked, for an offboarding. A leaver whose run failed would keep
	// access, so a refused key blocks the run instead of failing it.
	StageOffBlocked = "offboarding.blocked"
)

// Asset dispositions of an offboarding.
const (
	AssetsReturn  = "return"  // back to stock, AVAILABLE
	AssetsManager = "manager" // to the leaver's manager
	AssetsUser    = "user"    // to a named user (AssetsTo)
)

// DefaultEndOfDay is when a last working day ends, local time, unless the input says otherwise.
const DefaultEndOfDay = "18:00"

// DefaultGraceDays is how long a leaver's account is kept before deletion.
const DefaultGraceDays = 30

// OffboardingInput starts an offboarding. It carries a workspace id, never an Atomicwork key.
type OffboardingInput struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	EmployeeID  string `json:"employee_id"`
	Email       string `json:"email"`
	// LastDay is the last working day, YYYY-MM-DD; access ends at EndOfDay local time that day.
	LastDay  string `json:"last_day"`
	TimeZone string `json:"time_zone,omitempty"`
	// EndOfDay is HH:MM local time; DefaultEndOfDay when empty.
	EndOfDay string `json:"end_of_day,omitempty"`
	// Assets is return, manager or user; return when empty. AssetsTo is the email for user.
	Assets   string `json:"assets,omitempty"`
	AssetsTo string `json:"assets_to,omitempty"`
	// Immediate offboards now, whatever LastDay says.
	Immediate bool `json:"immediate,omitempty"`
	// GraceDays before the account is deleted: nil means DefaultGraceDays, 0 never deletes.
	GraceDays *int `json:"grace_days,omitempty"`
	// GracePeriod, when set, overrides GraceDays with an exact duration (tests and demos use minutes).
	GracePeriod time.Duration `json:"grace_period,omitempty"`
	// Hold, when set, says why nothing may be revoked until an operator offboards now (revoke_now)
	// or cancels: the run plans, opens the request with this reason as a note, and waits in
	// StageOffHeld. The webhook sets it for a last day older than ATOMICFLOW_HR_MAX_PAST_DAYS.
	Hold string `json:"hold,omitempty"`
}

// Validate checks the input before anything is read or written.
func (in OffboardingInput) Validate() error {
	var problems []string
	if p := EmployeeIDProblem(in.EmployeeID); p != "" {
		problems = append(problems, p)
	}
	if !IsEmail(in.Email) {
		problems = append(problems, "email is not an email address")
	}
	if _, err := EndOfWorkingDay(in.LastDay, in.EndOfDay, in.TimeZone); err != nil {
		problems = append(problems, err.Error())
	}
	switch in.Assets {
	case "", AssetsReturn, AssetsManager:
		if in.AssetsTo != "" {
			problems = append(problems, "assets_to is only for the user disposition")
		}
	case AssetsUser:
		if !IsEmail(in.AssetsTo) {
			problems = append(problems, "assets user: the recipient's email is missing or not an email address")
		}
	default:
		problems = append(problems, fmt.Sprintf("assets %q: use return, manager or user", in.Assets))
	}
	if in.GraceDays != nil && *in.GraceDays < 0 {
		problems = append(problems, "grace days is negative: use 0 to never delete the account")
	}
	if in.GracePeriod < 0 {
		problems = append(problems, "grace period is negative")
	}
	if in.WorkspaceID < 0 {
		problems = append(problems, "workspace id is negative")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid offboarding input: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Grace returns how long the account is kept after offboarding; 0 means forever.
func (in OffboardingInput) Grace() time.Duration {
	switch {
	case in.GracePeriod > 0:
		return in.GracePeriod
	case in.GraceDays == nil:
		return DefaultGraceDays * 24 * time.Hour
	}
	return time.Duration(*in.GraceDays) * 24 * time.Hour
}

// RescheduleRequest moves an offboarding's last working day (and optionally its end of day).
type RescheduleRequest struct {
	LastDay  string `json:"last_day"`
	EndOfDay string `json:"end_of_day,omitempty"`
	// AsOf: as in SetStartDateRequest, the newest HR decision wins; zero always applies.
	AsOf time.Time `json:"as_of,omitzero"`
}

// RevokeNowRequest offboards at once.
type RevokeNowRequest struct {
	Reason string `json:"reason,omitempty"`
	// AsOf is set when the revocation stands for an HR last day that has already passed, and then
	// orders it like RescheduleRequest.AsOf; an immediate revocation leaves it zero: it always applies.
	AsOf time.Time `json:"as_of,omitzero"`
}

// HoldRequest holds a scheduled offboarding (UpdateHold). Reason becomes a note on the request.
type HoldRequest struct {
	Reason string `json:"reason"`
	// AsOf orders it with the other HR date changes, as in RescheduleRequest.
	AsOf time.Time `json:"as_of,omitzero"`
}

// RehireRequest cancels a pending deletion and restores the account.
type RehireRequest struct {
	Reason string `json:"reason,omitempty"`
}

// OffboardingStatus is the answer of the status query.
type OffboardingStatus struct {
	Stage string `json:"stage"`
	// ScheduledAt is when access ends, in UTC; ScheduledLocal is the same instant in the employee's zone.
	ScheduledAt    time.Time    `json:"scheduled_at"`
	ScheduledLocal string       `json:"scheduled_local"`
	TimeZone       string       `json:"time_zone"`
	UserID         int64        `json:"user_id,omitempty"`
	RequestID      string       `json:"request_id,omitempty"`
	Grants         []GrantState `json:"grants"`
	Assets         []AssetState `json:"assets"`
	Escalations    []string     `json:"escalations,omitempty"`
	// DeleteAt is when the account will be deleted (zero when never or done).
	DeleteAt time.Time `json:"delete_at,omitempty"`
	Note     string    `json:"note,omitempty"`
	// Hold is why a held offboarding waits (StageOffHeld); Blocked is the error that holds it in
	// StageOffBlocked. Both are "" otherwise.
	Hold    string `json:"hold,omitempty"`
	Blocked string `json:"blocked,omitempty"`
}

// GrantState is one grant of the leaver, as the status shows it.
type GrantState struct {
	GrantID     int64  `json:"grant_id"`
	Entitlement string `json:"entitlement"`
	// State is active, revoking, revoked or failed.
	State string `json:"state"`
}

// AssetState is one asset of the leaver, as the status shows it.
type AssetState struct {
	AssetID int64  `json:"asset_id"`
	Label   string `json:"label"`
	// State is assigned, returned or reassigned.
	State string `json:"state"`
	// ToUserID is the recipient of a reassigned asset.
	ToUserID int64 `json:"to_user_id,omitempty"`
}

// OffboardingResult is what a finished offboarding did. Cancelled and rehired are results, not errors.
type OffboardingResult struct {
	Outcome   string       `json:"outcome"` // completed, cancelled or rehired
	UserID    int64        `json:"user_id"`
	RequestID string       `json:"request_id"`
	Grants    []GrantState `json:"grants"`
	Assets    []AssetState `json:"assets"`
	Deleted   bool         `json:"deleted"`
	Reason    string       `json:"reason,omitempty"`
}

// OutcomeRehired ends an offboarding whose employee was rehired during the grace period.
const OutcomeRehired = "rehired"

// EndOfWorkingDay returns the instant a last working day ends: date at endOfDay (HH:MM, default
// 18:00) in the IANA zone tz (UTC when empty). Plain date maths, tested without Temporal.
func EndOfWorkingDay(date, endOfDay, tz string) (time.Time, error) {
	day, err := localMidnight(date, tz, "last day")
	if err != nil {
		return time.Time{}, err
	}
	if endOfDay == "" {
		endOfDay = DefaultEndOfDay
	}
	hm, err := time.Parse("15:04", endOfDay)
	if err != nil {
		return time.Time{}, fmt.Errorf("end of day %q is not a time in the form HH:MM", endOfDay)
	}
	return time.Date(day.Year(), day.Month(), day.Day(), hm.Hour(), hm.Minute(), 0, 0, day.Location()), nil
}

// Reconciliation: the nightly job that finds what drifted in Atomicwork and fixes it.

// ReconciliationWorkflowName is the reconciliation workflow type.
const ReconciliationWorkflowName = "Reconciliation"

// NightlyReconciliationScheduleID is the fixed id of the nightly schedule (schedules.yaml).
const NightlyReconciliationScheduleID = "nightly-reconciliation"

// ReconciliationID is the workflow id of a reconciliation run started by hand; runs started by a
// schedule get the schedule's id plus a timestamp.
func ReconciliationID(key string) string { return "reconciliation-" + key }

// Reconciliation stages.
const (
	StageReconScanning  = "reconciliation.scanning"
	StageReconFixing    = "reconciliation.fixing"
	StageReconCompleted = "reconciliation.completed"
)

// DefaultStaleOnboardingDays: an onboarding request still open this long after its start date is reported.
const DefaultStaleOnboardingDays = 14

// ReconciliationInput configures one reconciliation run.
type ReconciliationInput struct {
	// WorkspaceID is the Atomicwork workspace; 0 means the worker's default workspace.
	WorkspaceID int64 `json:"workspace_id,omitempty"`
	// DryRun reports the drift and changes nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// StaleOnboardingDays overrides DefaultStaleOnboardingDays when positive.
	StaleOnboardingDays int `json:"stale_onboarding_days,omitempty"`
	// ReportTo is the email of the IT owner who gets a request with the summary when anything was
	// fixed; without it the report is the workflow's result only.
	ReportTo string `json:"report_to,omitempty"`
}

// Validate checks the input before anything is read.
func (in ReconciliationInput) Validate() error {
	var problems []string
	if in.WorkspaceID < 0 {
		problems = append(problems, "workspace id is negative")
	}
	if in.StaleOnboardingDays < 0 {
		problems = append(problems, "stale onboarding days is negative")
	}
	if in.ReportTo != "" && !IsEmail(in.ReportTo) {
		problems = append(problems, "report_to is not an email address")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid reconciliation input: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Kinds of drift a reconciliation finds.
const (
	DriftAssetOfLeaver   = "asset-of-leaver"  // an asset still assigned to a deleted or terminated user
	DriftGrantOfLeaver   = "grant-of-leaver"  // an active grant of a deleted or terminated user
	DriftStaleOnboarding = "stale-onboarding" // an onboarding request open long after the start date
)

// Drift is one thing out of place: ids only.
type Drift struct {
	Kind   string `json:"kind"`
	UserID int64  `json:"user_id"`
	// ID is the asset or grant id; Request the request's display id.
	ID      int64  `json:"id,omitempty"`
	Request string `json:"request,omitempty"`
	// Fixed is true once the drift was repaired (never in a dry run); Detail says how or why not.
	Fixed  bool   `json:"fixed"`
	Detail string `json:"detail,omitempty"`
}

// ReconciliationReport is the result of a reconciliation run.
type ReconciliationReport struct {
	DryRun bool    `json:"dry_run"`
	Drift  []Drift `json:"drift"`
	Fixed  int     `json:"fixed"`
	Failed int     `json:"failed"`
	// RequestID is the request carrying the summary note, when anything was fixed.
	RequestID string `json:"request_id,omitempty"`
}

// ---------------------------------------------------------------------------------------------
// Bulk asset reassignment: move every asset a selector matches to a user or back to stock, at the
// rate the API allows, resumable, with live progress. Validation, normalisation and batch ids are
// in reassignment.go.

// ReassignmentWorkflowName is the bulk asset reassignment workflow type.
const ReassignmentWorkflowName = "AssetReassignment"

// ReassignmentID is the workflow id of a batch: asset-reassignment-<batchId>.
func ReassignmentID(batchID string) string { return "asset-reassignment-" + batchID }

// Reassignment messages (UpdateCancel is shared: it stops the batch cleanly and returns the report).
const (
	// QueryProgress returns ReassignmentProgress.
	QueryProgress = "progress"
	// UpdateConfirm lets a batch above its confirmation threshold start (ConfirmRequest).
	UpdateConfirm = "confirm"
	// UpdatePause stops starting assets; those in flight finish (PauseRequest).
	UpdatePause = "pause"
	// UpdateResume starts assets again after a pause (ResumeRequest).
	UpdateResume = "resume"
)

// Reassignment stages, as the LifecycleStage search attribute and the progress query show them.
const (
	StageReassignPlanning   = "reassignment.planning"
	StageReassignConfirming = "reassignment.awaiting-confirmation"
	StageReassignRunning    = "reassignment.running"
	StageReassignPaused     = "reassignment.paused"
	StageReassignCancelling = "reassignment.cancelling"
	StageReassignCompleted  = "reassignment.completed"
	StageReassignCancelled  = "reassignment.cancelled"
	StageReassignDryRun     = "reassignment.dry-run"
	// StageReassignVerifying: the batch counts what its selector still holds that is not at the target.
	StageReassignVerifying = "reassignment.verifying"
	// StageReassignIncomplete: the batch ended with assets still to do (see OutcomeIncomplete).
	StageReassignIncomplete = "reassignment.incomplete"
)

// OutcomeDryRun ends a dry run: the plan, nothing written.
const OutcomeDryRun = "dry-run"

// OutcomeIncomplete ends a batch whose verifications kept finding assets that match the
// selector and are not at the target (ReassignmentReport.Unfinished counts them): it stopped
// after VerifyStallRounds verifications without fewer of them, or MaxVerifyRounds in all.
const OutcomeIncomplete = "incomplete"

// Reassignment defaults and limits.
const (
	DefaultReassignConcurrency = 20
	// MaxReassignConcurrency keeps a batch far below the server's 2,000 pending activities.
	MaxReassignConcurrency = 200
	// DefaultConfirmAbove: a batch matching more assets waits for the confirm update.
	DefaultConfirmAbove = 100
	// DefaultAssetsPerRun is how many assets one run handles before it continues as new (sooner
	// when the server suggests it), so a run's history stays well under 10,000 events.
	DefaultAssetsPerRun = 1000
	// MaxExplicitAssetIDs bounds an explicit id list (it travels in the input of every run).
	MaxExplicitAssetIDs = 1000
	// MaxReportedFailures bounds the failures listed with their reason; beyond it they are counted
	// (FailuresOmitted, FailureTypes) but not listed, so the state carried across runs stays small.
	MaxReportedFailures = 1000
)

// ReassignmentInput starts a batch. It carries emails and names (payloads are encrypted); the
// workflow id and search attributes carry the batch id and ids only.
type ReassignmentInput struct {
	// WorkspaceID is the Atomicwork workspace; 0 means the worker's default workspace.
	WorkspaceID int64 `json:"workspace_id,omitempty"`
	// BatchID names the batch (letters, digits, '.', '_', '-'); DeriveBatchID derives one from the request.
	BatchID  string        `json:"batch_id"`
	Selector AssetSelector `json:"selector"`
	Target   AssetTarget   `json:"target"`
	// SetStatus is the assets' new status (AVAILABLE, IN_USE, RETIRED, ...); empty keeps it. A
	// return to stock always sets AVAILABLE.
	SetStatus string `json:"set_status,omitempty"`
	// DryRun returns the plan and writes nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// MaxAssets stops the batch after this many assets; 0 means all.
	MaxAssets int `json:"max_assets,omitempty"`
	// ConfirmAbove: when more assets match, the batch waits for the confirm update; 0 means
	// DefaultConfirmAbove. Confirmed (starter --yes) confirms in advance.
	ConfirmAbove int  `json:"confirm_above,omitempty"`
	Confirmed    bool `json:"confirmed,omitempty"`
	// Concurrency is how many assets are in flight at once; 0 means DefaultReassignConcurrency.
	Concurrency int `json:"concurrency,omitempty"`
	// AssetsPerRun is how many assets a run handles before continuing as new; 0 means DefaultAssetsPerRun.
	AssetsPerRun int `json:"assets_per_run,omitempty"`
	// Continued is the state a previous run carried over; nil on the first run. Callers leave it nil.
	Continued *ReassignmentState `json:"continued,omitempty"`
}

// AssetSelector says which assets move. Set fields are ANDed; AssetIDs is an explicit list that
// the other fields narrow.
type AssetSelector struct {
	// AssigneeEmail selects the assets assigned to this user (a leaver, a departing manager).
	AssigneeEmail string `json:"assignee_email,omitempty"`
	// AssetType is an asset type name, e.g. Laptop.
	AssetType string `json:"asset_type,omitempty"`
	// Status is the assets' current status, e.g. IN_USE.
	Status   string  `json:"status,omitempty"`
	AssetIDs []int64 `json:"asset_ids,omitempty"`
}

// AssetTarget is where the assets go: a user, or back to stock (unassigned, AVAILABLE).
type AssetTarget struct {
	AssigneeEmail string `json:"assignee_email,omitempty"`
	Stock         bool   `json:"stock,omitempty"`
}

// ReassignmentState is what one run hands the next through continue-as-new: a cursor, counters
// and the bounded failures report, never the asset list.
type ReassignmentState struct {
	Resolved ResolvedReassignment `json:"resolved"`
	Plan     ReassignmentPlan     `json:"plan"`
	// Total is the planned number of assets (capped by MaxAssets), raised if more turn up.
	Total     int  `json:"total"`
	Confirmed bool `json:"confirmed"`
	Paused    bool `json:"paused"`
	// PauseReason says who paused and why (an operator, or the batch itself after failures).
	PauseReason string `json:"pause_reason,omitempty"`
	// Cursor: every asset id up to After was started; Page is where the next page is looked for.
	After int64 `json:"after"`
	Page  int   `json:"page"`
	// Requeue holds assets to start again first: interrupted when the batch paused itself.
	Requeue          []int64              `json:"requeue,omitempty"`
	Done             int                  `json:"done"`
	AlreadyAtTarget  int                  `json:"already_at_target"`
	NoLongerMatching int                  `json:"no_longer_matching"`
	Failed           int                  `json:"failed"`
	Failures         []AssetFailure       `json:"failures,omitempty"`
	FailuresOmitted  int                  `json:"failures_omitted,omitempty"`
	FailureTypes     []FailureCount       `json:"failure_types,omitempty"`
	FailureStreak    int                  `json:"failure_streak,omitempty"`
	Runs             int                  `json:"runs"`
	StartedAt        time.Time            `json:"started_at"`
	ActiveTime       time.Duration        `json:"active_time"`
	History          []ReassignmentRunLog `json:"history,omitempty"`
	// Recheck, in a round after a verification, is the assets it found still to do, ascending;
	// the cursor After then runs over them instead of the listing.
	Recheck []int64 `json:"recheck,omitempty"`
	// Verifications counts the verifications; Unfinished is what the last one found (failed
	// assets apart), and Stalls how many in a row found no fewer than the one before.
	Verifications int `json:"verifications,omitempty"`
	Unfinished    int `json:"unfinished,omitempty"`
	Stalls        int `json:"stalls,omitempty"`
	// Unordered: the assets list could not be had in id order, so the batch no longer lists
	// with the cursor; it works in verification rounds only.
	Unordered bool `json:"unordered,omitempty"`
	// Notes say what the batch decided by itself (a slower mode, a verification round).
	Notes []string `json:"notes,omitempty"`
}

// ReassignmentRunLog is one finished run of a batch, for the report.
type ReassignmentRunLog struct {
	Run    int   `json:"run"`
	Assets int   `json:"assets"`
	Events int   `json:"events"`
	After  int64 `json:"after"`
}

// AssetFailure is one asset that could not be moved, with the reason.
type AssetFailure struct {
	AssetID int64  `json:"asset_id"`
	Type    string `json:"type"`
	Reason  string `json:"reason"`
}

// FailureCount counts failures of one error type (all of them, listed or not).
type FailureCount struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// ReassignmentProgress is the answer of the progress query and of the batch's updates.
type ReassignmentProgress struct {
	BatchID string            `json:"batch_id"`
	Stage   string            `json:"stage"`
	DryRun  bool              `json:"dry_run,omitempty"`
	Plan    *ReassignmentPlan `json:"plan,omitempty"`
	// Total = Done + Skipped + Failed + Remaining.
	Total            int    `json:"total"`
	Done             int    `json:"done"`
	Skipped          int    `json:"skipped"`
	AlreadyAtTarget  int    `json:"already_at_target"`
	NoLongerMatching int    `json:"no_longer_matching"`
	Failed           int    `json:"failed"`
	Remaining        int    `json:"remaining"`
	InFlight         int    `json:"in_flight"`
	Confirmed        bool   `json:"confirmed"`
	ConfirmAbove     int    `json:"confirm_above"`
	Paused           bool   `json:"paused"`
	PauseReason      string `json:"pause_reason,omitempty"`
	// Rate is assets per second of running time (pauses and confirmation excluded); ETA is
	// Remaining at that rate, in seconds (0 when unknown).
	Rate       float64   `json:"rate"`
	ETASeconds float64   `json:"eta_seconds"`
	Run        int       `json:"run"`
	StartedAt  time.Time `json:"started_at"`
	AsOf       time.Time `json:"as_of"`
	// Verifications counts the end-of-listing verifications so far; Unfinished is how many assets
	// the last one found still matching and not at the target (failed ones apart).
	Verifications int      `json:"verifications,omitempty"`
	Unfinished    int      `json:"unfinished,omitempty"`
	Notes         []string `json:"notes,omitempty"`
}

// ReassignmentReport is a finished batch. Cancelled and dry-run batches are results, not errors.
type ReassignmentReport struct {
	BatchID string           `json:"batch_id"`
	Outcome string           `json:"outcome"` // completed, incomplete, cancelled or dry-run
	Reason  string           `json:"reason,omitempty"`
	Plan    ReassignmentPlan `json:"plan"`
	Total   int              `json:"total"`
	Done    int              `json:"done"`
	// Skipped = AlreadyAtTarget + NoLongerMatching.
	Skipped          int `json:"skipped"`
	AlreadyAtTarget  int `json:"already_at_target"`
	NoLongerMatching int `json:"no_longer_matching"`
	Failed           int `json:"failed"`
	// NotProcessed is what a cancelled batch left (Total minus the rest).
	NotProcessed int `json:"not_processed"`
	// Unfinished is what the last verification found still matching the selector and not at the
	// target, failed assets apart: 0 when completed, more when incomplete.
	Unfinished    int      `json:"unfinished"`
	Verifications int      `json:"verifications,omitempty"`
	Notes         []string `json:"notes,omitempty"`
	// Failures lists the failed assets with their reason, the first MaxReportedFailures of them;
	// FailuresOmitted counts the rest, and FailureTypes counts all of them by error type.
	Failures        []AssetFailure       `json:"failures"`
	FailuresOmitted int                  `json:"failures_omitted,omitempty"`
	FailureTypes    []FailureCount       `json:"failure_types,omitempty"`
	Runs            int                  `json:"runs"`
	RunLog          []ReassignmentRunLog `json:"run_log,omitempty"`
	StartedAt       time.Time            `json:"started_at"`
	FinishedAt      time.Time            `json:"finished_at"`
	ActiveSeconds   float64              `json:"active_seconds"`
	Rate            float64              `json:"rate"`
}

// ConfirmRequest confirms a batch waiting above its threshold. Total, when set, must equal the
// plan's total, so a confirmation given for a smaller plan cannot start a larger one.
type ConfirmRequest struct {
	Total int `json:"total,omitempty"`
}

// PauseRequest pauses a batch.
type PauseRequest struct {
	Reason string `json:"reason,omitempty"`
}

// ResumeRequest resumes a paused batch.
type ResumeRequest struct{}
