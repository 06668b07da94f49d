package atomicworktest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// changeEverything writes through the API to every part of the store: users, a deleted user,
// requests with item fields, custom fields and notes, grants (one revoking, one revoked), assets.
func changeEverything(t *testing.T, c apiClient) {
	t.Helper()
	kai := ok[atomicwork.User](t, c.do(http.MethodPost, "/api/v1/users", map[string]any{
		"email": "kai@example.com", "first_name": "Kai", "custom_fields": map[string]any{"badge": 42, "floor": "3"}}))
	gone := ok[atomicwork.User](t, c.do(http.MethodPost, "/api/v1/users", map[string]any{"email": "gone@example.com", "first_name": "Gone"}))
	require.Equal(t, http.StatusOK, c.do(http.MethodDelete, "/api/v1/users/"+id(gone.ID), nil).status)

	rq := ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests/items/41", map[string]any{
		"subject": "Onboard Kai", "requester": kai.ID,
		"item_fields":   map[string]any{"employee_name": "Kai", "start_date": "2025-04-01", "manager": kai.ID},
		"custom_fields": map[string]any{"employee_id": "E-77", "cost": 12.5}}))
	ok[atomicwork.Note](t, c.do(http.MethodPost, "/api/v1/requests/"+rq.DisplayID+"/notes", map[string]any{"description": "<p>day one</p>", "is_private": true}))
	ok[atomicwork.Request](t, c.do(http.MethodPatch, "/api/v1/requests/"+rq.DisplayID, map[string]any{"status": "RESOLVED"}))

	var okta, slack int64 = 201, 203
	g1 := ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID, "entitlement_id": okta}))
	g2 := ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID, "entitlement_id": slack}))
	ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants/"+id(g1.ID)+"/revoke", map[string]any{"skip_deprovisioning": false, "reason": "left"}))
	ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants/"+id(g2.ID)+"/revoke", map[string]any{"skip_deprovisioning": true}))

	laptop := ok[atomicwork.Asset](t, c.do(http.MethodPost, "/api/v1/assets", map[string]any{"asset_type_id": 21,
		"form_fields": map[string]any{"display_name": "MBP-KAI", "status": "AVAILABLE"}}))
	ok[atomicwork.Asset](t, c.do(http.MethodPut, "/api/v1/assets/"+id(laptop.ID), map[string]any{"asset_type_id": 21,
		"form_fields": map[string]any{"status": "IN_USE", "assigned_to": kai.ID}}))
}

// storesEqual compares two stores field by field; the asset filter attributes are closures,
// rebuilt on load, so they are left out.
func storesEqual(t *testing.T, want, got *store) {
	t.Helper()
	w, g := *want, *got
	w.assetAttrs, g.assetAttrs = nil, nil
	require.True(t, reflect.DeepEqual(w, g), "the loaded store differs from the saved one")
}

func TestStateRoundTripKeepsTheWholeStore(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now, RevocationDelay: time.Hour, RevocationFailure: 0.5, Faults: Faults{Seed: 7}})
	changeEverything(t, c)

	b, err := s.core.marshalState()
	require.NoError(t, err)
	loaded := NewHandler(Options{Now: clock.Now, RevocationDelay: time.Hour, RevocationFailure: 0.5, Faults: Faults{Seed: 99}})
	defer loaded.Close()
	require.NoError(t, loaded.core.unmarshalState(b))
	storesEqual(t, s.core.st, loaded.core.st)

	// The same answers, reads and writes alike, from the saved and the loaded simulator.
	srv := httptest.NewServer(loaded)
	defer srv.Close()
	c2 := apiClient{t: t, url: srv.URL, key: DevKey}
	kai := mustUser(t, s.Handler, "kai@example.com")
	for _, probe := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/users/list?page=1&page_size=100", nil},
		{http.MethodPost, "/api/v1/assets/list", filters(where("assigned_to_id", "IS_ANY_OF", kai.ID))},
		{http.MethodGet, "/api/v1/assets/users/" + id(kai.ID) + "/list", nil},
		{http.MethodPost, "/api/v1/iga/grants/list", filters(where("status", "IS_ANY_OF", "ACTIVE"))},
		{http.MethodPost, "/api/v1/requests/list", nil},
		{http.MethodGet, "/api/v1/requests/ITSR-1/notes", nil},
		{http.MethodPost, "/api/v1/users", map[string]any{"email": "next@example.com", "first_name": "Next"}},
		{http.MethodPost, "/api/v1/requests", map[string]any{"subject": "next", "requester": kai.ID}},
		{http.MethodPost, "/api/v1/iga/grants/list", filters(where("user", "IS_ANY_OF", kai.ID))},
	} {
		want, got := c.do(probe.method, probe.path, probe.body), c2.do(probe.method, probe.path, probe.body)
		require.Equal(t, http.StatusOK, want.status, "%s %s: %s", probe.method, probe.path, want.body)
		assert.JSONEq(t, string(want.body), string(got.body), "%s %s", probe.method, probe.path)
	}
	clock.Advance(2 * time.Hour) // the revocation in progress ends the same way in both (same draw)
	assert.Equal(t, s.Grants(), loaded.Grants())
}

func TestOpenHandlerCreatesAMissingFileFromTheSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "awsim.json")
	h, err := OpenHandler(Options{ExtraAssets: 3}, path)
	require.NoError(t, err)
	defer h.Close()
	require.FileExists(t, path, "created at once, before any change")

	again, err := OpenHandler(Options{}, path)
	require.NoError(t, err)
	defer again.Close()
	storesEqual(t, h.core.st, again.core.st)
	assert.Len(t, again.Assets(), len(h.Assets()), "the extra laptops of the first start are in the file")
}

func TestOpenHandlerRefusesAnUnusableFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"truncated": `{"format":"atomicworktest-state","version":1,"store":{"users":[`,
		"not json":  "users: []\n",
		"empty":     "",
		"version":   `{"format":"atomicworktest-state","version":99,"store":{}}`,
		"format":    `{"format":"something-else","version":1,"store":{}}`,
		"dangling":  `{"format":"atomicworktest-state","version":1,"store":{"workspaces":[{"workspace":{"id":1}}],"revoking":[5]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			h, err := OpenHandler(Options{}, path)
			require.Error(t, err)
			assert.Nil(t, h)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), "delete it to start from the demo data")
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, content, string(after), "the file is left as it was, never reset")
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		path := filepath.Join(dir, "a-directory")
		require.NoError(t, os.Mkdir(path, 0o700))
		_, err := OpenHandler(Options{}, path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "cannot read the simulator state file "+path)
	})
	t.Run("no directory", func(t *testing.T) {
		path := filepath.Join(dir, "missing", "awsim.json")
		_, err := OpenHandler(Options{}, path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "cannot create the simulator state file "+path)
	})
}

func TestStateIsWrittenAfterAChangeAndOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "awsim.json")
	h, err := OpenHandler(Options{}, path)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := apiClient{t: t, url: srv.URL, key: DevKey}

	ok[atomicwork.User](t, c.do(http.MethodPost, "/api/v1/users", map[string]any{"email": "kai@example.com", "first_name": "Kai"}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		b, err := os.ReadFile(path)
		assert.NoError(c, err)
		assert.Contains(c, string(b), "kai@example.com", "written within the debounce")
	}, 10*StateDebounce, 20*time.Millisecond)

	// A change right before Close is not lost to the debounce.
	ok[atomicwork.User](t, c.do(http.MethodPost, "/api/v1/users", map[string]any{"email": "last@example.com", "first_name": "Last"}))
	h.Close()
	reopened, err := OpenHandler(Options{}, path)
	require.NoError(t, err)
	defer reopened.Close()
	_, found := reopened.UserByEmail("last@example.com")
	assert.True(t, found)

	// POST /_sim/reset is a change too.
	srv2 := httptest.NewServer(reopened)
	defer srv2.Close()
	resp, err := http.Post(srv2.URL+"/_sim/reset", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, reopened.SaveState())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "kai@example.com")
}

func TestStateWriteIsTempThenRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "awsim.json")
	h, err := OpenHandler(Options{}, path)
	require.NoError(t, err)
	defer h.Close()
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	// The process "dies" between writing the temporary file and renaming it.
	var tmpContent []byte
	renameFile = func(from, to string) error {
		assert.Equal(t, dir, filepath.Dir(from), "the temporary file is in the same directory, so the rename is atomic")
		assert.Equal(t, path, to)
		tmpContent, _ = os.ReadFile(from)
		return errors.New("crash")
	}
	t.Cleanup(func() { renameFile = os.Rename })

	h.core.mu.Lock()
	h.core.st.users.rows[0].Title = "Changed"
	h.core.mu.Unlock()
	h.state.changes.Add(1) // a change, without waking the debounced writer that would race with renameFile
	require.Error(t, h.SaveState())

	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the file is the old one, whole")
	assert.Contains(t, string(tmpContent), `"title": "Changed"`, "the new state was complete before the rename")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	renameFile = os.Rename
	require.NoError(t, h.SaveState(), "the next write retries the unsaved change")
	after, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(after), `"title": "Changed"`)
}
