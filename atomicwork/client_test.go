package atomicwork_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// These tests run every client method against the in-process simulator and assert behaviour:
// what comes back, what the simulator holds afterwards, how errors classify, how pages are
// followed and that the API key never leaks. client_unit_test.go covers answers the simulator
// never gives (HTML 502s, odd envelopes, HTTP-date Retry-After); contract_test.go checks the
// requests against the published spec.

// ---------------------------------------------------------------------------------------------
// Workspaces

func TestWorkspacesListOnlyTheKeysOwnWorkspace(t *testing.T) {
	sim, dev := newSim(t, atomicworktest.Options{})
	hr := newSimClient(t, sim, atomicwork.Config{APIKey: atomicworktest.HRKey})

	devSpaces := collectAll(t, dev.ListWorkspaces(t.Context()))
	require.Len(t, devSpaces, 1)
	assert.Equal(t, atomicworktest.ITWorkspaceID, devSpaces[0].ID)
	assert.Equal(t, "IT", devSpaces[0].Name)
	assert.True(t, devSpaces[0].IsMember)

	hrSpaces := collectAll(t, hr.ListWorkspaces(t.Context()))
	require.Len(t, hrSpaces, 1)
	assert.Equal(t, atomicworktest.HRWorkspaceID, hrSpaces[0].ID)
	assert.Equal(t, "HR", hrSpaces[0].Name)
}

func TestGetWorkspace(t *testing.T) {
	_, c := newSim(t, atomicworktest.Options{})

	ws, err := c.GetWorkspace(t.Context(), atomicworktest.ITWorkspaceID)
	require.NoError(t, err)
	assert.Equal(t, "IT", ws.Name)
	require.NotNil(t, ws.Description)
	assert.Equal(t, "IT service desk", *ws.Description)
	assert.Contains(t, ws.SupportedObjects, atomicwork.RequestTypeServiceRequest)

	_, err = c.GetWorkspace(t.Context(), atomicworktest.HRWorkspaceID)
	assertAPIError(t, err, http.StatusForbidden, atomicwork.CodeForbidden, "workspaces.get")
	assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))
}

func TestClientScopedToAForeignWorkspaceIsForbidden(t *testing.T) {
	sim, _ := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	foreign := newSimClient(t, sim, atomicwork.Config{WorkspaceID: atomicworktest.HRWorkspaceID})
	assert.Equal(t, atomicworktest.HRWorkspaceID, foreign.WorkspaceID())

	_, err := foreign.GetUser(t.Context(), ana.ID)
	assertAPIError(t, err, http.StatusForbidden, atomicwork.CodeForbidden, "users.get")
	assert.True(t, atomicwork.IsPermanent(err))

	// Discovery never sends X-Workspace-Id, so the same client can still find its real workspace.
	spaces := collectAll(t, foreign.ListWorkspaces(t.Context()))
	require.Len(t, spaces, 1)
	assert.Equal(t, atomicworktest.ITWorkspaceID, spaces[0].ID)
}

// ---------------------------------------------------------------------------------------------
// Users

func TestLookupUserByEmailIgnoresCaseAndReturnsDeletedUsers(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})

	ana, err := c.LookupUserByEmail(t.Context(), "ANA.Diaz@Example.COM")
	require.NoError(t, err)
	assert.Equal(t, simUser(t, sim, "ana.diaz@example.com").ID, ana.ID)
	assert.Equal(t, "ana.diaz@example.com", ana.Email)
	assert.Equal(t, "Ana Diaz", ana.FullName)
	assert.False(t, ana.IsDeleted)

	former, err := c.LookupUserByEmail(t.Context(), "former.employee@example.com")
	require.NoError(t, err)
	assert.True(t, former.IsDeleted, "a soft-deleted user is returned, flagged")
	assert.NotNil(t, former.DeletedAt)
}

func TestLookupUnknownEmailIsAPermanentNotFound(t *testing.T) {
	_, c := newSim(t, atomicworktest.Options{})

	_, err := c.LookupUserByEmail(t.Context(), "nobody.here@example.com")
	assertAPIError(t, err, http.StatusNotFound, atomicwork.CodeNotFound, "users.email-lookup")
	assert.True(t, atomicwork.IsNotFound(err))
	assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))
	assert.NotContains(t, err.Error(), "nobody.here", "an email is personal data and stays out of errors")
}

func TestCreateUserRoundTripsEveryField(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	bo := simUser(t, sim, "bo.li@example.com")
	engineering := bo.Department.ID

	u, err := c.CreateUser(t.Context(), atomicwork.UserInput{
		Email: "new.hire@example.com", FirstName: "New", LastName: "Hire", Title: "Data Engineer",
		EmployeeID: "E-9001", Timezone: "Europe/Berlin", JoinedOn: "2026-12-01",
		Manager: &bo.ID, Department: &engineering,
		CustomFields: map[string]any{"cost_center": "CC-42", "badge": "B-7"},
	})
	require.NoError(t, err)
	assert.NotZero(t, u.ID)
	assert.Equal(t, "new.hire@example.com", u.Email)
	assert.Equal(t, "New", u.FirstName)
	assert.Equal(t, "Hire", u.LastName)
	assert.Equal(t, "New Hire", u.FullName)
	assert.Equal(t, "Data Engineer", u.Title)
	assert.Equal(t, "E-9001", u.EmployeeID)
	assert.Equal(t, "Europe/Berlin", u.Timezone)
	require.NotNil(t, u.JoinedOn)
	assert.Equal(t, "2026-12-01", *u.JoinedOn)
	require.NotNil(t, u.Manager)
	assert.Equal(t, bo.ID, u.Manager.ID)
	assert.Equal(t, "bo.li@example.com", u.Manager.Email, "the manager reference comes back with display fields")
	require.NotNil(t, u.Department)
	assert.Equal(t, engineering, u.Department.ID)
	assert.Equal(t, map[string]any{"cost_center": "CC-42", "badge": "B-7"}, u.CustomFields)
	assert.False(t, u.IsDeleted)
	assert.Equal(t, "ADDED", u.InvitationStatus, "the client creates users without a welcome email")

	stored := simUser(t, sim, "new.hire@example.com")
	assert.Equal(t, u.ID, stored.ID)

	got, err := c.GetUser(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, u.Email, got.Email)
	assert.Equal(t, u.EmployeeID, got.EmployeeID)
	assert.Equal(t, u.CustomFields, got.CustomFields)
}

func TestCreateUserWithATakenEmailConflicts(t *testing.T) {
	_, c := newSim(t, atomicworktest.Options{})

	for name, email := range map[string]string{
		"active user, other case": "ANA.DIAZ@example.com",
		"soft-deleted user":       "former.employee@example.com",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateUser(t.Context(), atomicwork.UserInput{Email: email, FirstName: "Dup"})
			assertAPIError(t, err, http.StatusConflict, atomicwork.CodeConflict, "users.create")
			assert.True(t, atomicwork.IsConflict(err))
			assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))
		})
	}
}

func TestCreateUserRejectsBadInputBeforeCalling(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})

	_, err := c.CreateUser(t.Context(), atomicwork.UserInput{Email: "not-an-email", FirstName: "X"})
	require.Error(t, err)
	assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))
	_, err = c.CreateUser(t.Context(), atomicwork.UserInput{Email: "no.name@example.com"})
	require.Error(t, err)
	assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))

	assert.Empty(t, sim.Stats().Calls, "invalid input never reaches the API")
}

func TestListUsersFilters(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")

	bySearch := collectAll(t, c.ListUsers(t.Context(), atomicwork.UserListOptions{SearchKey: "FISCHER"}))
	assert.Equal(t, []string{"lena.fischer@example.com"}, emailsOf(bySearch))

	byEmployeeID := collectAll(t, c.ListUsers(t.Context(), atomicwork.UserListOptions{EmployeeID: ana.EmployeeID}))
	assert.Equal(t, []string{"ana.diaz@example.com"}, emailsOf(byEmployeeID))

	both := collectAll(t, c.ListUsers(t.Context(), atomicwork.UserListOptions{SearchKey: "example.com", EmployeeID: ana.EmployeeID}))
	assert.Equal(t, []string{"ana.diaz@example.com"}, emailsOf(both), "search key and employee id are ANDed")

	deleted := collectAll(t, c.ListUsers(t.Context(), atomicwork.UserListOptions{IsDeleted: true}))
	assert.Equal(t, []string{"former.employee@example.com"}, emailsOf(deleted))

	active := collectAll(t, c.ListUsers(t.Context(), atomicwork.UserListOptions{}))
	assert.NotContains(t, emailsOf(active), "former.employee@example.com", "deleted users are listed only on request")
}

func TestListUsersFollowsManyPagesExactlyOnce(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	for i := range 10 {
		createUser(t, c, fmt.Sprintf("paged.%02d@example.com", i))
	}
	var want []string
	for _, u := range sim.Users() {
		if !u.IsDeleted {
			want = append(want, u.Email)
		}
	}
	const perPage = 3
	before := callCount(sim, "GET /api/v1/users/list")

	got := collectAll(t, c.ListUsers(t.Context(), atomicwork.UserListOptions{PerPage: perPage}))

	assertSameOnce(t, want, emailsOf(got))
	assert.Equal(t, (len(want)+perPage-1)/perPage, callCount(sim, "GET /api/v1/users/list")-before,
		"one call per page of %d, and no extra call after the last page", perPage)
}

func TestUpdateAndPatchUserMergeTheSetFields(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	bo := simUser(t, sim, "bo.li@example.com")
	u, err := c.CreateUser(t.Context(), atomicwork.UserInput{
		Email: "merge.me@example.com", FirstName: "Merge", LastName: "Me", Title: "Analyst", EmployeeID: "E-7001",
		Timezone: "Europe/Paris", JoinedOn: "2026-01-05", Manager: &bo.ID,
		CustomFields: map[string]any{"cost_center": "CC-1", "badge": "B-1"},
	})
	require.NoError(t, err)

	updated, err := c.UpdateUser(t.Context(), u.ID, atomicwork.UserInput{Title: "Senior Analyst"})
	require.NoError(t, err)
	assert.Equal(t, "Senior Analyst", updated.Title)
	assert.Equal(t, "Merge Me", updated.FullName, "PUT keeps the fields it did not send")
	assert.Equal(t, "E-7001", updated.EmployeeID)
	assert.Equal(t, "Europe/Paris", updated.Timezone)
	require.NotNil(t, updated.JoinedOn)
	assert.Equal(t, "2026-01-05", *updated.JoinedOn)
	require.NotNil(t, updated.Manager)
	assert.Equal(t, bo.ID, updated.Manager.ID)
	assert.Equal(t, map[string]any{"cost_center": "CC-1", "badge": "B-1"}, updated.CustomFields)

	patched, err := c.PatchUser(t.Context(), u.ID, atomicwork.UserInput{
		EmploymentStatus: "TERMINATED", TerminatedOn: "2026-06-30", CustomFields: map[string]any{"badge": "B-2"},
	})
	require.NoError(t, err)
	assert.Equal(t, "TERMINATED", patched.EmploymentStatus)
	require.NotNil(t, patched.TerminatedOn)
	assert.Equal(t, "2026-06-30", *patched.TerminatedOn)
	assert.Equal(t, "Senior Analyst", patched.Title, "PATCH keeps the earlier PUT")
	assert.Equal(t, map[string]any{"cost_center": "CC-1", "badge": "B-2"}, patched.CustomFields, "custom fields merge key by key")

	stored := simUser(t, sim, "merge.me@example.com")
	assert.Equal(t, "Senior Analyst", stored.Title)
	assert.Equal(t, "TERMINATED", stored.EmploymentStatus)
}

func TestDeleteAndRestoreUser(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	u := createUser(t, c, "leaver@example.com")

	require.NoError(t, c.DeleteUser(t.Context(), u.ID))
	looked, err := c.LookupUserByEmail(t.Context(), "leaver@example.com")
	require.NoError(t, err)
	assert.True(t, looked.IsDeleted)
	assert.NotNil(t, looked.DeletedAt)
	assert.Empty(t, collectAll(t, c.ListUsers(t.Context(), atomicwork.UserListOptions{SearchKey: "leaver@"})))
	assert.Len(t, collectAll(t, c.ListUsers(t.Context(), atomicwork.UserListOptions{SearchKey: "leaver@", IsDeleted: true})), 1)

	require.NoError(t, c.RestoreUser(t.Context(), u.ID))
	got, err := c.GetUser(t.Context(), u.ID)
	require.NoError(t, err)
	assert.False(t, got.IsDeleted)
	assert.Nil(t, got.DeletedAt)

	require.NoError(t, c.DeleteUser(t.Context(), u.ID))
	assert.True(t, simUser(t, sim, "leaver@example.com").IsDeleted)
	require.NoError(t, c.RestoreUserByEmail(t.Context(), "Leaver@Example.com"))
	assert.False(t, simUser(t, sim, "leaver@example.com").IsDeleted, "restore-by-email matches case-insensitively")

	err = c.RestoreUser(t.Context(), 999_999)
	assertAPIError(t, err, http.StatusNotFound, atomicwork.CodeNotFound, "users.restore")
}

// ---------------------------------------------------------------------------------------------
// Service catalog

func TestListCatalogItemsSearchAndPublishedOnly(t *testing.T) {
	_, c := newSim(t, atomicworktest.Options{})
	ws := atomicworktest.ITWorkspaceID

	all := collectAll(t, c.ListCatalogItems(t.Context(), ws, atomicwork.CatalogItemListOptions{}))
	assert.ElementsMatch(t, []string{"New Hire Onboarding", "Employee Offboarding", "Software Access Request"}, catalogNames(all))

	published := collectAll(t, c.ListCatalogItems(t.Context(), ws, atomicwork.CatalogItemListOptions{PublishedOnly: true}))
	assert.ElementsMatch(t, []string{"New Hire Onboarding", "Employee Offboarding"}, catalogNames(published))
	for _, it := range published {
		assert.True(t, it.IsPublished)
		assert.Equal(t, ws, it.WorkspaceID)
	}

	software := collectAll(t, c.ListCatalogItems(t.Context(), ws, atomicwork.CatalogItemListOptions{SearchKey: "software"}))
	assert.Equal(t, []string{"Software Access Request"}, catalogNames(software))
	none := collectAll(t, c.ListCatalogItems(t.Context(), ws, atomicwork.CatalogItemListOptions{SearchKey: "software", PublishedOnly: true}))
	assert.Empty(t, none, "search key and published-only are ANDed")

	var err error
	for _, err = range c.ListCatalogItems(t.Context(), atomicworktest.HRWorkspaceID, atomicwork.CatalogItemListOptions{}) {
		break
	}
	assertAPIError(t, err, http.StatusForbidden, atomicwork.CodeForbidden, "catalog.list-items")
}

func TestCatalogItemFields(t *testing.T) {
	_, c := newSim(t, atomicworktest.Options{})
	item := catalogItemNamed(t, c, "New Hire Onboarding")

	fields, err := c.CatalogItemFields(t.Context(), item.ID)
	require.NoError(t, err)
	byKey := map[string]atomicwork.FieldDefinition{}
	for _, f := range fields {
		byKey[f.ReferenceKey] = f
	}
	require.ElementsMatch(t, []string{"employee_name", "start_date", "department", "manager"}, slices.Collect(maps.Keys(byKey)))
	assert.True(t, byKey["employee_name"].RequiredField)
	assert.True(t, byKey["start_date"].RequiredField)
	assert.Equal(t, "DATE", byKey["start_date"].Type)
	assert.False(t, byKey["manager"].RequiredField)
	assert.Equal(t, "USER", byKey["manager"].ReferencedEntityType)
}

// ---------------------------------------------------------------------------------------------
// Requests and notes

func TestCreateRequest(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")

	rq, err := c.CreateRequest(t.Context(), atomicwork.RequestInput{
		Subject: "Laptop is slow", Description: "<p>Since <b>Monday</b></p>", Requester: ana.ID,
	})
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^ITREQ-\d+$`), rq.DisplayID)
	assert.Equal(t, atomicwork.RequestTypeRequest, rq.RequestType)
	assert.True(t, rq.Status.Is(atomicwork.StatusOpen), "status %+v", rq.Status)
	assert.Equal(t, atomicworktest.ITWorkspaceID, rq.WorkspaceID)
	require.NotNil(t, rq.Requester)
	assert.Equal(t, ana.ID, rq.Requester.ID)
	assert.Contains(t, rq.DescriptionText, "Monday")
	assert.Nil(t, rq.ItemID)
	assert.Nil(t, rq.ResolvedAt)

	incident, err := c.CreateRequest(t.Context(), atomicwork.RequestInput{
		RequestType: atomicwork.RequestTypeIncident, Subject: "VPN down", Requester: ana.ID,
	})
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^ITINC-\d+$`), incident.DisplayID)

	got, err := c.GetRequest(t.Context(), rq.DisplayID)
	require.NoError(t, err)
	assert.Equal(t, rq.ID, got.ID)
	assert.Equal(t, "Laptop is slow", got.Subject)

	_, err = c.GetRequest(t.Context(), "ITREQ-999999")
	assertAPIError(t, err, http.StatusNotFound, atomicwork.CodeNotFound, "requests.get")

	before := sim.Stats()
	_, err = c.CreateRequest(t.Context(), atomicwork.RequestInput{Requester: ana.ID})
	require.Error(t, err, "a request without a subject")
	assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))
	assert.Equal(t, before.Calls, sim.Stats().Calls, "invalid input never reaches the API")
}

func TestCreateRequestFromCatalogItem(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	bo := simUser(t, sim, "bo.li@example.com")
	item := catalogItemNamed(t, c, "New Hire Onboarding")

	rq, err := c.CreateItemRequest(t.Context(), item.ID, atomicwork.RequestInput{
		Subject: "Onboarding E-9001", Requester: ana.ID,
		ItemFields: map[string]any{"employee_name": "New Hire", "start_date": "2026-12-01", "department": "Engineering", "manager": bo.ID},
	})
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^ITSR-\d+$`), rq.DisplayID)
	assert.Equal(t, atomicwork.RequestTypeServiceRequest, rq.RequestType)
	require.NotNil(t, rq.ItemID)
	assert.Equal(t, item.ID, *rq.ItemID)
	require.Len(t, rq.Items, 1)
	assert.Equal(t, item.ID, rq.Items[0].ItemID)
	assert.Equal(t, map[string]any{
		"employee_name": "New Hire", "start_date": "2026-12-01", "department": "Engineering", "manager": float64(bo.ID),
	}, rq.Items[0].ItemFields)

	got, err := c.GetRequest(t.Context(), rq.DisplayID)
	require.NoError(t, err)
	require.NotNil(t, got.ItemID)
	assert.Equal(t, item.ID, *got.ItemID)
}

func TestCreateRequestFromCatalogItemWithoutARequiredFieldIsPermanent(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	item := catalogItemNamed(t, c, "New Hire Onboarding")

	_, err := c.CreateItemRequest(t.Context(), item.ID, atomicwork.RequestInput{
		Subject: "Onboarding without a start date", Requester: ana.ID,
		ItemFields: map[string]any{"employee_name": "New Hire"},
	})
	assertAPIError(t, err, http.StatusBadRequest, atomicwork.CodeValidationError, "requests.create-from-item")
	assert.Contains(t, err.Error(), "start_date", "the error names the missing field")
	assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))
	assert.Empty(t, sim.Requests(), "nothing was created")
}

func TestPatchRequestToResolvedSetsResolvedAt(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	rq := createRequest(t, c, simUser(t, sim, "ana.diaz@example.com").ID, "Reset my password")

	patched, err := c.PatchRequest(t.Context(), rq.DisplayID, atomicwork.RequestPatch{Status: "Resolved"})
	require.NoError(t, err)
	assert.True(t, patched.Status.Is(atomicwork.StatusResolved), "status %+v", patched.Status)
	assert.Equal(t, atomicwork.StatusResolved, patched.Status.Value, "the label is accepted, the enum comes back")
	assert.NotNil(t, patched.ResolvedAt)
	assert.Equal(t, "Reset my password", patched.Subject, "PATCH keeps the fields it did not send")

	got, err := c.GetRequest(t.Context(), rq.DisplayID)
	require.NoError(t, err)
	assert.True(t, got.Status.Is("resolved"))
	assert.NotNil(t, got.ResolvedAt)
}

func TestListRequestsANDsItsFilters(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com").ID
	sam := simUser(t, sim, "sam.patel@example.com").ID
	anaOpen := createRequest(t, c, ana, "Ana open")
	anaResolved := createRequest(t, c, ana, "Ana resolved")
	_, err := c.PatchRequest(t.Context(), anaResolved.DisplayID, atomicwork.RequestPatch{Status: atomicwork.StatusResolved})
	require.NoError(t, err)
	samOpen := createRequest(t, c, sam, "Sam open")

	list := func(f atomicwork.Filters) []string {
		return displayIDsOf(collectAll(t, c.ListRequests(t.Context(), f)))
	}
	assert.Equal(t, []string{anaOpen.DisplayID},
		list(atomicwork.Filters{}.IsAnyOf("requester_id", ana).IsAnyOf("status", atomicwork.StatusOpen)))
	assert.ElementsMatch(t, []string{anaOpen.DisplayID, anaResolved.DisplayID}, list(atomicwork.Filters{}.IsAnyOf("requester_id", ana)))
	assert.ElementsMatch(t, []string{anaOpen.DisplayID, samOpen.DisplayID}, list(atomicwork.Filters{}.IsAnyOf("status", atomicwork.StatusOpen)))
	assert.ElementsMatch(t, []string{anaOpen.DisplayID, anaResolved.DisplayID, samOpen.DisplayID}, list(nil), "no filter lists all")
}

func TestNotesFollowNextPageTokenAcrossPages(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	rq := createRequest(t, c, simUser(t, sim, "ana.diaz@example.com").ID, "Onboarding plan")
	const notes = atomicwork.MaxPerPage + 5 // ListNotes asks for 100 a page: two pages

	var want []string
	for i := range notes {
		text := fmt.Sprintf("<p>step %03d</p>", i)
		n, err := c.AddNote(t.Context(), rq.DisplayID, atomicwork.NoteInput{Description: text, IsPrivate: i%2 == 0})
		require.NoError(t, err)
		assert.Equal(t, rq.DisplayID, n.RequestID)
		assert.Equal(t, atomicwork.SourceAPI, n.Source, "the source defaults to API")
		assert.Equal(t, i%2 == 0, n.IsPrivate)
		want = append(want, text)
	}
	before := callCount(sim, "GET /api/v1/requests/{requestId}/notes")

	got := collectAll(t, c.ListNotes(t.Context(), rq.DisplayID))

	var texts []string
	for _, n := range got {
		texts = append(texts, n.Description)
	}
	assert.Equal(t, want, texts, "every note once, in order")
	assert.Equal(t, 2, callCount(sim, "GET /api/v1/requests/{requestId}/notes")-before, "the second page came from next_page_token")
	assert.Len(t, sim.Notes(rq.DisplayID), notes)

	_, err := c.AddNote(t.Context(), rq.DisplayID, atomicwork.NoteInput{})
	require.Error(t, err, "a note without a description")
}

// ---------------------------------------------------------------------------------------------
// Identity governance

func TestListAppsAndEntitlements(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})

	apps := collectAll(t, c.ListApps(t.Context(), ""))
	appIDs := map[string]int64{}
	for _, a := range apps {
		appIDs[a.Name] = a.ID
	}
	assert.ElementsMatch(t, []string{"Okta", "GitHub", "Slack"}, slices.Collect(maps.Keys(appIDs)))
	git := collectAll(t, c.ListApps(t.Context(), "git"))
	require.Len(t, git, 1)
	assert.Equal(t, "GitHub", git[0].Name)

	published := collectAll(t, c.ListEntitlements(t.Context(), atomicwork.EntitlementListOptions{Status: "PUBLISHED"}))
	assert.ElementsMatch(t, []string{"okta-base", "github-engineering", "slack-member"}, entitlementNames(published))
	drafts := collectAll(t, c.ListEntitlements(t.Context(), atomicwork.EntitlementListOptions{Status: "DRAFT"}))
	assert.Equal(t, []string{"github-admin"}, entitlementNames(drafts))
	github := collectAll(t, c.ListEntitlements(t.Context(), atomicwork.EntitlementListOptions{AppID: appIDs["GitHub"]}))
	assert.ElementsMatch(t, []string{"github-engineering", "github-admin"}, entitlementNames(github))
	for _, e := range github {
		assert.Equal(t, appIDs["GitHub"], e.AppID)
	}
	publishedGitHub := collectAll(t, c.ListEntitlements(t.Context(), atomicwork.EntitlementListOptions{AppID: appIDs["GitHub"], Status: "PUBLISHED"}))
	assert.Equal(t, []string{"github-engineering"}, entitlementNames(publishedGitHub))
	bySearch := collectAll(t, c.ListEntitlements(t.Context(), atomicwork.EntitlementListOptions{SearchKey: "SLACK"}))
	require.Len(t, bySearch, 1)
	assert.Equal(t, sim.EntitlementID("slack-member"), bySearch[0].ID)
}

func TestCreateGrantAndDuplicateActiveGrantConflicts(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	u := createUser(t, c, "grantee@example.com")
	okta := sim.EntitlementID("okta-base")

	g, err := c.CreateGrant(t.Context(), atomicwork.GrantInput{UserID: u.ID, EntitlementID: okta})
	require.NoError(t, err)
	assert.Equal(t, atomicwork.GrantGranted, g.Status)
	assert.True(t, g.Active())
	require.NotNil(t, g.User)
	assert.Equal(t, u.ID, g.User.ID)
	require.NotNil(t, g.Entitlement)
	assert.Equal(t, "okta-base", g.Entitlement.Name)
	require.NotNil(t, g.App)
	assert.Equal(t, "Okta", g.App.Name)

	_, err = c.CreateGrant(t.Context(), atomicwork.GrantInput{UserID: u.ID, EntitlementID: okta})
	assertAPIError(t, err, http.StatusConflict, atomicwork.CodeConflict, "iga.create-grant")
	assert.True(t, atomicwork.IsConflict(err))

	_, err = c.CreateGrant(t.Context(), atomicwork.GrantInput{UserID: u.ID, EntitlementID: sim.EntitlementID("github-admin")})
	assertAPIError(t, err, http.StatusBadRequest, atomicwork.CodeValidationError, "iga.create-grant")

	active := collectAll(t, c.ListGrants(t.Context(),
		atomicwork.Filters{}.IsAnyOf("user", u.ID).IsAnyOf("status", atomicwork.GrantBucketActive)))
	require.Len(t, active, 1, "the conflict created nothing")
	assert.Equal(t, g.ID, active[0].ID)
}

func TestListGrantsFollowsNextPageTokenAcrossPages(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	entitlements := []int64{sim.EntitlementID("okta-base"), sim.EntitlementID("github-engineering"), sim.EntitlementID("slack-member")}
	// 40 users × 3 entitlements = 120 grants: more than the 100 a page ListGrants asks for.
	var users []any
	var revoked int64
	for i := range 40 {
		u := createUser(t, c, fmt.Sprintf("bulk.grantee.%02d@example.com", i))
		users = append(users, u.ID)
		for _, ent := range entitlements {
			g, err := c.CreateGrant(t.Context(), atomicwork.GrantInput{UserID: u.ID, EntitlementID: ent})
			require.NoError(t, err)
			revoked = g.ID
		}
	}
	// One revoked grant shows the status filter is ANDed with the user filter.
	g, err := c.RevokeGrant(t.Context(), revoked, atomicwork.RevokeInput{Reason: "test", SkipDeprovisioning: true})
	require.NoError(t, err)
	assert.Equal(t, atomicwork.GrantRevoked, g.Status, "skipping deprovisioning revokes at once")

	var want []int64
	for _, g := range sim.Grants() {
		if slices.Contains(users, any(g.User.ID)) && g.Active() {
			want = append(want, g.ID)
		}
	}
	require.Len(t, want, 119)
	before := callCount(sim, "POST /api/v1/iga/grants/list")

	got := collectAll(t, c.ListGrants(t.Context(),
		atomicwork.Filters{}.IsAnyOf("user", users...).IsAnyOf("status", atomicwork.GrantBucketActive)))

	assertSameOnce(t, want, grantIDsOf(got))
	assert.Equal(t, 2, callCount(sim, "POST /api/v1/iga/grants/list")-before, "the second page came from next_page_token")

	byID, err := c.GrantsByID(t.Context(), revoked, want[0])
	require.NoError(t, err)
	assert.ElementsMatch(t, []int64{revoked, want[0]}, grantIDsOf(byID), "GrantsByID finds grants in any status")
}

func TestRevokeGrantDeprovisionsAsynchronously(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{RevocationDelay: 50 * time.Millisecond})
	ana := simUser(t, sim, "ana.diaz@example.com")
	grant := activeGrant(t, c, ana.ID, "okta-base")

	g, err := c.RevokeGrant(t.Context(), grant.ID, atomicwork.RevokeInput{Reason: "offboarding", SkipDeprovisioning: false})
	require.NoError(t, err)
	require.NotNil(t, g.RevocationStatus)
	assert.Equal(t, atomicwork.RevocationInProgress, g.RevocationStatus.Status)
	assert.Equal(t, atomicwork.GrantGranted, g.Status, "the access stays until the identity provider removed it")

	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		now := grantByID(t.Context(), ct, c, grant.ID)
		if assert.NotNil(ct, now.RevocationStatus) {
			assert.Equal(ct, atomicwork.RevocationCompleted, now.RevocationStatus.Status)
		}
		assert.Equal(ct, atomicwork.GrantRevoked, now.Status)
	}, 10*time.Second, 10*time.Millisecond)

	again, err := c.RevokeGrant(t.Context(), grant.ID, atomicwork.RevokeInput{Reason: "retry", SkipDeprovisioning: false})
	require.NoError(t, err, "revoking a revoked grant is idempotent")
	assert.Equal(t, atomicwork.GrantRevoked, again.Status)
	require.NotNil(t, again.RevocationStatus)
	assert.Equal(t, atomicwork.RevocationCompleted, again.RevocationStatus.Status)
	assert.Equal(t, "offboarding", again.RevocationStatus.Reason, "the second revoke changed nothing")

	var events []string
	for _, e := range collectAll(t, c.GrantHistory(t.Context(), grant.ID)) {
		assert.Equal(t, grant.ID, e.GrantID)
		events = append(events, e.EventType)
	}
	assert.Equal(t, []string{atomicwork.GrantRevoked, atomicwork.GrantGranted}, events, "newest first, one REVOKED")
}

func TestRevokeGrantDeprovisioningCanFail(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{RevocationDelay: 50 * time.Millisecond, FailRevocationOf: []string{"slack-member"}})
	ana := simUser(t, sim, "ana.diaz@example.com")
	grant := activeGrant(t, c, ana.ID, "slack-member")

	g, err := c.RevokeGrant(t.Context(), grant.ID, atomicwork.RevokeInput{Reason: "offboarding"})
	require.NoError(t, err)
	require.NotNil(t, g.RevocationStatus)
	assert.Equal(t, atomicwork.RevocationInProgress, g.RevocationStatus.Status)

	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		now := grantByID(t.Context(), ct, c, grant.ID)
		if assert.NotNil(ct, now.RevocationStatus) {
			assert.Equal(ct, atomicwork.RevocationFailed, now.RevocationStatus.Status)
		}
		assert.True(ct, now.Active(), "a failed deprovisioning leaves the grant active")
	}, 10*time.Second, 10*time.Millisecond)

	var events []string
	for _, e := range collectAll(t, c.GrantHistory(t.Context(), grant.ID)) {
		events = append(events, e.EventType)
	}
	assert.Equal(t, []string{atomicwork.GrantGranted}, events, "no REVOKED event for a failed deprovisioning")
}

// ---------------------------------------------------------------------------------------------
// Assets

func TestListAssetsIteratesManyPagesExactlyOnce(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{ExtraAssets: 250})
	var want []int64
	for _, a := range sim.Assets() {
		want = append(want, a.ID)
	}
	require.Greater(t, len(want), 3*atomicwork.MaxPerPage)
	before := callCount(sim, "POST /api/v1/assets/list")

	got := collectAll(t, c.ListAssets(t.Context(), nil))

	assertSameOnce(t, want, assetIDsOf(got))
	assert.Equal(t, (len(want)+atomicwork.MaxPerPage-1)/atomicwork.MaxPerPage, callCount(sim, "POST /api/v1/assets/list")-before)
}

func TestListAssetsPageWithFilters(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	laptop := sim.AssetTypeID("Laptop")
	var availableLaptops []int64
	for _, a := range sim.Assets() {
		if a.TypeID() == laptop && a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetAvailable {
			availableLaptops = append(availableLaptops, a.ID)
		}
	}
	filters := atomicwork.Filters{}.IsAnyOf("status", atomicwork.AssetAvailable).IsAnyOf("type_id", laptop)

	p, err := c.ListAssetsPage(t.Context(), filters, 2, 7)
	require.NoError(t, err)
	assert.Equal(t, 2, p.Page)
	assert.Equal(t, 7, p.PageSize)
	assert.Equal(t, len(availableLaptops), p.TotalCount)
	assert.Equal(t, (len(availableLaptops)+6)/7, p.TotalPages)
	assert.Equal(t, availableLaptops[7:14], assetIDsOf(p.Data), "page 2 of 7 in id order")

	all := collectAll(t, c.ListAssets(t.Context(), filters))
	assertSameOnce(t, availableLaptops, assetIDsOf(all))

	_, err = c.ListAssetsPage(t.Context(), nil, 0, 10)
	require.Error(t, err, "page numbers start at 1")
}

func TestListUserAssetsUsesPageSizeAcrossPages(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{ExtraAssets: 250})
	bo := simUser(t, sim, "bo.li@example.com")
	var want []int64
	for _, a := range sim.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == bo.ID {
			want = append(want, a.ID)
		}
	}
	require.Greater(t, len(want), 2*atomicwork.MaxPerPage)
	before := callCount(sim, "GET /api/v1/assets/users/{user_id}/list")

	got := collectAll(t, c.ListUserAssets(t.Context(), bo.ID))

	assertSameOnce(t, want, assetIDsOf(got))
	// Were page_size ignored, the simulator would answer 25 a page and take four times the calls.
	assert.Equal(t, (len(want)+atomicwork.MaxPerPage-1)/atomicwork.MaxPerPage,
		callCount(sim, "GET /api/v1/assets/users/{user_id}/list")-before, "the endpoint honoured page_size=100")
}

func TestCreateGetAndUpdateAsset(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	monitor := sim.AssetTypeID("Monitor")

	created, err := c.CreateAsset(t.Context(), atomicwork.AssetInput{AssetTypeID: monitor, FormFields: map[string]any{
		"display_name": "MON-NEW", "serial_number": "MN-NEW-1", "status": atomicwork.AssetAvailable,
	}})
	require.NoError(t, err)
	assert.NotZero(t, created.ID)
	assert.Equal(t, monitor, created.TypeID())
	assert.Equal(t, "Monitor", created.AssetBasicInfo.AssetTypeName)
	assert.Equal(t, "MON-NEW", created.Label)
	assert.Equal(t, "MN-NEW-1", created.SerialNumber)
	assert.Zero(t, created.AssigneeID(atomicwork.FieldAssignedTo))

	got, err := c.GetAsset(t.Context(), created.ID)
	require.NoError(t, err)
	assert.Equal(t, created.FormFields, got.FormFields)

	ana := simUser(t, sim, "ana.diaz@example.com")
	fields := maps.Clone(got.FormFields)
	fields["display_name"] = "MON-RENAMED"
	fields["assigned_to"] = ana.ID
	fields["status"] = "In Use" // a label: the API stores the option value
	updated, err := c.UpdateAsset(t.Context(), created.ID, atomicwork.AssetInput{AssetTypeID: monitor, FormFields: fields})
	require.NoError(t, err)
	assert.Equal(t, "MON-RENAMED", updated.Label)
	assert.Equal(t, "MN-NEW-1", updated.SerialNumber)
	assert.Equal(t, ana.ID, updated.AssigneeID(atomicwork.FieldAssignedTo))
	assert.Equal(t, atomicwork.AssetInUse, updated.StatusValue(atomicwork.FieldStatus))

	stored := simAsset(t, sim, created.ID)
	assert.Equal(t, "MON-RENAMED", stored.Label)
	assert.Equal(t, ana.ID, stored.AssigneeID(atomicwork.FieldAssignedTo))

	_, err = c.GetAsset(t.Context(), 999_999)
	assertAPIError(t, err, http.StatusNotFound, atomicwork.CodeNotFound, "assets.get")
	_, err = c.UpdateAsset(t.Context(), created.ID, atomicwork.AssetInput{FormFields: fields})
	require.Error(t, err, "an update without the asset type")
}

func TestAssetTypeFormFieldsAndDiscovery(t *testing.T) {
	sim, _ := newSim(t, atomicworktest.Options{})
	laptop := sim.AssetTypeID("Laptop")
	// A client configured with other keys learns the tenant's real ones.
	c := newSimClient(t, sim, atomicwork.Config{WorkspaceID: atomicworktest.ITWorkspaceID, AssigneeField: "owner", StatusField: "state_of_asset"})

	fields, err := c.AssetTypeFormFields(t.Context(), laptop)
	require.NoError(t, err)
	byKey := map[string]atomicwork.FieldDefinition{}
	for _, f := range fields {
		byKey[f.ReferenceKey] = f
	}
	require.ElementsMatch(t, []string{"display_name", "serial_number", "status", "assigned_to"}, slices.Collect(maps.Keys(byKey)))
	assert.Equal(t, "USER", byKey["assigned_to"].ReferencedEntityType)
	var statusValues []string
	for _, o := range byKey["status"].Options {
		statusValues = append(statusValues, o.Value)
	}
	assert.ElementsMatch(t, []string{atomicwork.AssetAvailable, atomicwork.AssetInUse, atomicwork.AssetRetired}, statusValues)

	assignee, status, err := c.DiscoverAssetFields(t.Context(), laptop)
	require.NoError(t, err)
	assert.Equal(t, "assigned_to", assignee)
	assert.Equal(t, "status", status)

	_, err = c.AssetTypeFormFields(t.Context(), 999)
	assertAPIError(t, err, http.StatusNotFound, atomicwork.CodeNotFound, "assets.type-form-fields")
}

func TestFormOptionsAndAssetTypeIDByName(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})

	types := collectAll(t, c.FormOptions(t.Context(), "ASSET", "asset_type", ""))
	byLabel := map[string]int64{}
	for _, o := range types {
		byLabel[o.Label] = o.ID
	}
	assert.Equal(t, map[string]int64{
		"Laptop": sim.AssetTypeID("Laptop"), "Monitor": sim.AssetTypeID("Monitor"), "Phone": sim.AssetTypeID("Phone"),
	}, byLabel)
	statuses := collectAll(t, c.FormOptions(t.Context(), "ASSET", "status", "use"))
	require.Len(t, statuses, 1)
	assert.Equal(t, atomicwork.AssetInUse, statuses[0].Value)

	for _, name := range []string{"laptop", "LAPTOP", "Laptop"} {
		id, err := c.AssetTypeID(t.Context(), name)
		require.NoError(t, err, name)
		assert.Equal(t, sim.AssetTypeID("Laptop"), id, name)
	}

	_, err := c.AssetTypeID(t.Context(), "Toaster")
	var notFound *atomicwork.NotFoundError
	require.ErrorAs(t, err, &notFound)
	assert.Equal(t, "asset type", notFound.Kind)
	assert.Equal(t, "Toaster", notFound.Name)
	assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))

	var listErr error
	for _, listErr = range c.FormOptions(t.Context(), "ASSET", "colour", "") {
		break
	}
	assertAPIError(t, listErr, http.StatusNotFound, atomicwork.CodeNotFound, "forms.options")
}

func TestSetAssignmentAssignsAndKeepsOtherFields(t *testing.T) {
	sim, _ := newSim(t, atomicworktest.Options{})
	puts := &putRecorder{}
	c := newSimClient(t, sim, atomicwork.Config{WorkspaceID: atomicworktest.ITWorkspaceID, Transport: puts})
	ana := simUser(t, sim, "ana.diaz@example.com")
	before := availableLaptop(t, sim)

	got, wrote, err := c.SetAssignment(t.Context(), before.ID, atomicwork.Assignment{AssigneeID: ana.ID, Status: atomicwork.AssetInUse})
	require.NoError(t, err)
	assert.True(t, wrote)
	assert.Equal(t, ana.ID, got.AssigneeID(atomicwork.FieldAssignedTo))
	assert.Equal(t, atomicwork.AssetInUse, got.StatusValue(atomicwork.FieldStatus))

	// The simulator merges a PUT (API-NOTES §7 Q9), so its state cannot show that the client
	// sends every field; a PUT that replaces would drop whatever the client left out.
	sent := puts.only(t)
	assert.Equal(t, float64(before.TypeID()), sent["asset_type_id"])
	assert.Equal(t, map[string]any{
		"display_name":  before.FormFields["display_name"],
		"serial_number": before.FormFields["serial_number"],
		"status":        atomicwork.AssetInUse,
		"assigned_to":   float64(ana.ID),
	}, sent["form_fields"], "the write carries every form field, changed or not")

	after := simAsset(t, sim, before.ID)
	assert.Equal(t, ana.ID, after.AssigneeID(atomicwork.FieldAssignedTo))
	assert.Equal(t, atomicwork.AssetInUse, after.StatusValue(atomicwork.FieldStatus))
	assert.Equal(t, before.FormFields["display_name"], after.FormFields["display_name"], "other form fields are kept")
	assert.Equal(t, before.FormFields["serial_number"], after.FormFields["serial_number"], "other form fields are kept")

	got, wrote, err = c.SetAssignment(t.Context(), before.ID, atomicwork.Assignment{AssigneeID: 0, Status: atomicwork.AssetAvailable})
	require.NoError(t, err)
	assert.True(t, wrote)
	assert.Zero(t, got.AssigneeID(atomicwork.FieldAssignedTo), "assignee 0 unassigns")
	assert.Zero(t, simAsset(t, sim, before.ID).AssigneeID(atomicwork.FieldAssignedTo))
	assert.Equal(t, before.FormFields["display_name"], simAsset(t, sim, before.ID).FormFields["display_name"])
}

func TestSetAssignmentWritesNothingWhenAlreadyHeld(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	laptop := availableLaptop(t, sim)
	want := atomicwork.Assignment{AssigneeID: ana.ID, Status: atomicwork.AssetInUse}
	_, wrote, err := c.SetAssignment(t.Context(), laptop.ID, want)
	require.NoError(t, err)
	require.True(t, wrote)
	writes := sim.Stats().WritesApplied

	got, wrote, err := c.SetAssignment(t.Context(), laptop.ID, want)
	require.NoError(t, err)
	assert.False(t, wrote, "a retry after the write finds it done")
	assert.Equal(t, ana.ID, got.AssigneeID(atomicwork.FieldAssignedTo))
	assert.Equal(t, writes, sim.Stats().WritesApplied, "no write was sent")

	_, wrote, err = c.SetAssignment(t.Context(), laptop.ID, atomicwork.Assignment{AssigneeID: ana.ID})
	require.NoError(t, err)
	assert.False(t, wrote, "an empty status keeps whatever status the asset has")
	assert.Equal(t, writes, sim.Stats().WritesApplied)
}

func TestSetAssignmentPreconditionVetoesTheWrite(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	sam := simUser(t, sim, "sam.patel@example.com")
	laptop := availableLaptop(t, sim)
	_, _, err := c.SetAssignment(t.Context(), laptop.ID, atomicwork.Assignment{AssigneeID: ana.ID, Status: atomicwork.AssetInUse})
	require.NoError(t, err)
	writes := sim.Stats().WritesApplied
	errTaken := errors.New("laptop is already in use")

	cur, wrote, err := c.SetAssignment(t.Context(), laptop.ID, atomicwork.Assignment{
		AssigneeID: sam.ID, Status: atomicwork.AssetInUse,
		Precondition: func(a *atomicwork.Asset) error {
			if a.StatusValue(atomicwork.FieldStatus) != atomicwork.AssetAvailable {
				return errTaken
			}
			return nil
		},
	})
	require.ErrorIs(t, err, errTaken, "the veto comes back unchanged")
	assert.False(t, wrote)
	require.NotNil(t, cur)
	assert.Equal(t, ana.ID, cur.AssigneeID(atomicwork.FieldAssignedTo), "the asset as read")
	assert.Equal(t, writes, sim.Stats().WritesApplied, "no write was sent")
	assert.Equal(t, ana.ID, simAsset(t, sim, laptop.ID).AssigneeID(atomicwork.FieldAssignedTo))
}

// ---------------------------------------------------------------------------------------------
// Error classification and faults

func TestPermanentErrorsFromTheSimulatorClassify(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	wrongKey := newSimClient(t, sim, atomicwork.Config{APIKey: "aw_not_a_key_of_this_tenant"})

	for _, tc := range []struct {
		name   string
		call   func(ctx context.Context) error
		status int
		code   string
		op     string
	}{
		{"400 invalid body", func(ctx context.Context) error {
			_, err := c.CreateRequest(ctx, atomicwork.RequestInput{Subject: "x", Requester: 999_999})
			return err
		}, http.StatusBadRequest, atomicwork.CodeValidationError, "requests.create"},
		{"401 unknown key", func(ctx context.Context) error {
			_, err := wrongKey.GetUser(ctx, ana.ID)
			return err
		}, http.StatusUnauthorized, atomicwork.CodeUnauthorized, "users.get"},
		{"403 foreign workspace", func(ctx context.Context) error {
			_, err := c.GetWorkspace(ctx, atomicworktest.HRWorkspaceID)
			return err
		}, http.StatusForbidden, atomicwork.CodeForbidden, "workspaces.get"},
		{"404 unknown id", func(ctx context.Context) error {
			_, err := c.GetUser(ctx, 999_999)
			return err
		}, http.StatusNotFound, atomicwork.CodeNotFound, "users.get"},
		{"409 duplicate", func(ctx context.Context) error {
			_, err := c.CreateUser(ctx, atomicwork.UserInput{Email: "ana.diaz@example.com", FirstName: "Ana"})
			return err
		}, http.StatusConflict, atomicwork.CodeConflict, "users.create"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(t.Context())
			assertAPIError(t, err, tc.status, tc.code, tc.op)
			assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))
			assert.True(t, atomicwork.IsPermanent(err))
			assert.Zero(t, atomicwork.RetryAfterOf(err))
		})
	}
}

func TestFaultServerErrorIsTransient503(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	sim.SetFaults(atomicworktest.Faults{ServerError: 1})

	_, err := c.CreateUser(t.Context(), atomicwork.UserInput{Email: "never.made@example.com", FirstName: "Never"})
	sim.SetFaults(atomicworktest.Faults{})

	assertAPIError(t, err, http.StatusServiceUnavailable, atomicwork.CodeInternal, "users.create")
	assert.Equal(t, atomicwork.Transient, atomicwork.Classify(err))
	_, exists := sim.UserByEmail("never.made@example.com")
	assert.False(t, exists, "a 503 applied nothing")
	createUser(t, c, "never.made@example.com") // the retry succeeds
}

func TestFaultRateLimitIsTransient429WithRetryAfter(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	sim.SetFaults(atomicworktest.Faults{RateLimit: 1})

	_, err := c.GetUser(t.Context(), ana.ID)
	sim.SetFaults(atomicworktest.Faults{})

	assertAPIError(t, err, http.StatusTooManyRequests, atomicwork.CodeRateLimited, "users.get")
	assert.True(t, atomicwork.IsRateLimited(err))
	assert.Equal(t, atomicwork.Transient, atomicwork.Classify(err))
	assert.Equal(t, time.Second, atomicwork.RetryAfterOf(err))
	assert.Contains(t, err.Error(), "retry after 1s")
}

func TestFaultWriteThen500LeavesTheWriteAppliedAndTheRetryConflicts(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	in := atomicwork.UserInput{Email: "half.done@example.com", FirstName: "Half", LastName: "Done"}
	sim.SetFaults(atomicworktest.Faults{WriteThen500: 1})

	_, err := c.CreateUser(t.Context(), in)
	sim.SetFaults(atomicworktest.Faults{})

	assertAPIError(t, err, http.StatusInternalServerError, atomicwork.CodeInternal, "users.create")
	assert.Equal(t, atomicwork.Transient, atomicwork.Classify(err))
	stored, exists := sim.UserByEmail("half.done@example.com")
	require.True(t, exists, "the user exists although the create answered 500")

	_, err = c.CreateUser(t.Context(), in)
	assert.True(t, atomicwork.IsConflict(err), "a blind retry conflicts: %v", err)
	found, err := c.LookupUserByEmail(t.Context(), in.Email)
	require.NoError(t, err, "look-up-first converges")
	assert.Equal(t, stored.ID, found.ID)
}

func TestFaultMalformedJSONReadIsFetchedAgainThenPermanent(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	sim.SetFaults(atomicworktest.Faults{MalformedJSON: 1})

	_, getErr := c.GetUser(t.Context(), ana.ID)
	var listErrs []error
	for _, err := range c.ListUsers(t.Context(), atomicwork.UserListOptions{}) {
		listErrs = append(listErrs, err)
	}
	sim.SetFaults(atomicworktest.Faults{})

	for op, err := range map[string]error{"users.get": getErr, "users.list": errors.Join(listErrs...)} {
		var decodeErr *atomicwork.DecodeError
		require.ErrorAs(t, err, &decodeErr, op)
		assert.Equal(t, op, decodeErr.Op)
		assert.Equal(t, http.StatusOK, decodeErr.StatusCode)
		assert.True(t, decodeErr.Refetched, "%s: a read is fetched once more before giving up", op)
		assert.Contains(t, err.Error(), op, "the error names the operation")
		assert.NotContains(t, err.Error(), ana.Email, "the error does not repeat the body")
		assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err), op)
	}
	assert.Len(t, listErrs, 1, "an unreadable page yields one error and ends the iteration")
	assert.Equal(t, 4, sim.Stats().FaultsInjected[atomicworktest.FaultMalformedJSON], "each read was sent twice, no more")
}

func TestFaultMalformedJSONWriteIsNotResentAndStaysTransient(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	sim.SetFaults(atomicworktest.Faults{MalformedJSON: 1})
	_, err := c.CreateUser(t.Context(), atomicwork.UserInput{Email: "lost.answer@example.com", FirstName: "Lost"})
	sim.SetFaults(atomicworktest.Faults{})

	var decodeErr *atomicwork.DecodeError
	require.ErrorAs(t, err, &decodeErr)
	assert.False(t, decodeErr.Refetched)
	assert.Equal(t, atomicwork.Transient, atomicwork.Classify(err), "the write's effect is there, only its answer is lost: the caller re-reads")
	assert.Equal(t, 1, sim.Stats().FaultsInjected[atomicworktest.FaultMalformedJSON], "a write is sent once")
	_, exists := sim.UserByEmail("lost.answer@example.com")
	assert.True(t, exists)
}

func TestFaultStallEndsInAPromptTransientTimeout(t *testing.T) {
	sim, _ := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	c := newSimClient(t, sim, atomicwork.Config{WorkspaceID: atomicworktest.ITWorkspaceID, Timeout: 200 * time.Millisecond})
	sim.SetFaults(atomicworktest.Faults{Stall: 1, StallFor: time.Minute})

	err := returnsWithin(t, 10*time.Second, func() error {
		_, err := c.GetUser(t.Context(), ana.ID)
		return err
	})
	sim.SetFaults(atomicworktest.Faults{})

	var transportErr *atomicwork.TransportError
	require.ErrorAs(t, err, &transportErr)
	assert.Equal(t, "users.get", transportErr.Op)
	assert.Equal(t, atomicwork.Transient, atomicwork.Classify(err), "%v", err)
	assert.Equal(t, 1, sim.Stats().FaultsInjected[atomicworktest.FaultStall])
}

func TestFaultLatencyStillSucceeds(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	sim.SetFaults(atomicworktest.Faults{Latency: 20 * time.Millisecond})

	u, err := c.GetUser(t.Context(), ana.ID)
	require.NoError(t, err)
	assert.Equal(t, ana.Email, u.Email)
	created := createUser(t, c, "slow.but.fine@example.com")
	assert.NotZero(t, created.ID)
}

func TestTokenBucketRateLimitAnswers429WithRetryAfter(t *testing.T) {
	// One token that refills in 5 s: the second call comes long before, however slow the machine.
	sim, c := newSim(t, atomicworktest.Options{RPS: 0.2, Burst: 1})
	ana := simUser(t, sim, "ana.diaz@example.com")

	_, err := c.GetUser(t.Context(), ana.ID)
	require.NoError(t, err, "the burst lets the first call through")
	_, err = c.GetUser(t.Context(), ana.ID)

	assertAPIError(t, err, http.StatusTooManyRequests, atomicwork.CodeRateLimited, "users.get")
	assert.Equal(t, atomicwork.Transient, atomicwork.Classify(err))
	assert.GreaterOrEqual(t, atomicwork.RetryAfterOf(err), time.Second)
	assert.Equal(t, 1, sim.Stats().RateLimited)

	hr := newSimClient(t, sim, atomicwork.Config{APIKey: atomicworktest.HRKey})
	_, err = hr.GetUser(t.Context(), ana.ID)
	assert.NoError(t, err, "the bucket is per key")
}

// ---------------------------------------------------------------------------------------------
// Key and email redaction

func TestAPIKeyNeverAppearsInErrorsOrPrintedClients(t *testing.T) {
	const key = "aw_secret_5f1e0c9a7b3d42e68a1c0f9b2d7e4a31_Zq8"
	const wrongKey = "aw_wrongkey_c0ffee00c0ffee00c0ffee00c0ffee00_Xy1"
	sim, c := newSim(t, atomicworktest.Options{APIKey: key})
	ana := simUser(t, sim, "ana.diaz@example.com")
	impatient := newSimClient(t, sim, atomicwork.Config{APIKey: key, WorkspaceID: atomicworktest.ITWorkspaceID, Timeout: 200 * time.Millisecond})
	wrong := newSimClient(t, sim, atomicwork.Config{APIKey: wrongKey})

	getAna := func(c *atomicwork.Client) func() error {
		return func() error { _, err := c.GetUser(t.Context(), ana.ID); return err }
	}
	createUserCall := func(email string) func() error {
		return func() error {
			_, err := c.CreateUser(t.Context(), atomicwork.UserInput{Email: email, FirstName: "K"})
			return err
		}
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name   string
		faults atomicworktest.Faults
		call   func() error
	}{
		{"server error", atomicworktest.Faults{ServerError: 1}, getAna(c)},
		{"rate limit", atomicworktest.Faults{RateLimit: 1}, getAna(c)},
		{"write then 500", atomicworktest.Faults{WriteThen500: 1}, createUserCall("key.check@example.com")},
		{"malformed JSON", atomicworktest.Faults{MalformedJSON: 1}, getAna(c)},
		{"stall past the timeout", atomicworktest.Faults{Stall: 1, StallFor: time.Minute}, getAna(impatient)},
		{"401 wrong key", atomicworktest.Faults{}, getAna(wrong)},
		{"403 foreign workspace", atomicworktest.Faults{}, func() error {
			_, err := c.GetWorkspace(t.Context(), atomicworktest.HRWorkspaceID)
			return err
		}},
		{"404", atomicworktest.Faults{}, func() error { _, err := c.GetUser(t.Context(), 999_999); return err }},
		{"409", atomicworktest.Faults{}, createUserCall("ana.diaz@example.com")},
		{"cancelled", atomicworktest.Faults{}, func() error { _, err := c.GetUser(cancelled, ana.ID); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim.SetFaults(tc.faults)
			err := returnsWithin(t, 10*time.Second, tc.call)
			sim.SetFaults(atomicworktest.Faults{})
			require.Error(t, err)
			for _, printed := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				assert.NotContains(t, printed, key)
				assert.NotContains(t, printed, wrongKey)
			}
		})
	}

	for _, cl := range []*atomicwork.Client{c, impatient, wrong} {
		for _, printed := range []string{cl.String(), fmt.Sprint(cl), fmt.Sprintf("%v", cl), fmt.Sprintf("%+v", cl), fmt.Sprintf("%#v", cl)} {
			assert.NotContains(t, printed, key)
			assert.NotContains(t, printed, wrongKey)
		}
	}
	cfg := atomicwork.Config{BaseURL: sim.URL, APIKey: key}
	for _, printed := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		assert.NotContains(t, printed, key)
	}
}

func TestEmailsStayOutOfTransportErrors(t *testing.T) {
	sim, _ := newSim(t, atomicworktest.Options{})
	c := newSimClient(t, sim, atomicwork.Config{WorkspaceID: atomicworktest.ITWorkspaceID, Timeout: 200 * time.Millisecond})
	const email = "ana.diaz@example.com"
	sim.SetFaults(atomicworktest.Faults{Stall: 1, StallFor: time.Minute})
	defer sim.SetFaults(atomicworktest.Faults{})

	for op, call := range map[string]func() error{
		"users.email-lookup":     func() error { _, err := c.LookupUserByEmail(t.Context(), email); return err },
		"users.restore-by-email": func() error { return c.RestoreUserByEmail(t.Context(), email) },
		"users.list": func() error {
			_, err := atomicwork.Collect(c.ListUsers(t.Context(), atomicwork.UserListOptions{SearchKey: email}))
			return err
		},
	} {
		t.Run(op, func(t *testing.T) {
			err := returnsWithin(t, 10*time.Second, call)
			var transportErr *atomicwork.TransportError
			require.ErrorAs(t, err, &transportErr)
			assert.Equal(t, op, transportErr.Op)
			assert.Equal(t, atomicwork.Transient, atomicwork.Classify(err))
			for _, printed := range []string{err.Error(), fmt.Sprintf("%+v", err), transportErr.Err.Error()} {
				assert.NotContains(t, printed, "ana.diaz", "an email is personal data and stays out of errors")
			}
		})
	}
}

// ---------------------------------------------------------------------------------------------
// Concurrency and cancellation

func TestConcurrentMixedCallsOnOneClient(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	okta := sim.EntitlementID("okta-base")
	usersBefore, grantsBefore := len(sim.Users()), len(sim.Grants())
	const workers = 50

	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { errs[i] = concurrentJourney(t.Context(), c, i, okta) })
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "worker %d", i)
	}

	assert.Len(t, sim.Users(), usersBefore+workers)
	var made []int64
	for i := range workers {
		u, ok := sim.UserByEmail(concurrentEmail(i))
		if assert.True(t, ok, "worker %d's user", i) {
			made = append(made, u.ID)
		}
	}
	assert.Equal(t, workers, distinct(made), "every worker created its own user")

	assert.Len(t, sim.Grants(), grantsBefore+workers)
	requests := sim.Requests()
	require.Len(t, requests, workers)
	for _, rq := range requests {
		assert.Len(t, sim.Notes(rq.DisplayID), 1, rq.DisplayID)
	}
	assert.Equal(t, workers, distinct(displayIDsOf(requests)), "every request has its own display id")
	for op, byStatus := range sim.Stats().Calls {
		for status := range byStatus {
			assert.Less(t, status, 300, "%s answered %d", op, status)
		}
	}
}

func TestCancelledContextFailsAsCanceledWithoutCalling(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := c.GetUser(ctx, 1)
	require.Error(t, err)
	assert.Equal(t, atomicwork.Canceled, atomicwork.Classify(err), "%v", err)
	assert.ErrorIs(t, err, context.Canceled)

	var iterErrs []error
	for _, err := range c.ListUsers(ctx, atomicwork.UserListOptions{}) {
		iterErrs = append(iterErrs, err)
	}
	require.Len(t, iterErrs, 1, "a cancelled iteration yields one error and stops")
	assert.Equal(t, atomicwork.Canceled, atomicwork.Classify(iterErrs[0]))
	assert.Empty(t, sim.Stats().Calls, "nothing was sent")
}

func TestCancellingAnInFlightCallReturnsCanceled(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{})
	ana := simUser(t, sim, "ana.diaz@example.com")
	sim.SetFaults(atomicworktest.Faults{Stall: 1, StallFor: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	done := make(chan error, 1)
	go func() {
		_, err := c.GetUser(ctx, ana.ID)
		done <- err
	}()
	require.Eventually(t, func() bool { return sim.Stats().FaultsInjected[atomicworktest.FaultStall] == 1 },
		10*time.Second, 5*time.Millisecond, "the call reached the simulator and stalls there")
	cancel()
	err := returnsWithin(t, 10*time.Second, func() error { return <-done })
	sim.SetFaults(atomicworktest.Faults{})

	require.Error(t, err)
	assert.Equal(t, atomicwork.Canceled, atomicwork.Classify(err), "%v", err)
}

// ---------------------------------------------------------------------------------------------
// Helpers

// newSim starts a simulator and returns it with a dev-key client scoped to workspace 1 (or the
// simulator's own key when opts.APIKey is set).
func newSim(t *testing.T, opts atomicworktest.Options) (*atomicworktest.Server, *atomicwork.Client) {
	t.Helper()
	sim := atomicworktest.NewServer(t, opts)
	key := opts.APIKey
	if key == "" {
		key = atomicworktest.DevKey
	}
	return sim, newSimClient(t, sim, atomicwork.Config{APIKey: key, WorkspaceID: atomicworktest.ITWorkspaceID})
}

// newSimClient builds a client for sim from cfg; the base URL is the simulator's and the key
// defaults to the dev key.
func newSimClient(t *testing.T, sim *atomicworktest.Server, cfg atomicwork.Config) *atomicwork.Client {
	t.Helper()
	cfg.BaseURL = sim.URL
	if cfg.APIKey == "" {
		cfg.APIKey = atomicworktest.DevKey
	}
	c, err := atomicwork.New(cfg)
	require.NoError(t, err)
	return c
}

// collectAll drains an iterator and fails the test on an error.
func collectAll[T any](t *testing.T, seq iter.Seq2[T, error]) []T {
	t.Helper()
	items, err := atomicwork.Collect(seq)
	require.NoError(t, err)
	return items
}

// assertAPIError checks that err is an *APIError with this status, envelope code and operation.
func assertAPIError(t *testing.T, err error, status int, code, op string) {
	t.Helper()
	var apiErr *atomicwork.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, status, apiErr.StatusCode, "%v", err)
	assert.Equal(t, code, apiErr.Code, "%v", err)
	assert.Equal(t, op, apiErr.Op, "%v", err)
	assert.NotEmpty(t, apiErr.Message, "the simulator's explanation reaches the error")
	assert.Equal(t, status, atomicwork.StatusOf(err))
}

// assertSameOnce checks that got holds exactly the items of want, each once.
func assertSameOnce[T comparable](t *testing.T, want, got []T, msgAndArgs ...any) {
	t.Helper()
	counts := map[T]int{}
	for _, v := range got {
		counts[v]++
	}
	for v, n := range counts {
		assert.Equal(t, 1, n, "%v came %d times", v, n)
	}
	assert.ElementsMatch(t, want, got, msgAndArgs...)
}

// returnsWithin runs call and returns its error, failing the test if it has not returned within
// deadline; the calls it guards end long before (a deadline, not a timing assertion).
func returnsWithin(t *testing.T, deadline time.Duration, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-time.After(deadline):
		t.Fatalf("the call did not return within %s", deadline)
		return nil
	}
}

// callCount is how many calls the simulator answered for an operation such as "GET /api/v1/users/list".
func callCount(sim *atomicworktest.Server, op string) int {
	n := 0
	for _, count := range sim.Stats().Calls[op] {
		n += count
	}
	return n
}

func simUser(t *testing.T, sim *atomicworktest.Server, email string) atomicwork.User {
	t.Helper()
	u, ok := sim.UserByEmail(email)
	require.True(t, ok, "the simulator has no user %s", email)
	return u
}

func simAsset(t *testing.T, sim *atomicworktest.Server, id int64) atomicwork.Asset {
	t.Helper()
	for _, a := range sim.Assets() {
		if a.ID == id {
			return a
		}
	}
	require.Failf(t, "no such asset", "the simulator has no asset %d", id)
	return atomicwork.Asset{}
}

// availableLaptop is the first unassigned, available laptop of the seed.
func availableLaptop(t *testing.T, sim *atomicworktest.Server) atomicwork.Asset {
	t.Helper()
	laptop := sim.AssetTypeID("Laptop")
	for _, a := range sim.Assets() {
		if a.TypeID() == laptop && a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetAvailable &&
			a.AssigneeID(atomicwork.FieldAssignedTo) == 0 {
			return a
		}
	}
	require.FailNow(t, "the seed has no available laptop")
	return atomicwork.Asset{}
}

func createUser(t *testing.T, c *atomicwork.Client, email string) *atomicwork.User {
	t.Helper()
	u, err := c.CreateUser(t.Context(), atomicwork.UserInput{Email: email, FirstName: "Test", LastName: "User"})
	require.NoError(t, err)
	return u
}

func createRequest(t *testing.T, c *atomicwork.Client, requester int64, subject string) *atomicwork.Request {
	t.Helper()
	rq, err := c.CreateRequest(t.Context(), atomicwork.RequestInput{Subject: subject, Requester: requester})
	require.NoError(t, err)
	return rq
}

func catalogItemNamed(t *testing.T, c *atomicwork.Client, name string) atomicwork.CatalogItem {
	t.Helper()
	for _, it := range collectAll(t, c.ListCatalogItems(t.Context(), atomicworktest.ITWorkspaceID, atomicwork.CatalogItemListOptions{SearchKey: name})) {
		if it.Name == name {
			return it
		}
	}
	require.FailNow(t, "no catalog item named "+name)
	return atomicwork.CatalogItem{}
}

// activeGrant finds the user's active grant of an entitlement through ListGrants (user + status).
func activeGrant(t *testing.T, c *atomicwork.Client, userID int64, entitlement string) atomicwork.Grant {
	t.Helper()
	grants := collectAll(t, c.ListGrants(t.Context(), atomicwork.Filters{}.IsAnyOf("user", userID).IsAnyOf("status", atomicwork.GrantBucketActive)))
	for _, g := range grants {
		assert.Equal(t, userID, g.User.ID)
		assert.True(t, g.Active())
		if g.Entitlement.Name == entitlement {
			return g
		}
	}
	require.FailNow(t, "no active grant of "+entitlement)
	return atomicwork.Grant{}
}

// grantByID reads one grant through GrantsByID, for polling.
func grantByID(ctx context.Context, ct *assert.CollectT, c *atomicwork.Client, id int64) atomicwork.Grant {
	grants, err := c.GrantsByID(ctx, id)
	if !assert.NoError(ct, err) || !assert.Len(ct, grants, 1) {
		return atomicwork.Grant{}
	}
	return grants[0]
}

// putRecorder is a transport that keeps the JSON bodies of the PUT requests it passes on.
type putRecorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *putRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// only decodes the one PUT body recorded.
func (r *putRecorder) only(t *testing.T) map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.bodies, 1, "one PUT")
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.bodies[0], &body))
	return body
}

// distinct counts the different values in xs.
func distinct[T comparable](xs []T) int {
	seen := map[T]bool{}
	for _, x := range xs {
		seen[x] = true
	}
	return len(seen)
}

func concurrentEmail(i int) string { return fmt.Sprintf("concurrent.%02d@example.com", i) }

// concurrentJourney is one worker's mix of reads and writes on the shared client.
func concurrentJourney(ctx context.Context, c *atomicwork.Client, i int, entitlement int64) error {
	u, err := c.CreateUser(ctx, atomicwork.UserInput{Email: concurrentEmail(i), FirstName: "Worker", LastName: fmt.Sprint(i)})
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	looked, err := c.LookupUserByEmail(ctx, concurrentEmail(i))
	if err != nil {
		return fmt.Errorf("lookup: %w", err)
	}
	if looked.ID != u.ID {
		return fmt.Errorf("lookup found user %d, created %d", looked.ID, u.ID)
	}
	if _, err := c.CreateGrant(ctx, atomicwork.GrantInput{UserID: u.ID, EntitlementID: entitlement}); err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	rq, err := c.CreateRequest(ctx, atomicwork.RequestInput{Subject: fmt.Sprintf("Onboarding worker %d", i), Requester: u.ID})
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if _, err := c.AddNote(ctx, rq.DisplayID, atomicwork.NoteInput{Description: "started"}); err != nil {
		return fmt.Errorf("note: %w", err)
	}
	if _, err := c.ListAssetsPage(ctx, atomicwork.Filters{}.IsAnyOf("status", atomicwork.AssetAvailable), 1, 10); err != nil {
		return fmt.Errorf("assets: %w", err)
	}
	mine, err := atomicwork.Collect(c.ListRequests(ctx, atomicwork.Filters{}.IsAnyOf("requester_id", u.ID)))
	if err != nil {
		return fmt.Errorf("list requests: %w", err)
	}
	if len(mine) != 1 || mine[0].DisplayID != rq.DisplayID {
		return fmt.Errorf("worker %d lists %d requests of its own, want exactly %s", i, len(mine), rq.DisplayID)
	}
	return nil
}

func emailsOf(users []atomicwork.User) []string {
	out := make([]string, 0, len(users))
	for _, u := range users {
		out = append(out, u.Email)
	}
	return out
}

func displayIDsOf(requests []atomicwork.Request) []string {
	out := make([]string, 0, len(requests))
	for _, rq := range requests {
		out = append(out, rq.DisplayID)
	}
	return out
}

func grantIDsOf(grants []atomicwork.Grant) []int64 {
	out := make([]int64, 0, len(grants))
	for _, g := range grants {
		out = append(out, g.ID)
	}
	return out
}

func assetIDsOf(assets []atomicwork.Asset) []int64 {
	out := make([]int64, 0, len(assets))
	for _, a := range assets {
		out = append(out, a.ID)
	}
	return out
}

func catalogNames(items []atomicwork.CatalogItem) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func entitlementNames(ents []atomicwork.Entitlement) []string {
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, e.Name)
	}
	return out
}
