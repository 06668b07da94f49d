package activities

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// idsWithEmployeeID returns the ids of every user, deleted or not, that carries this employee id.
func idsWithEmployeeID(sim *atomicworktest.Server, employeeID string) []int64 {
	var out []int64
	for _, u := range sim.Users() {
		if u.EmployeeID == employeeID {
			out = append(out, u.ID)
		}
	}
	return out
}

// A rehire whose email changed in HR (same employee id, new email) is onboarded on the account
// her offboarding left, now under the HR email: found by employee id, never refused as another
// employee's and never given a second account. Lost answers converge.
func TestEnsureUserReusesTheRehiresAccountUnderHerNewEmail(t *testing.T) {
	for _, deleted := range []bool{true, false} {
		t.Run(fmt.Sprintf("account deleted=%v", deleted), func(t *testing.T) {
			acts, sim := newActivities(t, atomicworktest.Options{})
			ctx := context.Background()
			leaver := seededLeaver(t, sim)
			require.NotEmpty(t, leaver.EmployeeID)
			require.NoError(t, acts.RecordTermination(ctx, TerminationRequest{UserID: leaver.ID, TerminatedOn: "2026-10-30"}))
			if deleted {
				require.NoError(t, acts.DeleteLeaver(ctx, UserRequest{UserID: leaver.ID}))
			}
			accounts := len(sim.Users())

			req := userReq("onboarding-" + leaver.EmployeeID)
			req.Email, req.EmployeeID = "rehired.under.new.name@example.com", leaver.EmployeeID
			sim.SetFaults(atomicworktest.Faults{Seed: 5, WriteThen500: 0.5})
			var ref UserRef // every write applies then answers 500: each attempt gets one further
			runRetried(t, "EnsureUser", acts.EnsureUser, req, &ref)
			sim.SetFaults(atomicworktest.Faults{})

			assert.Equal(t, UserRef{UserID: leaver.ID, Restored: deleted, Adopted: &AdoptedAccount{UserID: leaver.ID,
				Email: leaver.Email, Deleted: deleted, EmploymentStatus: employmentTerminated, TerminatedOn: "2026-10-30"}}, ref,
				"the account as it was before, for a cancellation to put back")
			assert.Equal(t, accounts, len(sim.Users()), "no second account")
			assert.Equal(t, []int64{leaver.ID}, idsWithEmployeeID(sim, leaver.EmployeeID), "one HR employee, one Atomicwork user")
			got := simUser(t, sim, req.Email)
			assert.Equal(t, leaver.ID, got.ID, "the account now has the HR email")
			assert.False(t, got.IsDeleted)
			assert.Equal(t, employmentActive, got.EmploymentStatus)
			assert.Nil(t, got.TerminatedOn)
			_, old := sim.UserByEmail(leaver.Email)
			assert.False(t, old, "the old email is no longer the account's")
		})
	}
}

// A withdrawn rehire's onboarding puts the account it took over back as the offboarding left it:
// the old email, TERMINATED since the same day, and deleted if it was. Lost answers converge.
func TestCancelledOnboardingPutsTheRehiresAccountBack(t *testing.T) {
	for _, deleted := range []bool{true, false} {
		t.Run(fmt.Sprintf("account deleted=%v", deleted), func(t *testing.T) {
			acts, sim := newActivities(t, atomicworktest.Options{})
			ctx := context.Background()
			leaver := seededLeaver(t, sim)
			require.NoError(t, acts.RecordTermination(ctx, TerminationRequest{UserID: leaver.ID, TerminatedOn: "2026-10-30"}))
			if deleted {
				require.NoError(t, acts.DeleteLeaver(ctx, UserRequest{UserID: leaver.ID}))
			}
			req := userReq("onboarding-" + leaver.EmployeeID)
			req.Email, req.EmployeeID = "rehired.under.new.name@example.com", leaver.EmployeeID
			var ref UserRef
			runRetried(t, "EnsureUser", acts.EnsureUser, req, &ref)
			require.NotNil(t, ref.Adopted)

			sim.SetFaults(atomicworktest.Faults{Seed: 7, WriteThen500: 0.5})
			undo := DeactivateUserRequest{Email: req.Email, EmployeeID: req.EmployeeID, WorkflowID: req.WorkflowID, Adopted: ref.Adopted}
			runRetried(t, "DeactivateUser", acts.DeactivateUser, undo, nil)
			sim.SetFaults(atomicworktest.Faults{})

			assert.Equal(t, []int64{leaver.ID}, idsWithEmployeeID(sim, leaver.EmployeeID), "still one account")
			got := simUser(t, sim, leaver.Email)
			assert.Equal(t, leaver.ID, got.ID, "the account has its old email again")
			assert.Equal(t, deleted, got.IsDeleted, "deleted again only if it was")
			assert.Equal(t, employmentTerminated, got.EmploymentStatus)
			require.NotNil(t, got.TerminatedOn)
			assert.Equal(t, "2026-10-30", *got.TerminatedOn)
			_, kept := sim.UserByEmail(req.Email)
			assert.False(t, kept, "the rehire's new email is no longer on the account")
		})
	}
}

// The HR email already on another employee's user stays a refusal, whoever the employee id finds.
// (A guard: this was refused before the employee-id-first lookup too.)
func TestEnsureUserRefusesAnEmailOfAnotherEmployee(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	leaver := seededLeaver(t, sim)
	other := simUser(t, sim, "bo.li@example.com")
	require.NotEqual(t, other.ID, leaver.ID)
	require.NotEqual(t, other.EmployeeID, leaver.EmployeeID)
	before := sim.Users()

	req := userReq("onboarding-" + leaver.EmployeeID)
	req.Email, req.EmployeeID = other.Email, leaver.EmployeeID
	_, err := acts.EnsureUser(context.Background(), req)
	requireMismatch(t, err, leaver.EmployeeID, fmt.Sprint(leaver.ID), fmt.Sprint(other.ID))
	assert.Equal(t, before, sim.Users(), "a refusal writes nothing")
}

// A live account under the employee id with another email is not renamed: an HR typo in the id
// would otherwise take a colleague's account.
func TestEnsureUserRefusesToRenameALiveAccount(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	live := seededLeaver(t, sim) // still active: nobody offboarded her
	require.NotEmpty(t, live.EmployeeID)
	before := sim.Users()

	req := userReq("onboarding-" + live.EmployeeID)
	req.Email, req.EmployeeID = "someone.else@example.com", live.EmployeeID
	_, err := acts.EnsureUser(context.Background(), req)
	requireMismatch(t, err, live.EmployeeID, fmt.Sprint(live.ID))
	assert.Equal(t, before, sim.Users(), "a refusal writes nothing")
}
