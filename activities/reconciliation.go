package activities

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// DriftScanRequest asks what drifted in Atomicwork.
type DriftScanRequest struct {
	WorkspaceID int64 `json:"workspace_id,omitempty"`
	// Now is the workflow's clock; StaleAfter is how long past its start date an onboarding
	// request may stay open.
	Now        time.Time     `json:"now"`
	StaleAfter time.Duration `json:"stale_after"`
}

// DriftScan is what a scan found, ids only.
type DriftScan struct {
	// Assets still assigned to deleted or terminated users.
	Assets []LeaverAsset `json:"assets"`
	// Grants still active for deleted or terminated users; Handling are those whose revocation is
	// already under way or escalated (IN_PROGRESS, FAILED): reported, not revoked again.
	Grants   []LeaverGrant `json:"grants"`
	Handling []LeaverGrant `json:"handling"`
	// StaleOnboardings are atomicflow onboarding requests still open long after their start date.
	StaleOnboardings []StaleRequest `json:"stale_onboardings"`
}

// LeaverAsset is an asset still assigned to a leaver.
type LeaverAsset struct {
	AssetID int64 `json:"asset_id"`
	UserID  int64 `json:"user_id"`
}

// LeaverGrant is an active grant of a leaver.
type LeaverGrant struct {
	GrantID    int64  `json:"grant_id"`
	UserID     int64  `json:"user_id"`
	Revocation string `json:"revocation,omitempty"`
}

// StaleRequest is an onboarding request open past its start date.
type StaleRequest struct {
	DisplayID string `json:"display_id"`
	UserID    int64  `json:"user_id"`
	StartDate string `json:"start_date"`
	DaysLate  int    `json:"days_late"`
}

// onboardingMarker recognises the requests the onboarding workflow opens (see EnsureRequest).
const onboardingMarker = "[" + markerPrefix + "onboarding-"

// startsOn finds the start date in a plain onboarding request's subject ("..., starts 2026-12-01 [...]").
var startsOn = regexp.MustCompile(`starts (\d{4}-\d{2}-\d{2})`)

// ScanDrift lists the leavers (soft-deleted or TERMINATED users) who still hold assets or active
// grants, and the onboarding requests still open long after their start date.
func (a *Activities) ScanDrift(ctx context.Context, req DriftScanRequest) (DriftScan, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return DriftScan{}, err
	}
	out := DriftScan{Assets: []LeaverAsset{}, Grants: []LeaverGrant{}, Handling: []LeaverGrant{}, StaleOnboardings: []StaleRequest{}}
	leavers, err := leavers(ctx, c)
	if err != nil {
		return DriftScan{}, err
	}
	for _, uid := range leavers {
		for asset, err := range c.ListAssets(ctx, atomicwork.Filters{}.IsAnyOf("assigned_to_id", uid)) {
			if err != nil {
				return DriftScan{}, toTemporal(err)
			}
			out.Assets = append(out.Assets, LeaverAsset{AssetID: asset.ID, UserID: uid})
		}
		for g, err := range c.ListGrants(ctx, atomicwork.Filters{}.IsAnyOf("user", uid).IsAnyOf("status", atomicwork.GrantBucketActive)) {
			if err != nil {
				return DriftScan{}, toTemporal(err)
			}
			if !g.Active() {
				continue
			}
			lg := LeaverGrant{GrantID: g.ID, UserID: uid}
			if g.RevocationStatus != nil && g.RevocationStatus.Status != atomicwork.RevocationCompleted {
				lg.Revocation = g.RevocationStatus.Status
				out.Handling = append(out.Handling, lg)
				continue
			}
			out.Grants = append(out.Grants, lg)
		}
	}
	open := atomicwork.Filters{}.IsAnyOf("status", atomicwork.StatusOpen, atomicwork.StatusInProgress, atomicwork.StatusOnHold)
	for r, err := range c.ListRequests(ctx, open) {
		if err != nil {
			return DriftScan{}, toTemporal(err)
		}
		if !strings.Contains(r.Subject, onboardingMarker) {
			continue
		}
		start := requestStartDate(r)
		day, err := time.Parse(time.DateOnly, start)
		if err != nil {
			continue // not ours to judge: no readable start date
		}
		if late := req.Now.Sub(day); late > req.StaleAfter {
			sr := StaleRequest{DisplayID: r.DisplayID, StartDate: start, DaysLate: int(late / (24 * time.Hour))}
			if r.Requester != nil {
				sr.UserID = r.Requester.ID
			}
			out.StaleOnboardings = append(out.StaleOnboardings, sr)
		}
	}
	return out, nil
}

// leavers returns the ids of soft-deleted and TERMINATED users.
func leavers(ctx context.Context, c *atomicwork.Client) ([]int64, error) {
	var ids []int64
	for u, err := range c.ListUsers(ctx, atomicwork.UserListOptions{IsDeleted: true}) {
		if err != nil {
			return nil, toTemporal(err)
		}
		if u.IsDeleted {
			ids = append(ids, u.ID)
		}
	}
	for u, err := range c.ListUsers(ctx, atomicwork.UserListOptions{}) {
		if err != nil {
			return nil, toTemporal(err)
		}
		if !u.IsDeleted && strings.EqualFold(u.EmploymentStatus, employmentTerminated) {
			ids = append(ids, u.ID)
		}
	}
	return ids, nil
}

// requestStartDate reads an onboarding request's start date: the catalog item's start_date field,
// else the subject.
func requestStartDate(r atomicwork.Request) string {
	for _, item := range r.Items {
		if s, ok := item.ItemFields["start_date"].(string); ok && s != "" {
			return s
		}
	}
	if m := startsOn.FindStringSubmatch(r.Subject); m != nil {
		return m[1]
	}
	return ""
}
