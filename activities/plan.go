package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// PlanRequest asks what a new hire gets.
type PlanRequest struct {
	WorkspaceID int64  `json:"workspace_id,omitempty"`
	Department  string `json:"department,omitempty"`
	Title       string `json:"title,omitempty"`
	// Entitlements and AssetTypes, when set, replace the policy's.
	Entitlements []string `json:"entitlements,omitempty"`
	AssetTypes   []string `json:"asset_types,omitempty"`
}

// ResolvePlan applies the provisioning policy (explicit input wins) and resolves every name to
// an id. An unknown or unpublished entitlement, or an unknown asset type, fails at once: nothing
// has been written yet.
func (a *Activities) ResolvePlan(ctx context.Context, req PlanRequest) (lifecycle.Plan, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return lifecycle.Plan{}, err
	}
	want := a.policy.Resolve(req.Department, req.Title)
	plan := lifecycle.Plan{EntitlementsFrom: "policy", AssetTypesFrom: "policy"}
	if len(req.Entitlements) > 0 {
		want.Entitlements, plan.EntitlementsFrom = appendNew(nil, req.Entitlements...), "input"
	}
	if len(req.AssetTypes) > 0 {
		want.AssetTypes, plan.AssetTypesFrom = appendNew(nil, req.AssetTypes...), "input"
	}
	for _, name := range want.Entitlements {
		id, err := entitlementID(ctx, c, name)
		if err != nil {
			return lifecycle.Plan{}, err
		}
		plan.Entitlements = append(plan.Entitlements, lifecycle.PlannedEntitlement{Name: name, ID: id})
	}
	for _, name := range want.AssetTypes {
		id, err := c.AssetTypeID(ctx, name)
		if err != nil {
			return lifecycle.Plan{}, toTemporal(err)
		}
		plan.AssetTypes = append(plan.AssetTypes, lifecycle.PlannedAssetType{Name: name, ID: id})
	}
	return plan, nil
}

// entitlementID finds a published entitlement by exact name (case-insensitive).
func entitlementID(ctx context.Context, c *atomicwork.Client, name string) (int64, error) {
	var draft bool
	for e, err := range c.ListEntitlements(ctx, atomicwork.EntitlementListOptions{SearchKey: name}) {
		if err != nil {
			return 0, toTemporal(err)
		}
		if !strings.EqualFold(e.Name, name) {
			continue
		}
		if e.Status == "PUBLISHED" {
			return e.ID, nil
		}
		draft = true
	}
	if draft {
		return 0, nonRetryable(ErrUnknownName, fmt.Sprintf("entitlement %q is not published: publish it in Atomicwork or remove it from the plan", name))
	}
	return 0, nonRetryable(ErrUnknownName, fmt.Sprintf("no entitlement named %q: check the name in Atomicwork IGA or the policy file", name))
}
