package atomicworktest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Identity governance (API-NOTES §2.5). Apps, entitlements and grants belong to a workspace
// (the demo ones to workspace 1) and are invisible from the others.

var (
	grantFields  = []string{"entitlement_id", "granted_at", "granted_by", "policy_id", "policy_key", "user_id"}
	revokeFields = []string{"reason", "skip_deprovisioning"}
)

// grantStatusAliases maps the grants/list status buckets, and the raw statuses, to raw statuses.
var grantStatusAliases = map[string][]string{
	atomicwork.GrantBucketActive:   {atomicwork.GrantGranted, atomicwork.GrantExtended},
	atomicwork.GrantBucketInactive: {atomicwork.GrantRevoked, atomicwork.GrantExpired},
	atomicwork.GrantRevoked:        {atomicwork.GrantRevoked},
	atomicwork.GrantGranted:        {atomicwork.GrantGranted},
	atomicwork.GrantExtended:       {atomicwork.GrantExtended},
	atomicwork.GrantExpired:        {atomicwork.GrantExpired},
}

// grantAttrs are the filter attributes of POST /iga/grants/list. entitlement_value needs the
// store, hence a method.
func (s *store) grantAttrs() attrs[*grant] {
	return attrs[*grant]{
		"status":      {kind: enumAttr, value: func(g *grant) any { return g.Status }, enum: enumOf(grantStatusAliases)},
		"user":        {kind: numberAttr, value: func(g *grant) any { return g.User.ID }},
		"app":         {kind: numberAttr, value: func(g *grant) any { return g.App.ID }},
		"entitlement": {kind: numberAttr, value: func(g *grant) any { return g.Entitlement.ID }},
		"entitlement_value": {kind: textAttr, value: func(g *grant) any {
			e, _ := s.entitlements.get(g.Entitlement.ID)
			return e.Value
		}},
		"granted_at":    {kind: timeAttr, value: func(g *grant) any { return timeValue(g.GrantedAt) }},
		"expires_at":    {kind: timeAttr, value: func(g *grant) any { return timeValue(g.ExpiresAt) }},
		"last_login_at": {kind: timeAttr, value: func(g *grant) any { return timeValue(g.LastLoginAt) }},
	}
}

func (c *core) listApps(x *call) (any, error) {
	p, err := x.readPage(perPage, maxPerPage)
	if err != nil {
		return nil, err
	}
	search := x.query.Get("search_key")
	rows := filter(c.st.apps.rows, func(a *app) bool { return a.workspace == x.ws && containsFold(a.Name, search) })
	return paginate(rows, p, func(a *app) atomicwork.App { return a.App }), nil
}

func (c *core) listEntitlements(x *call) (any, error) {
	p, err := x.readPage(perPage, maxPerPage)
	if err != nil {
		return nil, err
	}
	appID, err := x.queryID("app_id")
	if err != nil {
		return nil, err
	}
	status, typ := strings.ToUpper(x.query.Get("status")), strings.ToUpper(x.query.Get("type"))
	if !slices.Contains([]string{"", "DRAFT", "PUBLISHED"}, status) {
		return nil, errBadRequest("status must be DRAFT or PUBLISHED, got %q", x.query.Get("status"))
	}
	if !slices.Contains([]string{"", "GROUP", "ROLE"}, typ) {
		return nil, errBadRequest("type must be GROUP or ROLE, got %q", x.query.Get("type"))
	}
	search := x.query.Get("search_key")
	rows := filter(c.st.entitlements.rows, func(e *atomicwork.Entitlement) bool {
		a, _ := c.st.apps.get(e.AppID)
		return a.workspace == x.ws && (appID == 0 || e.AppID == appID) &&
			(status == "" || e.Status == status) && (typ == "" || e.Type == typ) &&
			(containsFold(e.Name, search) || containsFold(e.Description, search))
	})
	return paginate(rows, p, func(e *atomicwork.Entitlement) atomicwork.Entitlement { return *e }), nil
}

// createGrant grants a published entitlement to an active user; a second active grant for the
// same pair is a 409 (Q12).
func (c *core) createGrant(x *call) (any, error) {
	r, err := x.object(grantFields)
	if err != nil {
		return nil, err
	}
	userID, entID := r.id("user_id"), r.id("entitlement_id")
	grantedBy, grantedAt := r.id("granted_by"), r.timestamp("granted_at")
	switch {
	case r.err != nil:
		return nil, r.err
	case !userID.given():
		return nil, errInvalid("user_id is required")
	case !entID.given():
		return nil, errInvalid("entitlement_id is required")
	}
	u, ok := c.st.users.get(userID.v)
	if !ok {
		return nil, errNotFound("user %d not found", userID.v)
	}
	if u.IsDeleted {
		return nil, errInvalid("user %d is deleted: restore the user before granting access", u.ID)
	}
	ent, err := c.entitlement(x, entID.v)
	if err != nil {
		return nil, err
	}
	if ent.Status != "PUBLISHED" {
		return nil, errInvalid("entitlement %d is %s: only PUBLISHED entitlements can be granted", ent.ID, ent.Status)
	}
	w, _ := c.st.workspace(x.home)
	by := w.keyOwner // the spec: defaults to the API key owner
	if grantedBy.given() {
		if _, ok := c.st.users.get(grantedBy.v); !ok {
			return nil, errInvalid("granted_by %d is not a user", grantedBy.v)
		}
		by = grantedBy.v
	}
	for _, g := range c.st.grants.rows {
		if g.User.ID == u.ID && g.Entitlement.ID == ent.ID && g.Active() {
			return nil, errConflict("user %d already has active grant %d for entitlement %d", u.ID, g.ID, ent.ID)
		}
	}
	now := c.now()
	at := now
	if grantedAt.given() {
		at = grantedAt.v
	}
	g := c.st.addGrant(u.ID, ent, by, at)
	g.CreatedAt, g.UpdatedAt = now, now
	return c.st.renderGrant(g), nil
}

// entitlement finds an entitlement of the workspace in scope.
func (c *core) entitlement(x *call, id int64) (*atomicwork.Entitlement, error) {
	e, ok := c.st.entitlements.get(id)
	if ok {
		if a, _ := c.st.apps.get(e.AppID); a.workspace == x.ws {
			return e, nil
		}
	}
	return nil, errNotFound("entitlement %d not found in workspace %d", id, x.ws)
}

// listGrants pages with next_page_token; per_page is at most 100 (API-NOTES §2.5).
func (c *core) listGrants(x *call) (any, error) {
	p, err := x.readTokenPage(maxPerPage)
	if err != nil {
		return nil, err
	}
	appID, err := x.queryID("app_id")
	if err != nil {
		return nil, err
	}
	var ids []int64
	if v := x.query.Get("ids"); v != "" {
		for s := range strings.SplitSeq(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return nil, errBadRequest("ids must be comma-separated grant ids, got %q", v)
			}
			ids = append(ids, id)
		}
	}
	match, err := compileFilters(x.body, c.st.grantAttrs())
	if err != nil {
		return nil, err
	}
	search := x.query.Get("search_key")
	rows := filter(c.st.grants.rows, func(g *grant) bool {
		return g.workspace == x.ws && (appID == 0 || g.App.ID == appID) &&
			(ids == nil || slices.Contains(ids, g.ID)) && c.st.grantMatches(g, search) && match(g)
	})
	return paginate(rows, p, c.st.renderGrant), nil
}

// grantMatches is the free-text search_key across grant, entitlement and user fields.
func (s *store) grantMatches(g *grant, search string) bool {
	if search == "" {
		return true
	}
	u, _ := s.users.get(g.User.ID)
	e, _ := s.entitlements.get(g.Entitlement.ID)
	a, _ := s.apps.get(g.App.ID)
	return slices.ContainsFunc([]string{u.FullName, u.Email, e.Name, e.Value, a.Name, g.Status},
		func(f string) bool { return containsFold(f, search) })
}

// revokeGrant is idempotent (Q12). skip_deprovisioning defaults to true as the spec says: the
// grant is REVOKED at once. With false, deprovisioning runs for Options.RevocationDelay on the
// sim clock while the grant stays GRANTED; store.settle ends it.
func (c *core) revokeGrant(x *call) (any, error) {
	g, err := c.pathGrant(x)
	if err != nil {
		return nil, err
	}
	r, err := x.object(revokeFields)
	if err != nil {
		return nil, err
	}
	reason, skip := r.str("reason"), r.boolean("skip_deprovisioning")
	if r.err != nil {
		return nil, r.err
	}
	if !g.Active() || (g.RevocationStatus != nil && g.RevocationStatus.Status == atomicwork.RevocationInProgress) {
		return c.st.renderGrant(g), nil
	}
	now := c.now()
	w, _ := c.st.workspace(x.home)
	g.revokedBy = ptr(w.keyOwner)
	g.UpdatedAt = now
	if !skip.given() || skip.v {
		g.Status = atomicwork.GrantRevoked
		g.RevocationStatus = &atomicwork.RevocationStatus{Status: atomicwork.RevocationCompleted, Reason: reason.v}
		g.events = append(g.events, atomicwork.GrantEvent{ID: next(&c.st.ids.event), GrantID: g.ID,
			EventType: atomicwork.GrantRevoked, EventAt: now, EventBy: ptr(w.keyOwner), Reason: reason.v})
		return c.st.renderGrant(g), nil
	}
	g.revokeDue = now.Add(c.opts.RevocationDelay)
	g.deprovisionRuns++
	g.deprovisionFail = c.revocationFails()
	g.RevocationStatus = &atomicwork.RevocationStatus{Status: atomicwork.RevocationInProgress,
		ScheduleID: ptr(fmt.Sprintf("deprovision-%d-%d", g.ID, g.deprovisionRuns)), Reason: reason.v}
	c.st.revoking[g.ID] = g
	return c.st.renderGrant(g), nil
}

// revocationStream keeps the deprovisioning outcomes apart from the fault sequence of the same seed.
const revocationStream = 0x7265766f6b65 // "revoke"

// revocationFails draws whether a deprovisioning attempt ends FAILED. It draws once per attempt,
// whatever the probability, so the outcomes depend only on the seed and the order of attempts.
// The caller holds c.mu.
func (c *core) revocationFails() bool {
	return c.revocations.Float64() < c.opts.RevocationFailure
}

// grantHistory lists a grant's events, newest first unless sort_order says otherwise (spec).
func (c *core) grantHistory(x *call) (any, error) {
	g, err := c.pathGrant(x)
	if err != nil {
		return nil, err
	}
	p, err := x.readPage(perPage, maxPerPage)
	if err != nil {
		return nil, err
	}
	events := slices.Clone(g.events)
	switch order := strings.ToUpper(x.query.Get("sort_order")); order {
	case "", "CREATED_AT_DESC", "UPDATED_AT_DESC":
		slices.Reverse(events)
	case "CREATED_AT_ASC", "UPDATED_AT_ASC":
	default:
		return nil, errBadRequest("sort_order must be CREATED_AT_ASC, CREATED_AT_DESC, UPDATED_AT_ASC or UPDATED_AT_DESC, got %q", order)
	}
	p.order = listOrder{} // the spec documents this list's default order: newest first

	return paginate(events, p, func(e atomicwork.GrantEvent) atomicwork.GrantEvent {
		e.EventBy = clonePtr(e.EventBy)
		return e
	}), nil
}

func (c *core) pathGrant(x *call) (*grant, error) {
	id, err := x.idParam("grant_id")
	if err != nil {
		return nil, err
	}
	g, ok := c.st.grants.get(id)
	if !ok || g.workspace != x.ws {
		return nil, errNotFound("grant %d not found in workspace %d", id, x.ws)
	}
	return g, nil
}
