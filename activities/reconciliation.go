package activities

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

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
	// NewSinceLeft is access of a leaver that may be newer than her leaving (granted, or for an
	// asset last changed, after her terminated_on): a rehire's, perhaps. Reported, never revoked.
	NewSinceLeft []NewAccess `json:"new_since_left,omitempty"`
}

// NewAccess is a leaver's grant or asset that may be newer than her leaving.
type NewAccess struct {
	Kind   string `json:"kind"` // "grant" or "asset"
	ID     int64  `json:"id"`
	UserID int64  `json:"user_id"`
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
// grants, and the onboarding requests still open long after their start date. Access that may be
// newer than the user's termination (a rehire's new grant or phone while the account still looks
// terminated) is reported in NewSinceLeft, never in Assets or Grants: the workflow does not take
// it away. The scan is several listings: it heartbeats its progress (scanProgress) and a retry
// resumes from it, so a fault late in the scan neither repeats the listings done nor loses findings.
func (a *Activities) ScanDrift(ctx context.Context, req DriftScanRequest) (DriftScan, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return DriftScan{}, err
	}
	s := &scan{c: c, req: req, p: resumeScan(ctx)}
	stop := s.beat(ctx)
	err = s.run(ctx)
	stop()
	if err != nil {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, s.snapshot()) // flushed before the failure: the retry resumes here
		}
		return DriftScan{}, err
	}
	return s.p.Found, nil
}

// scanProgress is what the scan attempts so far did, the heartbeat details a retry resumes from.
type scanProgress struct {
	// Leavers is set once the user listings are complete; Scanned of them are done, their
	// findings in Found.
	Leavers      []leaver  `json:"leavers"`
	Listed       bool      `json:"listed"`
	Scanned      int       `json:"scanned"`
	RequestsDone bool      `json:"requests_done"`
	Found        DriftScan `json:"found"`
}

// leaver is a soft-deleted or TERMINATED user. Left is when access granted to her stopped being
// hers: the end of terminated_on (UTC), else the deletion; nil when the account says neither.
type leaver struct {
	ID   int64      `json:"id"`
	Left *time.Time `json:"left,omitempty"`
}

// scan is one attempt of ScanDrift.
type scan struct {
	c   *atomicwork.Client
	req DriftScanRequest
	mu  sync.Mutex // p is read by the heartbeat goroutine
	p   scanProgress
}

// resumeScan returns the progress an earlier attempt heartbeated, or a fresh one.
func resumeScan(ctx context.Context) scanProgress {
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		var last scanProgress
		if activity.GetHeartbeatDetails(ctx, &last) == nil { // unreadable: start over (harmless, read-only)
			return last
		}
	}
	return scanProgress{Found: DriftScan{Assets: []LeaverAsset{}, Grants: []LeaverGrant{}, Handling: []LeaverGrant{},
		StaleOnboardings: []StaleRequest{}, NewSinceLeft: []NewAccess{}}}
}

func (s *scan) run(ctx context.Context) error {
	if !s.p.Listed {
		leavers, err := listLeavers(ctx, s.c)
		if err != nil {
			return err
		}
		s.update(func(p *scanProgress) { p.Leavers, p.Listed = leavers, true })
	}
	for s.p.Scanned < len(s.p.Leavers) {
		found, err := s.scanLeaver(ctx, s.p.Leavers[s.p.Scanned])
		if err != nil {
			return err
		}
		s.update(func(p *scanProgress) { p.Found = merge(p.Found, found); p.Scanned++ })
	}
	if !s.p.RequestsDone {
		stale, err := s.staleOnboardings(ctx)
		if err != nil {
			return err
		}
		s.update(func(p *scanProgress) {
			p.Found.StaleOnboardings = append(p.Found.StaleOnboardings, stale...)
			p.RequestsDone = true
		})
	}
	return nil
}

// update changes the progress under the lock the heartbeat goroutine reads it with.
func (s *scan) update(change func(*scanProgress)) {
	s.mu.Lock()
	change(&s.p)
	s.mu.Unlock()
}

func (s *scan) snapshot() scanProgress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

// beat heartbeats the progress every quarter heartbeat timeout until stopped: the keep-alive
// interceptor leaves ScanDrift alone (heartbeatsItself), as its detail-less beats would erase it.
func (s *scan) beat(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) || activity.GetInfo(ctx).HeartbeatTimeout <= 0 {
		return func() {}
	}
	tick := time.NewTicker(activity.GetInfo(ctx).HeartbeatTimeout / 4)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				activity.RecordHeartbeat(ctx, s.snapshot())
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// scanLeaver lists one leaver's assets and active grants.
func (s *scan) scanLeaver(ctx context.Context, l leaver) (DriftScan, error) {
	var out DriftScan
	for asset, err := range s.c.ListAssets(ctx, atomicwork.Filters{}.IsAnyOf("assigned_to_id", l.ID)) {
		if err != nil {
			return DriftScan{}, listingFailed("the leaver's assets", err)
		}
		if !l.before(asset.UpdatedAt) {
			out.NewSinceLeft = append(out.NewSinceLeft, NewAccess{Kind: "asset", ID: asset.ID, UserID: l.ID})
			continue
		}
		out.Assets = append(out.Assets, LeaverAsset{AssetID: asset.ID, UserID: l.ID})
	}
	for g, err := range s.c.ListGrants(ctx, atomicwork.Filters{}.IsAnyOf("user", l.ID).IsAnyOf("status", atomicwork.GrantBucketActive)) {
		if err != nil {
			return DriftScan{}, listingFailed("the leaver's grants", err)
		}
		if !g.Active() {
			continue
		}
		if !l.before(grantedAt(g)) {
			out.NewSinceLeft = append(out.NewSinceLeft, NewAccess{Kind: "grant", ID: g.ID, UserID: l.ID})
			continue
		}
		lg := LeaverGrant{GrantID: g.ID, UserID: l.ID}
		if g.RevocationStatus != nil && g.RevocationStatus.Status != atomicwork.RevocationCompleted {
			lg.Revocation = g.RevocationStatus.Status
			out.Handling = append(out.Handling, lg)
			continue
		}
		out.Grants = append(out.Grants, lg)
	}
	return out, nil
}

// before reports whether something granted or changed at t is certainly older than the user's
// leaving, and so hers as a leaver. An unknown time (zero) is not: it may be a rehire's.
func (l leaver) before(t time.Time) bool {
	if l.Left == nil {
		return true // no date to compare with: the account says only that she left
	}
	return !t.IsZero() && t.Before(*l.Left)
}

// grantedAt is when a grant was given: the later of granted_at (which a caller may backdate) and
// the record's creation, zero when the API gives neither.
func grantedAt(g atomicwork.Grant) time.Time {
	t := g.CreatedAt
	if g.GrantedAt != nil && g.GrantedAt.After(t) {
		t = *g.GrantedAt
	}
	return t
}

// merge adds one leaver's findings to the scan's.
func merge(into, more DriftScan) DriftScan {
	into.Assets = append(into.Assets, more.Assets...)
	into.Grants = append(into.Grants, more.Grants...)
	into.Handling = append(into.Handling, more.Handling...)
	into.NewSinceLeft = append(into.NewSinceLeft, more.NewSinceLeft...)
	return into
}

// staleOnboardings lists the atomicflow onboarding requests still open past the request's limit.
func (s *scan) staleOnboardings(ctx context.Context) ([]StaleRequest, error) {
	out := []StaleRequest{}
	open := atomicwork.Filters{}.IsAnyOf("status", atomicwork.StatusOpen, atomicwork.StatusInProgress, atomicwork.StatusOnHold)
	for r, err := range s.c.ListRequests(ctx, open) {
		if err != nil {
			return nil, listingFailed("the open requests", err)
		}
		if !strings.Contains(r.Subject, onboardingMarker) {
			continue
		}
		start := requestStartDate(r)
		day, err := time.Parse(time.DateOnly, start)
		if err != nil {
			continue // not ours to judge: no readable start date
		}
		if late := s.req.Now.Sub(day); late > s.req.StaleAfter {
			sr := StaleRequest{DisplayID: r.DisplayID, StartDate: start, DaysLate: int(late / (24 * time.Hour))}
			if r.Requester != nil {
				sr.UserID = r.Requester.ID
			}
			out = append(out, sr)
		}
	}
	return out, nil
}

// listLeavers returns the soft-deleted and TERMINATED users, with when each left.
func listLeavers(ctx context.Context, c *atomicwork.Client) ([]leaver, error) {
	out := []leaver{}
	for u, err := range c.ListUsers(ctx, atomicwork.UserListOptions{IsDeleted: true}) {
		if err != nil {
			return nil, listingFailed("the deleted users", err)
		}
		if u.IsDeleted {
			out = append(out, leaver{ID: u.ID, Left: leftAt(u)})
		}
	}
	for u, err := range c.ListUsers(ctx, atomicwork.UserListOptions{}) {
		if err != nil {
			return nil, listingFailed("the users", err)
		}
		if !u.IsDeleted && strings.EqualFold(u.EmploymentStatus, employmentTerminated) {
			out = append(out, leaver{ID: u.ID, Left: leftAt(u)})
		}
	}
	return out, nil
}

// leftAt is when u stopped being an employee: the end of her terminated_on day in UTC (her last
// day's access is a leaver's), else her account's deletion, else nil.
func leftAt(u atomicwork.User) *time.Time {
	if u.TerminatedOn != nil {
		if day, err := time.Parse(time.DateOnly, *u.TerminatedOn); err == nil {
			end := day.AddDate(0, 0, 1)
			return &end
		}
	}
	return u.DeletedAt
}

// listingFailed makes a listing that could not be read whole retryable: the client's permanent
// errors without an HTTP status (ErrInvalidInput: an incomplete listing among them, since the
// scan's own filters are never invalid) are retried and resume the scan, never "nothing there".
// What the API refused (a bad key, a forbidden list) stays permanent.
func listingFailed(what string, err error) error {
	terr := toTemporal(err)
	var appErr *temporal.ApplicationError
	if !errors.As(terr, &appErr) || !appErr.NonRetryable() || appErr.Type() != ErrInvalidInput || atomicwork.StatusOf(err) != 0 {
		return terr
	}
	return temporal.NewApplicationErrorWithCause("listing "+what+" did not complete: "+err.Error()+"; the scan is retried from where it stopped",
		ErrUnavailable, err)
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
