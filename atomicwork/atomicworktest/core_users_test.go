package atomicworktest

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

func TestDemoUsers(t *testing.T) {
	s, _ := newSim(t, Options{})
	users := s.Users()
	assert.GreaterOrEqual(t, len(users), 25)
	for i := 1; i < len(users); i++ {
		assert.Less(t, users[i-1].ID, users[i].ID, "sorted by id")
	}
	it := mustUser(t, s.Handler, "it.manager@example.com")
	assert.Equal(t, "IT Manager", it.Title)
	assert.Equal(t, "IT", it.Department.Name)
	bo := mustUser(t, s.Handler, "bo.li@example.com")
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	require.NotNil(t, ana.Manager)
	assert.Equal(t, atomicwork.Ref{ID: bo.ID, FullName: "Bo Li", Email: "bo.li@example.com"}, *ana.Manager)
	former := mustUser(t, s.Handler, "former.employee@example.com")
	assert.True(t, former.IsDeleted)
	assert.NotNil(t, former.DeletedAt)
}

func TestEmailLookup(t *testing.T) {
	s, c := newSim(t, Options{})
	bo := mustUser(t, s.Handler, "bo.li@example.com")

	got := ok[atomicwork.User](t, c.get("/api/v1/users/"+url.PathEscape("Bo.Li@Example.com")+"/email-lookup"))
	assert.Equal(t, bo, got)

	// Soft-deleted users are found, flagged, so a client can restore them (Q7).
	former := ok[atomicwork.User](t, c.get("/api/v1/users/former.employee%40example.com/email-lookup"))
	assert.True(t, former.IsDeleted)

	r := c.get("/api/v1/users/nobody%40example.com/email-lookup")
	assert.Equal(t, "User not found", fails(t, r, http.StatusNotFound, atomicwork.CodeNotFound))
	// Substrings do not match: the lookup is exact.
	fails(t, c.get("/api/v1/users/bo.li%40example/email-lookup"), http.StatusNotFound, atomicwork.CodeNotFound)
}

func TestListUsers(t *testing.T) {
	s, c := newSim(t, Options{})
	active := 0
	for _, u := range s.Users() {
		if !u.IsDeleted {
			active++
		}
	}
	all := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?page=1&per_page=100"))
	assert.Equal(t, active, all.TotalCount, "deleted users are hidden by default")

	deleted := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?is_deleted=true"))
	require.Len(t, deleted.Data, 1)
	assert.Equal(t, "former.employee@example.com", deleted.Data[0].Email)

	byName := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?search_key=diaz"))
	require.Len(t, byName.Data, 1)
	assert.Equal(t, "Ana Diaz", byName.Data[0].FullName)
	byEmail := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?search_key=BO.LI%40"))
	require.Len(t, byEmail.Data, 1)

	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	byEmployeeID := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?employee_id="+ana.EmployeeID))
	require.Len(t, byEmployeeID.Data, 1)
	assert.Equal(t, ana.ID, byEmployeeID.Data[0].ID)

	ok[atomicwork.User](t, c.do(http.MethodPut, "/api/v1/users/"+id(ana.ID), map[string]any{"employment_status": "TERMINATED"}))
	inactive := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?user_status=INACTIVE"))
	require.Len(t, inactive.Data, 1)
	assert.Equal(t, ana.ID, inactive.Data[0].ID)
	activeOnly := ok[atomicwork.Page[atomicwork.User]](t, c.get("/api/v1/users/list?user_status=active"))
	assert.Equal(t, active-1, activeOnly.TotalCount)

	fails(t, c.get("/api/v1/users/list?user_status=GONE"), http.StatusBadRequest, atomicwork.CodeBadRequest)
	fails(t, c.get("/api/v1/users/list?is_deleted=maybe"), http.StatusBadRequest, atomicwork.CodeBadRequest)
}

func TestCreateUser(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	bo := mustUser(t, s.Handler, "bo.li@example.com")
	eng := *bo.Department

	u := ok[atomicwork.User](t, c.do(http.MethodPost, "/api/v1/users?send_email=false", map[string]any{
		"email": "Kai.Moana@example.com", "first_name": "Kai", "last_name": "Moana", "joined_on": "2025-04-01",
		"manager": bo.ID, "department": eng.ID, "employee_id": "E-9001", "type": "EMPLOYEE", "title": "Engineer",
	}))
	assert.NotZero(t, u.ID)
	assert.Equal(t, "Kai Moana", u.FullName)
	assert.Equal(t, "Kai.Moana@example.com", u.Email)
	assert.Equal(t, &atomicwork.Ref{ID: bo.ID, FullName: "Bo Li", Email: "bo.li@example.com"}, u.Manager)
	assert.Equal(t, &atomicwork.Ref{ID: eng.ID, Name: "Engineering"}, u.Department)
	assert.Equal(t, "ACTIVE", u.EmploymentStatus)
	assert.Equal(t, "ADDED", u.InvitationStatus)
	assert.Equal(t, "2025-04-01", *u.JoinedOn)
	assert.Equal(t, clock.Now(), u.CreatedAt)
	assert.False(t, u.IsDeleted)
	stored, found := s.UserByEmail("kai.moana@example.com")
	require.True(t, found)
	assert.Equal(t, u, stored)

	// Department and manager as numeric strings are ids too.
	u2 := ok[atomicwork.User](t, c.do(http.MethodPost, "/api/v1/users?send_email=true", map[string]any{
		"email": "lee@example.com", "first_name": "Lee", "manager": id(bo.ID),
	}))
	assert.Equal(t, bo.ID, u2.Manager.ID)
	assert.Equal(t, "EMAIL_INVITE_SENT", u2.InvitationStatus)
}

func TestCreateUserValidation(t *testing.T) {
	s, c := newSim(t, Options{})
	before := takeSnapshot(s.Handler)
	cases := []struct {
		name string
		body any
		want string
	}{
		{"no email", map[string]any{"first_name": "A"}, "email is required"},
		{"no first name", map[string]any{"email": "a@example.com"}, "first_name is required"},
		{"empty body", nil, "email is required"},
		{"bad email", map[string]any{"email": "not-an-email", "first_name": "A"}, "email"},
		{"email with name", map[string]any{"email": "A <a@example.com>", "first_name": "A"}, "email"},
		{"email not a string", map[string]any{"email": 12, "first_name": "A"}, "email must be a string"},
		{"unknown manager", map[string]any{"email": "a@example.com", "first_name": "A", "manager": 999999}, "manager"},
		{"manager as email", map[string]any{"email": "a@example.com", "first_name": "A", "manager": "bo.li@example.com"}, "manager must be a numeric id"},
		{"unknown department", map[string]any{"email": "a@example.com", "first_name": "A", "department": 999}, "department 999"},
		{"bad date", map[string]any{"email": "a@example.com", "first_name": "A", "joined_on": "01/04/2025"}, "joined_on"},
		{"bad type", map[string]any{"email": "a@example.com", "first_name": "A", "type": "ROBOT"}, "type"},
		{"unknown role", map[string]any{"email": "a@example.com", "first_name": "A", "org_roles": []int{99}}, "org role 99"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := fails(t, c.do(http.MethodPost, "/api/v1/users", tc.body), http.StatusBadRequest, atomicwork.CodeValidationError)
			assert.Contains(t, msg, tc.want)
			assert.NotContains(t, msg, "bo.li@example.com", "error messages carry no emails")
		})
	}
	assert.Equal(t, before, takeSnapshot(s.Handler))
}

func TestDuplicateEmailIsAConflict(t *testing.T) {
	s, c := newSim(t, Options{})
	before := takeSnapshot(s.Handler)
	fails(t, c.do(http.MethodPost, "/api/v1/users", map[string]any{"email": "BO.LI@example.com", "first_name": "Bo"}),
		http.StatusConflict, atomicwork.CodeConflict)
	// Deleted accounts keep their email: restore them instead.
	fails(t, c.do(http.MethodPost, "/api/v1/users", map[string]any{"email": "former.employee@example.com", "first_name": "F"}),
		http.StatusConflict, atomicwork.CodeConflict)
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	fails(t, c.do(http.MethodPut, "/api/v1/users/"+id(ana.ID), map[string]any{"email": "bo.li@example.com"}),
		http.StatusConflict, atomicwork.CodeConflict)
	assert.Equal(t, before, takeSnapshot(s.Handler))
}

func TestUpdateUserMergesAndNullClears(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	clock.Advance(time.Hour)

	u := ok[atomicwork.User](t, c.do(http.MethodPut, "/api/v1/users/"+id(ana.ID), map[string]any{
		"terminated_on": "2025-03-31", "employment_status": "TERMINATED", "custom_fields": map[string]any{"laptop": "returned"},
	}))
	assert.Equal(t, "2025-03-31", *u.TerminatedOn)
	assert.Equal(t, "TERMINATED", u.EmploymentStatus)
	assert.Equal(t, ana.FirstName, u.FirstName, "keys not sent are kept")
	assert.Equal(t, ana.Manager, u.Manager)
	assert.Equal(t, map[string]any{"laptop": "returned"}, u.CustomFields)
	assert.Equal(t, clock.Now(), u.UpdatedAt)
	assert.Equal(t, ana.CreatedAt, u.CreatedAt)

	u = ok[atomicwork.User](t, c.do(http.MethodPatch, "/api/v1/users/"+id(ana.ID), map[string]any{
		"manager": nil, "terminated_on": nil, "last_name": "Diaz-Lopez",
	}))
	assert.Nil(t, u.Manager)
	assert.Nil(t, u.TerminatedOn)
	assert.Equal(t, "Ana Diaz-Lopez", u.FullName)
	assert.Equal(t, u, ok[atomicwork.User](t, c.get("/api/v1/users/"+id(ana.ID))))

	before := takeSnapshot(s.Handler)
	fails(t, c.do(http.MethodPatch, "/api/v1/users/"+id(ana.ID), map[string]any{"first_name": ""}), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPatch, "/api/v1/users/"+id(ana.ID), map[string]any{"manager": ana.ID}), http.StatusBadRequest, atomicwork.CodeValidationError)
	// One bad field rejects the whole body: the good one is not applied either.
	fails(t, c.do(http.MethodPut, "/api/v1/users/"+id(ana.ID), map[string]any{"title": "CTO", "department": 4242}), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPut, "/api/v1/users/"+id(ana.ID), `["title"]`), http.StatusBadRequest, atomicwork.CodeBadRequest)
	fails(t, c.do(http.MethodPut, "/api/v1/users/424242", map[string]any{"title": "CTO"}), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.do(http.MethodPut, "/api/v1/users/abc", map[string]any{"title": "CTO"}), http.StatusBadRequest, atomicwork.CodeBadRequest)
	assert.Equal(t, before, takeSnapshot(s.Handler))
}

func TestDeleteAndRestoreUser(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	sam := mustUser(t, s.Handler, "sam.patel@example.com")

	r := c.do(http.MethodDelete, "/api/v1/users/"+id(sam.ID), nil)
	assert.JSONEq(t, `{}`, string(r.body))
	assert.Equal(t, http.StatusOK, r.status)
	deleted := mustUser(t, s.Handler, "sam.patel@example.com")
	assert.True(t, deleted.IsDeleted)
	assert.Equal(t, clock.Now(), *deleted.DeletedAt)

	// Deleting again is harmless and keeps the first deleted_at.
	clock.Advance(time.Minute)
	ok[struct{}](t, c.do(http.MethodDelete, "/api/v1/users/"+id(sam.ID), nil))
	assert.Equal(t, deleted.DeletedAt, mustUser(t, s.Handler, "sam.patel@example.com").DeletedAt)
	got := ok[atomicwork.User](t, c.get("/api/v1/users/"+id(sam.ID)))
	assert.True(t, got.IsDeleted)

	restored := ok[atomicwork.User](t, c.do(http.MethodPatch, "/api/v1/users/"+id(sam.ID)+"/restore", nil))
	assert.False(t, restored.IsDeleted)
	assert.Nil(t, restored.DeletedAt)

	former := ok[atomicwork.User](t, c.do(http.MethodPatch, "/api/v1/users/FORMER.employee%40example.com/restore-by-email", "{}"))
	assert.False(t, former.IsDeleted)
	lookedUp := ok[atomicwork.User](t, c.get("/api/v1/users/former.employee%40example.com/email-lookup"))
	assert.False(t, lookedUp.IsDeleted)

	fails(t, c.do(http.MethodPatch, "/api/v1/users/nobody%40example.com/restore-by-email", nil), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.do(http.MethodPatch, "/api/v1/users/424242/restore", nil), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.do(http.MethodDelete, "/api/v1/users/424242", nil), http.StatusNotFound, atomicwork.CodeNotFound)
}
