package workflows

import (
	"errors"
	"fmt"
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// The buffer of listed asset ids ahead of the window: pages listed after the keyset cursor, or
// the next ids of an explicit list.

// refill starts the next page when the buffer runs low.
func (r *reassignment) refill() {
	if r.fetching || r.exhausted || r.blocked() || len(r.buffer) >= r.bufferSize() {
		return
	}
	if ids, ok := r.explicitIDs(); ok {
		// An explicit list needs no listing: the next ids above the cursor (the list is sorted).
		i, _ := slices.BinarySearch(ids, r.fetchAfter+1)
		next := ids[i:min(i+max(ReassignPageSize, r.bufferSize()-len(r.buffer)), len(ids))]
		r.buffer = append(r.buffer, next...)
		if len(next) == 0 || i+len(next) == len(ids) {
			r.exhausted = true
		}
		if len(next) > 0 {
			r.fetchAfter = next[len(next)-1]
		}
		return
	}
	r.fetching = true
	req := r.pageRequest()
	f := read(pageCall(r.work, fmt.Sprintf("list assets after %d", req.After)), r.leanRanges, acts.NextAssetPage, req)
	workflow.Go(r.work, func(g workflow.Context) {
		var page activities.AssetPage
		err := f.Get(g, &page)
		r.fetching = false
		r.changed++
		var appErr *temporal.ApplicationError
		switch {
		case err == nil:
		case r.verifiesSelection && errors.As(err, &appErr) && appErr.Type() == activities.ErrAssetOrder:
			r.unordered(appErr.Message())
			return
		default:
			r.autoPause(fmt.Sprintf("listing the assets after %d failed: %s", req.After, failureText(err)))
			return
		}
		r.takePage(page)
		r.details()
	})
}

// pageRequest asks for the next listed ids after the buffer's.
func (r *reassignment) pageRequest() activities.AssetPageRequest {
	req := activities.AssetPageRequest{WorkspaceID: r.in.WorkspaceID, Filter: r.filter(), After: r.fetchAfter,
		Page: r.fetchPage, PageSize: ReassignPageSize}
	switch {
	case r.leanRanges:
		req.Max = ReassignRangeSize + ReassignRangeTail // a range's worth of ids, and a tail
		if r.writesLeaveSelection() {
			// The listed ids not started yet are still in the selection, before the cursor.
			req.Page += len(r.buffer) / ReassignPageSize
		}
	case r.mode == lifecycle.ReassignInRanges:
		req.Max = ReassignRangeSize
	}
	return req
}

// takePage adds a listing's ids to the buffer and moves the listing cursor past them.
func (r *reassignment) takePage(page activities.AssetPage) {
	r.buffer = append(r.buffer, page.AssetIDs...)
	if n := len(page.AssetIDs); n > 0 {
		r.fetchAfter = page.AssetIDs[n-1]
	}
	r.exhausted = page.Done
	r.fetchPage = activities.NextPageHint(page, len(page.AssetIDs), ReassignPageSize, r.writesLeaveSelection())
	r.st.Page = page.Page
}

// explicitIDs is the ascending id list the cursor runs over instead of a listing: the
// selector's ids, or in a round after a verification the ids it found (none left to list once
// the list cannot be had in id order).
func (r *reassignment) explicitIDs() ([]int64, bool) {
	switch {
	case len(r.st.Recheck) > 0 || r.st.Unordered:
		return r.st.Recheck, true
	case len(r.in.Selector.AssetIDs) > 0:
		return r.in.Selector.AssetIDs, true
	}
	return nil, false
}

// unordered stops listing with the cursor, which needs ascending ids: the ids listed so far
// are moved, and the rest in verification rounds (each reads the whole selection).
func (r *reassignment) unordered(why string) {
	r.st.Unordered, r.exhausted = true, true
	r.note("the assets list cannot be had in id order (" + why + "): the batch goes on in rounds, each reading the whole selection, moving what is left and checking again (slower, no pause needed)")
	r.logger.Warn("Reassignment goes on without the cursor", "Reason", why)
}

// bufferSize is how many listed ids the buffer keeps ahead: a window's worth, or the next range.
func (r *reassignment) bufferSize() int {
	if r.mode == lifecycle.ReassignInRanges {
		return ReassignRangeSize
	}
	return r.concurrency()
}
