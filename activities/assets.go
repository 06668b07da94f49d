package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// candidatesPerTry bounds how many available assets one AssignAsset attempt tries to claim.
const candidatesPerTry = 10

// AssignAssetRequest asks for one asset of a type for a user.
type AssignAssetRequest struct {
	WorkspaceID   int64  `json:"workspace_id,omitempty"`
	UserID        int64  `json:"user_id"`
	AssetTypeID   int64  `json:"asset_type_id"`
	AssetTypeName string `json:"asset_type_name"`
	// Since is when the workflow step began; an asset of the type already assigned to the user and
	// updated since then is this workflow's own claim from an earlier attempt.
	Since time.Time `json:"since"`
}

// errTaken vetoes a claim on an asset that is no longer available.
var errTaken = errors.New("asset is no longer available")

// AssignAsset gives the user one asset of the type: the one they already hold, or an AVAILABLE
// one claimed by read-modify-write (assignee and IN_USE, every other field kept) and verified by a
// re-read. The API has no conditional write, so claims of one type are serialised within this
// worker, and a claim lost to another writer moves on to the next candidate.
func (a *Activities) AssignAsset(ctx context.Context, req AssignAssetRequest) (lifecycle.AssetAssignment, error) {
	if req.UserID == 0 || req.AssetTypeID == 0 {
		return lifecycle.AssetAssignment{}, nonRetryable(ErrInvalidInput, "assign asset: user and asset type are required")
	}
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return lifecycle.AssetAssignment{}, err
	}
	out := lifecycle.AssetAssignment{AssetTypeID: req.AssetTypeID, AssetTypeName: req.AssetTypeName}
	unlock := a.assetLocks.lock(fmt.Sprintf("%d/%d", c.WorkspaceID(), req.AssetTypeID))
	defer unlock()

	held, err := c.ListAssetsPage(ctx, atomicwork.Filters{}.
		IsAnyOf("assigned_to_id", req.UserID).IsAnyOf("type_id", req.AssetTypeID), 1, 1)
	if err != nil {
		return out, toTemporal(err)
	}
	if len(held.Data) > 0 {
		asset := held.Data[0]
		out.Assigned, out.AssetID, out.Label = true, asset.ID, asset.Label
		out.Preexisting = asset.UpdatedAt.Before(req.Since)
		return out, nil
	}

	available := atomicwork.Filters{}.IsAnyOf("status", atomicwork.AssetAvailable).IsAnyOf("type_id", req.AssetTypeID)
	free, err := c.ListAssetsPage(ctx, available, 1, candidatesPerTry)
	if err != nil {
		return out, toTemporal(err)
	}
	claim := atomicwork.Assignment{
		AssigneeID: req.UserID,
		Status:     atomicwork.AssetInUse,
		Precondition: func(cur *atomicwork.Asset) error {
			if cur.AssigneeID(c.AssigneeField()) != 0 || cur.StatusValue(c.StatusField()) != atomicwork.AssetAvailable {
				return errTaken
			}
			return nil
		},
	}
	taken := map[int64]bool{}
	for _, candidate := range free.Data {
		_, _, err := c.SetAssignment(ctx, candidate.ID, claim)
		switch {
		case errors.Is(err, errTaken), atomicwork.IsNotFound(err):
			taken[candidate.ID] = true
			continue
		case err != nil:
			return out, toTemporal(err)
		}
		// Verify: another writer may have claimed the same asset between our read and write.
		got, err := c.GetAsset(ctx, candidate.ID)
		if err != nil {
			return out, toTemporal(err)
		}
		if got.AssigneeID(c.AssigneeField()) == req.UserID {
			out.Assigned, out.AssetID, out.Label = true, got.ID, got.Label
			return out, nil
		}
		taken[candidate.ID] = true
	}
	// None available now: the workflow notes it and retries later, so the conclusion is checked.
	return out, confirmNoneAvailable(ctx, c, available, free, taken, req.AssetTypeName)
}

// confirmNoneAvailable verifies "no asset of the type is available" before the workflow tells the
// request so and waits: the listing, whose candidates were all taken (or which had none), must
// not contradict its own total_count, and a second query must find no asset but those taken. A
// contradiction is a retryable error: an empty page is no proof of an empty stock.
func confirmNoneAvailable(ctx context.Context, c *atomicwork.Client, available atomicwork.Filters,
	listed *atomicwork.Page[atomicwork.Asset], taken map[int64]bool, typeName string) error {
	if len(listed.Data) == 0 && listed.TotalCount > 0 {
		return retryable(ErrUnavailable, fmt.Sprintf(
			"the listing of available %s assets came back empty but counts %d: retrying the listing", typeName, listed.TotalCount))
	}
	again, err := c.ListAssetsPage(ctx, available, 1, 1)
	if err != nil {
		return toTemporal(err)
	}
	switch {
	case len(again.Data) > 0 && !taken[again.Data[0].ID]:
		return retryable(ErrUnavailable, fmt.Sprintf(
			"asset %d is available after a listing that offered no %s asset to claim: retrying with a fresh listing", again.Data[0].ID, typeName))
	case len(again.Data) == 0 && again.TotalCount > 0:
		return retryable(ErrUnavailable, fmt.Sprintf(
			"a count of available %s assets came back empty but counts %d: retrying the listing", typeName, again.TotalCount))
	}
	return nil
}

// UndoAssetRequest returns an asset a workflow may have assigned.
type UndoAssetRequest struct {
	WorkspaceID int64     `json:"workspace_id,omitempty"`
	UserID      int64     `json:"user_id"`
	AssetTypeID int64     `json:"asset_type_id"`
	Since       time.Time `json:"since"`
}

// UndoAsset returns to stock (unassigned, AVAILABLE) every asset of the type assigned to the user
// and updated since the workflow began; assets the user held before stay. Safe to retry.
func (a *Activities) UndoAsset(ctx context.Context, req UndoAssetRequest) error {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return err
	}
	held, err := atomicwork.Collect(c.ListAssets(ctx, atomicwork.Filters{}.
		IsAnyOf("assigned_to_id", req.UserID).IsAnyOf("type_id", req.AssetTypeID)))
	if err != nil {
		return toTemporal(err)
	}
	stillTheirs := func(cur *atomicwork.Asset) error {
		if cur.AssigneeID(c.AssigneeField()) != req.UserID {
			return errNotTheirs
		}
		return nil
	}
	for _, asset := range held {
		if asset.UpdatedAt.Before(req.Since) {
			continue
		}
		_, _, err := c.SetAssignment(ctx, asset.ID, atomicwork.Assignment{Status: atomicwork.AssetAvailable, Precondition: stillTheirs})
		if err != nil && !errors.Is(err, errNotTheirs) && !atomicwork.IsNotFound(err) {
			return toTemporal(err)
		}
	}
	return nil
}

// errNotTheirs vetoes returning an asset that another user holds by now.
var errNotTheirs = errors.New("asset is assigned to someone else")
