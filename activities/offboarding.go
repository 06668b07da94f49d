package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Employment statuses atomicflow writes.
const (
	employmentTerminated = "TERMINATED"
	employmentActive     = "ACTIVE"
)

// LeaverRequest names a leaver and where their assets go.
type LeaverRequest struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	Email       string `json:"email"`
	// EmployeeID is the HR id the leaver's user must carry (claimed if unset); empty in requests
	// recorded before the check, which skip it.
	EmployeeID string `json:"employee_id,omitempty"`
	// Disposition is return, manager or user; RecipientEmail is the user's email.
	Disposition    string `json:"disposition"`
	RecipientEmail string `json:"recipient_email,omitempty"`
}

// Leaver is the leaver and the resolved recipient of their assets (0 = back to stock).
type Leaver struct {
	UserID      int64 `json:"user_id"`
	RecipientID int64 `json:"recipient_id"`
	// EmailDiffers: the user was found by employee id and its email is not the HR record's, which
	// the request says so that IT can tell which one is current.
	EmailDiffers bool `json:"email_differs,omitempty"`
}

// Dispositions of LeaverRequest, as the workflow contract names them.
const (
	dispositionManager = "manager"
	dispositionUser    = "user"
)

// LookupLeaver finds the leaver (by employee id, then by email: see findEmployee) and resolves the recipient of their assets. An unknown
// leaver, one carrying another employee id, a leaver without a manager for the manager
// disposition, or an unknown recipient is a permanent error: nothing has been revoked yet. A
// leaver without an employee id is claimed for this one (the only write), so that a second
// offboarding of the same user under another employee id is refused.
func (a *Activities) LookupLeaver(ctx context.Context, req LeaverRequest) (Leaver, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return Leaver{}, err
	}
	var p leaverProgress
	var u *atomicwork.User
	if loadProgress(ctx, &p) && p.Leaver.UserID != 0 {
		if u, err = c.GetUser(ctx, p.Leaver.UserID); err != nil {
			return Leaver{}, toTemporal(err)
		}
	} else {
		if u, p.Leaver, err = resolveLeaver(ctx, c, req); err != nil {
			return Leaver{}, err
		}
		saveProgress(ctx, p)
	}
	if err := claimEmployeeID(ctx, c, u, req.EmployeeID); err != nil {
		return Leaver{}, err
	}
	return p.Leaver, nil
}

// leaverProgress is what LookupLeaver keeps across its attempts: the leaver and recipient found
// and checked, reads that do not change within a run. Only the employee id claim is left then.
type leaverProgress struct {
	Leaver Leaver `json:"leaver"`
}

// resolveLeaver finds and checks the leaver and the recipient of their assets; it writes nothing.
func resolveLeaver(ctx context.Context, c *atomicwork.Client, req LeaverRequest) (*atomicwork.User, Leaver, error) {
	u, err := findEmployee(ctx, c, req.EmployeeID, req.Email)
	if atomicwork.IsNotFound(err) {
		return nil, Leaver{}, nonRetryable(ErrUnknownUser, "no Atomicwork user has the leaver's employee id or email: check both (nothing was changed)")
	}
	if err != nil {
		return nil, Leaver{}, toTemporal(err)
	}
	if err := sameEmployee(u, req.EmployeeID); err != nil {
		return nil, Leaver{}, err
	}
	out := Leaver{UserID: u.ID, EmailDiffers: !strings.EqualFold(u.Email, req.Email)}
	switch req.Disposition {
	case dispositionManager:
		if u.Manager == nil || u.Manager.ID == 0 {
			return nil, Leaver{}, nonRetryable(ErrInvalidInput, fmt.Sprintf("user %d has no manager in Atomicwork: choose --assets return or user:<email>", u.ID))
		}
		out.RecipientID = u.Manager.ID
	case dispositionUser:
		r, err := c.LookupUserByEmail(ctx, req.RecipientEmail)
		if atomicwork.IsNotFound(err) {
			return nil, Leaver{}, nonRetryable(ErrUnknownUser, "no Atomicwork user has the recipient's email: check the assets recipient (nothing was changed)")
		}
		if err != nil {
			return nil, Leaver{}, toTemporal(err)
		}
		if r.ID == u.ID {
			return nil, Leaver{}, nonRetryable(ErrInvalidInput, "the assets recipient is the leaver: choose another recipient")
		}
		out.RecipientID = r.ID
	}
	return u, out, nil
}

// AccessRequest asks what a user holds.
type AccessRequest struct {
	WorkspaceID int64 `json:"workspace_id,omitempty"`
	UserID      int64 `json:"user_id"`
}

// Access is what a user holds: active grants and assigned assets.
type Access struct {
	Grants []HeldGrant `json:"grants"`
	Assets []HeldAsset `json:"assets"`
}

// HeldGrant is one active grant.
type HeldGrant struct {
	GrantID     int64  `json:"grant_id"`
	Entitlement string `json:"entitlement"`
	// Revocation is the revocation status when a revoke is under way (IN_PROGRESS, FAILED), else "".
	Revocation string `json:"revocation,omitempty"`
}

// HeldAsset is one assigned asset.
type HeldAsset struct {
	AssetID int64  `json:"asset_id"`
	Label   string `json:"label"`
	Type    string `json:"type"`
}

// ListAccess lists the user's active grants and assigned assets, in id order.
func (a *Activities) ListAccess(ctx context.Context, req AccessRequest) (Access, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return Access{}, err
	}
	var out Access
	if !loadProgress(ctx, &out) || out.Grants == nil {
		grants, err := activeGrantsOf(ctx, c, req.UserID)
		if err != nil {
			return Access{}, err
		}
		out.Grants = grants
		saveProgress(ctx, out) // a retry lists the assets only
	}
	out.Assets = []HeldAsset{}
	assets, err := atomicwork.Collect(c.ListAssets(ctx, atomicwork.Filters{}.IsAnyOf("assigned_to_id", req.UserID)))
	if err != nil {
		return Access{}, toTemporal(err)
	}
	for _, as := range assets {
		out.Assets = append(out.Assets, HeldAsset{AssetID: as.ID, Label: as.Label, Type: as.AssetBasicInfo.AssetTypeName})
	}
	slices.SortFunc(out.Grants, func(x, y HeldGrant) int { return int(x.GrantID - y.GrantID) })
	slices.SortFunc(out.Assets, func(x, y HeldAsset) int { return int(x.AssetID - y.AssetID) })
	return out, nil
}

// activeGrantsOf lists the user's active grants (never nil).
func activeGrantsOf(ctx context.Context, c *atomicwork.Client, userID int64) ([]HeldGrant, error) {
	out := []HeldGrant{}
	for g, err := range c.ListGrants(ctx, atomicwork.Filters{}.IsAnyOf("user", userID).IsAnyOf("status", atomicwork.GrantBucketActive)) {
		if err != nil {
			return nil, toTemporal(err)
		}
		if g.Active() {
			out = append(out, heldGrant(g))
		}
	}
	return out, nil
}

func heldGrant(g atomicwork.Grant) HeldGrant {
	h := HeldGrant{GrantID: g.ID}
	if g.Entitlement != nil {
		h.Entitlement = g.Entitlement.Name
	}
	if g.RevocationStatus != nil && g.RevocationStatus.Status != atomicwork.RevocationCompleted {
		h.Revocation = g.RevocationStatus.Status
	}
	return h
}

// RevocationStatesRequest asks how revocations are going.
type RevocationStatesRequest struct {
	WorkspaceID int64   `json:"workspace_id,omitempty"`
	GrantIDs    []int64 `json:"grant_ids"`
}

// RevocationState is a grant's status and revocation status.
type RevocationState struct {
	GrantID    int64  `json:"grant_id"`
	Status     string `json:"status"`
	Revocation string `json:"revocation"`
}

// RevocationStates reads the grants' current states; a grant the API no longer returns is reported as
// REVOKED (it can give no access).
func (a *Activities) RevocationStates(ctx context.Context, req RevocationStatesRequest) ([]RevocationState, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return nil, err
	}
	grants, err := c.GrantsByID(ctx, req.GrantIDs...)
	if err != nil {
		return nil, toTemporal(err)
	}
	out := make([]RevocationState, 0, len(req.GrantIDs))
	for _, id := range req.GrantIDs {
		st := RevocationState{GrantID: id, Status: atomicwork.GrantRevoked, Revocation: atomicwork.RevocationCompleted}
		for _, g := range grants {
			if g.ID == id {
				st.Status = g.Status
				st.Revocation = ""
				if g.RevocationStatus != nil {
					st.Revocation = g.RevocationStatus.Status
				}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// ConfirmRevokedRequest marks a grant revoked once IT removed the access by hand.
type ConfirmRevokedRequest struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	GrantID     int64  `json:"grant_id"`
	Reason      string `json:"reason"`
}

// ConfirmRevoked revokes a grant without deprovisioning: used after an escalation was resolved,
// when IT has removed the access in the identity provider itself.
func (a *Activities) ConfirmRevoked(ctx context.Context, req ConfirmRevokedRequest) error {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return err
	}
	gs, err := c.GrantsByID(ctx, req.GrantID)
	if err != nil {
		return toTemporal(err)
	}
	if len(gs) == 0 || !gs[0].Active() {
		return nil
	}
	_, err = c.RevokeGrant(ctx, req.GrantID, atomicwork.RevokeInput{Reason: req.Reason, SkipDeprovisioning: true})
	return toTemporal(err)
}

// ReclaimRequest moves one of the leaver's assets to its destination.
type ReclaimRequest struct {
	WorkspaceID int64 `json:"workspace_id,omitempty"`
	AssetID     int64 `json:"asset_id"`
	FromUserID  int64 `json:"from_user_id"`
	// ToUserID is the recipient; 0 returns the asset to stock (unassigned, AVAILABLE).
	ToUserID int64 `json:"to_user_id"`
}

// ReclaimResult says where the asset is now.
type ReclaimResult struct {
	AssetID int64 `json:"asset_id"`
	// Moved is false when the asset had already left the leaver for someone else.
	Moved    bool  `json:"moved"`
	ToUserID int64 `json:"to_user_id"`
}

// ReclaimAsset moves an asset from the leaver by read-modify-write, verified by a re-read. An
// asset that someone else holds by now is left alone; one already at its destination is done.
func (a *Activities) ReclaimAsset(ctx context.Context, req ReclaimRequest) (ReclaimResult, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return ReclaimResult{}, err
	}
	want := atomicwork.Assignment{
		AssigneeID: req.ToUserID,
		Status:     atomicwork.AssetAvailable,
		Precondition: func(cur *atomicwork.Asset) error {
			if cur.AssigneeID(c.AssigneeField()) != req.FromUserID {
				return errNotTheirs
			}
			return nil
		},
	}
	if req.ToUserID != 0 {
		want.Status = atomicwork.AssetInUse
	}
	_, _, err = c.SetAssignment(ctx, req.AssetID, want)
	switch {
	case errors.Is(err, errNotTheirs):
		return ReclaimResult{AssetID: req.AssetID}, nil
	case atomicwork.IsNotFound(err):
		return ReclaimResult{AssetID: req.AssetID}, nil // deleted meanwhile: the leaver no longer holds it
	case err != nil:
		return ReclaimResult{}, toTemporal(err)
	}
	got, err := c.GetAsset(ctx, req.AssetID)
	if err != nil {
		return ReclaimResult{}, toTemporal(err)
	}
	if !c.Holds(got, want) {
		return ReclaimResult{}, retryable(ErrStateConflict,
			fmt.Sprintf("asset %d changed while it was being reclaimed: retrying from a fresh read", req.AssetID))
	}
	return ReclaimResult{AssetID: req.AssetID, Moved: true, ToUserID: req.ToUserID}, nil
}

// TerminationRequest records the end of employment on the user.
type TerminationRequest struct {
	WorkspaceID  int64  `json:"workspace_id,omitempty"`
	UserID       int64  `json:"user_id"`
	TerminatedOn string `json:"terminated_on"`
}

// RecordTermination sets terminated_on and employment status TERMINATED unless already set.
func (a *Activities) RecordTermination(ctx context.Context, req TerminationRequest) error {
	c, u, err := a.user(ctx, req.WorkspaceID, req.UserID)
	if err != nil {
		return err
	}
	if u.EmploymentStatus == employmentTerminated && u.TerminatedOn != nil && *u.TerminatedOn == req.TerminatedOn {
		return nil
	}
	_, err = c.UpdateUser(ctx, req.UserID, atomicwork.UserInput{TerminatedOn: req.TerminatedOn, EmploymentStatus: employmentTerminated})
	return toTemporal(err)
}

// UserRequest names a user.
type UserRequest struct {
	WorkspaceID int64 `json:"workspace_id,omitempty"`
	UserID      int64 `json:"user_id"`
}

// DeleteLeaver soft-deletes the leaver's account after the grace period; already deleted is done.
func (a *Activities) DeleteLeaver(ctx context.Context, req UserRequest) error {
	c, u, err := a.user(ctx, req.WorkspaceID, req.UserID)
	if err != nil {
		return err
	}
	if u.IsDeleted {
		return nil
	}
	return toTemporal(c.DeleteUser(ctx, req.UserID))
}

// RestoreLeaver undoes an offboarding's account changes for a rehire: the account is restored if
// deleted, its employment status is ACTIVE again and terminated_on is cleared.
func (a *Activities) RestoreLeaver(ctx context.Context, req UserRequest) error {
	c, u, err := a.user(ctx, req.WorkspaceID, req.UserID)
	if err != nil {
		return err
	}
	if u.IsDeleted {
		if err := c.RestoreUser(ctx, req.UserID); err != nil {
			return toTemporal(err)
		}
	}
	return reactivate(ctx, c, u)
}

// EscalationRequest opens (once) an IT request for access that could not be removed.
type EscalationRequest struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	Marker      string `json:"marker"`
	RequesterID int64  `json:"requester_id"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
}

// OpenEscalation opens an incident for IT carrying the marker, or returns the one already open.
func (a *Activities) OpenEscalation(ctx context.Context, req EscalationRequest) (RequestRef, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return RequestRef{}, err
	}
	if r, err := findRequest(ctx, c, req.Marker, req.RequesterID); err != nil || r != nil {
		return requestRef(r), err
	}
	r, err := c.CreateRequest(ctx, atomicwork.RequestInput{RequestType: atomicwork.RequestTypeIncident, Priority: "HIGH",
		Subject: req.Subject + " " + markerTag(req.Marker), Description: req.Description, Requester: req.RequesterID,
		WorkspaceID: c.WorkspaceID()})
	if err != nil {
		return RequestRef{}, toTemporal(err)
	}
	return RequestRef{DisplayID: r.DisplayID}, nil
}

// RequestStatusRequest asks for a request's status.
type RequestStatusRequest struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	DisplayID   string `json:"display_id"`
}

// RequestDone reports whether a request is resolved or closed.
func (a *Activities) RequestDone(ctx context.Context, req RequestStatusRequest) (bool, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return false, err
	}
	r, err := c.GetRequest(ctx, req.DisplayID)
	if err != nil {
		return false, toTemporal(err)
	}
	return r.Status.Is(atomicwork.StatusResolved) || r.Status.Is(atomicwork.StatusClosed), nil
}

// user reads a user through the workspace's client; errors are already Temporal errors.
func (a *Activities) user(ctx context.Context, workspaceID, userID int64) (*atomicwork.Client, *atomicwork.User, error) {
	c, err := a.client(workspaceID)
	if err != nil {
		return nil, nil, err
	}
	u, err := c.GetUser(ctx, userID)
	if err != nil {
		return nil, nil, toTemporal(err)
	}
	return c, u, nil
}
