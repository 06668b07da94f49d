package atomicworktest

import (
	"strings"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Inspection for tests: what the simulator holds, across all workspaces, as deep copies sorted
// by id. Reads settle due revocations first, like API reads do.

// read runs f on the settled store under the lock.
func (h *Handler) read(f func(s *store)) {
	c := h.core
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.settle(c.now(), c.opts.FailRevocationOf)
	f(c.st)
}

// Users returns every user, soft-deleted ones included.
func (h *Handler) Users() []atomicwork.User {
	var out []atomicwork.User
	h.read(func(s *store) { out = renderAll(s.users.rows, s.renderUser) })
	return out
}

// UserByEmail finds a user by email, ignoring case, deleted or not.
func (h *Handler) UserByEmail(email string) (atomicwork.User, bool) {
	var (
		out atomicwork.User
		ok  bool
	)
	h.read(func(s *store) {
		var u *atomicwork.User
		if u, ok = s.userByEmail(email); ok {
			out = s.renderUser(u)
		}
	})
	return out, ok
}

// Requests returns every request of every workspace.
func (h *Handler) Requests() []atomicwork.Request {
	var out []atomicwork.Request
	h.read(func(s *store) { out = renderAll(s.requests.rows, s.renderRequest) })
	return out
}

// Notes returns the notes of the request with displayID (any case), nil when there is none.
func (h *Handler) Notes(displayID string) []atomicwork.Note {
	var out []atomicwork.Note
	h.read(func(s *store) {
		for _, rq := range s.requests.rows {
			if strings.EqualFold(rq.DisplayID, displayID) {
				out = renderAll(rq.notes, renderNote)
			}
		}
	})
	return out
}

// Grants returns every grant, with due revocations settled on the sim clock.
func (h *Handler) Grants() []atomicwork.Grant {
	var out []atomicwork.Grant
	h.read(func(s *store) { out = renderAll(s.grants.rows, s.renderGrant) })
	return out
}

// Assets returns every asset of every workspace.
func (h *Handler) Assets() []atomicwork.Asset {
	var out []atomicwork.Asset
	h.read(func(s *store) { out = renderAll(s.assets.rows, s.renderAsset) })
	return out
}

// ActiveGrantsOf returns the user's grants that are still active: what a leaver must not keep.
func (h *Handler) ActiveGrantsOf(userID int64) []atomicwork.Grant {
	var out []atomicwork.Grant
	for _, g := range h.Grants() {
		if g.User != nil && g.User.ID == userID && g.Active() {
			out = append(out, g)
		}
	}
	return out
}

// AssetsOf returns the assets assigned to the user.
func (h *Handler) AssetsOf(userID int64) []atomicwork.Asset {
	var out []atomicwork.Asset
	for _, a := range h.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == userID {
			out = append(out, a)
		}
	}
	return out
}

// AssetTypeID returns the id of the asset type named name (any case), 0 when there is none.
func (h *Handler) AssetTypeID(name string) int64 {
	var id int64
	h.read(func(s *store) {
		for _, t := range s.assetTypes.rows {
			if strings.EqualFold(t.name, name) {
				id = t.id
			}
		}
	})
	return id
}

// EntitlementID returns the id of the entitlement named name, 0 when there is none.
func (h *Handler) EntitlementID(name string) int64 {
	var id int64
	h.read(func(s *store) {
		if e, ok := s.entitlementByName(name); ok {
			id = e.ID
		}
	})
	return id
}

func renderAll[T, R any](rows []T, render func(T) R) []R {
	out := make([]R, len(rows))
	for i, r := range rows {
		out[i] = render(r)
	}
	return out
}
