package atomicwork

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// ListWorkspaces iterates the workspaces the key can access. It never sends X-Workspace-Id:
// this is how a caller discovers the id (API-NOTES §6).
func (c *Client) ListWorkspaces(ctx context.Context) iter.Seq2[Workspace, error] {
	return offsetPages(ctx, MaxPerPage, func(ctx context.Context, page, perPage int) (*Page[Workspace], error) {
		var p Page[Workspace]
		err := c.do(ctx, call{op: "workspaces.list", method: http.MethodGet, path: path("/api/v1/workspaces"),
			query: pageQuery(nil, page, perPage, "per_page"), noWorkspace: true}, &p)
		return &p, err
	})
}

// GetWorkspace returns one workspace.
func (c *Client) GetWorkspace(ctx context.Context, id int64) (*Workspace, error) {
	var w Workspace
	err := c.do(ctx, call{op: "workspaces.get", method: http.MethodGet, path: path("/api/v1/workspaces/{}", id), noWorkspace: true}, &w)
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// get is a GET that decodes one object.
func get[T any](ctx context.Context, c *Client, op string, p apiPath, q url.Values) (*T, error) {
	var out T
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: p, query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// send is a write with a JSON body that decodes one object.
func send[T any](ctx context.Context, c *Client, op, method string, p apiPath, q url.Values, body any) (*T, error) {
	var out T
	if err := c.do(ctx, call{op: op, method: method, path: p, query: q, body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
