package atomicwork

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// pageDecoder marks envelope types, which decodeBody must not unwrap and do tells their source.
type pageDecoder interface {
	isPage()
	setSource(cl call)
}

func (*Page[T]) isPage() {}

// UnmarshalJSON reads the canonical envelope, accepting per_page as an alias of page_size and a
// bare top-level array (API-NOTES §1.7).
func (p *Page[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []T
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		*p = Page[T]{Data: items}
		return nil
	}
	var env struct {
		Page          int     `json:"page"`
		PageSize      int     `json:"page_size"`
		PerPage       int     `json:"per_page"`
		TotalPages    int     `json:"total_pages"`
		TotalCount    int     `json:"total_count"`
		NextPageToken *string `json:"next_page_token"`
		Data          []T     `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	if env.PageSize == 0 {
		env.PageSize = env.PerPage
	}
	if env.NextPageToken != nil && *env.NextPageToken == "" {
		env.NextPageToken = nil
	}
	*p = Page[T]{Page: env.Page, PageSize: env.PageSize, TotalPages: env.TotalPages,
		TotalCount: env.TotalCount, NextPageToken: env.NextPageToken, Data: env.Data}
	return nil
}

// listSource is the call that fetched a page, as IncompleteListingError names it (never the
// query, which may hold a search key such as an email).
type listSource struct{ op, method, path string }

func (p *Page[T]) setSource(cl call) { p.source = listSource{cl.op, cl.method, cl.path.public} }

// maxEmptyRun bounds the empty pages in a row a listing follows before it gives up as incomplete:
// a server that keeps answering empty pages with more to come must not loop a listing forever.
const maxEmptyRun = 20

// more reports whether an offset list goes on after page n fetched with perPage, having yielded
// read items so far. The envelope's counts are trusted over the page's length: an empty or short
// page before total_pages (or before total_count items) does not end the listing.
func (p *Page[T]) more(n, perPage, read int) bool {
	size := p.PageSize
	if size <= 0 {
		size = perPage
	}
	switch {
	case p.TotalPages > 0:
		return n < p.TotalPages
	case p.TotalCount > 0:
		// Past the pages the count implies, an empty page ends it: the rest was dropped by short
		// pages and is not reachable by page number (incomplete() says so).
		return read < p.TotalCount && (len(p.Data) > 0 || n < (p.TotalCount+size-1)/size)
	}
	return len(p.Data) > 0 && len(p.Data) >= size
}

// incomplete returns the error of a listing that ended having read fewer items than the last
// page's total_count, or nil.
func (p *Page[T]) incomplete(read int, why string) error {
	if p.TotalCount > 0 && read < p.TotalCount {
		return &IncompleteListingError{Op: p.source.op, Method: p.source.method, Path: p.source.path, Read: read, Total: p.TotalCount, Reason: why}
	}
	return nil
}

// fetchPage fetches one offset page: page numbers start at 1.
type fetchPage[T any] func(ctx context.Context, page, perPage int) (*Page[T], error)

// offsetPages iterates every item of a page/per_page list. A page that holds fewer items than the
// envelope promises is fetched once more (fullPage). A failed page yields (zero, err) once and
// ends the iteration; so does a listing that ends short of its total_count
// (*IncompleteListingError), after yielding what it read.
func offsetPages[T any](ctx context.Context, perPage int, fetch fetchPage[T]) iter.Seq2[T, error] {
	perPage = clampPerPage(perPage)
	return func(yield func(T, error) bool) {
		var zero T
		read, emptyRun := 0, 0
		for n := 1; ; n++ {
			p, err := fullPage(func() (*Page[T], error) { return fetch(ctx, n, perPage) },
				func(p *Page[T]) bool { return p.offsetCut(n, perPage, read) })
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			read += len(p.Data)
			emptyRun = nextEmptyRun(emptyRun, len(p.Data))
			if !p.more(n, perPage, read) {
				if err := p.incomplete(read, "pages ended short of total_count"); err != nil {
					yield(zero, err)
				}
				return
			}
			if emptyRun >= maxEmptyRun {
				yield(zero, p.emptyRunError(read))
				return
			}
		}
	}
}

// fullPage fetches a page, and once more when cut says it holds fewer items than its envelope
// promises: an answer cut on the way (or served by a lagging replica) often comes back whole. It
// keeps the fuller answer; nothing is yielded before, so nothing is yielded twice.
func fullPage[T any](fetch func() (*Page[T], error), cut func(*Page[T]) bool) (*Page[T], error) {
	p, err := fetch()
	if err != nil || !cut(p) {
		return p, err
	}
	again, err := fetch()
	if err != nil || len(again.Data) < len(p.Data) {
		return p, nil // the first answer stands; counts still tell if the listing ends short
	}
	return again, nil
}

// offsetCut reports an offset page, fetched after read items, that holds fewer items than the
// envelope promises: empty or shorter than its page_size while more pages follow, or the last
// page with total_count not reached.
func (p *Page[T]) offsetCut(n, perPage, read int) bool {
	after := read + len(p.Data)
	if p.more(n, perPage, after) {
		return len(p.Data) == 0 || p.shortOfSize()
	}
	return p.TotalCount > 0 && after < p.TotalCount
}

// tokenCut is offsetCut for a cursor page: empty or short while a new token follows, or the last
// one with total_count not reached.
func (p *Page[T]) tokenCut(read int, seen map[string]bool) bool {
	if p.NextPageToken != nil && !seen[*p.NextPageToken] {
		return len(p.Data) == 0 || p.shortOfSize()
	}
	return p.TotalCount > 0 && read+len(p.Data) < p.TotalCount
}

// shortOfSize reports a page with fewer items than the page_size it declares.
func (p *Page[T]) shortOfSize() bool { return p.PageSize > 0 && len(p.Data) < p.PageSize }

// fetchToken fetches one cursor page; token is "" for the first page.
type fetchToken[T any] func(ctx context.Context, token string, perPage int) (*Page[T], error)

// tokenPages iterates every item of a next_page_token list, following the token while there is
// one, also after an empty page (fetched once more first, as in offsetPages). A repeated token
// would loop forever: it ends the listing. Errors end the iteration as in offsetPages.
func tokenPages[T any](ctx context.Context, perPage int, fetch fetchToken[T]) iter.Seq2[T, error] {
	perPage = clampPerPage(perPage)
	return func(yield func(T, error) bool) {
		var zero T
		token := ""
		seen := map[string]bool{}
		read, emptyRun := 0, 0
		for {
			p, err := fullPage(func() (*Page[T], error) { return fetch(ctx, token, perPage) },
				func(p *Page[T]) bool { return p.tokenCut(read, seen) })
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			read += len(p.Data)
			emptyRun = nextEmptyRun(emptyRun, len(p.Data))
			if p.NextPageToken == nil || seen[*p.NextPageToken] {
				if err := p.incomplete(read, "next_page_token ended short of total_count"); err != nil {
					yield(zero, err)
				}
				return
			}
			if emptyRun >= maxEmptyRun {
				yield(zero, p.emptyRunError(read))
				return
			}
			token = *p.NextPageToken
			seen[token] = true
		}
	}
}

func nextEmptyRun(run, items int) int {
	if items == 0 {
		return run + 1
	}
	return 0
}

func (p *Page[T]) emptyRunError(read int) error {
	return &IncompleteListingError{Op: p.source.op, Method: p.source.method, Path: p.source.path, Read: read, Total: p.TotalCount,
		Reason: fmt.Sprintf("%d empty pages in a row, each saying more follow", maxEmptyRun)}
}

func clampPerPage(n int) int {
	if n <= 0 || n > MaxPerPage {
		return MaxPerPage
	}
	return n
}

// pageQuery returns page and per_page (or page_size, for the odd endpoints) query values.
func pageQuery(q url.Values, page, perPage int, sizeParam string) url.Values {
	if q == nil {
		q = url.Values{}
	}
	q.Set("page", strconv.Itoa(page))
	q.Set(sizeParam, strconv.Itoa(perPage))
	return q
}

// Collect drains an iterator into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for item, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, item)
	}
	return out, nil
}
