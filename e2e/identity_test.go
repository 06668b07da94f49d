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
	"github.com/atomicflow/atomicflow/lifecycle"
)

// TestOffboardingUnderAnotherEmployeeIDRevokesNothing: an HR id typo on an immediate offboarding
// must not take a colleague's access: the run fails at planning and Atomicwork is untouched.
func TestOffboardingUnderAnotherEmployeeIDRevokesNothing(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	leaver := leaverWithAccess(t, e.sim)
	grants, assets := e.sim.ActiveGrantsOf(leaver.ID), e.sim.AssetsOf(leaver.ID)
	users, requests := e.sim.Users(), e.sim.Requests()

	wrong := testEmployeeID(t, "E-TYPO")
	run := e.startOffboarding(lifecycle.OffboardingInput{EmployeeID: wrong, Email: leaver.Email,
		LastDay: time.Now().UTC().Format(time.DateOnly), TimeZone: "UTC", Assets: lifecycle.AssetsManager,
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

	assert.Equal(t, grants, e.sim.ActiveGrantsOf(leaver.ID), "every grant untouched")
	assert.Equal(t, assets, e.sim.AssetsOf(leaver.ID), "every asset untouched")
	assert.Equal(t, users, e.sim.Users(), "no user changed, nobody claimed")
	assert.Equal(t, requests, e.sim.Requests(), "no request opened")
	e.requireNoKeyLeak(run.GetID(), run.GetRunID())
}

// TestOnboardingOfAnotherEmployeesEmailWritesNothing: a new hire given a colleague's email must not
// adopt the colleague's account: the run fails and its compensations write nothing either.
func TestOnboardingOfAnotherEmployeesEmailWritesNothing(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, engineeringPolicy)
	users, grants, assets, requests := e.sim.Users(), e.sim.Grants(), e.sim.Assets(), e.sim.Requests()
	in := hire(1, today())
	colleague, ok := e.sim.UserByEmail("ana.diaz@example.com")
	require.True(t, ok)
	require.NotEmpty(t, colleague.EmployeeID)
	in.Email = colleague.Email
	in.EmployeeID = testEmployeeID(t, "E-NEW")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := e.startOnboarding(in)
	err := run.Get(ctx, nil)

	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "the onboarding fails")
	assert.Equal(t, activities.ErrEmployeeIDMismatch, appErr.Type())
	assert.Contains(t, appErr.Error(), colleague.EmployeeID)
	assert.Contains(t, appErr.Error(), in.EmployeeID)
	assert.Equal(t, users, e.sim.Users(), "no user adopted, restored or changed")
	assert.Equal(t, grants, e.sim.Grants(), "nothing granted")
	assert.Equal(t, assets, e.sim.Assets(), "nothing assigned")
	assert.Equal(t, requests, e.sim.Requests(), "no request opened")
}
