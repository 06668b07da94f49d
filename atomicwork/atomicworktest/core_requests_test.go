package atomicworktest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

func TestCreateRequestAndDisplayIDs(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")

	created := ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests", map[string]any{
		"request_type": "SERVICE_REQUEST", "request_source": "API", "subject": "Onboard Kai",
		"description": "<p>Start &amp; welcome</p>", "requester": ana.ID, "priority": "high",
	}))
	assert.Equal(t, "ITSR-1", created.DisplayID)
	assert.Equal(t, atomicwork.RequestTypeServiceRequest, created.RequestType)
	assert.Equal(t, ITWorkspaceID, created.WorkspaceID)
	assert.Equal(t, atomicwork.Labelled{Value: "OPEN", Label: "Open"}, created.Status)
	assert.Equal(t, &atomicwork.Labelled{Value: "HIGH", Label: "High"}, created.Priority)
	assert.Equal(t, &atomicwork.Ref{ID: ana.ID, Label: "Ana Diaz", Email: "ana.diaz@example.com"}, created.Requester)
	assert.Equal(t, "Start & welcome", created.DescriptionText)
	assert.Equal(t, clock.Now(), created.CreatedAt)
	assert.Nil(t, created.ResolvedAt)

	// One sequence per workspace across types (Q18); REQUEST is the default type and
	// GENERAL_REQUEST its alias (Q16).
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"subject": "VPN down", "requester": ana.ID, "request_type": "INCIDENT"}, "ITINC-2"},
		{map[string]any{"subject": "Question", "requester": id(ana.ID)}, "ITREQ-3"},
		{map[string]any{"subject": "Question", "requester": ana.ID, "request_type": "general_request"}, "ITREQ-4"},
	} {
		got := ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests", tc.body))
		assert.Equal(t, tc.want, got.DisplayID)
	}
	hr := ok[atomicwork.Request](t, c.withKey(HRKey).do(http.MethodPost, "/api/v1/requests", map[string]any{"subject": "Payroll", "requester": ana.ID}))
	assert.Equal(t, "HRREQ-1", hr.DisplayID)
	assert.Equal(t, HRWorkspaceID, hr.WorkspaceID)

	// GET by display id (any case) or numeric id; other workspaces' requests are invisible.
	assert.Equal(t, created, ok[atomicwork.Request](t, c.get("/api/v1/requests/itsr-1")))
	assert.Equal(t, created, ok[atomicwork.Request](t, c.get("/api/v1/requests/"+id(created.ID))))
	fails(t, c.get("/api/v1/requests/HRREQ-1"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.withKey(HRKey).get("/api/v1/requests/ITSR-1"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.get("/api/v1/requests/ITSR-99"), http.StatusNotFound, atomicwork.CodeNotFound)
	assert.Len(t, s.Requests(), 5)
}

func TestCreateRequestValidation(t *testing.T) {
	s, c := newSim(t, Options{})
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	cases := []struct {
		name string
		key  string
		body any
		want string
	}{
		{"no subject", DevKey, map[string]any{"requester": ana.ID}, "subject is required"},
		{"blank subject", DevKey, map[string]any{"requester": ana.ID, "subject": "  "}, "subject"},
		{"no requester", DevKey, map[string]any{"subject": "x"}, "requester is required"},
		{"unknown requester", DevKey, map[string]any{"subject": "x", "requester": 999999}, "requester 999999"},
		{"bad type", DevKey, map[string]any{"subject": "x", "requester": ana.ID, "request_type": "PROBLEM"}, "request_type"},
		{"type the workspace lacks", HRKey, map[string]any{"subject": "x", "requester": ana.ID, "request_type": "INCIDENT"}, "INCIDENT"},
		{"bad status", DevKey, map[string]any{"subject": "x", "requester": ana.ID, "status": "DONE"}, "status"},
		{"bad priority", DevKey, map[string]any{"subject": "x", "requester": ana.ID, "priority": "P0"}, "priority"},
		{"unknown assignee", DevKey, map[string]any{"subject": "x", "requester": ana.ID, "assignee": 999999}, "assignee"},
		{"foreign agent group", DevKey, map[string]any{"subject": "x", "requester": ana.ID, "agent_group": 32}, "agent_group"},
		{"tags not ids", DevKey, map[string]any{"subject": "x", "requester": ana.ID, "tags": []string{"a"}}, "tags"},
		{"empty body", DevKey, nil, "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := fails(t, c.withKey(tc.key).do(http.MethodPost, "/api/v1/requests", tc.body), http.StatusBadRequest, atomicwork.CodeValidationError)
			assert.Contains(t, msg, tc.want)
		})
	}
	assert.Empty(t, s.Requests())
	// A failed create consumes no display id.
	got := ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests", map[string]any{"subject": "x", "requester": ana.ID}))
	assert.Equal(t, "ITREQ-1", got.DisplayID)
}

func TestPatchRequestStatus(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	ravi := mustUser(t, s.Handler, "ravi.shah@example.com")
	rq := ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests", map[string]any{"subject": "Laptop", "requester": ana.ID}))
	path := "/api/v1/requests/" + rq.DisplayID

	clock.Advance(time.Hour)
	got := ok[atomicwork.Request](t, c.do(http.MethodPatch, path, map[string]any{"status": "in progress", "assignee": ravi.ID, "agent_group": 31}))
	assert.Equal(t, atomicwork.Labelled{Value: "IN_PROGRESS", Label: "In Progress"}, got.Status)
	assert.Equal(t, ravi.ID, got.Assignee.ID)
	assert.Equal(t, &atomicwork.Ref{ID: 31, Label: "IT Ops"}, got.AgentGroup)
	assert.Equal(t, clock.Now(), got.UpdatedAt)
	assert.Equal(t, rq.Subject, got.Subject)

	clock.Advance(time.Hour)
	got = ok[atomicwork.Request](t, c.do(http.MethodPatch, path, map[string]any{"status": "Resolved"}))
	assert.Equal(t, atomicwork.Labelled{Value: "RESOLVED", Label: "Resolved"}, got.Status)
	require.NotNil(t, got.ResolvedAt)
	assert.Equal(t, clock.Now(), *got.ResolvedAt)
	resolvedAt := *got.ResolvedAt

	clock.Advance(time.Hour)
	got = ok[atomicwork.Request](t, c.do(http.MethodPatch, path, map[string]any{"status": "CLOSED"}))
	assert.Equal(t, resolvedAt, *got.ResolvedAt, "closing keeps the resolution time")
	got = ok[atomicwork.Request](t, c.do(http.MethodPatch, path, map[string]any{"status": "on_hold", "assignee": nil}))
	assert.Nil(t, got.ResolvedAt, "reopening clears it")
	assert.Nil(t, got.Assignee)

	before := takeSnapshot(s.Handler)
	msg := fails(t, c.do(http.MethodPatch, path, map[string]any{"status": "Finished"}), http.StatusBadRequest, atomicwork.CodeValidationError)
	assert.Contains(t, msg, "OPEN, IN_PROGRESS, ON_HOLD, RESOLVED, CLOSED")
	fails(t, c.do(http.MethodPatch, path, map[string]any{"status": "Resolved", "subject": ""}), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPatch, "/api/v1/requests/ITREQ-404", map[string]any{"status": "Resolved"}), http.StatusNotFound, atomicwork.CodeNotFound)
	assert.Equal(t, before, takeSnapshot(s.Handler))
}

func TestCatalogItemRequest(t *testing.T) {
	s, c := newSim(t, Options{})
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	bo := mustUser(t, s.Handler, "bo.li@example.com")
	items := ok[atomicwork.Page[atomicwork.CatalogItem]](t, c.get("/api/v1/workspaces/1/catalogue/items?search_key=Onboarding&is_published=true"))
	require.Len(t, items.Data, 1)
	item := items.Data[0]
	path := "/api/v1/requests/items/" + id(item.ID)

	got := ok[atomicwork.Request](t, c.do(http.MethodPost, path, map[string]any{
		"requester": ana.ID, "subject": "Onboard Kai", "item_id": item.ID, "request_type": "INCIDENT",
		"item_fields": map[string]any{"employee_name": "Kai Moana", "start_date": "2025-04-01", "manager": id(bo.ID)},
	}))
	assert.Equal(t, atomicwork.RequestTypeServiceRequest, got.RequestType, "catalogue requests are always service requests")
	assert.Equal(t, "ITSR-1", got.DisplayID)
	assert.Equal(t, item.ID, *got.ItemID)
	require.Len(t, got.Items, 1)
	assert.Equal(t, item.ID, got.Items[0].ItemID)
	assert.NotZero(t, got.Items[0].ID)
	assert.Equal(t, map[string]any{"employee_name": "Kai Moana", "start_date": "2025-04-01", "manager": float64(bo.ID)}, got.Items[0].ItemFields)

	before := takeSnapshot(s.Handler)
	cases := []struct {
		name   string
		fields map[string]any
		want   string
	}{
		{"missing required", map[string]any{"employee_name": "Kai"}, "item_fields.start_date is required"},
		{"unknown key", map[string]any{"employee_name": "Kai", "start_date": "2025-04-01", "shoe_size": 44}, "shoe_size"},
		{"bad date", map[string]any{"employee_name": "Kai", "start_date": "April 1st"}, "item_fields.start_date"},
		{"unknown user", map[string]any{"employee_name": "Kai", "start_date": "2025-04-01", "manager": 999999}, "item_fields.manager"},
		{"text not a string", map[string]any{"employee_name": 7, "start_date": "2025-04-01"}, "item_fields.employee_name"},
		{"none at all", nil, "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"requester": ana.ID, "subject": "Onboard", "item_fields": tc.fields}
			msg := fails(t, c.do(http.MethodPost, path, body), http.StatusBadRequest, atomicwork.CodeValidationError)
			assert.Contains(t, msg, tc.want)
		})
	}
	fails(t, c.do(http.MethodPost, path, map[string]any{"requester": ana.ID, "subject": "x", "item_id": 42,
		"item_fields": map[string]any{"employee_name": "Kai", "start_date": "2025-04-01"}}), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/requests/items/999", map[string]any{"requester": ana.ID, "subject": "x"}), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.withKey(HRKey).do(http.MethodPost, path, map[string]any{"requester": ana.ID, "subject": "x"}), http.StatusNotFound, atomicwork.CodeNotFound)
	assert.Equal(t, before, takeSnapshot(s.Handler))

	// Dropdown fields take the option value or label and store the value.
	access := ok[atomicwork.Page[atomicwork.CatalogItem]](t, c.get("/api/v1/workspaces/1/catalogue/items?is_published=false"))
	require.Len(t, access.Data, 1)
	got = ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests/items/"+id(access.Data[0].ID), map[string]any{
		"requester": ana.ID, "subject": "Figma", "item_fields": map[string]any{"application": "figma"},
	}))
	assert.Equal(t, "FIGMA", got.Items[0].ItemFields["application"])
}

func TestListRequests(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	ravi := mustUser(t, s.Handler, "ravi.shah@example.com")
	start := clock.Now()
	create := func(typ string, assignee any) atomicwork.Request {
		clock.Advance(time.Hour)
		return ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests", map[string]any{
			"subject": "s", "requester": ana.ID, "request_type": typ, "assignee": assignee}))
	}
	sr1 := create("SERVICE_REQUEST", ravi.ID)
	inc := create("INCIDENT", nil)
	sr2 := create("SERVICE_REQUEST", nil)
	ok[atomicwork.Request](t, c.do(http.MethodPatch, "/api/v1/requests/"+sr2.DisplayID, map[string]any{"status": "RESOLVED"}))
	ok[atomicwork.Request](t, c.withKey(HRKey).do(http.MethodPost, "/api/v1/requests", map[string]any{"subject": "s", "requester": ana.ID}))

	list := func(path string, body any) []string {
		t.Helper()
		page := ok[atomicwork.Page[atomicwork.Request]](t, c.do(http.MethodPost, path, body))
		ids := make([]string, len(page.Data))
		for i, rq := range page.Data {
			ids[i] = rq.DisplayID
		}
		return ids
	}
	all := []string{sr1.DisplayID, inc.DisplayID, sr2.DisplayID}
	assert.Equal(t, all, list("/api/v1/requests/list?filter_name=all&page=1", "[]"))
	assert.Equal(t, all, list("/api/v1/workspaces/1/requests/list?filter_name=all", nil))
	hr := ok[atomicwork.Page[atomicwork.Request]](t, c.withKey(HRKey).do(http.MethodPost, "/api/v1/workspaces/2/requests/list", nil))
	require.Len(t, hr.Data, 1)
	assert.Equal(t, "HRREQ-1", hr.Data[0].DisplayID)
	fails(t, c.do(http.MethodPost, "/api/v1/workspaces/2/requests/list", nil), http.StatusForbidden, atomicwork.CodeForbidden)

	assert.Equal(t, []string{sr1.DisplayID}, list("/api/v1/requests/list",
		filters(where("status", "IS_ANY_OF", "OPEN", "In Progress"), where("type", "IS_ANY_OF", "SERVICE_REQUEST"))))
	assert.Equal(t, []string{sr1.DisplayID}, list("/api/v1/requests/list",
		filters(where("assignee", "IN", ravi.ID))))
	assert.Equal(t, []string{sr1.DisplayID}, list("/api/v1/requests/list",
		filters(where("assignee_id", "IS_ANY_OF", id(ravi.ID)))))
	assert.Equal(t, []string{inc.DisplayID, sr2.DisplayID}, list("/api/v1/requests/list",
		filters(where("assignee_id", "IS_NULL"))))
	assert.Equal(t, all, list("/api/v1/requests/list", filters(where("requester_id", "EQUALS", ana.ID))))
	assert.Equal(t, []string{sr2.DisplayID}, list("/api/v1/requests/list",
		map[string]any{"filters": filters(where("status", "EQUALS", "resolved"))}))
	assert.Equal(t, []string{inc.DisplayID}, list("/api/v1/requests/list",
		filters(where("type", "IS_ANY_OF", "INCIDENT", "GENERAL_REQUEST"))))
	assert.Equal(t, []string{inc.DisplayID, sr2.DisplayID}, list("/api/v1/requests/list",
		filters(where("created_at", "IS_BETWEEN", start.Add(2*time.Hour).Format(time.RFC3339), start.Add(3*time.Hour).Format(time.RFC3339)))))
	assert.Equal(t, all, list("/api/v1/requests/list",
		filters(where("created_at", "IS_BETWEEN", start.Format(time.DateOnly), start.Format(time.DateOnly)))), "a date covers its whole day")

	fails(t, c.do(http.MethodPost, "/api/v1/requests/list", filters(where("colour", "EQUALS", "red"))), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/requests/list", filters(where("status", "IS_ANY_OF", "DONE"))), http.StatusBadRequest, atomicwork.CodeValidationError)
}

func TestNotes(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	it := mustUser(t, s.Handler, "it.manager@example.com")
	rq := ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests", map[string]any{"subject": "Laptop", "requester": ana.ID}))
	path := "/api/v1/requests/" + rq.DisplayID + "/notes"

	clock.Advance(time.Minute)
	n := ok[atomicwork.Note](t, c.do(http.MethodPost, path, map[string]any{"description": "<p>Laptop assigned</p>", "is_private": true, "source": "API"}))
	assert.Equal(t, rq.DisplayID, n.RequestID)
	assert.True(t, n.IsPrivate)
	assert.Equal(t, "ESD_NOTE", n.Type)
	assert.Equal(t, it.ID, *n.UserID, "the key owner authors notes by default")
	assert.Equal(t, clock.Now(), n.CreatedAt)
	assert.Equal(t, clock.Now(), ok[atomicwork.Request](t, c.get("/api/v1/requests/"+rq.DisplayID)).UpdatedAt)

	// is_private as the strings [OSS] clients send (Q23); the numeric id works in the path.
	n2 := ok[atomicwork.Note](t, c.do(http.MethodPost, "/api/v1/requests/"+id(rq.ID)+"/notes", map[string]any{"description": "public", "is_private": "false", "user_id": ana.ID}))
	assert.False(t, n2.IsPrivate)
	assert.Equal(t, ana.ID, *n2.UserID)
	n3 := ok[atomicwork.Note](t, c.do(http.MethodPost, path, map[string]any{"description": "third", "is_private": "true"}))
	assert.True(t, n3.IsPrivate)
	assert.Equal(t, []atomicwork.Note{n, n2, n3}, s.Notes(rq.DisplayID))

	before := takeSnapshot(s.Handler)
	for _, body := range []any{
		map[string]any{"is_private": true},
		map[string]any{"description": ""},
		map[string]any{"description": "x", "is_private": "yes"},
		map[string]any{"description": "x", "source": "CARRIER_PIGEON"},
		map[string]any{"description": "x", "user_id": 999999},
	} {
		fails(t, c.do(http.MethodPost, path, body), http.StatusBadRequest, atomicwork.CodeValidationError)
	}
	fails(t, c.do(http.MethodPost, "/api/v1/requests/ITREQ-77/notes", map[string]any{"description": "x"}), http.StatusNotFound, atomicwork.CodeNotFound)
	assert.Equal(t, before, takeSnapshot(s.Handler))
	assert.Len(t, s.Notes(rq.DisplayID), 3)

	page := ok[atomicwork.Page[atomicwork.Note]](t, c.get(path+"?page=1&per_page=2"))
	assert.Equal(t, []atomicwork.Note{n, n2}, page.Data)
	require.NotNil(t, page.NextPageToken)
	page = ok[atomicwork.Page[atomicwork.Note]](t, c.get(path+"?next_page_token="+*page.NextPageToken))
	assert.Equal(t, []atomicwork.Note{n3}, page.Data)
	assert.Nil(t, page.NextPageToken)
	found := ok[atomicwork.Page[atomicwork.Note]](t, c.get(path+"?search_key=LAPTOP"))
	assert.Equal(t, []atomicwork.Note{n}, found.Data)
}
