package atomicworktest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

func TestAppsAndEntitlements(t *testing.T) {
	_, c := newSim(t, Options{})
	apps := ok[atomicwork.Page[atomicwork.App]](t, c.get("/api/v1/iga/apps"))
	names := map[string]int64{}
	for _, a := range apps.Data {
		names[a.Name] = a.ID
	}
	assert.Len(t, names, 3)
	require.Contains(t, names, "Okta")
	assert.Contains(t, names, "GitHub")
	assert.Contains(t, names, "Slack")
	found := ok[atomicwork.Page[atomicwork.App]](t, c.get("/api/v1/iga/apps?search_key=git"))
	require.Len(t, found.Data, 1)
	assert.Equal(t, "GitHub", found.Data[0].Name)

	okta := ok[atomicwork.Page[atomicwork.Entitlement]](t, c.get("/api/v1/iga/entitlements?status=PUBLISHED&app_id="+id(names["Okta"])))
	require.Len(t, okta.Data, 1)
	assert.Equal(t, "okta-base", okta.Data[0].Name)
	github := ok[atomicwork.Page[atomicwork.Entitlement]](t, c.get("/api/v1/iga/entitlements?app_id="+id(names["GitHub"])))
	assert.Len(t, github.Data, 2)
	drafts := ok[atomicwork.Page[atomicwork.Entitlement]](t, c.get("/api/v1/iga/entitlements?status=DRAFT"))
	require.NotEmpty(t, drafts.Data)
	for _, e := range drafts.Data {
		assert.Equal(t, "DRAFT", e.Status)
	}
	slack := ok[atomicwork.Page[atomicwork.Entitlement]](t, c.get("/api/v1/iga/entitlements?search_key=SLACK"))
	require.Len(t, slack.Data, 1)
	assert.Equal(t, "slack-member", slack.Data[0].Name)

	fails(t, c.get("/api/v1/iga/entitlements?status=LIVE"), http.StatusBadRequest, atomicwork.CodeBadRequest)
	fails(t, c.get("/api/v1/iga/entitlements?app_id=okta"), http.StatusBadRequest, atomicwork.CodeBadRequest)
	// IGA data lives in workspace 1.
	assert.Empty(t, ok[atomicwork.Page[atomicwork.App]](t, c.withKey(HRKey).get("/api/v1/iga/apps")).Data)
}

func TestCreateGrant(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	kai := ok[atomicwork.User](t, c.do(http.MethodPost, "/api/v1/users", map[string]any{"email": "kai@example.com", "first_name": "Kai"}))
	it := mustUser(t, s.Handler, "it.manager@example.com")
	okta := s.EntitlementID("okta-base")

	g := ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID, "entitlement_id": okta}))
	assert.NotZero(t, g.ID)
	assert.Equal(t, atomicwork.GrantGranted, g.Status)
	assert.True(t, g.Active())
	assert.Equal(t, &atomicwork.Ref{ID: kai.ID, Email: "kai@example.com", FullName: "Kai"}, g.User)
	assert.Equal(t, &atomicwork.GrantEntitlement{ID: okta, Name: "okta-base", Type: "GROUP", Value: "okta-base"}, g.Entitlement)
	assert.Equal(t, "Okta", g.App.Name)
	assert.Equal(t, it.ID, *g.GrantedBy, "granted_by defaults to the key owner")
	assert.Equal(t, clock.Now(), *g.GrantedAt)
	assert.Equal(t, &atomicwork.ProvisioningStatus{Provider: "OKTA", Status: "COMPLETED"}, g.ProvisioningStatus)
	assert.Nil(t, g.RevocationStatus)

	before := takeSnapshot(s.Handler)
	msg := fails(t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID, "entitlement_id": id(okta)}),
		http.StatusConflict, atomicwork.CodeConflict)
	assert.Contains(t, msg, id(g.ID))
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"entitlement_id": okta}), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID}), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": "kai", "entitlement_id": okta}), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": 999999, "entitlement_id": okta}), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID, "entitlement_id": 999}), http.StatusNotFound, atomicwork.CodeNotFound)
	msg = fails(t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID, "entitlement_id": s.EntitlementID("github-admin")}),
		http.StatusBadRequest, atomicwork.CodeValidationError)
	assert.Contains(t, msg, "PUBLISHED")
	former := mustUser(t, s.Handler, "former.employee@example.com")
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": former.ID, "entitlement_id": okta}), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.withKey(HRKey).do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID, "entitlement_id": s.EntitlementID("slack-member")}),
		http.StatusNotFound, atomicwork.CodeNotFound)
	assert.Equal(t, before, takeSnapshot(s.Handler))

	// After a revoke the pair may be granted again.
	ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants/"+id(g.ID)+"/revoke", map[string]any{"skip_deprovisioning": true}))
	again := ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID, "entitlement_id": okta, "granted_at": "2025-01-01T00:00:00Z"}))
	assert.NotEqual(t, g.ID, again.ID)
	assert.Equal(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), *again.GrantedAt)
}

// activeGrant returns the active grant of a demo user for an entitlement.
func activeGrant(t *testing.T, h *Handler, email, entitlement string) atomicwork.Grant {
	t.Helper()
	u := mustUser(t, h, email)
	for _, g := range h.Grants() {
		if g.User.ID == u.ID && g.Entitlement.Name == entitlement && g.Active() {
			return g
		}
	}
	require.FailNow(t, "no active grant", "%s %s", email, entitlement)
	return atomicwork.Grant{}
}

func TestRevokeSkippingDeprovisioning(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	g := activeGrant(t, s.Handler, "bo.li@example.com", "okta-base")
	path := "/api/v1/iga/grants/" + id(g.ID) + "/revoke"

	// skip_deprovisioning defaults to true, as the spec says.
	clock.Advance(time.Hour)
	got := ok[atomicwork.Grant](t, c.do(http.MethodPost, path, map[string]any{"reason": "left the company"}))
	assert.Equal(t, atomicwork.GrantRevoked, got.Status)
	assert.Equal(t, &atomicwork.RevocationStatus{Status: "COMPLETED", Reason: "left the company"}, got.RevocationStatus)
	assert.Equal(t, clock.Now(), got.UpdatedAt)

	// Revoke is idempotent: a second call answers the current grant (Q12).
	clock.Advance(time.Hour)
	assert.Equal(t, got, ok[atomicwork.Grant](t, c.do(http.MethodPost, path, map[string]any{"skip_deprovisioning": false})))
	assert.Equal(t, got, ok[atomicwork.Grant](t, c.do(http.MethodPost, path, nil)))

	history := ok[atomicwork.Page[atomicwork.GrantEvent]](t, c.get("/api/v1/iga/grants/"+id(g.ID)+"/history"))
	require.Len(t, history.Data, 2)
	assert.Equal(t, atomicwork.GrantRevoked, history.Data[0].EventType, "newest first")
	assert.Equal(t, "left the company", history.Data[0].Reason)
	assert.Equal(t, clock.Now().Add(-time.Hour), history.Data[0].EventAt)
	assert.Equal(t, atomicwork.GrantGranted, history.Data[1].EventType)
	asc := ok[atomicwork.Page[atomicwork.GrantEvent]](t, c.get("/api/v1/iga/grants/"+id(g.ID)+"/history?sort_order=CREATED_AT_ASC"))
	assert.Equal(t, []atomicwork.GrantEvent{history.Data[1], history.Data[0]}, asc.Data)
	fails(t, c.get("/api/v1/iga/grants/"+id(g.ID)+"/history?sort_order=RANDOM"), http.StatusBadRequest, atomicwork.CodeBadRequest)
	fails(t, c.get("/api/v1/iga/grants/999/history"), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants/999/revoke", nil), http.StatusNotFound, atomicwork.CodeNotFound)
	fails(t, c.do(http.MethodPost, path, map[string]any{"skip_deprovisioning": "sometimes"}), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.withKey(HRKey).do(http.MethodPost, path, nil), http.StatusNotFound, atomicwork.CodeNotFound)
}

func TestRevokeWithDeprovisioningCompletesAfterTheDelay(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now, RevocationDelay: 5 * time.Minute})
	g := activeGrant(t, s.Handler, "bo.li@example.com", "github-engineering")
	path := "/api/v1/iga/grants/" + id(g.ID) + "/revoke"
	revokedAt := clock.Now()

	got := ok[atomicwork.Grant](t, c.do(http.MethodPost, path, map[string]any{"skip_deprovisioning": false, "reason": "offboarding"}))
	assert.Equal(t, atomicwork.GrantGranted, got.Status, "still active in the identity provider")
	require.NotNil(t, got.RevocationStatus)
	assert.Equal(t, atomicwork.RevocationInProgress, got.RevocationStatus.Status)
	require.NotNil(t, got.RevocationStatus.ScheduleID)
	assert.NotEmpty(t, *got.RevocationStatus.ScheduleID)

	activeOf := func() []atomicwork.Grant {
		return ok[atomicwork.Page[atomicwork.Grant]](t, c.do(http.MethodPost, "/api/v1/iga/grants/list", filters(
			where("user", "IS_ANY_OF", g.User.ID), where("entitlement", "IS_ANY_OF", g.Entitlement.ID), where("status", "IS_ANY_OF", "ACTIVE")))).Data
	}
	clock.Advance(5*time.Minute - time.Second)
	require.Len(t, activeOf(), 1)
	assert.Equal(t, atomicwork.RevocationInProgress, activeOf()[0].RevocationStatus.Status)
	// A second revoke while deprovisioning runs changes nothing.
	assert.Equal(t, got, ok[atomicwork.Grant](t, c.do(http.MethodPost, path, map[string]any{"skip_deprovisioning": true})))

	clock.Advance(time.Second)
	assert.Empty(t, activeOf())
	var final atomicwork.Grant
	for _, gr := range s.Grants() {
		if gr.ID == g.ID {
			final = gr
		}
	}
	assert.Equal(t, atomicwork.GrantRevoked, final.Status)
	assert.Equal(t, atomicwork.RevocationCompleted, final.RevocationStatus.Status)
	assert.Equal(t, got.RevocationStatus.ScheduleID, final.RevocationStatus.ScheduleID)
	assert.Equal(t, revokedAt.Add(5*time.Minute), final.UpdatedAt)
	history := ok[atomicwork.Page[atomicwork.GrantEvent]](t, c.get("/api/v1/iga/grants/"+id(g.ID)+"/history"))
	require.Len(t, history.Data, 2)
	assert.Equal(t, atomicwork.GrantRevoked, history.Data[0].EventType)
	assert.Equal(t, revokedAt.Add(5*time.Minute), history.Data[0].EventAt)
	assert.Equal(t, "offboarding", history.Data[0].Reason)
}

func TestRevokeWithZeroDelayCompletesOnTheNextRead(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	g := activeGrant(t, s.Handler, "ana.diaz@example.com", "slack-member")
	got := ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants/"+id(g.ID)+"/revoke", map[string]any{"skip_deprovisioning": false}))
	assert.Equal(t, atomicwork.RevocationInProgress, got.RevocationStatus.Status)
	list := ok[atomicwork.Page[atomicwork.Grant]](t, c.do(http.MethodPost, "/api/v1/iga/grants/list?ids="+id(g.ID), nil))
	require.Len(t, list.Data, 1)
	assert.Equal(t, atomicwork.GrantRevoked, list.Data[0].Status)
}

func TestRevokeFailsForConfiguredEntitlements(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now, RevocationDelay: time.Minute, FailRevocationOf: []string{"okta-base"}})
	g := activeGrant(t, s.Handler, "bo.li@example.com", "okta-base")
	path := "/api/v1/iga/grants/" + id(g.ID) + "/revoke"
	first := ok[atomicwork.Grant](t, c.do(http.MethodPost, path, map[string]any{"skip_deprovisioning": false}))

	clock.Advance(time.Minute)
	failed := activeGrant(t, s.Handler, "bo.li@example.com", "okta-base")
	assert.Equal(t, g.ID, failed.ID)
	assert.Equal(t, atomicwork.GrantGranted, failed.Status, "the account still exists in the identity provider")
	assert.Equal(t, atomicwork.RevocationFailed, failed.RevocationStatus.Status)

	// Revoking a FAILED grant again restarts deprovisioning under a new schedule.
	retry := ok[atomicwork.Grant](t, c.do(http.MethodPost, path, map[string]any{"skip_deprovisioning": "false"}))
	assert.Equal(t, atomicwork.RevocationInProgress, retry.RevocationStatus.Status)
	assert.NotEqual(t, *first.RevocationStatus.ScheduleID, *retry.RevocationStatus.ScheduleID)
	clock.Advance(time.Minute)
	assert.Equal(t, atomicwork.RevocationFailed, activeGrant(t, s.Handler, "bo.li@example.com", "okta-base").RevocationStatus.Status)

	// Skipping deprovisioning marks it revoked regardless.
	done := ok[atomicwork.Grant](t, c.do(http.MethodPost, path, map[string]any{"skip_deprovisioning": true}))
	assert.Equal(t, atomicwork.GrantRevoked, done.Status)
	assert.Equal(t, atomicwork.RevocationCompleted, done.RevocationStatus.Status)

	// Other entitlements deprovision normally.
	slack := activeGrant(t, s.Handler, "bo.li@example.com", "slack-member")
	ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants/"+id(slack.ID)+"/revoke", map[string]any{"skip_deprovisioning": false}))
	clock.Advance(time.Minute)
	for _, gr := range s.Grants() {
		if gr.ID == slack.ID {
			assert.Equal(t, atomicwork.GrantRevoked, gr.Status)
		}
	}
}

func TestListGrants(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now})
	bo := mustUser(t, s.Handler, "bo.li@example.com")
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	list := func(path string, body any) atomicwork.Page[atomicwork.Grant] {
		t.Helper()
		return ok[atomicwork.Page[atomicwork.Grant]](t, c.do(http.MethodPost, path, body))
	}
	total := len(s.Grants())
	all := list("/api/v1/iga/grants/list?per_page=100", nil)
	assert.Equal(t, total, all.TotalCount)

	boActive := list("/api/v1/iga/grants/list", filters(where("user", "IS_ANY_OF", bo.ID), where("status", "IS_ANY_OF", "ACTIVE")))
	require.Len(t, boActive.Data, 3, "okta-base, slack-member and github-engineering")
	revoke := boActive.Data[0]
	ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants/"+id(revoke.ID)+"/revoke", nil))
	assert.Len(t, list("/api/v1/iga/grants/list", filters(where("user", "IS_ANY_OF", bo.ID), where("status", "IS_ANY_OF", "ACTIVE"))).Data, 2)
	inactive := list("/api/v1/iga/grants/list", filters(where("status", "IS_ANY_OF", "INACTIVE")))
	require.Len(t, inactive.Data, 1)
	assert.Equal(t, revoke.ID, inactive.Data[0].ID)
	assert.Len(t, list("/api/v1/iga/grants/list", filters(where("status", "IS_ANY_OF", "REVOKED"))).Data, 1)

	// Users ORed within a filter, numbers as numbers or strings; filters ANDed.
	both := list("/api/v1/iga/grants/list", map[string]any{"filters": filters(
		where("user", "IS_ANY_OF", bo.ID, id(ana.ID)), where("entitlement_value", "IS_ANY_OF", "github-engineering"))})
	assert.Len(t, both.Data, 2)
	okta := list("/api/v1/iga/grants/list", filters(where("app", "IS_ANY_OF", revoke.App.ID), where("entitlement", "EQUALS", revoke.Entitlement.ID)))
	for _, g := range okta.Data {
		assert.Equal(t, revoke.Entitlement.ID, g.Entitlement.ID)
	}
	byApp := list("/api/v1/iga/grants/list?app_id="+id(revoke.App.ID), nil)
	assert.Equal(t, okta.TotalCount, byApp.TotalCount)
	search := list("/api/v1/iga/grants/list?search_key=ana.diaz", nil)
	assert.Len(t, search.Data, 3)

	day := clock.Now().Format(time.DateOnly)
	assert.Equal(t, total, list("/api/v1/iga/grants/list", filters(where("granted_at", "IS_BETWEEN", day, day))).TotalCount)
	assert.Zero(t, list("/api/v1/iga/grants/list", filters(where("granted_at", "IS_BETWEEN", "2020-01-01T00:00:00Z", "2020-12-31T23:59:59Z"))).TotalCount)
	assert.Equal(t, total, list("/api/v1/iga/grants/list", filters(where("expires_at", "IS_NULL"))).TotalCount)

	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants/list", filters(where("granted_at", "IS_BETWEEN", day))), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants/list", filters(where("status", "IS_ANY_OF", "PENDING"))), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants/list", filters(where("user", "IS_ANY_OF", "bo.li"))), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants/list", filters(where("email", "IS_ANY_OF", "x"))), http.StatusBadRequest, atomicwork.CodeValidationError)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants/list?ids=1,x", nil), http.StatusBadRequest, atomicwork.CodeBadRequest)
	assert.Zero(t, ok[atomicwork.Page[atomicwork.Grant]](t, c.withKey(HRKey).do(http.MethodPost, "/api/v1/iga/grants/list", nil)).TotalCount)
}

func TestGrantsListTokens(t *testing.T) {
	s, c := newSim(t, Options{})
	total := len(s.Grants())
	var seen []int64
	path := "/api/v1/iga/grants/list?per_page=10"
	for pages := 0; ; pages++ {
		require.Less(t, pages, total, "pagination must end")
		page := ok[atomicwork.Page[atomicwork.Grant]](t, c.do(http.MethodPost, path, nil))
		assert.Equal(t, 10, page.PageSize)
		for _, g := range page.Data {
			seen = append(seen, g.ID)
		}
		if page.NextPageToken == nil {
			assert.Equal(t, page.TotalPages, page.Page)
			break
		}
		// The token overrides page and per_page.
		path = "/api/v1/iga/grants/list?page=1&per_page=3&next_page_token=" + *page.NextPageToken
	}
	require.Len(t, seen, total)
	for i := 1; i < len(seen); i++ {
		assert.Less(t, seen[i-1], seen[i], "ids ascending, none repeated")
	}
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants/list?next_page_token=garbage", nil), http.StatusBadRequest, atomicwork.CodeBadRequest)
	fails(t, c.do(http.MethodPost, "/api/v1/iga/grants/list?next_page_token=cGFnZTowOjEw", nil), http.StatusBadRequest, atomicwork.CodeBadRequest)
	clamped := ok[atomicwork.Page[atomicwork.Grant]](t, c.do(http.MethodPost, "/api/v1/iga/grants/list?per_page=500", nil))
	assert.Equal(t, 100, clamped.PageSize)
}
