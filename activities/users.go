package activities

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// createdByField is the user custom field that records which workflow created a user, so a retry
// (or compensation) knows the user is this workflow's even when the create's answer was lost.
const createdByField = "atomicflow_created_by"

// EnsureUserRequest describes the user an onboarding needs.
type EnsureUserRequest struct {
	WorkspaceID  int64  `json:"workspace_id,omitempty"`
	WorkflowID   string `json:"workflow_id"`
	Email        string `json:"email"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Title        string `json:"title,omitempty"`
	EmployeeID   string `json:"employee_id"`
	TimeZone     string `json:"time_zone,omitempty"`
	StartDate    string `json:"start_date"`
	ManagerEmail string `json:"manager_email,omitempty"`
}

// UserRef is the user an onboarding works on.
type UserRef struct {
	UserID int64 `json:"user_id"`
	// Created is true when this workflow created the user (now or on an earlier attempt).
	Created bool `json:"created"`
	// Restored is true when the user was soft-deleted and has been restored.
	Restored bool `json:"restored"`
	// Adopted is how a former leaver's account was before this workflow made it the rehire's:
	// what a cancelled onboarding puts back (DeactivateUser). Nil when nothing was changed.
	Adopted *AdoptedAccount `json:"adopted,omitempty"`
}

// AdoptedAccount is a former leaver's account as it was before an onboarding took it over.
type AdoptedAccount struct {
	UserID           int64  `json:"user_id"`
	Email            string `json:"email"`
	Deleted          bool   `json:"deleted,omitempty"`
	EmploymentStatus string `json:"employment_status,omitempty"`
	TerminatedOn     string `json:"terminated_on,omitempty"`
}

// EnsureUser finds the employee's user by employee id, then by email (see findEmployee), restores
// a soft-deleted one, or creates one. A rehire whose email changed in HR keeps her account, which
// takes the HR email: one HR employee, one Atomicwork user.
func (a *Activities) EnsureUser(ctx context.Context, req EnsureUserRequest) (UserRef, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return UserRef{}, err
	}
	var p userProgress
	loadProgress(ctx, &p)
	u, err := findEmployee(ctx, c, req.EmployeeID, req.Email)
	switch {
	case err == nil:
		return a.existingUser(ctx, c, u, req, &p)
	case !atomicwork.IsNotFound(err):
		return UserRef{}, toTemporal(err)
	}
	// Found by neither: no user, deleted or not, carries the employee id, so a create makes no twin.
	in := atomicwork.UserInput{
		Email: req.Email, FirstName: req.FirstName, LastName: req.LastName, Title: req.Title,
		EmployeeID: req.EmployeeID, Timezone: req.TimeZone, JoinedOn: req.StartDate, Type: "EMPLOYEE",
		CustomFields: map[string]any{createdByField: req.WorkflowID},
	}
	if req.ManagerEmail != "" {
		if err := resolveManager(ctx, c, req.ManagerEmail, &p); err != nil {
			return UserRef{}, err
		}
		in.Manager = &p.ManagerID
	}
	created, err := c.CreateUser(ctx, in)
	if atomicwork.IsConflict(err) {
		// Someone (or our own lost answer) created it between lookup and create: converge on it.
		u, err := c.LookupUserByEmail(ctx, req.Email)
		if err != nil {
			return UserRef{}, toTemporal(err)
		}
		return a.existingUser(ctx, c, u, req, &p)
	}
	if err != nil {
		return UserRef{}, toTemporal(err)
	}
	return UserRef{UserID: created.ID, Created: true}, nil
}

// userProgress is what EnsureUser keeps across its attempts: the soft-deleted user it restored
// or sent the restore for (a retry finds that user live and could not tell) and the manager's id, a read that does not change within a
// run. The user's own lookup is redone: it is what proves whether an earlier create went through.
type userProgress struct {
	RestoredID int64 `json:"restored_id,omitempty"`
	ManagerID  int64 `json:"manager_id,omitempty"`
	// Adopted is saved before the first write to a former leaver's account: a retry reads the
	// account already changed.
	Adopted *AdoptedAccount `json:"adopted,omitempty"`
}

// resolveManager sets p.ManagerID from the manager's email unless an earlier attempt did.
func resolveManager(ctx context.Context, c *atomicwork.Client, email string, p *userProgress) error {
	if p.ManagerID != 0 {
		return nil
	}
	m, err := c.LookupUserByEmail(ctx, email)
	if err != nil {
		if atomicwork.IsNotFound(err) {
			return nonRetryable(ErrUnknownUser, "the manager email matches no Atomicwork user: fix the manager email or create the manager first")
		}
		return toTemporal(err)
	}
	p.ManagerID = m.ID
	saveProgress(ctx, p)
	return nil
}

// existingUser adopts the user found: only if it is the same employee (checked before any write),
// restoring it if soft-deleted, giving it the HR email if it was found by employee id under
// another, making a former leaver active again and recording the employee id if it has none.
func (a *Activities) existingUser(ctx context.Context, c *atomicwork.Client, u *atomicwork.User, req EnsureUserRequest, p *userProgress) (UserRef, error) {
	if err := sameEmployee(u, req.EmployeeID); err != nil {
		return UserRef{}, err
	}
	ref := UserRef{UserID: u.ID, Created: u.CustomFields[createdByField] == req.WorkflowID, Restored: p.RestoredID == u.ID}
	if err := renameAllowed(u, req.Email, ref.Restored); err != nil {
		return UserRef{}, err
	}
	if p.Adopted == nil && !ref.Created && (u.IsDeleted || formerLeaver(u) || !strings.EqualFold(u.Email, req.Email)) {
		p.Adopted = adoptedAccount(u)
		saveProgress(ctx, p)
	}
	if p.Adopted != nil && p.Adopted.UserID == u.ID {
		ref.Adopted = p.Adopted
	}
	if u.IsDeleted {
		// Saved before the write: a retry after a lost answer finds the user live, restored by us.
		ref.Restored, p.RestoredID = true, u.ID
		saveProgress(ctx, p)
		if err := c.RestoreUser(ctx, u.ID); err != nil {
			return UserRef{}, toTemporal(err)
		}
	}
	if err := takeEmail(ctx, c, u, req.Email); err != nil {
		return UserRef{}, err
	}
	// A rehire's account still says TERMINATED with its terminated_on, and a restored account is
	// a live one whatever status it kept: else the nightly reconciliation would take the new
	// access away again.
	if ref.Restored || formerLeaver(u) {
		if err := reactivate(ctx, c, u); err != nil {
			return UserRef{}, err
		}
	}
	if err := claimEmployeeID(ctx, c, u, req.EmployeeID); err != nil {
		return UserRef{}, err
	}
	return ref, nil
}

func adoptedAccount(u *atomicwork.User) *AdoptedAccount {
	a := &AdoptedAccount{UserID: u.ID, Email: u.Email, Deleted: u.IsDeleted, EmploymentStatus: u.EmploymentStatus}
	if u.TerminatedOn != nil {
		a.TerminatedOn = *u.TerminatedOn
	}
	return a
}

// renameAllowed refuses to give a live colleague's account another email: only a former leaver's
// account (deleted, terminated, or restored by this run) takes the rehire's new HR email. An
// active account under the employee id with another email is more likely an HR typo in the id
// than the same person starting again.
func renameAllowed(u *atomicwork.User, email string, restored bool) error {
	if strings.EqualFold(u.Email, email) || u.IsDeleted || restored || formerLeaver(u) {
		return nil
	}
	return nonRetryable(ErrEmployeeIDMismatch, fmt.Sprintf(
		"the Atomicwork user %d carries employee_id %q under another email and is not a former leaver: "+
			"an onboarding does not rename a live account; check the employee id in the HR record, or change that "+
			"user's email in Atomicwork if it really changed, then start again (nothing was changed)", u.ID, u.EmployeeID))
}

// takeEmail gives the employee's user, found by employee id, the HR record's email, which
// findEmployee checked no other user has. A retry after a lost answer finds the email taken.
func takeEmail(ctx context.Context, c *atomicwork.Client, u *atomicwork.User, email string) error {
	if strings.EqualFold(u.Email, email) {
		return nil
	}
	if _, err := c.PatchUser(ctx, u.ID, atomicwork.UserInput{Email: email}); err != nil {
		return toTemporal(err)
	}
	u.Email = email
	return nil
}

// formerLeaver: an offboarding terminated the user, or an onboarding was withdrawn; any other
// status (an invited or pre-hire account, say) is left as HR and Atomicwork set it.
func formerLeaver(u *atomicwork.User) bool {
	return u.EmploymentStatus == employmentTerminated || u.EmploymentStatus == employmentCancelled || u.TerminatedOn != nil
}

// sameEmployee refuses a user that carries another HR employee id than the run's. An empty
// employeeID (a request recorded before the check existed) or an unset one on the user passes.
func sameEmployee(u *atomicwork.User, employeeID string) error {
	if employeeID == "" || u.EmployeeID == "" || u.EmployeeID == employeeID {
		return nil
	}
	return nonRetryable(ErrEmployeeIDMismatch, fmt.Sprintf(
		"the Atomicwork user %d with this email has employee_id %q, not %q: fix the employee id in the HR record, "+
			"or correct that user's employee_id in Atomicwork if it is wrong, then start again (nothing was changed)",
		u.ID, u.EmployeeID, employeeID))
}

// claimEmployeeID records the run's employee id on a user that has none, so that the user cannot
// be taken for another employee later. Read-modify-write: a retry after a lost answer finds it set.
func claimEmployeeID(ctx context.Context, c *atomicwork.Client, u *atomicwork.User, employeeID string) error {
	if employeeID == "" || u.EmployeeID != "" {
		return nil
	}
	if err := employeeIDFree(ctx, c, employeeID, u.ID); err != nil {
		return err
	}
	if _, err := c.PatchUser(ctx, u.ID, atomicwork.UserInput{EmployeeID: employeeID}); err != nil {
		return toTemporal(err)
	}
	return nil
}

// employeeIDFree refuses an employee id that another active user than self already carries:
// one HR employee, one Atomicwork user.
func employeeIDFree(ctx context.Context, c *atomicwork.Client, employeeID string, self int64) error {
	if employeeID == "" {
		return nil
	}
	for other, err := range c.ListUsers(ctx, atomicwork.UserListOptions{EmployeeID: employeeID}) {
		if err != nil {
			return toTemporal(err)
		}
		if other.ID != self && other.EmployeeID == employeeID {
			return nonRetryable(ErrEmployeeIDMismatch, fmt.Sprintf(
				"employee_id %q already belongs to the Atomicwork user %d, who has another email: check the email "+
					"and the employee id in the HR record, or correct that user in Atomicwork, then start again (nothing was changed)",
				employeeID, other.ID))
		}
	}
	return nil
}

// userByEmployeeID returns the one user that carries this HR employee id, nil if none: a not
// deleted one before a soft-deleted one. Two users with it are refused: which one is the employee
// is for a person to say.
func userByEmployeeID(ctx context.Context, c *atomicwork.Client, employeeID string) (*atomicwork.User, error) {
	if employeeID == "" {
		return nil, nil
	}
	for _, deleted := range []bool{false, true} {
		var found []atomicwork.User
		for u, err := range c.ListUsers(ctx, atomicwork.UserListOptions{EmployeeID: employeeID, IsDeleted: deleted}) {
			if err != nil {
				return nil, toTemporal(err)
			}
			if u.EmployeeID == employeeID { // the filter is an exact match; checked, not trusted
				found = append(found, u)
			}
		}
		switch {
		case len(found) > 1:
			return nil, nonRetryable(ErrEmployeeIDMismatch, fmt.Sprintf(
				"employee_id %q is carried by the Atomicwork users %d and %d: keep it on the employee's own user only "+
					"(clear or correct it on the other in Atomicwork), then start again (nothing was changed)",
				employeeID, found[0].ID, found[1].ID))
		case len(found) == 1:
			return &found[0], nil
		}
	}
	return nil, nil
}

// emailChanged logs, without either email, that the employee's user was found by employee id
// under another email than the HR record's: it is the right person, whose email changed.
func emailChanged(ctx context.Context, u *atomicwork.User, email string) {
	if strings.EqualFold(u.Email, email) || !activity.IsActivity(ctx) {
		return
	}
	activity.GetLogger(ctx).Info("Found the employee's Atomicwork user by employee id; its email differs from the HR record's",
		"AtomicworkUserId", u.ID, "EmployeeId", u.EmployeeID)
}

// findEmployee finds an HR employee's user: by employee id first, so that an email changed in
// Atomicwork still finds the person, then by email (the caller checks that user's employee id
// with sameEmployee). Found by neither is the email lookup's 404 (atomicwork.IsNotFound). A user
// found by employee id while another user has the HR email is refused: the two records disagree.
func findEmployee(ctx context.Context, c *atomicwork.Client, employeeID, email string) (*atomicwork.User, error) {
	u, err := userByEmployeeID(ctx, c, employeeID)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return c.LookupUserByEmail(ctx, email)
	}
	if strings.EqualFold(u.Email, email) {
		return u, nil
	}
	other, err := c.LookupUserByEmail(ctx, email)
	switch {
	case atomicwork.IsNotFound(err):
		emailChanged(ctx, u, email)
		return u, nil
	case err != nil:
		return nil, toTemporal(err)
	case other.ID != u.ID:
		return nil, nonRetryable(ErrEmployeeIDMismatch, fmt.Sprintf(
			"employee_id %q belongs to the Atomicwork user %d, but the HR record's email to the user %d: check the email "+
				"and the employee id in the HR record, or correct those users in Atomicwork, then start again (nothing was changed)",
			employeeID, u.ID, other.ID))
	}
	return u, nil
}

// DeactivateUserRequest takes back a user an onboarding created.
type DeactivateUserRequest struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	Email       string `json:"email"`
	// EmployeeID finds the user first, whatever its email is now; empty in requests recorded
	// before it, which look up by email only.
	EmployeeID string `json:"employee_id,omitempty"`
	// WorkflowID is the onboarding's id: only a user it created (see EnsureUser) is deactivated.
	WorkflowID string `json:"workflow_id"`
	// Adopted, when the onboarding took over a former leaver's account (UserRef.Adopted), is put
	// back instead.
	Adopted *AdoptedAccount `json:"adopted,omitempty"`
}

// DeactivateUser soft-deletes (restorably) the employee's user, found by employee id and else by
// email, if this workflow created it, marking the employment status CANCELLED. A former leaver's
// account the workflow took over goes back to how it was (putBack). Any other user, an absent
// one or one already deleted is left as it is, so the step is safe to retry and safe after an
// interrupted create.
func (a *Activities) DeactivateUser(ctx context.Context, req DeactivateUserRequest) error {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return err
	}
	u, err := userByEmployeeID(ctx, c, req.EmployeeID)
	if err != nil {
		return err
	}
	if u != nil {
		emailChanged(ctx, u, req.Email)
	} else {
		u, err = c.LookupUserByEmail(ctx, req.Email)
	}
	switch {
	case atomicwork.IsNotFound(err):
		return nil
	case err != nil:
		return toTemporal(err)
	case req.Adopted != nil && req.Adopted.UserID == u.ID:
		return putBack(ctx, c, u, *req.Adopted)
	case u.IsDeleted || u.CustomFields[createdByField] != req.WorkflowID:
		return nil
	}
	if u.EmploymentStatus != employmentCancelled {
		if _, err := c.PatchUser(ctx, u.ID, atomicwork.UserInput{EmploymentStatus: employmentCancelled}); err != nil {
			return toTemporal(err)
		}
	}
	if err := c.DeleteUser(ctx, u.ID); err != nil && !atomicwork.IsNotFound(err) {
		return toTemporal(err)
	}
	return nil
}

// putBack returns a former leaver's account to how it was before a withdrawn onboarding took it
// over: its email (unless someone else has it by now), its employment status and terminated_on,
// and deleted if it was. Each write is skipped when already done, so a retry converges.
func putBack(ctx context.Context, c *atomicwork.Client, u *atomicwork.User, was AdoptedAccount) error {
	if u.IsDeleted {
		return nil // deleted last, so the rest is done
	}
	if was.Email != "" && !strings.EqualFold(u.Email, was.Email) {
		switch other, err := c.LookupUserByEmail(ctx, was.Email); {
		case atomicwork.IsNotFound(err):
			if _, err := c.PatchUser(ctx, u.ID, atomicwork.UserInput{Email: was.Email}); err != nil {
				return toTemporal(err)
			}
		case err != nil:
			return toTemporal(err)
		case other.ID != u.ID && activity.IsActivity(ctx):
			activity.GetLogger(ctx).Warn("The former leaver's old email belongs to another user now: the account keeps the rehire's",
				"AtomicworkUserId", u.ID, "OtherUserId", other.ID)
		}
	}
	if was.EmploymentStatus != "" && (u.EmploymentStatus != was.EmploymentStatus || terminatedOn(u) != was.TerminatedOn) {
		if _, err := c.UpdateUser(ctx, u.ID, atomicwork.UserInput{EmploymentStatus: was.EmploymentStatus, TerminatedOn: was.TerminatedOn}); err != nil {
			return toTemporal(err)
		}
	}
	if was.Deleted {
		if err := c.DeleteUser(ctx, u.ID); err != nil && !atomicwork.IsNotFound(err) {
			return toTemporal(err)
		}
	}
	return nil
}

func terminatedOn(u *atomicwork.User) string {
	if u.TerminatedOn == nil {
		return ""
	}
	return *u.TerminatedOn
}

// employmentCancelled marks a hire whose onboarding was withdrawn.
const employmentCancelled = "CANCELLED"

// UserIDRequest asks for a user's id by email.
type UserIDRequest struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	Email       string `json:"email"`
}

// UserID returns the id of the (not deleted) user with this email.
func (a *Activities) UserID(ctx context.Context, req UserIDRequest) (int64, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return 0, err
	}
	u, err := c.LookupUserByEmail(ctx, req.Email)
	switch {
	case atomicwork.IsNotFound(err) || (err == nil && u.IsDeleted):
		return 0, nonRetryable(ErrUnknownUser, "no active Atomicwork user has this email: check the address")
	case err != nil:
		return 0, toTemporal(err)
	}
	return u.ID, nil
}
