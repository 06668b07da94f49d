package atomicwork

import (
	"context"
	"net/http"
)

// ReactivateUser makes a user an active employee again (PATCH): employment status ACTIVE and
// terminated_on cleared. UserInput cannot clear a field (it sends set fields only), so the body
// carries terminated_on as null.
func (c *Client) ReactivateUser(ctx context.Context, id int64) (*User, error) {
	body := map[string]any{"employment_status": "ACTIVE", "terminated_on": nil}
	return send[User](ctx, c, "users.patch", http.MethodPatch, path("/api/v1/users/{}", id), nil, body)
}
