package atomicwork

import (
	"context"
	"fmt"
	"net/http"
	"sync"
)

// The keyset pager over assets/list: the matching assets after a cursor, exactly, while the
// caller's own writes move the selection under it.

// maxPageProbes bounds the pages one ListAssetsAfter reads while the selection moves under it.
const maxPageProbes = 50

// AssetCursor asks for the matching assets after a keyset cursor.
type AssetCursor struct {
	Filters Filters
	// After is the keyset cursor: every matching asset with an id up to After was handled.
	After int64
	// Page is where to look first (1-based, pages of PageSize); any value is safe, a good one
	// saves calls.
	Page     int
	PageSize int
	// Max > PageSize lists up to Max ids over consecutive pages (0: one page).
	Max int
}

// AssetsAfter is the next assets after a cursor, in ascending id order.
type AssetsAfter struct {
	IDs []int64
	// Page is the page the ids came from and Offset how many assets before them on it were handled.
	Page   int
	Offset int
	// Done: no matching asset has an id above the cursor.
	Done bool
	// Calls is how many list calls it took (1 usually; more when the selection moved, or when
	// retry tried a call again).
	Calls int
}

// RetryFunc makes one list call of the pager, trying it again as the caller sees fit, and says
// how many calls it made and the last one's error. The client never retries by itself; the
// pager retries each of its calls this way because a listing that fails as a whole starts over.
type RetryFunc func(ctx context.Context, call func() error) (calls int, err error)

// AssetOrderError is an assets list the keyset cursor cannot use: the API refuses to sort it by
// id (SortRefused: its answer to sort=id:ASC, while the same call without the sort answers), or
// answers out of ascending id order (asset ID after Prev). Classify counts it permanent.
type AssetOrderError struct {
	SortRefused error
	Prev, ID    int64
}

func (e *AssetOrderError) Error() string {
	if e.SortRefused != nil {
		return fmt.Sprintf("atomicwork assets.list: the list refuses sort=%s, which a keyset cursor needs: %v", SortAssetsByID, e.SortRefused)
	}
	return fmt.Sprintf("atomicwork assets.list: the list is not in ascending id order (asset %d after %d), which a keyset cursor needs", e.ID, e.Prev)
}

func (e *AssetOrderError) Unwrap() error { return e.SortRefused }

// SelectionMovingError is a ListAssetsAfter that kept finding the selection moved under it for
// maxPageProbes pages. Classify counts it transient: list again.
type SelectionMovingError struct {
	After int64
	Calls int
}

func (e *SelectionMovingError) Error() string {
	return fmt.Sprintf("atomicwork assets.list: the selection kept moving for %d list calls while looking for the assets after %d: list again", e.Calls, e.After)
}

// ListAssetsAfter returns the matching assets with the smallest ids above cur.After, making each
// list call through retry (nil: once).
//
// The cursor is a keyset on the asset id, with the offset page number only as a hint. Offset
// paging alone is not exact here: a batch's own writes take assets out of an "assigned to X"
// selection (every later asset moves up the list), while a type or status selection keeps them
// (nothing moves). The list is in ascending id order, so whatever has left or stayed, the assets
// still to do are exactly those with an id above the cursor, and they sit on the first page whose
// last id is above it. ListAssetsAfter finds that page from the hint: it moves up while a page is
// all at or below the cursor, moves down while a page starts above the cursor and the asset just
// before it (probed with a one-item page, after the page was read) is above it too, and returns
// the page's ids above the cursor. The probe comes after the page on purpose: assets only leave
// the selection while the batch runs (its writes in flight), which moves later assets to lower
// indexes, so a probe still at or below the cursor proves no asset above it slipped before the
// page. With a right hint that is one call, or two when the page starts exactly at the cursor.
// With Max, the pages after the first are read at once and joined where the same probe proves
// it (see following).
// An asset that starts to match below the cursor during the batch is not picked up; one that
// matches above it is.
//
// A list the cursor cannot use (refused sort, another order) is an *AssetOrderError.
func (c *Client) ListAssetsAfter(ctx context.Context, cur AssetCursor, retry RetryFunc) (AssetsAfter, error) {
	if retry == nil {
		retry = once
	}
	k := keyset{c: c, filters: cur.Filters, size: min(max(cur.PageSize, 1), MaxPerPage), retry: retry}
	out, last, err := k.first(ctx, cur.After, cur.Page)
	switch {
	case err != nil:
		return AssetsAfter{}, err
	case out.Done || len(out.IDs) >= cur.Max:
	case lastPage(last, out.Page, k.size):
		out.Done = true // the selection's last page, as read: nothing above it
	default:
		// Page and Offset stay the first page's, which with all the ids gives the next hint.
		pages := (cur.Max - len(out.IDs) + k.size - 1) / k.size
		if last.TotalCount > 0 {
			pages = max(1, min(pages, (last.TotalCount+k.size-1)/k.size-out.Page))
		}
		more, done, calls, err := k.following(ctx, out.Page, pages, out.IDs[len(out.IDs)-1])
		if err != nil {
			return AssetsAfter{}, err
		}
		out.IDs, out.Done, out.Calls = append(out.IDs, more...), done, out.Calls+calls
	}
	if cur.Max > 0 && len(out.IDs) > cur.Max {
		out.IDs, out.Done = out.IDs[:cur.Max], false
	}
	return out, nil
}

func once(_ context.Context, call func() error) (int, error) { return 1, call() }

// keyset is one ListAssetsAfter: the selection, its page size, and how each call is retried.
type keyset struct {
	c       *Client
	filters Filters
	size    int
	retry   RetryFunc
}

// first is ListAssetsAfter without Max: the matching assets with the smallest ids above after,
// looked for from page (a hint). last is the list answer they came from.
func (k keyset) first(ctx context.Context, after int64, page int) (AssetsAfter, *Page[Asset], error) {
	p := max(page, 1)
	out := AssetsAfter{}
	for probes := 0; probes < maxPageProbes; probes++ {
		pg, calls, err := k.list(ctx, p, k.size)
		out.Calls += calls
		if err != nil {
			return AssetsAfter{}, nil, err
		}
		items := pg.Data
		j := 0 // items at or below the cursor, a prefix
		for j < len(items) && items[j].ID <= after {
			j++
		}
		switch {
		case len(items) == 0:
			if p == 1 && lastPage(pg, p, k.size) {
				return AssetsAfter{Page: p, Done: true, Calls: out.Calls}, pg, nil
			}
			// An empty page 1 of a selection that has more (an API's legal hiccup) is read again.
			// The selection shrank below page p: go back to its last page. (What an earlier call
			// saw of a lower page may be stale by now: writes in flight keep moving assets.)
			p = max(1, min(p-1, (pg.TotalCount+k.size-1)/k.size))
		case j == len(items):
			// One answer, one instant: the last page all at or below the cursor means nothing is above it.
			if lastPage(pg, p, k.size) {
				return AssetsAfter{Page: p, Offset: j, Done: true, Calls: out.Calls}, pg, nil
			}
			p++
		case j == 0 && p > 1:
			// The page starts above the cursor: assets just before it may be unhandled too.
			prev, calls, err := k.list(ctx, (p-1)*k.size, 1)
			out.Calls += calls
			if err != nil {
				return AssetsAfter{}, nil, err
			}
			if len(prev.Data) == 1 && prev.Data[0].ID <= after {
				return idsFrom(items, p, 0, out.Calls), pg, nil
			}
			p--
		default:
			return idsFrom(items, p, j, out.Calls), pg, nil
		}
	}
	return AssetsAfter{}, nil, &SelectionMovingError{After: after, Calls: out.Calls}
}

// following reads the n pages after page at once, then, also at once, the asset just before
// each of them (a one-item probe, as in first), and returns their ids above prev, the last id so
// far, up to the first page that does not provably join the one before it (its probe is above
// the last id before it: assets slipped between the reads; the next listing starts from there)
// or could not be read (its list call or its probe's still failed after their retries: what was
// joined before it is kept, and the next listing starts there). A page that failed for good (an
// order the cursor cannot use) fails the listing. done: a joined page was the selection's last.
// Two rounds of calls instead of two calls per page one after another: on a fast API, listing a
// range's ids took longer than a third of moving them.
func (k keyset) following(ctx context.Context, page, n int, prev int64) (ids []int64, done bool, calls int, err error) {
	pages := make([]listed, n)
	k.readAll(ctx, pages, func(i int) (int, int) { return page + 1 + i, k.size })
	read := 0 // pages read, a prefix: the probes of the others are not needed
	for read < n && pages[read].err == nil {
		read++
	}
	// The asset just before page p is the one-item page (p-1)*size, read after page p.
	probes := make([]listed, read)
	k.readAll(ctx, probes, func(i int) (int, int) { return (page + i) * k.size, 1 })
	for _, l := range append(pages, probes...) {
		calls += l.calls
	}
	if err := ctx.Err(); err != nil {
		return nil, false, calls, err
	}
	if read < n && Classify(pages[read].err) != Transient {
		return nil, false, calls, pages[read].err
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
		if lastPage(pg, page+1+i, k.size) {
			return ids, true, calls, nil
		}
	}
	return ids, false, calls, nil
}

// listed is one list call's answer, or its error after the retries.
type listed struct {
	page  *Page[Asset]
	calls int
	err   error
}

// readAll makes the list calls of into at once, each with its retries.
func (k keyset) readAll(ctx context.Context, into []listed, pageOf func(i int) (int, int)) {
	var wg sync.WaitGroup
	for i := range into {
		wg.Go(func() {
			p, perPage := pageOf(i)
			into[i].page, into[i].calls, into[i].err = k.list(ctx, p, perPage)
		})
	}
	wg.Wait()
}

// list is one list call of the cursor (listByID), made through the retry.
func (k keyset) list(ctx context.Context, page, perPage int) (*Page[Asset], int, error) {
	var pg *Page[Asset]
	calls, err := k.retry(ctx, func() (err error) {
		pg, err = k.c.listByID(ctx, k.filters, page, perPage)
		return err
	})
	return pg, calls, err
}

// listByID lists a page in ascending id order, which the keyset cursor needs: it asks for that
// order (sort=id:ASC) and checks it. An API that refuses the sort (400, while the same call
// without it answers) or answers in another order gets an *AssetOrderError.
func (c *Client) listByID(ctx context.Context, filters Filters, page, size int) (*Page[Asset], error) {
	pg, err := c.ListAssetsPage(ctx, filters, page, size, SortAssetsByID)
	if StatusOf(err) == http.StatusBadRequest {
		if _, plain := c.ListAssetsPage(ctx, filters, page, size); plain == nil {
			return nil, &AssetOrderError{SortRefused: err}
		}
	}
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(pg.Data); i++ {
		if pg.Data[i].ID <= pg.Data[i-1].ID {
			return nil, &AssetOrderError{Prev: pg.Data[i-1].ID, ID: pg.Data[i].ID}
		}
	}
	return pg, nil
}

// lastPage reports whether page p (of size) is the selection's last in its answer: as the
// answer's total_pages (or total_count) says when it gives one, else when the page is short.
// An empty or short page before the last is legal and ends nothing.
func lastPage(pg *Page[Asset], p, size int) bool {
	if n := pg.AnnouncedPages(size); n > 0 {
		return p >= n
	}
	return len(pg.Data) < size
}

// AnnouncedPages is how many pages of size an answer announces (0: it does not say).
func (p *Page[T]) AnnouncedPages(size int) int {
	return max(p.TotalPages, (p.TotalCount+size-1)/size)
}

// idsFrom is the ids of items from offset on, found on page after calls list calls.
func idsFrom(items []Asset, page, offset, calls int) AssetsAfter {
	ids := make([]int64, 0, len(items)-offset)
	for _, it := range items[offset:] {
		ids = append(ids, it.ID)
	}
	return AssetsAfter{IDs: ids, Page: page, Offset: offset, Calls: calls}
}
