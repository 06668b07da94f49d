package atomicworktest

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Pagination (API-NOTES §1.7, §7 Q1, Q5, Q6).

const defaultPageSize = 25

// pageQuery is the page asked for. tokens marks the cursor endpoints (grants/list, notes), whose
// answers carry a next_page_token while more pages exist.
type pageQuery struct {
	page, size int
	tokens     bool
}

// Query parameter names of the page size: most lists take per_page, a few page_size.
const (
	perPage  = "per_page"
	pageSize = "page_size"
)

// readPage reads page and the size parameter, clamping the size to limit.
func (x *call) readPage(sizeParam string, limit int) (pageQuery, error) {
	page, err := positiveInt(x.query.Get("page"), "page", 1)
	if err != nil {
		return pageQuery{}, err
	}
	size, err := positiveInt(x.query.Get(sizeParam), sizeParam, defaultPageSize)
	if err != nil {
		return pageQuery{}, err
	}
	return pageQuery{page: page, size: min(size, limit)}, nil
}

// readTokenPage is readPage for cursor endpoints: next_page_token, when sent, overrides page
// and per_page.
func (x *call) readTokenPage(limit int) (pageQuery, error) {
	if tok := x.query.Get("next_page_token"); tok != "" {
		p, ok := parsePageToken(tok)
		if !ok {
			return pageQuery{}, errBadRequest("next_page_token %q was not issued by this server: pass the token of the previous answer unchanged, or omit it to start at page 1", tok)
		}
		return pageQuery{page: p.page, size: min(p.size, limit), tokens: true}, nil
	}
	p, err := x.readPage(perPage, limit)
	p.tokens = true
	return p, err
}

func positiveInt(v, name string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errBadRequest("%s must be a whole number of at least 1, got %q", name, v)
	}
	return n, nil
}

// paginate cuts one page out of rows (already in id order) and renders it.
func paginate[T, R any](rows []T, p pageQuery, render func(T) R) atomicwork.Page[R] {
	total := len(rows)
	out := atomicwork.Page[R]{
		Page:       p.page,
		PageSize:   p.size,
		TotalCount: total,
		TotalPages: (total + p.size - 1) / p.size,
		Data:       []R{},
	}
	if start := (p.page - 1) * p.size; start < total {
		for _, row := range rows[start:min(start+p.size, total)] {
			out.Data = append(out.Data, render(row))
		}
	}
	if p.tokens && p.page < out.TotalPages {
		tok := pageToken(pageQuery{page: p.page + 1, size: p.size})
		out.NextPageToken = &tok
	}
	return out
}

// pageToken is opaque to clients: the next page and its size, base64-encoded.
func pageToken(p pageQuery) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "page:%d:%d", p.page, p.size))
}

func parsePageToken(tok string) (pageQuery, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return pageQuery{}, false
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != "page" {
		return pageQuery{}, false
	}
	page, err1 := strconv.Atoi(parts[1])
	size, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || page < 1 || size < 1 {
		return pageQuery{}, false
	}
	return pageQuery{page: page, size: size}, true
}
