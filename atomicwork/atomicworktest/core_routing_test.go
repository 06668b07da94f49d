package atomicworktest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// servedOperations is the list of operations, spelled as the path keys of openapi.yaml.
var servedOperations = []string{
	"GET /api/v1/assets/attributes",
	"GET /api/v1/assets/types/{asset_type_id}/form-fields",
	"GET /api/v1/assets/users/{user_id}/list",
	"GET /api/v1/assets/{asset_id}",
	"GET /api/v1/catalogue-items/{item_id}/fields",
	"GET /api/v1/forms/{entity_type}/{reference_key}/options",
	"GET /api/v1/iga/apps",
	"GET /api/v1/iga/entitlements",
	"GET /api/v1/iga/grants/{grant_id}/history",
	"GET /api/v1/requests/{requestId}",
	"GET /api/v1/requests/{requestId}/notes",
	"GET /api/v1/users/list",
	"GET /api/v1/users/{email}/email-lookup",
	"GET /api/v1/users/{user_id}",
	"GET /api/v1/workspaces",
	"GET /api/v1/workspaces/{id}",
	"GET /api/v1/workspaces/{workspaceId}/catalogue/items",
	"GET /api/v1/workspaces/{workspaceId}/catalogue/items/{itemId}",
	"DELETE /api/v1/users/{user_id}",
	"PATCH /api/v1/requests/{requestId}",
	"PATCH /api/v1/users/{email}/restore-by-email",
	"PATCH /api/v1/users/{user_id}",
	"PATCH /api/v1/users/{user_id}/restore",
	"POST /api/v1/assets",
	"POST /api/v1/assets/list",
	"POST /api/v1/iga/grants",
	"POST /api/v1/iga/grants/list",
	"POST /api/v1/iga/grants/{grant_id}/revoke",
	"POST /api/v1/requests",
	"POST /api/v1/requests/items/{item_id}",
	"POST /api/v1/requests/list",
	"POST /api/v1/requests/{requestId}/notes",
	"POST /api/v1/users",
	"POST /api/v1/workspaces/{workspace_id}/requests/list",
	"PUT /api/v1/assets/{asset_id}",
	"PUT /api/v1/users/{user_id}",
}

func TestRoutesListsEveryServedOperation(t *testing.T) {
	c := newCore(Options{})
	assert.ElementsMatch(t, servedOperations, c.routes())
}

func TestOperationSpellsTheSpecPattern(t *testing.T) {
	c := newCore(Options{})
	cases := []struct{ method, path, want string }{
		{"GET", "/api/v1/users/1001", "GET /api/v1/users/{user_id}"},
		{"GET", "/api/v1/users/list", "GET /api/v1/users/list"},
		{"GET", "/api/v1/users/ana%40example.com/email-lookup", "GET /api/v1/users/{email}/email-lookup"},
		{"PATCH", "/api/v1/users/ana@example.com/restore-by-email", "PATCH /api/v1/users/{email}/restore-by-email"},
		// Both /requests/items/{item_id} and /requests/{requestId}/notes match this path; the
		// literal segment wins, as in net/http.ServeMux.
		{"POST", "/api/v1/requests/items/notes", "POST /api/v1/requests/items/{item_id}"},
		{"GET", "/api/v1/requests/items/notes", "GET /api/v1/requests/{requestId}/notes"},
		{"POST", "/api/v1/requests/ITREQ-1/notes", "POST /api/v1/requests/{requestId}/notes"},
		{"POST", "/api/v1/workspaces/1/requests/list", "POST /api/v1/workspaces/{workspace_id}/requests/list"},
		{"GET", "/api/v1/workspaces/1/catalogue/items/41", "GET /api/v1/workspaces/{workspaceId}/catalogue/items/{itemId}"},
		{"GET", "/api/v1/assets/attributes", "GET /api/v1/assets/attributes"},
		{"GET", "/api/v1/forms/ASSET/asset_type/options", "GET /api/v1/forms/{entity_type}/{reference_key}/options"},
		{"DELETE", "/api/v1/assets/8001", ""},
		{"GET", "/api/v1/nope", ""},
		{"GET", "/api/v1/users/", ""},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		assert.Equal(t, tc.want, c.operation(r), "%s %s", tc.method, tc.path)
	}
}

func TestUnknownPathIs404AndWrongMethodIs405(t *testing.T) {
	_, c := newSim(t, Options{})
	fails(t, c.get("/api/v1/tickets"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.get("/api/v1/users/invite/extra/segments"), http.StatusNotFound, atomicwork.CodeNotFound)

	r := c.do(http.MethodDelete, "/api/v1/assets/8001", nil)
	msg := fails(t, r, http.StatusMethodNotAllowed, atomicwork.CodeBadRequest)
	assert.Equal(t, "GET, PUT", r.header.Get("Allow"))
	assert.Contains(t, msg, "GET or PUT")
}

func TestAuthentication(t *testing.T) {
	s, c := newSim(t, Options{})
	fails(t, c.withKey("").get("/api/v1/users/list"), http.StatusUnauthorized, atomicwork.CodeUnauthorized)
	r := c.withKey("wrong").get("/api/v1/users/list")
	assert.JSONEq(t, `{"error":"Invalid API key","code":"UNAUTHORIZED"}`, string(r.body))
	assert.Equal(t, http.StatusUnauthorized, r.status)

	// The header name is case-insensitive, as [OSS] clients send x-api-key.
	req, err := http.NewRequest(http.MethodGet, s.URL+"/api/v1/users/list", nil)
	require.NoError(t, err)
	req.Header["x-api-key"] = []string{DevKey}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	ok[atomicwork.Page[atomicwork.User]](t, c.withKey(HRKey).get("/api/v1/users/list"))
}

func TestAPIKeyOptionReplacesTheDevKey(t *testing.T) {
	_, c := newSim(t, Options{APIKey: "custom"})
	fails(t, c.get("/api/v1/users/list"), http.StatusUnauthorized, atomicwork.CodeUnauthorized)
	ws := ok[atomicwork.Page[atomicwork.Workspace]](t, c.withKey("custom").get("/api/v1/workspaces"))
	require.Len(t, ws.Data, 1)
	assert.Equal(t, ITWorkspaceID, ws.Data[0].ID)
}

func TestWorkspaceHeader(t *testing.T) {
	_, c := newSim(t, Options{})
	msg := fails(t, c.inWorkspace("IT").get("/api/v1/users/list"), http.StatusBadRequest, atomicwork.CodeBadRequest)
	assert.Contains(t, msg, "X-Workspace-Id")
	fails(t, c.inWorkspace("2").get("/api/v1/iga/apps"), http.StatusForbidden, atomicwork.CodeForbidden)
	fails(t, c.inWorkspace("99").get("/api/v1/iga/apps"), http.StatusForbidden, atomicwork.CodeForbidden)
	fails(t, c.withKey(HRKey).inWorkspace("1").get("/api/v1/users/1001"), http.StatusForbidden, atomicwork.CodeForbidden)
	ok[atomicwork.Page[atomicwork.App]](t, c.inWorkspace("1").get("/api/v1/iga/apps"))

	// Discovery never reads the header: it is how a client learns the id.
	ok[atomicwork.Page[atomicwork.Workspace]](t, c.inWorkspace("junk").get("/api/v1/workspaces"))
	ok[atomicwork.Workspace](t, c.inWorkspace("2").get("/api/v1/workspaces/1"))
}

func TestWorkspaceInPathOrBodyMustBeAccessible(t *testing.T) {
	s, c := newSim(t, Options{})
	fails(t, c.get("/api/v1/workspaces/2/catalogue/items"), http.StatusForbidden, atomicwork.CodeForbidden)
	fails(t, c.get("/api/v1/workspaces/9/catalogue/items"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.do(http.MethodPost, "/api/v1/workspaces/2/requests/list", "[]"), http.StatusForbidden, atomicwork.CodeForbidden)
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	fails(t, c.do(http.MethodPost, "/api/v1/requests", map[string]any{"subject": "x", "requester": ana.ID, "workspace_id": 2}),
		http.StatusForbidden, atomicwork.CodeForbidden)
	assert.Empty(t, s.Requests())
}

func TestBodiesMustBeJSON(t *testing.T) {
	s, c := newSim(t, Options{})
	before := takeSnapshot(s.Handler)
	r := c.send(http.MethodPost, "/api/v1/users", []byte("email=a@example.com"), "application/x-www-form-urlencoded")
	fails(t, r, http.StatusUnsupportedMediaType, atomicwork.CodeBadRequest)
	r = c.send(http.MethodPost, "/api/v1/users", []byte(`{"email":"a@example.com","first_name":"A"}`), "")
	fails(t, r, http.StatusUnsupportedMediaType, atomicwork.CodeBadRequest)
	// A charset parameter and an empty body without a type are fine.
	r = c.send(http.MethodPost, "/api/v1/assets/list", []byte(`[]`), "application/json; charset=utf-8")
	ok[atomicwork.Page[atomicwork.Asset]](t, r)
	ok[atomicwork.Page[atomicwork.Asset]](t, c.send(http.MethodPost, "/api/v1/assets/list", nil, ""))

	for _, body := range []string{`{"email":`, `[1,2`, `{"a":1} {"b":2}`, `{"a":1}]`, `"just a string"`} {
		fails(t, c.do(http.MethodPost, "/api/v1/users", body), http.StatusBadRequest, atomicwork.CodeBadRequest)
	}
	fails(t, c.do(http.MethodPost, "/api/v1/assets/list", `{"filters":`), http.StatusBadRequest, atomicwork.CodeBadRequest)
	fails(t, c.do(http.MethodPost, "/api/v1/users", strings.Repeat(" ", maxBody+1)), http.StatusRequestEntityTooLarge, atomicwork.CodeBadRequest)
	assert.Equal(t, before, takeSnapshot(s.Handler))
}

func TestStrictModeRejectsUnknownBodyFields(t *testing.T) {
	s, lenient := newSim(t, Options{})
	body := map[string]any{"email": "new.hire@example.com", "first_name": "New", "favourite_colour": "teal"}
	ok[atomicwork.User](t, lenient.do(http.MethodPost, "/api/v1/users", body))
	_, found := s.UserByEmail("new.hire@example.com")
	assert.True(t, found)

	_, strict := newSim(t, Options{Strict: true})
	msg := fails(t, strict.do(http.MethodPost, "/api/v1/users", body), http.StatusBadRequest, atomicwork.CodeValidationError)
	assert.Contains(t, msg, "favourite_colour")
	// Fields of the published schema pass even when the simulator ignores them.
	body = map[string]any{"email": "new.hire@example.com", "first_name": "New", "phone_number": "+1 555 0100"}
	ok[atomicwork.User](t, strict.do(http.MethodPost, "/api/v1/users", body))
}

func TestResetRestoresTheSeed(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now, ExtraAssets: 2})
	seeded := takeSnapshot(s.Handler)
	ok[atomicwork.User](t, c.do(http.MethodPost, "/api/v1/users", map[string]any{"email": "x@example.com", "first_name": "X"}))
	g := seeded.Grants[0]
	ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants/"+id(g.ID)+"/revoke", nil))
	require.NotEqual(t, seeded, takeSnapshot(s.Handler))

	s.core.reset()
	assert.Equal(t, seeded, takeSnapshot(s.Handler))
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	rq := ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests", map[string]any{"subject": "x", "requester": ana.ID}))
	assert.Equal(t, "ITREQ-1", rq.DisplayID, "sequences restart too")
}
