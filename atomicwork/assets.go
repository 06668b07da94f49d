package atomicwork

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// SortAssetsByID is the assets/list sort of a keyset cursor on the asset id.
const SortAssetsByID = "id:ASC"

// ListAssetsPage fetches one page of the assets matching every filter (status, type_id,
// assigned_to_id, or a form-field key). Bulk callers page explicitly; others use ListAssets.
// sort, when given, is sent as the spec's sort parameter (`field:DIRECTION` keys, e.g.
// SortAssetsByID); an API that refuses it answers 400.
func (c *Client) ListAssetsPage(ctx context.Context, filters Filters, page, perPage int, sort ...string) (*Page[Asset], error) {
	if page < 1 {
		return nil, fmt.Errorf("atomicwork assets.list: page %d is below 1", page)
	}
	q := pageQuery(nil, page, clampPerPage(perPage), "per_page")
	if len(sort) > 0 {
		q.Set("sort", strings.Join(sort, ","))
	}
	var p Page[Asset]
	err := c.do(ctx, call{op: "assets.list", method: http.MethodPost, path: path("/api/v1/assets/list"),
		query: q, body: filters.body()}, &p)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ListAssets iterates every asset matching the filters. Do not change assets in a way that
// changes what the filters match while iterating: the pages would shift (API-NOTES §6).
func (c *Client) ListAssets(ctx context.Context, filters Filters) iter.Seq2[Asset, error] {
	return offsetPages(ctx, MaxPerPage, func(ctx context.Context, page, perPage int) (*Page[Asset], error) {
		return c.ListAssetsPage(ctx, filters, page, perPage)
	})
}

// ListUserAssets iterates the assets assigned to a user.
func (c *Client) ListUserAssets(ctx context.Context, userID int64) iter.Seq2[Asset, error] {
	return offsetPages(ctx, MaxPerPage, func(ctx context.Context, page, perPage int) (*Page[Asset], error) {
		var p Page[Asset]
		err := c.do(ctx, call{op: "assets.list-user", method: http.MethodGet, path: path("/api/v1/assets/users/{}/list", userID),
			query: pageQuery(nil, page, perPage, "page_size")}, &p)
		return &p, err
	})
}

// GetAsset returns one asset.
func (c *Client) GetAsset(ctx context.Context, id int64) (*Asset, error) {
	return get[Asset](ctx, c, "assets.get", path("/api/v1/assets/{}", id), nil)
}

// CreateAsset creates an asset.
func (c *Client) CreateAsset(ctx context.Context, in AssetInput) (*Asset, error) {
	return send[Asset](ctx, c, "assets.create", http.MethodPost, path("/api/v1/assets"), nil, in)
}

// UpdateAsset writes an asset's form fields. Send every field (PUT): use SetAssignment to change
// assignee and status while keeping the rest.
func (c *Client) UpdateAsset(ctx context.Context, id int64, in AssetInput) (*Asset, error) {
	if in.AssetTypeID <= 0 {
		return nil, errors.New("atomicwork assets.update: asset type id is missing")
	}
	if in.FormFields == nil {
		return nil, errors.New("atomicwork assets.update: form fields are missing")
	}
	return send[Asset](ctx, c, "assets.update", http.MethodPut, path("/api/v1/assets/{}", id), nil, in)
}

// AssetTypeFormFields returns the form fields of an asset type.
func (c *Client) AssetTypeFormFields(ctx context.Context, assetTypeID int64) ([]FieldDefinition, error) {
	return fieldList(ctx, c, "assets.type-form-fields", path("/api/v1/assets/types/{}/form-fields", assetTypeID))
}

// FormOptions iterates the options of a dropdown form field, e.g. ("ASSET", "asset_type").
func (c *Client) FormOptions(ctx context.Context, entityType, referenceKey, searchKey string) iter.Seq2[Option, error] {
	return offsetPages(ctx, MaxPerPage, func(ctx context.Context, page, perPage int) (*Page[Option], error) {
		q := url.Values{}
		if searchKey != "" {
			q.Set("search_key", searchKey)
		}
		var p Page[Option]
		err := c.do(ctx, call{op: "forms.options", method: http.MethodGet,
			path: path("/api/v1/forms/{}/{}/options", entityType, referenceKey), query: pageQuery(q, page, perPage, "per_page")}, &p)
		return &p, err
	})
}

// AssetTypeID resolves an asset type name ("Laptop") to its id through the asset_type field's
// options; the published API has no asset-types list. Matching ignores case.
func (c *Client) AssetTypeID(ctx context.Context, name string) (int64, error) {
	for o, err := range c.FormOptions(ctx, "ASSET", "asset_type", name) {
		if err != nil {
			return 0, err
		}
		if strings.EqualFold(o.Label, name) || strings.EqualFold(o.Value, name) {
			if o.ID != 0 {
				return o.ID, nil
			}
			return strconv.ParseInt(o.Value, 10, 64)
		}
	}
	return 0, &NotFoundError{Kind: "asset type", Name: name}
}

// NotFoundError is a name the API does not know (an asset type, an entitlement, a catalog item).
type NotFoundError struct {
	Kind string
	Name string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("atomicwork: no %s named %q", e.Kind, e.Name)
}

// Assignment is the target of SetAssignment.
type Assignment struct {
	// AssigneeID is the new assignee's user id; 0 unassigns.
	AssigneeID int64
	// Status is the new status value (AVAILABLE, IN_USE, ...); empty keeps the current one.
	Status string
	// Precondition, when set, sees the current asset before a write and vetoes it by returning
	// an error, which SetAssignment returns unchanged (e.g. "only claim an available asset").
	Precondition func(current *Asset) error
}

// Holds reports whether the asset already has the assignment, given the client's field keys.
func (c *Client) Holds(a *Asset, want Assignment) bool {
	if a.AssigneeID(c.assigneeField) != want.AssigneeID {
		return false
	}
	return want.Status == "" || NormalizeStatus(a.StatusValue(c.statusField)) == NormalizeStatus(want.Status)
}

// SetAssignment sets an asset's assignee and status by read-modify-write, keeping every other
// form field (PUT replaces). It reads first and writes nothing when the asset already holds the
// assignment, so a retry after "write applied, response lost" converges. It returns the asset as
// the API answered the write (or as read, when nothing was written) and whether it wrote.
// There is no ETag: callers that race for an asset verify with a re-read after writing.
func (c *Client) SetAssignment(ctx context.Context, assetID int64, want Assignment) (*Asset, bool, error) {
	cur, err := c.GetAsset(ctx, assetID)
	if err != nil {
		return nil, false, err
	}
	if c.Holds(cur, want) {
		return cur, false, nil
	}
	if want.Precondition != nil {
		if err := want.Precondition(cur); err != nil {
			return cur, false, err
		}
	}
	fields := make(map[string]any, len(cur.FormFields)+2)
	for k, v := range cur.FormFields {
		fields[k] = v
	}
	if want.AssigneeID == 0 {
		fields[c.assigneeField] = nil
	} else {
		fields[c.assigneeField] = want.AssigneeID
	}
	if want.Status != "" {
		fields[c.statusField] = want.Status
	}
	updated, err := c.UpdateAsset(ctx, assetID, AssetInput{AssetTypeID: cur.TypeID(), FormFields: fields})
	if err != nil {
		return nil, false, err
	}
	return updated, true, nil
}

// AssigneeField and StatusField are the asset form-field keys this client uses.
func (c *Client) AssigneeField() string { return c.assigneeField }

// StatusField is the asset status form-field key this client uses.
func (c *Client) StatusField() string { return c.statusField }

// DiscoverAssetFields finds the assignee and status form-field keys of an asset type, for tenants
// whose keys differ from assigned_to and status (API-NOTES §3). A key that no field matches falls
// back to the client's configured one.
func (c *Client) DiscoverAssetFields(ctx context.Context, assetTypeID int64) (assignee, status string, err error) {
	fields, err := c.AssetTypeFormFields(ctx, assetTypeID)
	if err != nil {
		return "", "", err
	}
	assignee, status = c.assigneeField, c.statusField
	for _, f := range fields {
		for _, name := range []string{f.ReferenceKey, f.DisplayName} {
			switch normalizeFieldName(name) {
			case "assigned_to", "assignee", "used_by":
				assignee = f.ReferenceKey
			case "status", "asset_status", "state":
				status = f.ReferenceKey
			}
		}
	}
	return assignee, status, nil
}

func normalizeFieldName(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "_"))
}
