package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// TestOffboardingAfterAnEmailChangeInAtomicwork: the leaver's email was changed in Atomicwork
// after the HR record was written; the offboarding finds the leaver by employee id and takes
// every access and asset back (it used to fail at planning with UNKNOWN_USER, access kept).
func TestOffboardingAfterAnEmailChangeInAtomicwork(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	leaver := leaverWithAccess(t, e.sim)
	held := e.sim.AssetsOf(leaver.ID)
	id := employeeID(t, e.sim, leaver)
	const renamed = "renamed.leaver@example.com"
	_, err := e.sim.Client(t).PatchUser(context.Background(), leaver.ID, atomicwork.UserInput{Email: renamed})
	require.NoError(t, err)
	_, stale := e.sim.UserByEmail(leaver.Email)
	require.False(t, stale, "no Atomicwork user has the HR record's email any more")

	run := e.startOffboarding(lifecycle.OffboardingInput{EmployeeID: id, Email: leaver.Email,
		LastDay: time.Now().UTC().Format(time.DateOnly), TimeZone: "UTC", Assets: lifecycle.AssetsReturn,
		Immediate: true, GracePeriod: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var res lifecycle.OffboardingResult
	err = run.Get(ctx, &res)
	t.Logf("offboarding after the email change: result %+v, error %v", res, err)
	require.NoError(t, err, "the leaver is found by employee id")

	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	assert.Equal(t, leaver.ID, res.UserID)
	assert.Empty(t, e.sim.ActiveGrantsOf(leaver.ID), "the leaver keeps no access")
	assert.Empty(t, e.sim.AssetsOf(leaver.ID), "the leaver keeps no asset")
	for _, a := range held {
		assert.Equal(t, atomicwork.AssetAvailable, assetByID(e.sim, a.ID).StatusValue(atomicwork.FieldStatus), "asset %d back in stock", a.ID)
	}
	u, ok := e.sim.UserByEmail(renamed)
	require.True(t, ok)
	assert.Equal(t, leaver.ID, u.ID)
	assert.Equal(t, id, u.EmployeeID)
	assert.Equal(t, "TERMINATED", u.EmploymentStatus)
	assert.True(t, u.IsDeleted, "deleted after the grace period")
	assert.Len(t, notesWith(e.sim, res.RequestID, "/plan -->", "found by employee id"), 1,
		"the plan on the request tells IT that the account's email is not the HR record's")
	e.requireNoKeyLeak(run.GetID(), run.GetRunID())
}

// TestCancelledOnboardingAfterAnEmailChangeInAtomicwork: the hire's email was changed in
// Atomicwork while the onboarding waited for day one; withdrawing the offer still deactivates the
// account the onboarding created (it used to stay active: the email lookup found nobody).
func TestCancelledOnboardingAfterAnEmailChangeInAtomicwork(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	in := hire(1, time.Now().UTC().Add(30*24*time.Hour).Format(time.DateOnly))
	in.EmployeeID = testEmployeeID(t, in.EmployeeID)
	in.Entitlements, in.AssetTypes = []string{"okta-base"}, []string{"Laptop"}
	keepAvailable(t, e.sim, "Laptop", 1)
	e.startOnboarding(in)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	e.awaitOnboardingStage(ctx, in.EmployeeID, lifecycle.StageWaitingStart)

	created, ok := e.sim.UserByEmail(in.Email)
	require.True(t, ok)
	const renamed = "renamed.hire@example.com"
	_, err := e.sim.Client(t).PatchUser(ctx, created.ID, atomicwork.UserInput{Email: renamed})
	require.NoError(t, err)

	e.cancelOnboarding(ctx, in.EmployeeID)

	u, ok := e.sim.UserByEmail(renamed)
	require.True(t, ok)
	assert.Equal(t, created.ID, u.ID)
	assert.True(t, u.IsDeleted, "the cancelled hire's account is not left active")
	assert.Equal(t, "CANCELLED", u.EmploymentStatus)
	assert.Empty(t, e.sim.AssetsOf(u.ID), "the laptop went back to stock")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Empty(c, e.sim.ActiveGrantsOf(u.ID), "no grant of the cancelled hire stays active")
	}, runDeadline, 250*time.Millisecond)
}

// TestCancelledRehireOnboardingPutsTheAccountBack: a former leaver is rehired under a new email;
// the onboarding takes her old account (restored, active, the new email), and when the offer is
// withdrawn the account goes back to how the offboarding left it: old email, TERMINATED since the
// same day, deleted, nothing granted or assigned.
func TestCancelledRehireOnboardingPutsTheAccountBack(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	var former atomicwork.User
	for _, u := range e.sim.Users() {
		if u.IsDeleted && u.EmployeeID != "" && u.TerminatedOn != nil {
			former = u
		}
	}
	require.NotZero(t, former.ID, "the demo dataset has an offboarded, deleted employee")
	in := hire(1, time.Now().UTC().Add(30*24*time.Hour).Format(time.DateOnly))
	in.EmployeeID = employeeID(t, e.sim, former)
	in.Email = "rehired.former@example.com"
	in.Entitlements, in.AssetTypes = []string{"okta-base"}, []string{"Laptop"}
	keepAvailable(t, e.sim, "Laptop", 1)
	e.startOnboarding(in)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	e.awaitOnboardingStage(ctx, in.EmployeeID, lifecycle.StageWaitingStart)
	adopted, ok := e.sim.UserByEmail(in.Email)
	require.True(t, ok)
	require.Equal(t, former.ID, adopted.ID, "the rehire got her old account back")
	require.False(t, adopted.IsDeleted)

	e.cancelOnboarding(ctx, in.EmployeeID)

	u, ok := e.sim.UserByEmail(former.Email)
	require.True(t, ok, "the account has its old email again")
	assert.Equal(t, former.ID, u.ID)
	assert.True(t, u.IsDeleted, "deleted again, as the offboarding left it")
	assert.Equal(t, former.EmploymentStatus, u.EmploymentStatus)
	require.NotNil(t, u.TerminatedOn)
	assert.Equal(t, *former.TerminatedOn, *u.TerminatedOn)
	_, kept := e.sim.UserByEmail(in.Email)
	assert.False(t, kept, "the withdrawn rehire's email is not left on the account")
	assert.Empty(t, e.sim.AssetsOf(u.ID), "the laptop went back to stock")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Empty(c, e.sim.ActiveGrantsOf(u.ID), "no grant of the withdrawn rehire stays active")
	}, runDeadline, 250*time.Millisecond)
}

// awaitOnboardingStage waits until the employee's onboarding reports the stage.
func (e *env) awaitOnboardingStage(ctx context.Context, employeeID, stage string) {
	e.t.Helper()
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		st, err := e.status(ctx, lifecycle.OnboardingID(employeeID))
		if assert.NoError(c, err) {
			assert.Equal(c, stage, st.Stage)
		}
	}, runDeadline, 250*time.Millisecond)
}

// cancelOnboarding cancels the employee's onboarding and waits for its cancelled result.
func (e *env) cancelOnboarding(ctx context.Context, employeeID string) {
	e.t.Helper()
	id := lifecycle.OnboardingID(employeeID)
	require.NoError(e.t, e.client.CancelWorkflow(ctx, id, ""))
	var res lifecycle.OnboardingResult
	require.NoError(e.t, e.client.GetWorkflow(ctx, id, "").Get(ctx, &res))
	assert.Equal(e.t, lifecycle.OutcomeCancelled, res.Outcome)
}
