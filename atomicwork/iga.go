package atomicwork

import (
	"context"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ListApps iterates the IGA apps (identity providers), optionally narrowed by a search key.
func (c *Client) ListApps(ctx context.Context, searchKey string) iter.Seq2[App, error] {
	return offsetPages(ctx, MaxPerPage, func(ctx context.Context, page, perPage int) (*Page[App], error) {
		q := url.Values{}
		if searchKey != "" {
			q.Set("search_key", searchKey)
		}
		var p Page[App]
		err := c.do(ctx, call{op: "iga.list-apps", method: http.MethodGet, path: path("/api/v1/iga/apps"),
			query: pageQuery(q, page, perPage, "per_page")}, &p)
		return &p, err
	})
}

// EntitlementListOptions narrow ListEntitlements.
type EntitlementListOptions struct {
	SearchKey string
	AppID     int64
	// Status is DRAFT or PUBLISHED (grantable); empty lists both.
	Status string
}

// ListEntitlements iterates entitlements.
func (c *Client) ListEntitlements(ctx context.Context, o EntitlementListOptions) iter.Seq2[Entitlement, error] {
	return offsetPages(ctx, MaxPerPage, func(ctx context.Context, page, perPage int) (*Page[Entitlement], error) {
		q := url.Values{}
		if o.SearchKey != "" {
			q.Set("search_key", o.SearchKey)
		}
		if o.AppID != 0 {
			q.Set("app_id", strconv.FormatInt(o.AppID, 10))
		}
		if o.Status != "" {
			q.Set("status", o.Status)
		}
		var p Page[Entitlement]
		err := c.do(ctx, call{op: "iga.list-entitlements", method: http.MethodGet, path: path("/api/v1/iga/entitlements"),
			query: pageQuery(q, page, perPage, "per_page")}, &p)
		return &p, err
	})
}

// CreateGrant grants an entitlement to a user, bypassing approval. A duplicate active grant is a
// 409 (IsConflict): list the user's active grants first.
func (c *Client) CreateGrant(ctx context.Context, in GrantInput) (*Grant, error) {
	return send[Grant](ctx, c, "iga.create-grant", http.MethodPost, path("/api/v1/iga/grants"), nil, in)
}

// ListGrants iterates the grants that match every filter, following next_page_token, e.g.
//
//	c.ListGrants(ctx, Filters{}.IsAnyOf("user", uid).IsAnyOf("status", GrantBucketActive))
func (c *Client) ListGrants(ctx context.Context, filters Filters) iter.Seq2[Grant, error] {
	return c.grantPages(ctx, nil, filters)
}

// grantPages iterates grants/list with extra query values, following next_page_token.
func (c *Client) grantPages(ctx context.Context, extra url.Values, filters Filters) iter.Seq2[Grant, error] {
	return tokenPages(ctx, MaxPerPage, func(ctx context.Context, token string, perPage int) (*Page[Grant], error) {
		q := pageQuery(maps.Clone(extra), 1, perPage, "per_page")
		if token != "" {
			q.Set("next_page_token", token)
		}
		var p Page[Grant]
		err := c.do(ctx, call{op: "iga.list-grants", method: http.MethodPost, path: path("/api/v1/iga/grants/list"),
			query: q, body: filters.body()}, &p)
		return &p, err
	})
}

// GrantsByID returns the grants with these ids (the grants/list ids parameter), in any status.
func (c *Client) GrantsByID(ctx context.Context, ids ...int64) ([]Grant, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return Collect(c.grantPages(ctx, url.Values{"ids": {strings.Join(parts, ",")}}, nil))
}

// RevokeGrant revokes a grant. With SkipDeprovisioning false the identity provider removes the
// access asynchronously: follow the returned RevocationStatus (IN_PROGRESS, COMPLETED, FAILED).
// Revoking a revoked grant returns it unchanged (API-NOTES §7 Q12).
func (c *Client) RevokeGrant(ctx context.Context, grantID int64, in RevokeInput) (*Grant, error) {
	return send[Grant](ctx, c, "iga.revoke-grant", http.MethodPost, path("/api/v1/iga/grants/{}/revoke", grantID), nil, in)
}

// GrantHistory iterates a grant's events, newest first.
func (c *Client) GrantHistory(ctx context.Context, grantID int64) iter.Seq2[GrantEvent, error] {
	return offsetPages(ctx, MaxPerPage, func(ctx context.Context, page, perPage int) (*Page[GrantEvent], error) {
		var p Page[GrantEvent]
		err := c.do(ctx, call{op: "iga.grant-history", method: http.MethodGet, path: path("/api/v1/iga/grants/{}/history", grantID),
			query: pageQuery(nil, page, perPage, "per_page")}, &p)
		return &p, err
	})
}
