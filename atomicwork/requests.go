package atomicwork

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
)

// CreateRequest opens a request. Subject and Requester are required (API-NOTES §7 Q10); the
// request source defaults to API. The API has no idempotency key: callers that may retry find
// their request first (e.g. by a marker in the subject) before creating another.
func (c *Client) CreateRequest(ctx context.Context, in RequestInput) (*Request, error) {
	if err := checkRequest(in); err != nil {
		return nil, err
	}
	if in.RequestSource == "" {
		in.RequestSource = SourceAPI
	}
	in.ItemID, in.ItemFields = 0, nil
	return send[Request](ctx, c, "requests.create", http.MethodPost, path("/api/v1/requests"), nil, in)
}

// CreateItemRequest opens a service request from a catalog item; in.ItemFields maps the item's
// field reference keys to values (API-NOTES §7 Q17).
func (c *Client) CreateItemRequest(ctx context.Context, itemID int64, in RequestInput) (*Request, error) {
	if err := checkRequest(in); err != nil {
		return nil, err
	}
	if in.RequestSource == "" {
		in.RequestSource = SourceAPI
	}
	in.RequestType, in.ItemID = RequestTypeServiceRequest, itemID
	return send[Request](ctx, c, "requests.create-from-item", http.MethodPost, path("/api/v1/requests/items/{}", itemID), nil, in)
}

func checkRequest(in RequestInput) error {
	switch {
	case in.Subject == "":
		return errors.New("atomicwork requests.create: subject is empty")
	case in.Requester <= 0:
		return errors.New("atomicwork requests.create: requester user id is missing")
	}
	return nil
}

// GetRequest returns a request by display id (e.g. ITSR-12).
func (c *Client) GetRequest(ctx context.Context, displayID string) (*Request, error) {
	return get[Request](ctx, c, "requests.get", path("/api/v1/requests/{}", displayID), nil)
}

// PatchRequest changes the set fields of a request; Status takes the enum or the label ("Resolved").
func (c *Client) PatchRequest(ctx context.Context, displayID string, in RequestPatch) (*Request, error) {
	return send[Request](ctx, c, "requests.patch", http.MethodPatch, path("/api/v1/requests/{}", displayID), nil, in)
}

// ListRequests iterates the requests that match every filter (status, type, requester_id, ...).
func (c *Client) ListRequests(ctx context.Context, filters Filters) iter.Seq2[Request, error] {
	return offsetPages(ctx, MaxPerPage, func(ctx context.Context, page, perPage int) (*Page[Request], error) {
		q := pageQuery(url.Values{"filter_name": {"all"}}, page, perPage, "per_page")
		var p Page[Request]
		err := c.do(ctx, call{op: "requests.list", method: http.MethodPost, path: path("/api/v1/requests/list"),
			query: q, body: filters.body()}, &p)
		return &p, err
	})
}

// AddNote adds a note to a request; the source defaults to API.
func (c *Client) AddNote(ctx context.Context, displayID string, in NoteInput) (*Note, error) {
	if in.Description == "" {
		return nil, errors.New("atomicwork requests.add-note: description is empty")
	}
	if in.Source == "" {
		in.Source = SourceAPI
	}
	return send[Note](ctx, c, "requests.add-note", http.MethodPost, path("/api/v1/requests/{}/notes", displayID), nil, in)
}

// ListNotes iterates a request's notes, following next_page_token.
func (c *Client) ListNotes(ctx context.Context, displayID string) iter.Seq2[Note, error] {
	return tokenPages(ctx, MaxPerPage, func(ctx context.Context, token string, perPage int) (*Page[Note], error) {
		q := pageQuery(nil, 1, perPage, "per_page")
		if token != "" {
			q.Set("next_page_token", token)
		}
		var p Page[Note]
		err := c.do(ctx, call{op: "requests.list-notes", method: http.MethodGet,
			path: path("/api/v1/requests/{}/notes", displayID), query: q}, &p)
		return &p, err
	})
}

// CatalogItemListOptions narrow ListCatalogItems.
type CatalogItemListOptions struct {
	SearchKey     string
	PublishedOnly bool
}

// ListCatalogItems iterates the service-catalog items of a workspace.
func (c *Client) ListCatalogItems(ctx context.Context, workspaceID int64, o CatalogItemListOptions) iter.Seq2[CatalogItem, error] {
	return offsetPages(ctx, MaxPerPage, func(ctx context.Context, page, perPage int) (*Page[CatalogItem], error) {
		q := url.Values{}
		if o.SearchKey != "" {
			q.Set("search_key", o.SearchKey)
		}
		if o.PublishedOnly {
			q.Set("is_published", "true")
		}
		var p Page[CatalogItem]
		err := c.do(ctx, call{op: "catalog.list-items", method: http.MethodGet,
			path: path("/api/v1/workspaces/{}/catalogue/items", workspaceID), query: pageQuery(q, page, perPage, "per_page")}, &p)
		return &p, err
	})
}

// CatalogItemFields returns the form fields of a catalog item.
func (c *Client) CatalogItemFields(ctx context.Context, itemID int64) ([]FieldDefinition, error) {
	return fieldList(ctx, c, "catalog.item-fields", path("/api/v1/catalogue-items/{}/fields", itemID))
}

// fieldList decodes a list of field definitions, bare or in the envelope.
func fieldList(ctx context.Context, c *Client, op string, p apiPath) ([]FieldDefinition, error) {
	var page Page[FieldDefinition]
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: p}, &page); err != nil {
		return nil, err
	}
	return page.Data, nil
}
