package atomicworktest

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
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
	order      listOrder // Faults.ListOrder; the zero value keeps the rows as given
}

// List orders of Faults.ListOrder.
const (
	ListOrderIDAsc    = "id_asc"   // the default, as the store keeps rows
	ListOrderIDDesc   = "id_desc"  // descending id
	ListOrderShuffled = "shuffled" // a permutation of ids fixed by the seed
)

// listOrder is the order a list without an explicit sort comes back in.
type listOrder struct {
	mode string
	seed int64
}

type listOrderKey struct{}

// withListOrder hands the faults' list order to the core through the request's context.
func withListOrder(ctx context.Context, o listOrder) context.Context {
	return context.WithValue(ctx, listOrderKey{}, o)
}

func listOrderOf(ctx context.Context) listOrder {
	o, _ := ctx.Value(listOrderKey{}).(listOrder)
	return o
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
	return pageQuery{page: page, size: min(size, limit), order: x.order}, nil
}

// readTokenPage is readPage for cursor endpoints: next_page_token, when sent, overrides page
// and per_page.
func (x *call) readTokenPage(limit int) (pageQuery, error) {
	if tok := x.query.Get("next_page_token"); tok != "" {
		p, ok := parsePageToken(tok)
		if !ok {
			return pageQuery{}, errBadRequest("next_page_token %q was not issued by this server: pass the token of the previous answer unchanged, or omit it to start at page 1", tok)
		}
		return pageQuery{page: p.page, size: min(p.size, limit), tokens: true, order: x.order}, nil
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

// paginate cuts one page out of rows (already in id order, or in the order an explicit sort
// asked for) in p.order and renders it.
func paginate[T, R any](rows []T, p pageQuery, render func(T) R) atomicwork.Page[R] {
	rows = inOrder(rows, p.order)
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

// inOrder returns rows in the order o. Both orders depend only on the ids (and the seed), so
// every page of a listing is cut from the same sequence while rows come and go.
func inOrder[T any](rows []T, o listOrder) []T {
	var key func(T) uint64
	switch o.mode {
	case "", ListOrderIDAsc:
		return rows
	case ListOrderIDDesc:
		key = func(r T) uint64 { return math.MaxUint64 - uint64(rowID(r)) }
	case ListOrderShuffled:
		key = func(r T) uint64 { return mix(uint64(rowID(r)) ^ mix(uint64(o.seed))) }
	default:
		panic("simulator bug: unknown list order " + o.mode) // Faults.Validate rejects it
	}
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	return out
}

// mix is splitmix64's finaliser: a bijection on uint64 that scatters neighbouring ids.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rowID is the id of a row of any list the core serves.
func rowID(row any) int64 {
	switch r := row.(type) {
	case *asset:
		return r.id
	case *atomicwork.User:
		return r.ID
	case *request:
		return r.ID
	case *grant:
		return r.ID
	case *app:
		return r.ID
	case *atomicwork.Entitlement:
		return r.ID
	case atomicwork.GrantEvent:
		return r.ID
	case *workspace:
		return r.ID
	case *catalogItem:
		return r.ID
	case *atomicwork.Note:
		return r.ID
	case atomicwork.Option:
		return r.ID
	case atomicwork.FieldDefinition:
		return r.ID
	case attributeDef:
		return r.ID
	}
	panic(fmt.Sprintf("simulator bug: rowID has no case for %T", row))
}

// wholeList answers an unpaginated list in the list envelope: openapi.yaml declares every answer
// an object (never a bare array), and §1.7's envelope is the object the client reads lists from.
func wholeList[T any](rows []T) atomicwork.Page[T] {
	return atomicwork.Page[T]{Page: 1, PageSize: len(rows), TotalCount: len(rows), TotalPages: min(1, len(rows)), Data: rows}
}
