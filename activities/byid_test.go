package activities

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// People are found by HR employee id first, then by email: an email changed in Atomicwork after
// the HR record was written must neither leave a leaver with access nor keep a cancelled hire's
// account active.

// changeEmail changes a user's email in Atomicwork, the way an admin would.
func changeEmail(t *testing.T, sim *atomicworktest.Server, id int64, email string) {
	t.Helper()
	_, err := sim.Client(t).PatchUser(context.Background(), id, atomicwork.UserInput{Email: email})
	require.NoError(t, err)
	_, ok := sim.UserByEmail(email)
	require.True(t, ok, "the simulator took the new email")
}

func TestLookupLeaverFindsTheEmployeeAfterAnEmailChange(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	u := seededLeaver(t, sim)
	require.NotEmpty(t, u.EmployeeID)
	changeEmail(t, sim, u.ID, "renamed.leaver@example.com")
	before := sim.Users()

	req := LeaverRequest{Email: u.Email, EmployeeID: u.EmployeeID, Disposition: dispositionManager}
	l := retry(t, 1, func() (Leaver, error) { return acts.LookupLeaver(ctx, req) })
	assert.Equal(t, Leaver{UserID: u.ID, RecipientID: u.Manager.ID, EmailDiffers: true}, l, "the employee id finds the person whose email changed, and says the emails differ")
	assert.Equal(t, before, sim.Users(), "finding the leaver writes nothing")

	_, err := acts.LookupLeaver(ctx, LeaverRequest{Email: u.Email, Disposition: dispositionManager})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "a request recorded without the employee id keeps the email lookup")
	assert.Equal(t, ErrUnknownUser, appErr.Type())
	assert.NotContains(t, err.Error(), "@")
}

func TestLookupLeaverRefusesWhenTheEmployeeIDAndTheEmailNameTwoUsers(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	u := seededLeaver(t, sim)
	changeEmail(t, sim, u.ID, "renamed.leaver@example.com")
	reused := userWithoutEmployeeID(t, sim, u.Email) // the old address given to someone else
	before := sim.Users()

	_, err := acts.LookupLeaver(ctx, LeaverRequest{Email: u.Email, EmployeeID: u.EmployeeID, Disposition: "return"})
	requireMismatch(t, err, u.EmployeeID, fmt.Sprint(u.ID), fmt.Sprint(reused.ID))
	assert.Equal(t, before, sim.Users(), "nothing is claimed or changed")
}

func TestTwoUsersWithOneEmployeeIDAreRefused(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	u := seededLeaver(t, sim)
	twin, err := sim.Client(t).CreateUser(ctx, atomicwork.UserInput{Email: "twin@example.com", FirstName: "Twin", EmployeeID: u.EmployeeID})
	require.NoError(t, err)
	before := sim.Users()

	_, err = acts.LookupLeaver(ctx, LeaverRequest{Email: u.Email, EmployeeID: u.EmployeeID, Disposition: "return"})
	requireMismatch(t, err, u.EmployeeID, fmt.Sprint(u.ID), fmt.Sprint(twin.ID))

	err = acts.DeactivateUser(ctx, DeactivateUserRequest{Email: u.Email, EmployeeID: u.EmployeeID, WorkflowID: "onboarding-" + u.EmployeeID})
	requireMismatch(t, err, u.EmployeeID, fmt.Sprint(u.ID), fmt.Sprint(twin.ID))
	assert.Equal(t, before, sim.Users(), "a refusal writes nothing")
}

func TestDeactivateUserFindsTheHireAfterAnEmailChange(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	req := userReq("onboarding-E-900")
	ref := retry(t, 1, func() (UserRef, error) { return acts.EnsureUser(ctx, req) })
	require.True(t, ref.Created)
	changeEmail(t, sim, ref.UserID, "renamed.hire@example.com")

	undo := DeactivateUserRequest{Email: req.Email, EmployeeID: req.EmployeeID, WorkflowID: req.WorkflowID}
	writesLost(sim)
	require.Error(t, acts.DeactivateUser(ctx, undo), "the first write applied but answered 500")
	sim.SetFaults(atomicworktest.Faults{})
	require.NoError(t, acts.DeactivateUser(ctx, undo))
	require.NoError(t, acts.DeactivateUser(ctx, undo), "a retry after it is done changes nothing")

	got := simUser(t, sim, "renamed.hire@example.com")
	assert.Equal(t, ref.UserID, got.ID)
	assert.True(t, got.IsDeleted, "the cancelled hire's account is not left active")
	assert.Equal(t, employmentCancelled, got.EmploymentStatus)

	// The employee id finds a user this onboarding did not create: it is left alone.
	ana := simUser(t, sim, "ana.diaz@example.com")
	require.NoError(t, acts.DeactivateUser(ctx, DeactivateUserRequest{Email: req.Email, EmployeeID: ana.EmployeeID, WorkflowID: req.WorkflowID}))
	assert.Equal(t, ana, simUser(t, sim, ana.Email))
}

// TestScanDriftFindsALeaverWhoseEmailChanged pins why reconciliation needs no lookup by employee
// id: it finds leavers by their state (deleted or TERMINATED) and works on user ids, so a changed
// email hides no drift. (A guard: this passed before the employee-id lookups too.)
func TestScanDriftFindsALeaverWhoseEmailChanged(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	u := seededLeaver(t, sim)
	// Terminated today: the seeded grants and assets (seeded now) predate it, so they are drift.
	_, err := sim.Client(t).UpdateUser(ctx, u.ID, atomicwork.UserInput{EmploymentStatus: employmentTerminated, TerminatedOn: time.Now().UTC().Format(time.DateOnly)})
	require.NoError(t, err)
	changeEmail(t, sim, u.ID, "renamed.leaver@example.com")

	scan, err := acts.ScanDrift(ctx, DriftScanRequest{Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), StaleAfter: 24 * time.Hour})
	require.NoError(t, err)
	var grants, assets int
	for _, g := range append(scan.Grants, scan.Handling...) {
		if g.UserID == u.ID {
			grants++
		}
	}
	for _, a := range scan.Assets {
		if a.UserID == u.ID {
			assets++
		}
	}
	assert.Equal(t, len(sim.ActiveGrantsOf(u.ID)), grants, "every active grant of the leaver is drift")
	assert.Equal(t, len(sim.AssetsOf(u.ID)), assets, "every asset of the leaver is drift")
	assert.NotZero(t, grants)
	assert.NotZero(t, assets)
}

// TestFoundByEmployeeIDLogsNoEmail: the info line that says the user was found under another
// email names the user and employee ids only.
func TestFoundByEmployeeIDLogsNoEmail(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	u := seededLeaver(t, sim)
	changeEmail(t, sim, u.ID, "renamed.leaver@example.com")

	var buf bytes.Buffer
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	v, err := env.ExecuteActivity(acts.LookupLeaver, LeaverRequest{Email: u.Email, EmployeeID: u.EmployeeID, Disposition: "return"})
	require.NoError(t, err)
	var l Leaver
	require.NoError(t, v.Get(&l))
	assert.Equal(t, u.ID, l.UserID)

	assert.Contains(t, buf.String(), "Found the employee's Atomicwork user by employee id")
	assert.Contains(t, buf.String(), fmt.Sprintf("AtomicworkUserId=%d", u.ID))
	assert.NotContains(t, buf.String(), "@", "logs carry no email")
}
