package activities

import (
	"context"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// reactivate makes u an active employee again for a rehire: employment status ACTIVE and no
// terminated_on, which the offboarding set. It writes nothing when u is already so, so a retry
// changes nothing. RestoreLeaver calls it; EnsureUser should too when it adopts a rehire's account.
func reactivate(ctx context.Context, c *atomicwork.Client, u *atomicwork.User) error {
	if u.EmploymentStatus == employmentActive && u.TerminatedOn == nil {
		return nil
	}
	_, err := c.ReactivateUser(ctx, u.ID)
	return toTemporal(err)
}
