package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/workflows"
)

// TestOffboardingUnderAnotherEmployeeIDRevokesNothing: an HR id typo on an immediate offboarding
// must not take a colleague's access: the run fails at planning and Atomicwork is untouched.
func TestOffboardingUnderAnotherEmployeeIDRevokesNothing(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	leaver := leaverWithAccess(t, e.sim)
	grants, assets := activeGrantsOf(e.sim, leaver.ID), assetsOf(e.sim, leaver.ID)
	users, requests := e.sim.Users(), e.sim.Requests()

	wrong := testEmployeeID(t, "E-TYPO")
	run := e.startOffboarding(workflows.OffboardingInput{EmployeeID: wrong, Email: leaver.Email,
		LastDay: time.Now().UTC().Format(time.DateOnly), TimeZone: "UTC", Assets: workflows.AssetsManager,
		Immediate: true, GracePeriod: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run.Get(ctx, nil)

	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "the offboarding fails")
	assert.Equal(t, activities.ErrEmployeeIDMismatch, appErr.Type())
	assert.Contains(t, appErr.Error(), leaver.EmployeeID)
	assert.Contains(t, appErr.Error(), wrong)
	assert.NotContains(t, err.Error(), leaver.Email)

	assert.Equal(t, grants, activeGrantsOf(e.sim, leaver.ID), "every grant untouched")
	assert.Equal(t, assets, assetsOf(e.sim, leaver.ID), "every asset untouched")
	assert.Equal(t, users, e.sim.Users(), "no user changed, nobody claimed")
	assert.Equal(t, requests, e.sim.Requests(), "no request opened")
	e.requireNoKeyLeak(run.GetID(), run.GetRunID())
}
