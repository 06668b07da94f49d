// Package workflows holds atomicflow's Temporal workflows and their contract: the names, ids,
// messages, search attributes and input/result types that starters, webhooks and tests share.
package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/activities"
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
	if strings.TrimSpace(in.EmployeeID) == "" {
		problems = append(problems, "employee id is empty")
	} else if strings.ContainsAny(in.EmployeeID, " /@") {
		problems = append(problems, fmt.Sprintf("employee id %q must be an opaque id (no spaces, '/' or '@')", in.EmployeeID))
	}
	if !isEmail(in.Email) {
		problems = append(problems, "email is not an email address")
	}
	if strings.TrimSpace(in.FirstName) == "" {
		problems = append(problems, "first name is empty")
	}
	if in.ManagerEmail != "" && !isEmail(in.ManagerEmail) {
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
	Stage      string           `json:"stage"`
	Plan       *activities.Plan `json:"plan,omitempty"`
	StartDate  string           `json:"start_date"`
	TimeZone   string           `json:"time_zone"`
	DayOneAt   time.Time        `json:"day_one_at"`
	UserID     int64            `json:"user_id,omitempty"`
	RequestID  string           `json:"request_id,omitempty"`
	Done       []string         `json:"done"`
	Pending    []string         `json:"pending"`
	Waiting    string           `json:"waiting,omitempty"`
	Cancelled  bool             `json:"cancelled"`
	CancelNote string           `json:"cancel_note,omitempty"`
}

// OnboardingResult is what a finished onboarding did. A cancelled onboarding is a result, not an error.
type OnboardingResult struct {
	Outcome   string                       `json:"outcome"` // completed or cancelled
	UserID    int64                        `json:"user_id"`
	RequestID string                       `json:"request_id"`
	Grants    []activities.GrantRef        `json:"grants"`
	Assets    []activities.AssetAssignment `json:"assets"`
	Reason    string                       `json:"reason,omitempty"`
}

// Outcomes of OnboardingResult.
const (
	OutcomeCompleted = "completed"
	OutcomeCancelled = "cancelled"
)

// SetStartDateRequest is the argument of the set_start_date update.
type SetStartDateRequest struct {
	StartDate string `json:"start_date"`
}

// CancelRequest is the argument of the cancel update.
type CancelRequest struct {
	Reason string `json:"reason"`
}

// StartOfDay returns local midnight of date (YYYY-MM-DD) in the IANA zone tz (UTC when empty).
// It is plain date maths, tested without Temporal; the worker embeds the zone database.
func StartOfDay(date, tz string) (time.Time, error) { return localMidnight(date, tz, "start date") }

// localMidnight parses date in tz; what names the date in errors.
func localMidnight(date, tz, what string) (time.Time, error) {
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return time.Time{}, fmt.Errorf("time zone %q is not an IANA zone such as Europe/Paris", tz)
		}
		loc = l
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
}

// Validate checks the input before anything is read or written.
func (in OffboardingInput) Validate() error {
	var problems []string
	if strings.TrimSpace(in.EmployeeID) == "" {
		problems = append(problems, "employee id is empty")
	} else if strings.ContainsAny(in.EmployeeID, " /@") {
		problems = append(problems, fmt.Sprintf("employee id %q must be an opaque id (no spaces, '/' or '@')", in.EmployeeID))
	}
	if !isEmail(in.Email) {
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
		if !isEmail(in.AssetsTo) {
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
}

// RevokeNowRequest offboards at once.
type RevokeNowRequest struct {
	Reason string `json:"reason,omitempty"`
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

func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at >= 1 && at < len(s)-1 && !strings.ContainsAny(s, " /")
}
