package lifecycle

// What activities find and do that reaches a workflow's status or result, and so the CLI.

// Plan is the resolved provisioning plan, with every name checked against Atomicwork.
type Plan struct {
	Entitlements []PlannedEntitlement `json:"entitlements"`
	AssetTypes   []PlannedAssetType   `json:"asset_types"`
	// Source says where each list came from: "input" or "policy".
	EntitlementsFrom string `json:"entitlements_from"`
	AssetTypesFrom   string `json:"asset_types_from"`
}

// PlannedEntitlement is an entitlement to grant.
type PlannedEntitlement struct {
	Name string `json:"name"`
	ID   int64  `json:"id"`
}

// PlannedAssetType is an asset type to assign one asset of.
type PlannedAssetType struct {
	Name string `json:"name"`
	ID   int64  `json:"id"`
}

// GrantRef is an active grant.
type GrantRef struct {
	GrantID       int64  `json:"grant_id"`
	EntitlementID int64  `json:"entitlement_id"`
	Entitlement   string `json:"entitlement"`
	// Preexisting is true when the user had the grant before this workflow; compensation leaves it.
	Preexisting bool `json:"preexisting"`
}

// AssetAssignment is the outcome of AssignAsset.
type AssetAssignment struct {
	AssetTypeID   int64  `json:"asset_type_id"`
	AssetTypeName string `json:"asset_type_name"`
	// Assigned is false when no asset of the type is available: the workflow waits and retries.
	Assigned bool   `json:"assigned"`
	AssetID  int64  `json:"asset_id,omitempty"`
	Label    string `json:"label,omitempty"`
	// Preexisting is true when the user held the asset before this workflow; compensation leaves it.
	Preexisting bool `json:"preexisting"`
}

// ResolvedReassignment is a reassignment's people and asset type as ids.
type ResolvedReassignment struct {
	AssigneeID   int64 `json:"assignee_id,omitempty"`
	AssetTypeID  int64 `json:"asset_type_id,omitempty"`
	TargetUserID int64 `json:"target_user_id,omitempty"`
}

// ReassignmentPlan is what a selector matches: a count and the first few assets.
type ReassignmentPlan struct {
	// Matched is how many assets the selector matches now (for explicit ids: how many were named).
	Matched int           `json:"matched"`
	Sample  []AssetSample `json:"sample"`
}

// AssetSample describes one matched asset for a human to check the plan.
type AssetSample struct {
	AssetID    int64  `json:"asset_id"`
	Label      string `json:"label"`
	AssetType  string `json:"asset_type,omitempty"`
	AssigneeID int64  `json:"assignee_id,omitempty"`
	Status     string `json:"status,omitempty"`
	// Missing is set for an explicit id the API does not know.
	Missing bool `json:"missing,omitempty"`
}
