package atomicworktest

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// store is the simulator's data. core.mu guards it. Records keep references to other records
// as bare ids; the render methods fill in the display fields from the current data and return
// deep copies, so nothing handed out aliases the store.
type store struct {
	workspaces   []*workspace
	departments  map[int64]string
	orgRoles     map[int64]string
	agentGroups  map[int64]*agentGroup
	users        table[atomicwork.User]
	catalog      table[catalogItem]
	apps         table[app]
	entitlements table[atomicwork.Entitlement]
	grants       table[grant]
	revoking     map[int64]*grant // grants whose deprovisioning is in progress
	assetTypes   table[assetType]
	assetStatus  []atomicwork.Option // options of the asset status dropdown, shared by all types
	assets       table[asset]
	assetAttrs   attrs[*asset]
	requests     table[request]
	displaySeq   map[int64]int64 // last display-id number per workspace (Q18)
	ids          idCounters
}

// idCounters hold the last id issued per kind. Kinds start in distinct ranges, so an id sent
// to the wrong endpoint (a user id as an asset id) is a 404 rather than a silent hit.
type idCounters struct {
	user, request, note, itemInstance, grant, event, asset int64
}

func next(counter *int64) int64 {
	*counter++
	return *counter
}

type workspace struct {
	atomicwork.Workspace
	prefix   string // display-id prefix, e.g. "IT" in ITREQ-1
	keyOwner int64  // user owning the workspace's API key: default note author and granter
}

type agentGroup struct {
	id, workspace int64
	name          string
}

type catalogItem struct {
	atomicwork.CatalogItem
	fields []atomicwork.FieldDefinition
}

type app struct {
	atomicwork.App
	workspace int64
}

// grant is a grant whose User, Entitlement and App hold ids only.
type grant struct {
	atomicwork.Grant
	workspace       int64
	revokeDue       time.Time // when in-progress deprovisioning ends
	revokedBy       *int64
	deprovisionRuns int  // numbers the schedule ids of successive attempts
	deprovisionFail bool // the attempt in progress ends FAILED (drawn from Options.RevocationFailure)
	events          []atomicwork.GrantEvent
}

type assetType struct {
	id     int64
	name   string
	fields []atomicwork.FieldDefinition
}

type asset struct {
	id, typeID, workspace int64
	fields                map[string]any // form_fields by reference key, values normalised
	createdAt, updatedAt  time.Time
}

// request is a request whose Requester, Assignee and AgentGroup hold ids only.
type request struct {
	atomicwork.Request
	notes []*atomicwork.Note
}

// table keeps records in id order (ids only grow) with an index for lookups.
type table[T any] struct {
	rows []*T
	byID map[int64]*T
}

func (t *table[T]) add(id int64, v *T) {
	if t.byID == nil {
		t.byID = map[int64]*T{}
	}
	t.rows = append(t.rows, v)
	t.byID[id] = v
}

func (t *table[T]) get(id int64) (*T, bool) {
	v, ok := t.byID[id]
	return v, ok
}

// filter returns the rows keep accepts, in their order.
func filter[T any](rows []T, keep func(T) bool) []T {
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func (s *store) workspace(id int64) (*workspace, bool) {
	for _, w := range s.workspaces {
		if w.ID == id {
			return w, true
		}
	}
	return nil, false
}

func (s *store) userByEmail(email string) (*atomicwork.User, bool) {
	for _, u := range s.users.rows {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return nil, false
}

// settle completes the deprovisioning of revoked grants whose delay has passed on the sim
// clock (API-NOTES §7 Q12): REVOKED, or FAILED (still GRANTED) for the entitlements in failOf
// and for the attempts whose failure was drawn at revoke time.
func (s *store) settle(now time.Time, failOf []string) {
	for _, id := range slices.Sorted(maps.Keys(s.revoking)) { // in id order, so event ids are reproducible
		g := s.revoking[id]
		if now.Before(g.revokeDue) {
			continue
		}
		delete(s.revoking, id)
		g.UpdatedAt = g.revokeDue
		ent, _ := s.entitlements.get(g.Entitlement.ID)
		if g.deprovisionFail || slices.Contains(failOf, ent.Name) {
			g.RevocationStatus.Status = atomicwork.RevocationFailed
			continue
		}
		g.Status = atomicwork.GrantRevoked
		g.RevocationStatus.Status = atomicwork.RevocationCompleted
		g.events = append(g.events, atomicwork.GrantEvent{ID: next(&s.ids.event), GrantID: g.ID,
			EventType: atomicwork.GrantRevoked, EventAt: g.revokeDue, EventBy: clonePtr(g.revokedBy),
			Reason: g.RevocationStatus.Reason})
	}
}

// renderUser returns a copy of u with department, manager and roles filled in (API-NOTES §5.1).
func (s *store) renderUser(u *atomicwork.User) atomicwork.User {
	out := cloneUser(u)
	if u.Department != nil {
		out.Department.Name = s.departments[u.Department.ID]
	}
	if u.Manager != nil {
		if m, ok := s.users.get(u.Manager.ID); ok {
			out.Manager.FullName, out.Manager.Email = m.FullName, m.Email
		}
	}
	for i := range out.OrgRoles {
		out.OrgRoles[i].Name = s.orgRoles[out.OrgRoles[i].ID]
	}
	if out.OrgRoles == nil {
		out.OrgRoles = []atomicwork.Ref{}
	}
	return out
}

func (s *store) orgRoleID(name string) int64 {
	for id, n := range s.orgRoles {
		if n == name {
			return id
		}
	}
	return 0
}

// userRef is a user as requests embed it: {id, label, email}.
func (s *store) userRef(ref *atomicwork.Ref) *atomicwork.Ref {
	if ref == nil {
		return nil
	}
	out := &atomicwork.Ref{ID: ref.ID}
	if u, ok := s.users.get(ref.ID); ok {
		out.Label, out.Email = u.FullName, u.Email
	}
	return out
}

func (s *store) renderRequest(rq *request) atomicwork.Request {
	out := rq.Request
	out.Priority = clonePtr(rq.Priority)
	out.Requester = s.userRef(rq.Requester)
	out.Assignee = s.userRef(rq.Assignee)
	out.AgentGroup = nil
	if rq.AgentGroup != nil {
		out.AgentGroup = &atomicwork.Ref{ID: rq.AgentGroup.ID, Label: s.agentGroups[rq.AgentGroup.ID].name}
	}
	out.ItemID = clonePtr(rq.ItemID)
	out.Items = make([]atomicwork.RequestItem, 0, len(rq.Items))
	for _, it := range rq.Items {
		out.Items = append(out.Items, atomicwork.RequestItem{ID: it.ID, ItemID: it.ItemID, ItemFields: cloneMap(it.ItemFields)})
	}
	out.Tags = slices.Clone(rq.Tags)
	if out.Tags == nil {
		out.Tags = []int64{}
	}
	out.CustomFields = cloneMap(rq.CustomFields)
	out.ResolvedAt = clonePtr(rq.ResolvedAt)
	return out
}

func renderNote(n *atomicwork.Note) atomicwork.Note {
	out := *n
	out.UserID = clonePtr(n.UserID)
	return out
}

// renderGrant returns a copy of g with user, entitlement and app filled in (API-NOTES §5.6).
func (s *store) renderGrant(g *grant) atomicwork.Grant {
	out := g.Grant
	u, _ := s.users.get(g.User.ID)
	out.User = &atomicwork.Ref{ID: u.ID, Email: u.Email, FullName: u.FullName}
	e, _ := s.entitlements.get(g.Entitlement.ID)
	out.Entitlement = &atomicwork.GrantEntitlement{ID: e.ID, Name: e.Name, Type: e.Type, Value: e.Value}
	a, _ := s.apps.get(g.App.ID)
	out.App = &atomicwork.Ref{ID: a.ID, Name: a.Name}
	out.GrantedBy = clonePtr(g.GrantedBy)
	out.GrantedAt = clonePtr(g.GrantedAt)
	out.ExpiresAt = clonePtr(g.ExpiresAt)
	out.LastLoginAt = clonePtr(g.LastLoginAt)
	out.ProvisioningStatus = clonePtr(g.ProvisioningStatus)
	if g.RevocationStatus != nil {
		rs := *g.RevocationStatus
		rs.ScheduleID = clonePtr(rs.ScheduleID)
		out.RevocationStatus = &rs
	}
	return out
}

// renderAsset returns the asset as API-NOTES §5.5 shapes it.
func (s *store) renderAsset(a *asset) atomicwork.Asset {
	t, _ := s.assetTypes.get(a.typeID)
	name, _ := a.fields[fieldDisplayName].(string)
	serial, _ := a.fields[fieldSerialNumber].(string)
	return atomicwork.Asset{
		ID:           a.id,
		Label:        name,
		AssetTypeID:  a.typeID,
		SerialNumber: serial,
		AssetBasicInfo: atomicwork.AssetBasicInfo{ID: a.id, AssetTypeID: a.typeID, AssetTypeName: t.name,
			DisplayName: name, Source: assetSource, AdditionalSources: []string{}},
		FormFields: cloneMap(a.fields),
		CreatedAt:  a.createdAt,
		UpdatedAt:  a.updatedAt,
	}
}

// assetSource is where every simulated asset comes from: none is synced from an MDM.
const assetSource = "MANUAL"

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// cloneMap deep-copies a decoded JSON object; it never returns nil, so it encodes as {}.
func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneMap(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// mergeInto applies a JSON merge of patch onto dst: a null value deletes its key (Q9).
func mergeInto(dst, patch map[string]any) {
	for k, v := range patch {
		if v == nil {
			delete(dst, k)
			continue
		}
		dst[k] = cloneValue(v)
	}
}

// fullName joins the non-empty name parts.
func fullName(first, last string) string {
	return strings.TrimSpace(first + " " + last)
}
