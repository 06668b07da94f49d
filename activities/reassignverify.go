package activities

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// maxVerifyPages bounds the pages one verification reads (a million assets at 100 a page): an
// API whose total_pages keeps growing cannot keep it listing for ever.
const maxVerifyPages = 10_000

// emptyPageRereads is how many times an empty page before the last is read again before the
// verification goes on past it (the batch's next verification looks again).
const emptyPageRereads = 2

// VerifyReassignmentRequest asks which assets of a batch's selection are still to do.
type VerifyReassignmentRequest struct {
	WorkspaceID int64       `json:"workspace_id,omitempty"`
	Filter      AssetFilter `json:"filter"`
	// AssetIDs, when set, is the explicit selection: each id is read (Filter narrows it).
	AssetIDs []int64 `json:"asset_ids,omitempty"`
	// TargetUserID (0: unassigned) and Status (empty: any) are the target, as in ReassignAssetRequest.
	TargetUserID int64  `json:"target_user_id,omitempty"`
	Status       string `json:"status,omitempty"`
	// Exclude lists the assets that already failed for good: counted apart, never returned.
	Exclude []int64 `json:"exclude,omitempty"`
	// Max is how many ids to return at most.
	Max int `json:"max"`
}

// VerifyReassignmentResult is what is still to do: the assets that match the selector and are
// not at the target.
type VerifyReassignmentResult struct {
	// Remaining counts them, Exclude left out; AssetIDs are the first Max of them, ascending.
	Remaining int     `json:"remaining"`
	AssetIDs  []int64 `json:"asset_ids,omitempty"`
	// Failed counts the excluded assets still to do.
	Failed int `json:"failed,omitempty"`
	// Unsorted: the API refused sort=id:ASC, so the pages were read in its own order.
	Unsorted bool `json:"unsorted,omitempty"`
	Calls    int  `json:"calls"`
}

// VerifyReassignment counts what a batch's selection still holds that is not at the target:
// the end-of-batch check that no listing answer (an empty or short page before the last, an
// order other than the cursor's) left assets behind. It writes nothing.
//
// A selection is read whole, page by page, in id order when the API sorts (else in its own
// order), and no page ends it before total_pages (or total_count) says so: an empty page before
// the last is read past. Every asset is checked as listed, so a selection whose writes keep
// its assets (a type or status the move does not change) counts only those not at the target.
func (a *Activities) VerifyReassignment(ctx context.Context, req VerifyReassignmentRequest) (VerifyReassignmentResult, error) {
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return VerifyReassignmentResult{}, err
	}
	v := verification{c: c, req: req, excluded: make(map[int64]bool, len(req.Exclude))}
	for _, id := range req.Exclude {
		v.excluded[id] = true
	}
	if len(req.AssetIDs) > 0 {
		err = v.readEach(ctx)
	} else {
		err = v.list(ctx)
	}
	if err != nil {
		return VerifyReassignmentResult{}, err
	}
	slices.Sort(v.todo)
	v.out.Remaining = len(v.todo)
	v.out.AssetIDs = v.todo[:min(len(v.todo), max(req.Max, 0))]
	return v.out, nil
}

type verification struct {
	c        *atomicwork.Client
	req      VerifyReassignmentRequest
	excluded map[int64]bool
	todo     []int64
	out      VerifyReassignmentResult
}

// check counts one asset as read now.
func (v *verification) check(a *atomicwork.Asset) {
	want := atomicwork.Assignment{AssigneeID: v.req.TargetUserID, Status: v.req.Status}
	switch {
	case !v.req.Filter.matches(v.c, a) || v.c.Holds(a, want):
	case v.excluded[a.ID]:
		v.out.Failed++
	default:
		v.todo = append(v.todo, a.ID)
	}
}

// readEach reads every explicit id; a deleted asset is not to do.
func (v *verification) readEach(ctx context.Context) error {
	for _, id := range v.req.AssetIDs {
		var a *atomicwork.Asset
		err := v.call(ctx, func() (err error) {
			a, err = v.c.GetAsset(ctx, id)
			return err
		})
		switch {
		case atomicwork.IsNotFound(err):
		case err != nil:
			return toTemporal(err)
		default:
			v.check(a)
		}
	}
	return nil
}

// list reads the whole selection. Each asset counts once, however the pages overlap.
func (v *verification) list(ctx context.Context) error {
	filters := v.req.Filter.filters()
	size := atomicwork.MaxPerPage
	seen := make(map[int64]bool)
	pages := 0 // the most pages any answer announced
	for p := 1; ; p++ {
		if p > maxVerifyPages {
			return nonRetryable(ErrPermanent, fmt.Sprintf("the assets list still announced more pages after %d: cannot verify the batch", maxVerifyPages))
		}
		sorted := !v.out.Unsorted
		pg, err := v.page(ctx, filters, p, size)
		for again := 0; err == nil && len(pg.Data) == 0 && p < pg.AnnouncedPages(size) && again < emptyPageRereads; again++ {
			pg, err = v.page(ctx, filters, p, size) // an empty page before the last: look again
		}
		if err != nil {
			return err
		}
		if sorted && v.out.Unsorted && p > 1 {
			p, pages = 0, 0 // the earlier pages were in another order: read them again in this one
			continue
		}
		for i := range pg.Data {
			if a := &pg.Data[i]; !seen[a.ID] {
				seen[a.ID] = true
				v.check(a)
			}
		}
		pages = max(pages, pg.AnnouncedPages(size))
		if p >= pages && (pages > 0 || len(pg.Data) < size) {
			return nil
		}
	}
}

// page lists page p, sorted by id unless the API refused that (400 to the sorted call only).
func (v *verification) page(ctx context.Context, filters atomicwork.Filters, p, size int) (*atomicwork.Page[atomicwork.Asset], error) {
	var pg *atomicwork.Page[atomicwork.Asset]
	list := func(sort ...string) func() error {
		return func() (err error) {
			pg, err = v.c.ListAssetsPage(ctx, filters, p, size, sort...)
			return err
		}
	}
	if !v.out.Unsorted {
		err := v.call(ctx, list(atomicwork.SortAssetsByID))
		if atomicwork.StatusOf(err) != http.StatusBadRequest {
			return pg, toTemporal(err)
		}
		v.out.Unsorted = true
	}
	return pg, toTemporal(v.call(ctx, list()))
}

// call makes one API call of the verification, which reads many pages (or ids) in one activity:
// a transient answer is tried again in place as listings do (readInline), so that what was read
// is kept; then the activity fails and Temporal retries it whole.
func (v *verification) call(ctx context.Context, fn func() error) error {
	_, calls, err := readInline(ctx, func() (struct{}, error) { return struct{}{}, fn() })
	v.out.Calls += calls
	return err
}
