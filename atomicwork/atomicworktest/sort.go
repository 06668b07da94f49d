package atomicworktest

import (
	"cmp"
	"slices"
	"strings"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Explicit sorts of POST /assets/list (openapi.yaml: `sort` takes precedence over `sort_order`;
// unknown fields → 400). A sorted answer ignores Faults.ListOrder: the client asked for an order.

// attributeDef is a field definition as GET /assets/attributes answers it: with sortable, which
// names the fields the assets list's `sort` accepts.
type attributeDef struct {
	atomicwork.FieldDefinition
	Sortable bool `json:"sortable"`
}

// idAttribute advertises the asset id, which is no form field, as a sortable attribute.
var idAttribute = atomicwork.FieldDefinition{ReferenceKey: "id", DisplayName: "ID", Type: fieldText, DataType: "INTEGER"}

// assetSorts are the sortable asset fields, each comparing in ascending order.
var assetSorts = map[string]func(a, b *asset) int{
	"id": func(a, b *asset) int { return cmp.Compare(a.id, b.id) },
	fieldDisplayName: func(a, b *asset) int {
		an, _ := a.fields[fieldDisplayName].(string)
		bn, _ := b.fields[fieldDisplayName].(string)
		return strings.Compare(strings.ToLower(an), strings.ToLower(bn))
	},
}

// assetSortOrders are the sort_order values of the spec's enum, each as sort keys.
var assetSortOrders = map[string]func(a, b *asset) int{
	"CREATED_AT_ASC":  func(a, b *asset) int { return a.createdAt.Compare(b.createdAt) },
	"CREATED_AT_DESC": func(a, b *asset) int { return b.createdAt.Compare(a.createdAt) },
	"UPDATED_AT_DESC": func(a, b *asset) int { return b.updatedAt.Compare(a.updatedAt) },
	"NAME_ASC":        assetSorts[fieldDisplayName],
	"NAME_DESC":       func(a, b *asset) int { return assetSorts[fieldDisplayName](b, a) },
}

// assetOrder reads sort, else sort_order. It returns nil when neither is given; ties always
// fall back to ascending id, so the order is total and pages do not overlap.
func assetOrder(x *call) (func(a, b *asset) int, error) {
	var keys []func(a, b *asset) int
	if s := x.query.Get("sort"); s != "" {
		for part := range strings.SplitSeq(s, ",") {
			key, err := assetSortKey(strings.TrimSpace(part))
			if err != nil {
				return nil, err
			}
			keys = append(keys, key)
		}
	} else if o := x.query.Get("sort_order"); o != "" {
		key, ok := assetSortOrders[strings.ToUpper(o)]
		if !ok {
			return nil, errBadRequest("sort_order must be one of %s, got %q", strings.Join(sortedKeys(assetSortOrders), ", "), o)
		}
		keys = append(keys, key)
	}
	if keys == nil {
		return nil, nil
	}
	keys = append(keys, assetSorts["id"])
	return func(a, b *asset) int {
		for _, k := range keys {
			if c := k(a, b); c != 0 {
				return c
			}
		}
		return 0
	}, nil
}

// assetSortKey parses one `field:DIRECTION` of sort.
func assetSortKey(part string) (func(a, b *asset) int, error) {
	field, dir, _ := strings.Cut(part, ":")
	asc, ok := assetSorts[field]
	if !ok {
		return nil, errBadRequest("sort: unknown field %q: the sortable fields (sortable: true in GET /api/v1/assets/attributes) are %s", field, strings.Join(sortedKeys(assetSorts), ", "))
	}
	switch strings.ToUpper(dir) {
	case "ASC":
		return asc, nil
	case "DESC":
		return func(a, b *asset) int { return asc(b, a) }, nil
	}
	return nil, errBadRequest("sort: %q must be field:ASC or field:DESC, e.g. id:ASC", part)
}

// sortAssets applies an explicit sort to rows (a fresh slice) and tells paginate to keep it.
func sortAssets(x *call, rows []*asset, p *pageQuery) error {
	order, err := assetOrder(x)
	if err != nil || order == nil {
		return err
	}
	slices.SortStableFunc(rows, order)
	p.order = listOrder{}
	return nil
}

// renderAttributes marks the definitions the assets list can sort by.
func renderAttributes(defs []atomicwork.FieldDefinition) []attributeDef {
	out := make([]attributeDef, len(defs))
	for i, f := range renderFields(defs) {
		_, sortable := assetSorts[f.ReferenceKey]
		out[i] = attributeDef{FieldDefinition: f, Sortable: sortable}
	}
	return out
}
