package atomicwork

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strconv"
)

// pageDecoder marks envelope types, which decodeBody must not unwrap.
type pageDecoder interface{ isPage() }

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

// last reports whether no page follows page number n fetched with perPage (offset style):
// total_pages reached, an empty page, or a page shorter than the size the server says it used.
func (p *Page[T]) last(n, perPage int) bool {
	size := p.PageSize
	if size <= 0 {
		size = perPage
	}
	switch {
	case len(p.Data) == 0:
		return true
	case p.TotalPages > 0 && n >= p.TotalPages:
		return true
	case len(p.Data) < size:
		return true
	}
	return false
}

// fetchPage fetches one offset page: page numbers start at 1.
type fetchPage[T any] func(ctx context.Context, page, perPage int) (*Page[T], error)

// offsetPages iterates every item of a page/per_page list. A failed page yields (zero, err) once
// and ends the iteration.
func offsetPages[T any](ctx context.Context, perPage int, fetch fetchPage[T]) iter.Seq2[T, error] {
	perPage = clampPerPage(perPage)
	return func(yield func(T, error) bool) {
		for n := 1; ; n++ {
			p, err := fetch(ctx, n, perPage)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			if p.last(n, perPage) {
				return
			}
		}
	}
}

// fetchToken fetches one cursor page; token is "" for the first page.
type fetchToken[T any] func(ctx context.Context, token string, perPage int) (*Page[T], error)

// tokenPages iterates every item of a next_page_token list, stopping when the token is absent.
func tokenPages[T any](ctx context.Context, perPage int, fetch fetchToken[T]) iter.Seq2[T, error] {
	perPage = clampPerPage(perPage)
	return func(yield func(T, error) bool) {
		token := ""
		seen := map[string]bool{}
		for {
			p, err := fetch(ctx, token, perPage)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			// A repeated token would loop forever; treat it as the end.
			if p.NextPageToken == nil || len(p.Data) == 0 || seen[*p.NextPageToken] {
				return
			}
			token = *p.NextPageToken
			seen[token] = true
		}
	}
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
