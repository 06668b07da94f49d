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
	if at := strings.IndexByte(in.Email, '@'); at < 1 || at == len(in.Email)-1 || strings.ContainsAny(in.Email, " /") {
		problems = append(problems, "email is not an email address")
	}
	if strings.TrimSpace(in.FirstName) == "" {
		problems = append(problems, "first name is empty")
	}
	if in.ManagerEmail != "" && !strings.Contains(in.ManagerEmail, "@") {
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
func StartOfDay(date, tz string) (time.Time, error) {
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
		return time.Time{}, fmt.Errorf("start date %q is not a date in the form YYYY-MM-DD", date)
	}
	return d, nil
}
