package atomicworktest

import (
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Users are organisation-level: every key sees all of them (API-NOTES §2.2, §4). Error messages
// name users by id only, never by email: they travel into logs and workflow histories.

// Body fields of POST /users and PUT /users/{user_id} in openapi.yaml; PATCH takes the PUT ones.
var (
	userCreateFields = []string{"address", "azure_id", "city", "country", "custom_fields", "date_of_birth", "deleted_at",
		"department", "email", "employee_id", "employment_status", "external_app_type", "external_id", "first_name", "gender",
		"has_reporters", "hr", "is_deleted", "joined_on", "language", "last_name", "level", "manager", "middle_name",
		"notification_enabled", "org_roles", "originally_hired", "password", "personal_email", "phone_number",
		"profile_image", "slack_id", "state", "team", "terminated_on", "timezone", "title", "type", "workspaces"}
	userUpdateFields = []string{"address", "azure_id", "city", "company_legal_entity", "country", "custom_fields",
		"date_of_birth", "department", "email", "employee_id", "employment_status", "external_app_type", "external_id",
		"first_name", "gender", "has_reporters", "hr", "is_deleted", "joined_on", "language", "last_name", "level",
		"manager", "middle_name", "notification_enabled", "org_roles", "originally_hired", "password", "personal_email",
		"phone_number", "profile_image", "slack_id", "state", "team", "terminated_on", "timezone", "title"}
)

var userTypes = []string{"EMPLOYEE", "EXTERNAL", "AI_EMPLOYEE"}

// lookupUserByEmail matches case-insensitively and returns soft-deleted users too, so a client
// can restore them (Q7).
func (c *core) lookupUserByEmail(x *call) (any, error) {
	u, err := c.emailUser(x)
	if err != nil {
		return nil, err
	}
	return c.st.renderUser(u), nil
}

func (c *core) listUsers(x *call) (any, error) {
	p, err := x.readPage(perPage, maxPerPage)
	if err != nil {
		return nil, err
	}
	deleted, err := x.queryBool("is_deleted")
	if err != nil {
		return nil, err
	}
	wantDeleted := deleted != nil && *deleted
	status := strings.ToUpper(x.query.Get("user_status"))
	if !slices.Contains([]string{"", "ACTIVE", "INACTIVE", "ALL"}, status) {
		return nil, errBadRequest("user_status must be ACTIVE, INACTIVE or ALL, got %q", x.query.Get("user_status"))
	}
	search, employeeID := x.query.Get("search_key"), x.query.Get("employee_id")
	rows := filter(c.st.users.rows, func(u *atomicwork.User) bool {
		active := strings.EqualFold(u.EmploymentStatus, "ACTIVE")
		return u.IsDeleted == wantDeleted &&
			(containsFold(u.FullName, search) || containsFold(u.Email, search)) &&
			(employeeID == "" || u.EmployeeID == employeeID) &&
			(status == "" || status == "ALL" || active == (status == "ACTIVE"))
	})
	return paginate(rows, p, c.st.renderUser), nil
}

// createUser requires email and first_name (Q10); a taken email is a 409 (Q8).
func (c *core) createUser(x *call) (any, error) {
	r, err := x.object(userCreateFields)
	if err != nil {
		return nil, err
	}
	sendEmail, err := x.queryBool("send_email")
	if err != nil {
		return nil, err
	}
	now := c.now()
	u := &atomicwork.User{
		Type: "EMPLOYEE", EmploymentStatus: "ACTIVE", InvitationStatus: "ADDED", NotificationEnabled: true,
		Timezone: defaultTimezone, OrgRoles: []atomicwork.Ref{{ID: c.st.orgRoleID("employee")}},
		CustomFields: map[string]any{}, CreatedAt: now, UpdatedAt: now,
	}
	if sendEmail != nil && *sendEmail {
		u.InvitationStatus = "EMAIL_INVITE_SENT"
	}
	if t := r.str("type"); t.given() {
		if !slices.Contains(userTypes, t.v) {
			r.fail(errInvalid("type must be one of %s", strings.Join(userTypes, ", ")))
		}
		u.Type = t.v
	}
	if err := c.applyUser(u, r, now); err != nil {
		return nil, err
	}
	switch {
	case u.Email == "":
		return nil, errInvalid("email is required: send the user's work email")
	case u.FirstName == "":
		return nil, errInvalid("first_name is required")
	}
	if err := c.checkEmailFree(u); err != nil {
		return nil, err
	}
	u.ID = next(&c.st.ids.user)
	c.st.users.add(u.ID, u)
	return c.st.renderUser(u), nil
}

func (c *core) getUser(x *call) (any, error) {
	u, err := c.pathUser(x)
	if err != nil {
		return nil, err
	}
	return c.st.renderUser(u), nil
}

// updateUser serves PUT and PATCH alike: supplied keys merge, an explicit null clears (Q9).
func (c *core) updateUser(x *call) (any, error) {
	u, err := c.pathUser(x)
	if err != nil {
		return nil, err
	}
	r, err := x.object(userUpdateFields)
	if err != nil {
		return nil, err
	}
	now := c.now()
	changed := cloneUser(u)
	if err := c.applyUser(&changed, r, now); err != nil {
		return nil, err
	}
	if err := c.checkEmailFree(&changed); err != nil {
		return nil, err
	}
	changed.UpdatedAt = now
	*u = changed
	return c.st.renderUser(u), nil
}

// deleteUser is a soft delete answering {} (Q20); deleting twice keeps the first deleted_at.
func (c *core) deleteUser(x *call) (any, error) {
	u, err := c.pathUser(x)
	if err != nil {
		return nil, err
	}
	if !u.IsDeleted {
		now := c.now()
		setDeleted(u, true, now)
		u.UpdatedAt = now
	}
	return struct{}{}, nil
}

func (c *core) restoreUser(x *call) (any, error) {
	u, err := c.pathUser(x)
	if err != nil {
		return nil, err
	}
	return c.restore(u), nil
}

func (c *core) restoreUserByEmail(x *call) (any, error) {
	u, err := c.emailUser(x)
	if err != nil {
		return nil, err
	}
	return c.restore(u), nil
}

func (c *core) restore(u *atomicwork.User) atomicwork.User {
	if u.IsDeleted {
		now := c.now()
		setDeleted(u, false, now)
		u.UpdatedAt = now
	}
	return c.st.renderUser(u)
}

func (c *core) pathUser(x *call) (*atomicwork.User, error) {
	id, err := x.idParam("user_id")
	if err != nil {
		return nil, err
	}
	u, ok := c.st.users.get(id)
	if !ok {
		return nil, errNotFound("user %d not found", id)
	}
	return u, nil
}

func (c *core) emailUser(x *call) (*atomicwork.User, error) {
	u, ok := c.st.userByEmail(x.param("email"))
	if !ok {
		return nil, errNotFound("User not found")
	}
	return u, nil
}

// checkEmailFree enforces one account per email, deleted accounts included (Q8).
func (c *core) checkEmailFree(u *atomicwork.User) error {
	if other, ok := c.st.userByEmail(u.Email); ok && other.ID != u.ID {
		return errConflict("a user with this email already exists (user %d); look it up with email-lookup, and restore it if it is deleted", other.ID)
	}
	return nil
}

// applyUser merges the body fields into u, validating each. u is a copy until it succeeds.
func (c *core) applyUser(u *atomicwork.User, r *reader, now time.Time) error {
	if f := r.str("email"); f.set {
		if f.null || !validEmail(f.v) {
			r.fail(errInvalid("email must be a plain email address such as ana@example.com"))
		}
		u.Email = f.v
	}
	if f := r.str("first_name"); f.set {
		if strings.TrimSpace(f.v) == "" {
			r.fail(errInvalid("first_name must not be empty"))
		}
		u.FirstName = f.v
	}
	if f := r.str("last_name"); f.set {
		u.LastName = f.v
	}
	setOptional(&u.MiddleName, r.str("middle_name"))
	setOptional(&u.PersonalEmail, r.str("personal_email"))
	setOptional(&u.JoinedOn, r.date("joined_on"))
	setOptional(&u.TerminatedOn, r.date("terminated_on"))
	if f := r.str("title"); f.set {
		u.Title = f.v
	}
	if f := r.str("employee_id"); f.set {
		u.EmployeeID = f.v
	}
	if f := r.str("employment_status"); f.set {
		u.EmploymentStatus = f.v
	}
	if f := r.str("timezone"); f.set {
		u.Timezone = f.v
		if f.null || f.v == "" {
			u.Timezone = defaultTimezone
		}
	}
	if f := r.id("department"); f.set {
		u.Department = nil
		if f.given() {
			if _, ok := c.st.departments[f.v]; !ok {
				r.fail(errInvalid("department %d does not exist", f.v))
			}
			u.Department = &atomicwork.Ref{ID: f.v}
		}
	}
	if f := r.id("manager"); f.set {
		u.Manager = nil
		if f.given() {
			if _, ok := c.st.users.get(f.v); !ok || f.v == u.ID {
				r.fail(errInvalid("manager must be the id of another existing user, got %d", f.v))
			}
			u.Manager = &atomicwork.Ref{ID: f.v}
		}
	}
	if f := r.ids("org_roles"); f.set {
		u.OrgRoles = []atomicwork.Ref{}
		for _, id := range f.v {
			if _, ok := c.st.orgRoles[id]; !ok {
				r.fail(errInvalid("org role %d does not exist", id))
			}
			u.OrgRoles = append(u.OrgRoles, atomicwork.Ref{ID: id})
		}
	}
	if f := r.boolean("notification_enabled"); f.set {
		u.NotificationEnabled = f.v
	}
	if f := r.boolean("is_deleted"); f.given() {
		setDeleted(u, f.v, now)
	}
	if f := r.object("custom_fields"); f.set {
		if f.null {
			u.CustomFields = map[string]any{}
		}
		mergeInto(u.CustomFields, f.v)
	}
	u.FullName = fullName(u.FirstName, u.LastName)
	return r.err
}

func setOptional(dst **string, f field[string]) {
	switch {
	case f.null:
		*dst = nil
	case f.set:
		*dst = ptr(f.v)
	}
}

func setDeleted(u *atomicwork.User, deleted bool, now time.Time) {
	switch {
	case deleted && !u.IsDeleted:
		u.IsDeleted, u.DeletedAt = true, ptr(now)
	case !deleted:
		u.IsDeleted, u.DeletedAt = false, nil
	}
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// cloneUser deep-copies a stored user, references still as bare ids.
func cloneUser(u *atomicwork.User) atomicwork.User {
	out := *u
	out.MiddleName = clonePtr(u.MiddleName)
	out.PersonalEmail = clonePtr(u.PersonalEmail)
	out.JoinedOn = clonePtr(u.JoinedOn)
	out.TerminatedOn = clonePtr(u.TerminatedOn)
	out.DeletedAt = clonePtr(u.DeletedAt)
	out.Department = clonePtr(u.Department)
	out.Manager = clonePtr(u.Manager)
	out.Team = clonePtr(u.Team)
	out.OrgRoles = slices.Clone(u.OrgRoles)
	out.CustomFields = cloneMap(u.CustomFields)
	return out
}
