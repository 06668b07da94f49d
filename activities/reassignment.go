package activities

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// Bulk asset reassignment: resolve the request, plan it, page through what the selector matches
// with an exact keyset cursor, and move one asset by read-modify-write.

// AssetFilter is a resolved selector: every set field must match (ids only, no emails or names).
type AssetFilter struct {
	AssigneeID  int64  `json:"assignee_id,omitempty"`
	AssetTypeID int64  `json:"asset_type_id,omitempty"`
	Status      string `json:"status,omitempty"`
}

// LeftByWrites reports whether writing status (empty: unchanged) and a new assignee takes an
// asset out of the selection: always with an assignee selector (the target is someone else, or
// stock), and with a status selector when the status changes.
func (f AssetFilter) LeftByWrites(status string) bool {
	return f.AssigneeID != 0 || (f.Status != "" && status != "" && status != f.Status)
}

// NextPageHint is where the cursor's rank will be once the first taken ids of page p are handled:
// the same page when the writes take handled assets out of the selection, else further on.
func NextPageHint(p AssetPage, taken, size int, leftByWrites bool) int {
	if leftByWrites {
		return max(p.Page, 1)
	}
	return ((max(p.Page, 1)-1)*size+p.Offset+taken)/size + 1
}

// IsZero reports a filter that matches every asset.
func (f AssetFilter) IsZero() bool { return f == AssetFilter{} }

// filters is the assets/list body of the filter.
func (f AssetFilter) filters() atomicwork.Filters {
	var fs atomicwork.Filters
	if f.AssigneeID != 0 {
		fs = fs.IsAnyOf("assigned_to_id", f.AssigneeID)
	}
	if f.AssetTypeID != 0 {
		fs = fs.IsAnyOf("type_id", f.AssetTypeID)
	}
	if f.Status != "" {
		fs = fs.IsAnyOf("status", f.Status)
	}
	return fs
}

// matches reports whether an asset, as read now, still matches the filter.
func (f AssetFilter) matches(c *atomicwork.Client, a *atomicwork.Asset) bool {
	switch {
	case f.AssigneeID != 0 && a.AssigneeID(c.AssigneeField()) != f.AssigneeID:
		return false
	case f.AssetTypeID != 0 && a.TypeID() != f.AssetTypeID:
		return false
	case f.Status != "" && atomicwork.NormalizeStatus(a.StatusValue(c.StatusField())) != atomicwork.NormalizeStatus(f.Status):
		return false
	}
	return true
}

// ResolveReassignmentRequest names the people and the asset type of a reassignment.
type ResolveReassignmentRequest struct {
	WorkspaceID int64 `json:"workspace_id,omitempty"`
	// AssigneeEmail is the selector's current assignee; empty when the selector has none.
	AssigneeEmail string `json:"assignee_email,omitempty"`
	// AssetType is the selector's asset type name; empty when the selector has none.
	AssetType string `json:"asset_type,omitempty"`
	// TargetEmail is the user who gets the assets; empty for "back to stock".
	TargetEmail string `json:"target_email,omitempty"`
}

// ResolveReassignment turns emails and the asset type name into ids. An unknown email or type is
// a non-retryable error naming it; so is a deleted target, who cannot hold assets. The current
// assignee may be deleted: returning a leaver's devices is what the batch is for.
func (a *Activities) ResolveReassignment(ctx context.Context, req ResolveReassignmentRequest) (lifecycle.ResolvedReassignment, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return lifecycle.ResolvedReassignment{}, err
	}
	var out lifecycle.ResolvedReassignment
	if req.AssigneeEmail != "" {
		u, err := lookupUser(ctx, c, req.AssigneeEmail, "the current assignee")
		if err != nil {
			return out, err
		}
		out.AssigneeID = u.ID
	}
	if req.TargetEmail != "" {
		u, err := lookupUser(ctx, c, req.TargetEmail, "the target user")
		if err != nil {
			return out, err
		}
		if u.IsDeleted {
			return out, nonRetryable(ErrUnknownUser, fmt.Sprintf("the target user (Atomicwork user %d) is deleted and cannot hold assets: restore the account or choose another target", u.ID))
		}
		out.TargetUserID = u.ID
	}
	if req.AssetType != "" {
		id, _, err := readInline(ctx, func() (int64, error) { return c.AssetTypeID(ctx, req.AssetType) })
		if err != nil {
			return out, toTemporal(err)
		}
		out.AssetTypeID = id
	}
	return out, nil
}

// lookupUser finds a user by email; who names the role in the error, which never holds the email.
func lookupUser(ctx context.Context, c *atomicwork.Client, email, who string) (*atomicwork.User, error) {
	u, _, err := readInline(ctx, func() (*atomicwork.User, error) { return c.LookupUserByEmail(ctx, email) })
	if atomicwork.IsNotFound(err) {
		return nil, nonRetryable(ErrUnknownUser, fmt.Sprintf("%s has no Atomicwork account: check the email address", who))
	}
	if err != nil {
		return nil, toTemporal(err)
	}
	return u, nil
}

// PlanReassignmentRequest asks what a selector matches.
type PlanReassignmentRequest struct {
	WorkspaceID int64       `json:"workspace_id,omitempty"`
	Filter      AssetFilter `json:"filter"`
	// AssetIDs, when set, is the explicit selection (ascending); Filter then narrows it at write time.
	AssetIDs   []int64 `json:"asset_ids,omitempty"`
	SampleSize int     `json:"sample_size"`
}

// PlanReassignment counts what the selector matches and samples its first assets. It writes nothing.
func (a *Activities) PlanReassignment(ctx context.Context, req PlanReassignmentRequest) (lifecycle.ReassignmentPlan, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return lifecycle.ReassignmentPlan{}, err
	}
	size := min(max(req.SampleSize, 1), atomicwork.MaxPerPage)
	if len(req.AssetIDs) > 0 {
		plan := lifecycle.ReassignmentPlan{Matched: len(req.AssetIDs)}
		for _, id := range req.AssetIDs[:min(size, len(req.AssetIDs))] {
			asset, _, err := readInline(ctx, func() (*atomicwork.Asset, error) { return c.GetAsset(ctx, id) })
			switch {
			case atomicwork.IsNotFound(err):
				plan.Sample = append(plan.Sample, lifecycle.AssetSample{AssetID: id, Missing: true})
			case err != nil:
				return lifecycle.ReassignmentPlan{}, toTemporal(err)
			default:
				plan.Sample = append(plan.Sample, sample(c, asset))
			}
		}
		return plan, nil
	}
	// The plan counts and samples: any order will do, and a list that cannot be sorted is the
	// cursor's problem (the workflow falls back), not the plan's.
	page, _, err := readInline(ctx, func() (*atomicwork.Page[atomicwork.Asset], error) {
		return c.ListAssetsPage(ctx, req.Filter.filters(), 1, size)
	})
	if err != nil {
		return lifecycle.ReassignmentPlan{}, toTemporal(err)
	}
	plan := lifecycle.ReassignmentPlan{Matched: page.TotalCount, Sample: make([]lifecycle.AssetSample, 0, len(page.Data))}
	if plan.Matched < len(page.Data) {
		plan.Matched = len(page.Data) // an API that leaves total_count out
	}
	for i := range page.Data {
		plan.Sample = append(plan.Sample, sample(c, &page.Data[i]))
	}
	return plan, nil
}

func sample(c *atomicwork.Client, a *atomicwork.Asset) lifecycle.AssetSample {
	return lifecycle.AssetSample{AssetID: a.ID, Label: a.Label, AssetType: a.AssetBasicInfo.AssetTypeName,
		AssigneeID: a.AssigneeID(c.AssigneeField()), Status: a.StatusValue(c.StatusField())}
}

// AssetPageRequest asks for the next assets after a cursor.
type AssetPageRequest struct {
	WorkspaceID int64       `json:"workspace_id,omitempty"`
	Filter      AssetFilter `json:"filter"`
	// After is the keyset cursor: every matching asset with an id up to After was handled.
	After int64 `json:"after"`
	// Page is where to look first (1-based, page size PageSize); any value is safe, a good one saves calls.
	Page     int `json:"page"`
	PageSize int `json:"page_size"`
	// Max > PageSize lists up to Max ids over consecutive pages (0: one page).
	Max int `json:"max,omitempty"`
}

// AssetPage is the next assets after the cursor, in ascending id order.
type AssetPage struct {
	AssetIDs []int64 `json:"asset_ids"`
	// Page is the page the ids came from and Offset how many assets before them on it were handled.
	Page   int `json:"page"`
	Offset int `json:"offset"`
	// Done: no matching asset has an id above the cursor.
	Done bool `json:"done"`
	// Calls is how many list calls it took (1 usually; more when the selection moved).
	Calls int `json:"calls"`
}

// NextAssetPage returns the matching assets with the smallest ids above req.After: the client's
// keyset pager (atomicwork.Client.ListAssetsAfter says how it stays exact while the batch's writes
// move the selection), each list call retried inline. A list the cursor cannot use is ErrAssetOrder.
func (a *Activities) NextAssetPage(ctx context.Context, req AssetPageRequest) (AssetPage, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return AssetPage{}, err
	}
	return listAfter(ctx, c, req)
}

// listAfter is NextAssetPage with a client.
func listAfter(ctx context.Context, c *atomicwork.Client, req AssetPageRequest) (AssetPage, error) {
	got, err := c.ListAssetsAfter(ctx, atomicwork.AssetCursor{Filters: req.Filter.filters(), After: req.After, Page: req.Page,
		PageSize: req.PageSize, Max: req.Max}, retryInline)
	if err != nil {
		return AssetPage{}, listingError(err)
	}
	return AssetPage{AssetIDs: got.IDs, Page: got.Page, Offset: got.Offset, Done: got.Done, Calls: got.Calls}, nil
}

// listingError is the activity's error for a listing that failed: ErrAssetOrder for a list the
// cursor cannot use (the workflow's cue to go on without it), else as toTemporal maps it.
func listingError(err error) error {
	var order *atomicwork.AssetOrderError
	switch {
	case !errors.As(err, &order):
		return toTemporal(err)
	case order.SortRefused != nil:
		return nonRetryable(ErrAssetOrder, fmt.Sprintf("the assets list refuses sort=%s, which the reassignment's cursor needs: %v",
			atomicwork.SortAssetsByID, order.SortRefused))
	}
	return nonRetryable(ErrAssetOrder, fmt.Sprintf(
		"the assets list is not in ascending id order (asset %d after %d): the reassignment's cursor needs that order", order.ID, order.Prev))
}

// Inline retries of one read (a list call above all). A listing reads several pages, each with a probe: under a
// flaky API (a third of calls failing) all of them rarely succeed on the first try, and a
// listing that fails as a whole is retried by Temporal from the start, with a growing backoff.
// A few quick retries per call make a listing read all its pages nearly always; longer waits
// (a Retry-After beyond maxInlineWait) are left to Temporal.
const (
	maxListTries   = 4
	firstListRetry = 50 * time.Millisecond
)

// retryInline is the pager's retry of each of its list calls: readInline's, as for every read.
func retryInline(ctx context.Context, call func() error) (int, error) {
	_, calls, err := readInline(ctx, func() (struct{}, error) { return struct{}{}, call() })
	return calls, err
}

// readInline makes a read, tried again up to maxListTries times on a transient error: after a
// jittered backoff, or the Retry-After of a 429 when that is at most maxInlineWait. It returns
// the last error, and how many calls it made.
func readInline[T any](ctx context.Context, read func() (T, error)) (T, int, error) {
	for try := 1; ; try++ {
		v, err := read()
		wait, transient := passesOnRetry(err)
		if err == nil || try == maxListTries || !transient || ctx.Err() != nil {
			return v, try, err
		}
		if wait > maxInlineWait {
			return v, try, err
		}
		if wait == 0 {
			wait = jitter(firstListRetry << (try - 1))
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return v, try, err
		}
	}
}

// passesOnRetry reports whether a read's error may pass on a retry, as the client classifies it,
// and its Retry-After.
func passesOnRetry(err error) (retryAfter time.Duration, ok bool) {
	return atomicwork.RetryAfterOf(err), atomicwork.Classify(err) == atomicwork.Transient
}

// jitter is d give or take half, so that calls that failed together are not retried together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}

// Outcomes of ReassignAsset.
const (
	AssetMoved       = "moved"        // written to the target by this batch
	AssetAlready     = "already"      // at the target before the batch reached it
	AssetNotMatching = "not-matching" // no longer matches the selector: left alone
)

// ReassignAssetRequest moves one asset.
type ReassignAssetRequest struct {
	WorkspaceID int64 `json:"workspace_id,omitempty"`
	AssetID     int64 `json:"asset_id"`
	// Filter must still match when the asset is read; an asset changed meanwhile is left alone.
	Filter AssetFilter `json:"filter"`
	// TargetUserID is the new assignee; 0 unassigns. Status is the new status; empty keeps it.
	TargetUserID int64  `json:"target_user_id,omitempty"`
	Status       string `json:"status,omitempty"`
	// Since is when the batch began: an asset found at the target on a retry, updated since then,
	// was written by an earlier attempt whose answer was lost.
	Since time.Time `json:"since"`
	// Again: an earlier activity of the batch may have written this asset and ended without
	// saying so (it was queued again), so Since applies as on a retry.
	Again bool `json:"again,omitempty"`
}

// ReassignAssetResult is what happened to the asset.
type ReassignAssetResult struct {
	AssetID int64  `json:"asset_id"`
	Outcome string `json:"outcome"`
}

// errNoLongerMatching vetoes a write to an asset that left the selection since it was listed.
var errNoLongerMatching = errors.New("asset no longer matches the selector")

// ReassignAsset moves one asset to the target by read-modify-write (client.SetAssignment): it
// reads the asset, does nothing when it is already at the target or no longer matches the
// selector, and otherwise writes the assignee and status, keeping every other field. A retry
// after "write applied, answer lost" therefore reads the target state and writes nothing.
// Permanent API answers (404 deleted meanwhile, 403, 400) are non-retryable errors; 429s retry
// after Retry-After.
func (a *Activities) ReassignAsset(ctx context.Context, req ReassignAssetRequest) (ReassignAssetResult, error) {
	if req.AssetID <= 0 {
		return ReassignAssetResult{}, nonRetryable(ErrInvalidInput, "reassign asset: the asset id is missing")
	}
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return ReassignAssetResult{}, err
	}
	out := ReassignAssetResult{AssetID: req.AssetID}
	cur, wrote, err := c.SetAssignment(ctx, req.AssetID, atomicwork.Assignment{
		AssigneeID: req.TargetUserID,
		Status:     req.Status,
		Precondition: func(cur *atomicwork.Asset) error {
			if !req.Filter.matches(c, cur) {
				return errNoLongerMatching
			}
			return nil
		},
	})
	switch {
	case errors.Is(err, errNoLongerMatching):
		out.Outcome = AssetNotMatching
	case err != nil:
		return out, toTemporal(err)
	case wrote:
		out.Outcome = AssetMoved
	case (req.Again || retried(ctx)) && !req.Since.IsZero() && !cur.UpdatedAt.Before(req.Since):
		out.Outcome = AssetMoved // an earlier attempt's write applied; its answer was lost
	default:
		out.Outcome = AssetAlready
	}
	return out, nil
}

// retried reports a second or later attempt; outside an activity (tests, scripts) it is false.
func retried(ctx context.Context) bool {
	return activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1
}
