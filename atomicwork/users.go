package atomicwork

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// LookupUserByEmail returns the user with this email, soft-deleted ones included (IsDeleted tells).
// An unknown email is an *APIError with status 404 (IsNotFound).
func (c *Client) LookupUserByEmail(ctx context.Context, email string) (*User, error) {
	if err := checkEmail(email); err != nil {
		return nil, err
	}
	return get[User](ctx, c, "users.email-lookup", path("/api/v1/users/{}/email-lookup", pathEmail(email)), nil)
}

// GetUser returns one user by id.
func (c *Client) GetUser(ctx context.Context, id int64) (*User, error) {
	return get[User](ctx, c, "users.get", path("/api/v1/users/{}", id), nil)
}

// UserListOptions narrow ListUsers.
type UserListOptions struct {
	SearchKey  string
	EmployeeID string
	IsDeleted  bool
	PerPage    int
}

// ListUsers iterates users (active ones unless IsDeleted).
func (c *Client) ListUsers(ctx context.Context, o UserListOptions) iter.Seq2[User, error] {
	return offsetPages(ctx, o.PerPage, func(ctx context.Context, page, perPage int) (*Page[User], error) {
		q := url.Values{}
		if o.SearchKey != "" {
			q.Set("search_key", o.SearchKey)
		}
		if o.EmployeeID != "" {
			q.Set("employee_id", o.EmployeeID)
		}
		if o.IsDeleted {
			q.Set("is_deleted", "true")
		}
		var p Page[User]
		err := c.do(ctx, call{op: "users.list", method: http.MethodGet, path: path("/api/v1/users/list"),
			query: pageQuery(q, page, perPage, "per_page")}, &p)
		return &p, err
	})
}

// CreateUser creates a user without sending a welcome email. A duplicate email is a 409 (IsConflict):
// look the user up first.
func (c *Client) CreateUser(ctx context.Context, in UserInput) (*User, error) {
	if err := checkEmail(in.Email); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.FirstName) == "" {
		return nil, errors.New("atomicwork users.create: first name is empty")
	}
	q := url.Values{"send_email": {"false"}}
	return send[User](ctx, c, "users.create", http.MethodPost, path("/api/v1/users"), q, in)
}

// UpdateUser merges the set fields of in into the user (PUT).
func (c *Client) UpdateUser(ctx context.Context, id int64, in UserInput) (*User, error) {
	return send[User](ctx, c, "users.update", http.MethodPut, path("/api/v1/users/{}", id), nil, in)
}

// PatchUser merges the set fields of in into the user (PATCH).
func (c *Client) PatchUser(ctx context.Context, id int64, in UserInput) (*User, error) {
	return send[User](ctx, c, "users.patch", http.MethodPatch, path("/api/v1/users/{}", id), nil, in)
}

// DeleteUser soft-deletes a user from the organisation; RestoreUser undoes it.
func (c *Client) DeleteUser(ctx context.Context, id int64) error {
	return c.do(ctx, call{op: "users.delete", method: http.MethodDelete, path: path("/api/v1/users/{}", id)}, nil)
}

// RestoreUser restores a soft-deleted user.
func (c *Client) RestoreUser(ctx context.Context, id int64) error {
	return c.do(ctx, call{op: "users.restore", method: http.MethodPatch, path: path("/api/v1/users/{}/restore", id)}, nil)
}

// RestoreUserByEmail restores a soft-deleted user by email.
func (c *Client) RestoreUserByEmail(ctx context.Context, email string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	return c.do(ctx, call{op: "users.restore-by-email", method: http.MethodPatch,
		path: path("/api/v1/users/{}/restore-by-email", pathEmail(email))}, nil)
}

// checkEmail rejects what cannot be an email before it reaches a URL path.
func checkEmail(email string) error {
	at := strings.IndexByte(email, '@')
	if strings.TrimSpace(email) != email || at < 1 || at == len(email)-1 || strings.ContainsAny(email, "/ ") {
		return errors.New("atomicwork: " + strconv.Quote(redactEmail(email)) + " is not an email address")
	}
	return nil
}

// redactEmail keeps an invalid email recognisable in an error without printing it whole.
func redactEmail(s string) string {
	if len(s) <= 3 {
		return s
	}
	return s[:3] + "…"
}
