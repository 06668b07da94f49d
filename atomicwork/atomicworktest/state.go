package atomicworktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// A state file holds the whole store (and the revocation draws' position), so a simulator
// restarted on it answers as the one that wrote it. Keys, faults, limits and stats are
// configuration or counters, not data: they come from the options again.

// stateFormat and stateVersion identify the file; a file of another version is refused, never
// guessed at. Bump the version when stateDoc changes shape.
const (
	stateFormat  = "atomicworktest-state"
	stateVersion = 1
)

type stateDoc struct {
	Format  string     `json:"format"`
	Version int        `json:"version"`
	SavedAt time.Time  `json:"saved_at"`
	Store   storeState `json:"store"`
	// Revocations is the position of the deprovisioning-outcome source (Options.RevocationFailure).
	Revocations []byte `json:"revocations"`
}

type storeState struct {
	Workspaces   []workspaceState          `json:"workspaces"`
	Departments  map[int64]string          `json:"departments"`
	OrgRoles     map[int64]string          `json:"org_roles"`
	AgentGroups  []agentGroupState         `json:"agent_groups"`
	Users        []*atomicwork.User        `json:"users"`
	Catalog      []catalogItemState        `json:"catalog"`
	Apps         []appState                `json:"apps"`
	Entitlements []*atomicwork.Entitlement `json:"entitlements"`
	Grants       []grantState              `json:"grants"`
	Revoking     []int64                   `json:"revoking"` // grant ids
	AssetTypes   []assetTypeState          `json:"asset_types"`
	AssetStatus  []atomicwork.Option       `json:"asset_status"`
	Assets       []assetState              `json:"assets"`
	Requests     []requestState            `json:"requests"`
	DisplaySeq   map[int64]int64           `json:"display_seq"`
	IDs          idState                   `json:"ids"`
}

type workspaceState struct {
	Workspace atomicwork.Workspace `json:"workspace"`
	Prefix    string               `json:"prefix"`
	KeyOwner  int64                `json:"key_owner"`
}

type agentGroupState struct {
	ID        int64  `json:"id"`
	Workspace int64  `json:"workspace"`
	Name      string `json:"name"`
}

type catalogItemState struct {
	Item   atomicwork.CatalogItem       `json:"item"`
	Fields []atomicwork.FieldDefinition `json:"fields"`
}

type appState struct {
	App       atomicwork.App `json:"app"`
	Workspace int64          `json:"workspace"`
}

type grantState struct {
	Grant           atomicwork.Grant        `json:"grant"`
	Workspace       int64                   `json:"workspace"`
	RevokeDue       time.Time               `json:"revoke_due"`
	RevokedBy       *int64                  `json:"revoked_by"`
	DeprovisionRuns int                     `json:"deprovision_runs"`
	DeprovisionFail bool                    `json:"deprovision_fail"`
	Events          []atomicwork.GrantEvent `json:"events"`
}

type assetTypeState struct {
	ID     int64                        `json:"id"`
	Name   string                       `json:"name"`
	Fields []atomicwork.FieldDefinition `json:"fields"`
}

type assetState struct {
	ID        int64          `json:"id"`
	TypeID    int64          `json:"type_id"`
	Workspace int64          `json:"workspace"`
	Fields    map[string]any `json:"fields"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

type requestState struct {
	Request atomicwork.Request `json:"request"`
	Notes   []*atomicwork.Note `json:"notes"`
}

type idState struct {
	User         int64 `json:"user"`
	Request      int64 `json:"request"`
	Note         int64 `json:"note"`
	ItemInstance int64 `json:"item_instance"`
	Grant        int64 `json:"grant"`
	Event        int64 `json:"event"`
	Asset        int64 `json:"asset"`
}

// seedRevocations restarts the deprovisioning-outcome source from seed. The caller holds c.mu
// (or owns c alone).
func (c *core) seedRevocations(seed int64) {
	c.revocationPCG = rand.NewPCG(uint64(seed), revocationStream)
	c.revocations = rand.New(c.revocationPCG)
}

// marshalState encodes the store as a state file's content.
func (c *core) marshalState() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rev, err := c.revocationPCG.MarshalBinary()
	if err != nil {
		return nil, err
	}
	doc := stateDoc{Format: stateFormat, Version: stateVersion, SavedAt: c.now(), Store: c.st.state(), Revocations: rev}
	// Encoded under the lock: the state shares maps and slices with the store.
	return json.MarshalIndent(doc, "", " ")
}

// unmarshalState replaces the store with the content of a state file. On error nothing changes.
func (c *core) unmarshalState(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // free-form JSON (custom fields) keeps numbers as json.Number, as requests do
	var doc stateDoc
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("it does not parse as JSON: %v", err)
	}
	if !atEOF(dec) {
		return errors.New("unexpected data after the JSON document")
	}
	if doc.Format != stateFormat {
		return fmt.Errorf("its format is %q, not %q", doc.Format, stateFormat)
	}
	if doc.Version != stateVersion {
		return fmt.Errorf("it has format version %d; this simulator reads version %d", doc.Version, stateVersion)
	}
	st, err := doc.Store.store()
	if err != nil {
		return err
	}
	pcg := &rand.PCG{}
	if err := pcg.UnmarshalBinary(doc.Revocations); err != nil {
		return fmt.Errorf("revocations: %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st = st
	c.revocationPCG, c.revocations = pcg, rand.New(pcg)
	return nil
}

func (s *store) state() storeState {
	out := storeState{
		Departments: s.departments, OrgRoles: s.orgRoles, Users: s.users.rows, Entitlements: s.entitlements.rows,
		AssetStatus: s.assetStatus, DisplaySeq: s.displaySeq,
		IDs: idState{User: s.ids.user, Request: s.ids.request, Note: s.ids.note, ItemInstance: s.ids.itemInstance,
			Grant: s.ids.grant, Event: s.ids.event, Asset: s.ids.asset},
	}
	for _, w := range s.workspaces {
		out.Workspaces = append(out.Workspaces, workspaceState{Workspace: w.Workspace, Prefix: w.prefix, KeyOwner: w.keyOwner})
	}
	for _, id := range slices.Sorted(maps.Keys(s.agentGroups)) {
		g := s.agentGroups[id]
		out.AgentGroups = append(out.AgentGroups, agentGroupState{ID: g.id, Workspace: g.workspace, Name: g.name})
	}
	for _, it := range s.catalog.rows {
		out.Catalog = append(out.Catalog, catalogItemState{Item: it.CatalogItem, Fields: it.fields})
	}
	for _, a := range s.apps.rows {
		out.Apps = append(out.Apps, appState{App: a.App, Workspace: a.workspace})
	}
	for _, g := range s.grants.rows {
		out.Grants = append(out.Grants, grantState{Grant: g.Grant, Workspace: g.workspace, RevokeDue: g.revokeDue,
			RevokedBy: g.revokedBy, DeprovisionRuns: g.deprovisionRuns, DeprovisionFail: g.deprovisionFail, Events: g.events})
	}
	out.Revoking = slices.Sorted(maps.Keys(s.revoking))
	for _, t := range s.assetTypes.rows {
		out.AssetTypes = append(out.AssetTypes, assetTypeState{ID: t.id, Name: t.name, Fields: t.fields})
	}
	for _, a := range s.assets.rows {
		out.Assets = append(out.Assets, assetState{ID: a.id, TypeID: a.typeID, Workspace: a.workspace, Fields: a.fields,
			CreatedAt: a.createdAt, UpdatedAt: a.updatedAt})
	}
	for _, rq := range s.requests.rows {
		out.Requests = append(out.Requests, requestState{Request: rq.Request, Notes: rq.notes})
	}
	return out
}

// store rebuilds a store, checking the references that rendering relies on.
func (ss storeState) store() (*store, error) {
	s := &store{
		departments: orEmpty(ss.Departments), orgRoles: orEmpty(ss.OrgRoles), agentGroups: map[int64]*agentGroup{},
		revoking: map[int64]*grant{}, assetStatus: ss.AssetStatus, displaySeq: orEmpty(ss.DisplaySeq),
		ids: idCounters{user: ss.IDs.User, request: ss.IDs.Request, note: ss.IDs.Note, itemInstance: ss.IDs.ItemInstance,
			grant: ss.IDs.Grant, event: ss.IDs.Event, asset: ss.IDs.Asset},
	}
	for _, w := range ss.Workspaces {
		s.workspaces = append(s.workspaces, &workspace{Workspace: w.Workspace, prefix: w.Prefix, keyOwner: w.KeyOwner})
	}
	for _, g := range ss.AgentGroups {
		s.agentGroups[g.ID] = &agentGroup{id: g.ID, workspace: g.Workspace, name: g.Name}
	}
	for _, u := range ss.Users {
		s.users.add(u.ID, u)
	}
	for _, it := range ss.Catalog {
		s.catalog.add(it.Item.ID, &catalogItem{CatalogItem: it.Item, fields: it.Fields})
	}
	for _, a := range ss.Apps {
		s.apps.add(a.App.ID, &app{App: a.App, workspace: a.Workspace})
	}
	for _, e := range ss.Entitlements {
		s.entitlements.add(e.ID, e)
	}
	for _, g := range ss.Grants {
		s.grants.add(g.Grant.ID, &grant{Grant: g.Grant, workspace: g.Workspace, revokeDue: g.RevokeDue, revokedBy: g.RevokedBy,
			deprovisionRuns: g.DeprovisionRuns, deprovisionFail: g.DeprovisionFail, events: g.Events})
	}
	for _, id := range ss.Revoking {
		g, ok := s.grants.get(id)
		if !ok {
			return nil, fmt.Errorf("revoking names grant %d, which is not in grants", id)
		}
		s.revoking[id] = g
	}
	for _, t := range ss.AssetTypes {
		s.assetTypes.add(t.ID, &assetType{id: t.ID, name: t.Name, fields: t.Fields})
	}
	for _, a := range ss.Assets {
		s.assets.add(a.ID, &asset{id: a.ID, typeID: a.TypeID, workspace: a.Workspace, fields: orEmpty(a.Fields),
			createdAt: a.CreatedAt, updatedAt: a.UpdatedAt})
	}
	for _, rq := range ss.Requests {
		s.requests.add(rq.Request.ID, &request{Request: rq.Request, notes: rq.Notes})
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	s.normaliseRefs()
	s.assetAttrs = s.buildAssetAttrs()
	return s, nil
}

// check finds the dangling references that would make rendering fail.
func (s *store) check() error {
	if _, ok := s.workspace(ITWorkspaceID); !ok {
		return fmt.Errorf("workspace %d is missing", ITWorkspaceID)
	}
	for _, g := range s.grants.rows {
		if g.User == nil || g.Entitlement == nil || g.App == nil {
			return fmt.Errorf("grant %d lacks its user, entitlement or app", g.ID)
		}
		_, okU := s.users.get(g.User.ID)
		_, okE := s.entitlements.get(g.Entitlement.ID)
		_, okA := s.apps.get(g.App.ID)
		if !okU || !okE || !okA {
			return fmt.Errorf("grant %d names a user, entitlement or app that is not in the file", g.ID)
		}
	}
	for _, a := range s.assets.rows {
		if _, ok := s.assetTypes.get(a.typeID); !ok {
			return fmt.Errorf("asset %d has asset type %d, which is not in the file", a.id, a.typeID)
		}
	}
	return nil
}

// normaliseRefs turns the user references of asset and request-item fields back into int64 ids,
// as fieldValue stores them (JSON decoding made them json.Number).
func (s *store) normaliseRefs() {
	for _, a := range s.assets.rows {
		t, _ := s.assetTypes.get(a.typeID)
		normaliseFields(a.fields, t.fields)
	}
	for _, rq := range s.requests.rows {
		for _, it := range rq.Items {
			if ci, ok := s.catalog.get(it.ItemID); ok {
				normaliseFields(it.ItemFields, ci.fields)
			}
		}
	}
}

func normaliseFields(values map[string]any, defs []atomicwork.FieldDefinition) {
	for _, d := range defs {
		if d.Type != fieldEntityRef {
			continue
		}
		if id, ok := asID(values[d.ReferenceKey]); ok {
			values[d.ReferenceKey] = id
		}
	}
}

func orEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

// renameFile is os.Rename; tests replace it to stop a write between the temporary file and the
// rename, as a crash would.
var renameFile = os.Rename

// writeFileAtomic replaces path with data so that a reader (or a restart after a crash) sees
// either the old file or the new one, whole: a temporary file in the same directory, fsync,
// rename over path, fsync of the directory.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = renameFile(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the rename itself durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil || errors.Is(err, fs.ErrInvalid) {
		err = cerr
	}
	return err
}
