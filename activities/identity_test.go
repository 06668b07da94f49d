package activities

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// The HR employee id and the Atomicwork user must agree: a run never adopts, grants to or revokes
// from a user that carries another employee id, and a user without one is claimed by the first run.

// requireMismatch asserts err is the non-retryable EMPLOYEE_ID_MISMATCH naming both ids and no email.
func requireMismatch(t *testing.T, err error, ids ...string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrEmployeeIDMismatch, appErr.Type())
	assert.True(t, appErr.NonRetryable(), "a mismatch never heals by retrying")
	for _, id := range ids {
		assert.Contains(t, err.Error(), id)
	}
	assert.NotContains(t, err.Error(), "@", "errors reach histories: no emails")
	assert.Contains(t, err.Error(), "nothing was changed")
}

// userWithoutEmployeeID creates a user the way an admin might, without an employee id.
func userWithoutEmployeeID(t *testing.T, sim *atomicworktest.Server, email string) atomicwork.User {
	t.Helper()
	u, err := sim.Client(t).CreateUser(context.Background(), atomicwork.UserInput{Email: email, FirstName: "No", LastName: "Id"})
	require.NoError(t, err)
	require.Empty(t, u.EmployeeID)
	return *u
}

func simUser(t *testing.T, sim *atomicworktest.Server, email string) atomicwork.User {
	t.Helper()
	u, ok := sim.UserByEmail(email)
	require.True(t, ok, "the simulator has a user with this email")
	return u
}

func TestEnsureUserRefusesAnotherEmployeesUser(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	ana := simUser(t, sim, "ana.diaz@example.com")
	var former atomicwork.User
	for _, u := range sim.Users() {
		if u.IsDeleted {
			former = u
		}
	}
	require.NotEmpty(t, former.EmployeeID, "the demo dataset has a soft-deleted user with an employee id")
	before := sim.Users()

	req := userReq("onboarding-E-900")
	req.Email = ana.Email
	_, err := acts.EnsureUser(ctx, req)
	requireMismatch(t, err, ana.EmployeeID, "E-900")

	req.Email = former.Email
	_, err = acts.EnsureUser(ctx, req)
	requireMismatch(t, err, former.EmployeeID, "E-900")

	// The employee id finds one user and the email another (here a deleted one): the records disagree.
	req = userReq("onboarding-" + ana.EmployeeID)
	req.Email, req.EmployeeID = former.Email, ana.EmployeeID
	_, err = acts.EnsureUser(ctx, req)
	requireMismatch(t, err, ana.EmployeeID, fmt.Sprint(ana.ID), fmt.Sprint(former.ID))

	assert.Equal(t, before, sim.Users(), "a mismatch writes nothing: no restore, no create, no update")

	req = userReq("onboarding-" + ana.EmployeeID)
	req.Email, req.EmployeeID = ana.Email, ana.EmployeeID
	ref, err := acts.EnsureUser(ctx, req)
	require.NoError(t, err, "the same employee is adopted")
	assert.Equal(t, UserRef{UserID: ana.ID}, ref)
}

func TestEnsureUserSetsAMissingEmployeeIDDespiteLostAnswers(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	active := userWithoutEmployeeID(t, sim, "no.id@example.com")
	deleted := userWithoutEmployeeID(t, sim, "gone.no.id@example.com")
	require.NoError(t, sim.Client(t).DeleteUser(ctx, deleted.ID))

	writesLost(sim)
	for id, u := range map[string]atomicwork.User{"E-901": active, "E-902": deleted} {
		req := userReq("onboarding-" + id)
		req.Email, req.EmployeeID = u.Email, id
		_, err := acts.EnsureUser(ctx, req)
		require.Error(t, err, "the first write applied but answered 500")
		ref := retry(t, 3, func() (UserRef, error) { return acts.EnsureUser(ctx, req) })
		assert.Equal(t, u.ID, ref.UserID)

		got := simUser(t, sim, u.Email)
		assert.Equal(t, req.EmployeeID, got.EmployeeID, "onboarding records the employee id")
		assert.False(t, got.IsDeleted)

		other := req
		other.EmployeeID = "E-SOMEONE-ELSE"
		_, err = acts.EnsureUser(ctx, other)
		requireMismatch(t, err, req.EmployeeID, other.EmployeeID)
	}
}

func TestLookupLeaverRefusesAnotherEmployee(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	u := seededLeaver(t, sim)
	before := sim.Users()

	_, err := acts.LookupLeaver(ctx, LeaverRequest{Email: u.Email, EmployeeID: "E-TYPO", Disposition: "return"})
	requireMismatch(t, err, u.EmployeeID, "E-TYPO")
	assert.Equal(t, before, sim.Users(), "a mismatch writes nothing")

	l, err := acts.LookupLeaver(ctx, LeaverRequest{Email: u.Email, EmployeeID: u.EmployeeID, Disposition: "return"})
	require.NoError(t, err)
	assert.Equal(t, Leaver{UserID: u.ID}, l)
	assert.Equal(t, before, sim.Users(), "the matching employee needs no write")
}

func TestLookupLeaverClaimsTheUserForOneEmployee(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	u := userWithoutEmployeeID(t, sim, "unclaimed@example.com")

	old, err := acts.LookupLeaver(ctx, LeaverRequest{Email: u.Email, Disposition: "return"})
	require.NoError(t, err, "a request recorded before the check keeps today's behaviour")
	assert.Equal(t, u.ID, old.UserID)
	assert.Empty(t, simUser(t, sim, u.Email).EmployeeID, "and writes nothing")

	writesLost(sim)
	first := LeaverRequest{Email: u.Email, EmployeeID: "E-FIRST", Disposition: "return"}
	_, err = acts.LookupLeaver(ctx, first)
	require.Error(t, err, "the claim applied but answered 500")
	l := retry(t, 3, func() (Leaver, error) { return acts.LookupLeaver(ctx, first) })
	assert.Equal(t, u.ID, l.UserID)
	assert.Equal(t, "E-FIRST", simUser(t, sim, u.Email).EmployeeID, "the first offboarding claims the user")
	sim.SetFaults(atomicworktest.Faults{})

	second := LeaverRequest{Email: u.Email, EmployeeID: "E-SECOND", Disposition: "return"}
	_, err = acts.LookupLeaver(ctx, second)
	requireMismatch(t, err, "E-FIRST", "E-SECOND")
	assert.Equal(t, "E-FIRST", simUser(t, sim, u.Email).EmployeeID)

	// Claiming an id another user already carries would give one employee two accounts.
	taken := simUser(t, sim, "ana.diaz@example.com").EmployeeID
	v := userWithoutEmployeeID(t, sim, "unclaimed2@example.com")
	_, err = acts.LookupLeaver(ctx, LeaverRequest{Email: v.Email, EmployeeID: taken, Disposition: "return"})
	requireMismatch(t, err, taken)
	assert.Empty(t, simUser(t, sim, v.Email).EmployeeID)
}
