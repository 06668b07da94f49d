package activities

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// Bulk asset reassignment: resolve the request, plan it, page through what the selector matches
// with an exact keyset cursor, and move one asset by read-modify-write.

// ReassignCallsPerAsset is how many API calls ReassignAsset makes for an asset it moves (a read and
// a write; one read for an asset already at the target). The worker divides ATOMICWORK_RPS by it
// to get the task queue's activity rate.
const ReassignCallsPerAsset = 2

// ErrAssetOrder is the error type of a list answer whose assets are not in ascending id order,
// or of an API that refuses to sort them so, which the keyset cursor of NextAssetPage relies on.
const ErrAssetOrder = "ATOMICWORK_ASSET_ORDER"

// maxPageProbes bounds the pages one NextAssetPage reads while the selection moves under it.
const maxPageProbes = 50

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

// NextAssetPage returns the matching assets with the smallest ids above req.After.
//
// The cursor is a keyset on the asset id, with the offset page number only as a hint. Offset
// paging alone is not exact here: the batch's own writes take assets out of an "assigned to X"
// selection (every later asset moves up the list), while a type or status selection keeps them
// (nothing moves). The list is in ascending id order, so whatever has left or stayed, the assets
// still to do are exactly those with an id above the cursor, and they sit on the first page whose
// last id is above it. NextAssetPage finds that page from the hint: it moves up while a page is
// all at or below the cursor, moves down while a page starts above the cursor and the asset just
// before it (probed with a one-item page, after the page was read) is above it too, and returns
// the page's ids above the cursor. The probe comes after the page on purpose: assets only leave
// the selection while the batch runs (its writes in flight), which moves later assets to lower
// indexes, so a probe still at or below the cursor proves no asset above it slipped before the
// page. With a right hint that is one call, or two when the page starts exactly at the cursor.
// With Max, the pages after the first are read at once and joined where the same probe proves
// it (see followingPages).
// An asset that starts to match below the cursor during the batch is not picked up; one that
// matches above it is.
func (a *Activities) NextAssetPage(ctx context.Context, req AssetPageRequest) (AssetPage, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return AssetPage{}, err
	}
	return listAfter(ctx, c, req)
}

// listAfter is NextAssetPage with a client.
func listAfter(ctx context.Context, c *atomicwork.Client, req AssetPageRequest) (AssetPage, error) {
	size := min(max(req.PageSize, 1), atomicwork.MaxPerPage)
	filters := req.Filter.filters()
	out, last, err := nextAssetPage(ctx, c, filters, req.After, req.Page, size)
	switch {
	case err != nil:
		return AssetPage{}, err
	case out.Done || len(out.AssetIDs) >= req.Max:
	case lastPage(last, out.Page, size):
		out.Done = true // the selection's last page, as read: nothing above it
	default:
		// Page and Offset stay the first page's, which with all the ids gives the next hint.
		pages := (req.Max - len(out.AssetIDs) + size - 1) / size
		if last.TotalCount > 0 {
			pages = max(1, min(pages, (last.TotalCount+size-1)/size-out.Page))
		}
		more, done, calls, err := followingPages(ctx, c, filters, out.Page, pages, size, out.AssetIDs[len(out.AssetIDs)-1])
		if err != nil {
			return AssetPage{}, err
		}
		out.AssetIDs, out.Done, out.Calls = append(out.AssetIDs, more...), done, out.Calls+calls
	}
	if req.Max > 0 && len(out.AssetIDs) > req.Max {
		out.AssetIDs, out.Done = out.AssetIDs[:req.Max], false
	}
	return out, nil
}

// followingPages reads the n pages after page at once, then, also at once, the asset just
// before each of them (a one-item probe, as in nextAssetPage), and returns their ids above prev,
// the last id so far, up to the first page that does not provably join the one before it (its
// probe is above the last id before it: assets slipped between the reads; the next listing
// starts from there) or could not be read (its list call or its probe's still failed after
// their inline retries: what was joined before it is kept, and the next listing starts there).
// done: a joined page was the selection's last. Two rounds of calls instead of two calls per
// page one after another: on a fast API, listing a range's ids took longer than a third of
// moving them.
func followingPages(ctx context.Context, c *atomicwork.Client, filters atomicwork.Filters, page, n, size int, prev int64) (ids []int64, done bool, calls int, err error) {
	pages := make([]listed, n)
	readAll(ctx, c, filters, pages, func(i int) (int, int) { return page + 1 + i, size })
	read := 0 // pages read, a prefix: the probes of the others are not needed
	for read < n && pages[read].err == nil {
		read++
	}
	// The asset just before page p is the one-item page (p-1)*size, read after page p.
	probes := make([]listed, read)
	readAll(ctx, c, filters, probes, func(i int) (int, int) { return (page + i) * size, 1 })
	for _, l := range append(pages, probes...) {
		calls += l.calls
	}
	if err := ctx.Err(); err != nil {
		return nil, false, calls, err
	}
	if read < n {
		if _, transient := passesOnRetry(pages[read].err); !transient {
			return nil, false, calls, pages[read].err // an order the cursor cannot use: the workflow falls back
		}
	}
	for i := range read {
		pg := pages[i].page
		if probes[i].err != nil || len(probes[i].page.Data) != 1 || probes[i].page.Data[0].ID > prev {
			return ids, false, calls, nil
		}
		for _, it := range pg.Data {
			if it.ID > prev {
				ids, prev = append(ids, it.ID), it.ID
			}
		}
		if lastPage(pg, page+1+i, size) {
			return ids, true, calls, nil
		}
	}
	return ids, false, calls, nil
}

// listed is one list call's answer, or its error after the inline retries.
type listed struct {
	page  *atomicwork.Page[atomicwork.Asset]
	calls int
	err   error
}

// readAll makes the list calls of into at once, each with its inline retries (listPage).
func readAll(ctx context.Context, c *atomicwork.Client, filters atomicwork.Filters, into []listed, pageOf func(i int) (int, int)) {
	var wg sync.WaitGroup
	for i := range into {
		wg.Go(func() {
			p, perPage := pageOf(i)
			into[i].page, into[i].calls, into[i].err = listPage(ctx, c, filters, p, perPage)
		})
	}
	wg.Wait()
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

// listPage is one list call of the keyset cursor (listByID), tried again as readInline does.
func listPage(ctx context.Context, c *atomicwork.Client, filters atomicwork.Filters, page, perPage int) (*atomicwork.Page[atomicwork.Asset], int, error) {
	return readInline(ctx, func() (*atomicwork.Page[atomicwork.Asset], error) {
		return listByID(ctx, c, filters, page, perPage)
	})
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

// passesOnRetry reports whether a read's error may pass on a retry, and its Retry-After: for a
// client error as the client classifies it, for an activity error as toTemporal made it.
func passesOnRetry(err error) (retryAfter time.Duration, ok bool) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.NextRetryDelay(), !appErr.NonRetryable()
	}
	return atomicwork.RetryAfterOf(err), atomicwork.Classify(err) == atomicwork.Transient
}

// jitter is d give or take half, so that calls that failed together are not retried together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}

// nextAssetPage is NextAssetPage without Max: the matching assets with the smallest ids above
// after, looked for from page (a hint) in pages of size. last is the list answer they came from.
func nextAssetPage(ctx context.Context, c *atomicwork.Client, filters atomicwork.Filters, after int64, page, size int) (AssetPage, *atomicwork.Page[atomicwork.Asset], error) {
	p := max(page, 1)
	out := AssetPage{}
	for probes := 0; probes < maxPageProbes; probes++ {
		pg, calls, err := listPage(ctx, c, filters, p, size)
		out.Calls += calls
		if err != nil {
			return AssetPage{}, nil, err
		}
		items := pg.Data
		j := 0 // items at or below the cursor, a prefix
		for j < len(items) && items[j].ID <= after {
			j++
		}
		switch {
		case len(items) == 0:
			if p == 1 && lastPage(pg, p, size) {
				return AssetPage{Page: p, Done: true, Calls: out.Calls}, pg, nil
			}
			// An empty page 1 of a selection that has more (an API's legal hiccup) is read again.
			// The selection shrank below page p: go back to its last page. (What an earlier call
			// saw of a lower page may be stale by now: writes in flight keep moving assets.)
			p = max(1, min(p-1, (pg.TotalCount+size-1)/size))
		case j == len(items):
			// One answer, one instant: the last page all at or below the cursor means nothing is above it.
			if lastPage(pg, p, size) {
				return AssetPage{Page: p, Offset: j, Done: true, Calls: out.Calls}, pg, nil
			}
			p++
		case j == 0 && p > 1:
			// The page starts above the cursor: assets just before it may be unhandled too.
			prev, calls, err := listPage(ctx, c, filters, (p-1)*size, 1)
			out.Calls += calls
			if err != nil {
				return AssetPage{}, nil, err
			}
			if len(prev.Data) == 1 && prev.Data[0].ID <= after {
				return pageAfter(items, p, 0, out.Calls), pg, nil
			}
			p--
		default:
			return pageAfter(items, p, j, out.Calls), pg, nil
		}
	}
	return AssetPage{}, nil, fmt.Errorf("the selection kept moving for %d list calls while looking for the assets after %d; retrying", out.Calls, after)
}

// lastPage reports whether page p (of size) is the selection's last in its answer: as the
// answer's total_pages (or total_count) says when it gives one, else when the page is short.
// An empty or short page before the last is legal and ends nothing.
func lastPage(pg *atomicwork.Page[atomicwork.Asset], p, size int) bool {
	if n := pagesOf(pg, size); n > 0 {
		return p >= n
	}
	return len(pg.Data) < size
}

func pageAfter(items []atomicwork.Asset, page, offset, calls int) AssetPage {
	ids := make([]int64, 0, len(items)-offset)
	for _, it := range items[offset:] {
		ids = append(ids, it.ID)
	}
	return AssetPage{AssetIDs: ids, Page: page, Offset: offset, Calls: calls}
}

// listByID lists a page in ascending id order, which the keyset cursor needs: it asks for that
// order (sort=id:ASC) and checks it. An API that refuses the sort (400, while the same call
// without it answers) or answers in another order gets ErrAssetOrder, on which the workflow
// goes on without the cursor (reassignment rounds of VerifyReassignment).
func listByID(ctx context.Context, c *atomicwork.Client, filters atomicwork.Filters, page, size int) (*atomicwork.Page[atomicwork.Asset], error) {
	pg, err := c.ListAssetsPage(ctx, filters, page, size, atomicwork.SortAssetsByID)
	if atomicwork.StatusOf(err) == http.StatusBadRequest {
		if _, plain := c.ListAssetsPage(ctx, filters, page, size); plain == nil {
			return nil, nonRetryable(ErrAssetOrder, fmt.Sprintf("the assets list refuses sort=%s, which the reassignment's cursor needs: %v",
				atomicwork.SortAssetsByID, err))
		}
	}
	if err != nil {
		return nil, toTemporal(err)
	}
	if err := ascending(pg.Data); err != nil {
		return nil, err
	}
	return pg, nil
}

func ascending(items []atomicwork.Asset) error {
	for i := 1; i < len(items); i++ {
		if items[i].ID <= items[i-1].ID {
			return nonRetryable(ErrAssetOrder, fmt.Sprintf(
				"the assets list is not in ascending id order (asset %d after %d): the reassignment's cursor needs that order", items[i].ID, items[i-1].ID))
		}
	}
	return nil
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
