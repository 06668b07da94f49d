package activities

import (
	"context"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// GrantRequest asks for one entitlement for one user.
type GrantRequest struct {
	WorkspaceID   int64  `json:"workspace_id,omitempty"`
	UserID        int64  `json:"user_id"`
	EntitlementID int64  `json:"entitlement_id"`
	Entitlement   string `json:"entitlement"`
	// Since is when the workflow step began: an active grant granted since then is this
	// workflow's own (an earlier attempt's write whose answer was lost), an older one was there before.
	Since time.Time `json:"since"`
}

// EnsureGrant returns the user's active grant of the entitlement, creating it when there is none.
func (a *Activities) EnsureGrant(ctx context.Context, req GrantRequest) (lifecycle.GrantRef, error) {
	if req.UserID == 0 || req.EntitlementID == 0 {
		return lifecycle.GrantRef{}, nonRetryable(ErrInvalidInput, "ensure grant: user and entitlement are required")
	}
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return lifecycle.GrantRef{}, err
	}
	if g, err := activeGrant(ctx, c, req.UserID, req.EntitlementID); err != nil || g != nil {
		return grantRef(g, req), err
	}
	created, err := c.CreateGrant(ctx, atomicwork.GrantInput{UserID: req.UserID, EntitlementID: req.EntitlementID})
	if atomicwork.IsConflict(err) {
		// An active grant appeared between the check and the create: converge on it.
		g, err := activeGrant(ctx, c, req.UserID, req.EntitlementID)
		if err == nil && g == nil {
			err = nonRetryable(ErrConflict, "create grant answered 409 but no active grant exists: check the entitlement in Atomicwork")
		}
		return grantRef(g, req), err
	}
	if err != nil {
		return lifecycle.GrantRef{}, toTemporal(err)
	}
	return lifecycle.GrantRef{GrantID: created.ID, EntitlementID: req.EntitlementID, Entitlement: req.Entitlement}, nil
}

func grantRef(g *atomicwork.Grant, req GrantRequest) lifecycle.GrantRef {
	if g == nil {
		return lifecycle.GrantRef{}
	}
	preexisting := g.GrantedAt == nil || g.GrantedAt.Before(req.Since)
	return lifecycle.GrantRef{GrantID: g.ID, EntitlementID: req.EntitlementID, Entitlement: req.Entitlement, Preexisting: preexisting}
}

// activeGrant returns the user's active grant of an entitlement, or nil.
func activeGrant(ctx context.Context, c *atomicwork.Client, userID, entitlementID int64) (*atomicwork.Grant, error) {
	filters := atomicwork.Filters{}.
		IsAnyOf("user", userID).
		IsAnyOf("entitlement", entitlementID).
		IsAnyOf("status", atomicwork.GrantBucketActive)
	for g, err := range c.ListGrants(ctx, filters) {
		if err != nil {
			return nil, toTemporal(err)
		}
		if g.Active() {
			return &g, nil
		}
	}
	return nil, nil
}

// RevokeRequest revokes one grant.
type RevokeRequest struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	GrantID     int64  `json:"grant_id"`
	Reason      string `json:"reason"`
}

// RevokeResult is the grant's state after the revoke.
type RevokeResult struct {
	GrantID int64 `json:"grant_id"`
	// Status is the grant status (REVOKED once deprovisioning completed).
	Status string `json:"status"`
	// Revocation is IN_PROGRESS, COMPLETED or FAILED.
	Revocation string `json:"revocation"`
}

// RevokeGrant revokes a grant with deprovisioning in the identity provider. Revoking a revoked
// grant is a no-op answer from the API, so retries are safe.
func (a *Activities) RevokeGrant(ctx context.Context, req RevokeRequest) (RevokeResult, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return RevokeResult{}, err
	}
	g, err := c.RevokeGrant(ctx, req.GrantID, atomicwork.RevokeInput{Reason: req.Reason, SkipDeprovisioning: false})
	if err != nil {
		return RevokeResult{}, toTemporal(err)
	}
	res := RevokeResult{GrantID: g.ID, Status: g.Status}
	if g.RevocationStatus != nil {
		res.Revocation = g.RevocationStatus.Status
	}
	return res, nil
}

// UndoGrantRequest takes back an entitlement a workflow may have granted.
type UndoGrantRequest struct {
	WorkspaceID   int64     `json:"workspace_id,omitempty"`
	UserID        int64     `json:"user_id"`
	EntitlementID int64     `json:"entitlement_id"`
	Since         time.Time `json:"since"`
	Reason        string    `json:"reason"`
}

// UndoGrant revokes the user's active grant of the entitlement if it was granted since the
// workflow began; an older grant was the user's before and stays. Safe to retry, and safe when
// the grant step was interrupted (nothing granted, nothing revoked).
func (a *Activities) UndoGrant(ctx context.Context, req UndoGrantRequest) error {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return err
	}
	g, err := activeGrant(ctx, c, req.UserID, req.EntitlementID)
	if err != nil || g == nil || g.GrantedAt == nil || g.GrantedAt.Before(req.Since) {
		return err
	}
	_, err = c.RevokeGrant(ctx, g.ID, atomicwork.RevokeInput{Reason: req.Reason, SkipDeprovisioning: false})
	return toTemporal(err)
}
