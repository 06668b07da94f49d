package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// These tests run the activities against the simulator, with its fault injection proving that
// each mutating step converges when the API applied a write and the answer was lost.

func newActivities(t *testing.T, opts atomicworktest.Options) (*Activities, *atomicworktest.Server) {
	t.Helper()
	sim := atomicworktest.NewServer(t, opts)
	acts, err := New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: sim.Client(t)}, atomicworktest.ITWorkspaceID, Policy{})
	require.NoError(t, err)
	return acts, sim
}

// retry calls fn like Temporal would: again on retryable errors, at most n times.
func retry[T any](t *testing.T, n int, fn func() (T, error)) T {
	t.Helper()
	var lastErr error
	for range n {
		v, err := fn()
		if err == nil {
			return v
		}
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.NonRetryable() {
			t.Fatalf("non-retryable error: %v", err)
		}
		lastErr = err
	}
	t.Fatalf("still failing after %d attempts: %v", n, lastErr)
	var zero T
	return zero
}

// writesLost makes every write apply and then answer 500.
func writesLost(sim *atomicworktest.Server) {
	sim.SetFaults(atomicworktest.Faults{Seed: 1, WriteThen500: 1})
}

func userReq(wf string) EnsureUserRequest {
	return EnsureUserRequest{WorkflowID: wf, Email: "new.hire@example.com", FirstName: "New", LastName: "Hire",
		EmployeeID: "E-900", TimeZone: "Europe/Paris", StartDate: "2026-12-01", ManagerEmail: "it.manager@example.com"}
}

func TestEnsureUserCreatesOnceDespiteLostAnswers(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	before := len(sim.Users())
	writesLost(sim)

	_, err := acts.EnsureUser(ctx, userReq("onboarding-E-900"))
	require.Error(t, err, "the create applied but answered 500")
	sim.SetFaults(atomicworktest.Faults{})
	ref := retry(t, 3, func() (UserRef, error) { return acts.EnsureUser(ctx, userReq("onboarding-E-900")) })

	assert.True(t, ref.Created, "the retry must recognise the user its lost create made")
	assert.Len(t, sim.Users(), before+1)
	u, ok := sim.UserByEmail("new.hire@example.com")
	require.True(t, ok)
	assert.Equal(t, ref.UserID, u.ID)
	assert.Equal(t, "E-900", u.EmployeeID, "a created user carries the employee id")
	require.NotNil(t, u.Manager)
	mgr, _ := sim.UserByEmail("it.manager@example.com")
	assert.Equal(t, mgr.ID, u.Manager.ID)

	again, err := acts.EnsureUser(ctx, userReq("onboarding-E-900"))
	require.NoError(t, err)
	assert.Equal(t, ref, again)

	other, err := acts.EnsureUser(ctx, userReq("onboarding-E-OTHER"))
	require.NoError(t, err)
	assert.False(t, other.Created, "another workflow did not create this user")
}

func TestEnsureUserRestoresSoftDeleted(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	var deleted atomicwork.User
	for _, u := range sim.Users() {
		if u.IsDeleted {
			deleted = u
		}
	}
	require.NotZero(t, deleted.ID, "the demo dataset has a soft-deleted user")
	req := userReq("onboarding-" + deleted.EmployeeID)
	req.Email, req.EmployeeID = deleted.Email, deleted.EmployeeID
	ref, err := acts.EnsureUser(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, UserRef{UserID: deleted.ID, Restored: true, Adopted: adoptedAccount(&deleted)}, ref)
	u, _ := sim.UserByEmail(deleted.Email)
	assert.False(t, u.IsDeleted)
}

// A rehire onboarded on the account an offboarding terminated and deleted gets it back active,
// without its termination date, so the reconciliation does not treat her as a leaver; a retry
// after a lost answer converges.
func TestEnsureUserReactivatesAFormerLeaver(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	var leaver atomicwork.User
	for _, u := range sim.Users() {
		if !u.IsDeleted && u.EmployeeID != "" && u.Email != "" {
			leaver = u
			break
		}
	}
	require.NoError(t, acts.RecordTermination(ctx, TerminationRequest{UserID: leaver.ID, TerminatedOn: "2026-10-30"}))
	require.NoError(t, acts.DeleteLeaver(ctx, UserRequest{UserID: leaver.ID}))
	req := userReq("onboarding-" + leaver.EmployeeID)
	req.Email, req.EmployeeID = leaver.Email, leaver.EmployeeID
	sim.SetFaults(atomicworktest.Faults{Seed: 3, WriteThen500: 0.5})
	var ref UserRef
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		ref, err = acts.EnsureUser(ctx, req)
		assert.NoError(c, err)
	}, time.Minute, 10*time.Millisecond, "retries converge")
	sim.SetFaults(atomicworktest.Faults{})
	assert.Equal(t, leaver.ID, ref.UserID)
	u, _ := sim.UserByEmail(leaver.Email)
	assert.False(t, u.IsDeleted)
	assert.Equal(t, "ACTIVE", u.EmploymentStatus)
	assert.Nil(t, u.TerminatedOn, "a rehire has no termination date")
}

// A restored account is a live one: whatever employment status it was deleted with (here one no
// offboarding sets), onboarding the employee on it makes it ACTIVE without terminated_on.
func TestEnsureUserRestoresSoftDeletedAsActive(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	var u atomicwork.User
	for _, c := range sim.Users() {
		if !c.IsDeleted && c.EmployeeID != "" && !strings.Contains(c.Email, "manager") {
			u = c
			break
		}
	}
	_, err := sim.Client(t).PatchUser(ctx, u.ID, atomicwork.UserInput{EmploymentStatus: "INACTIVE"})
	require.NoError(t, err)
	require.NoError(t, sim.Client(t).DeleteUser(ctx, u.ID))
	req := userReq("onboarding-" + u.EmployeeID)
	req.Email, req.EmployeeID = u.Email, u.EmployeeID

	ref, err := acts.EnsureUser(ctx, req)
	require.NoError(t, err)
	deletedInactive := u
	deletedInactive.IsDeleted, deletedInactive.EmploymentStatus = true, "INACTIVE"
	assert.Equal(t, UserRef{UserID: u.ID, Restored: true, Adopted: adoptedAccount(&deletedInactive)}, ref)
	got, _ := sim.UserByEmail(u.Email)
	assert.False(t, got.IsDeleted)
	assert.Equal(t, employmentActive, got.EmploymentStatus, "a restored account is a live account")
	assert.Nil(t, got.TerminatedOn)
}

func TestEnsureUserUnknownManagerIsPermanent(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	before := len(sim.Users())
	req := userReq("onboarding-E-902")
	req.ManagerEmail = "nobody@example.com"
	_, err := acts.EnsureUser(context.Background(), req)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.True(t, appErr.NonRetryable())
	assert.Equal(t, ErrUnknownUser, appErr.Type())
	assert.NotContains(t, err.Error(), "nobody@example.com", "errors reach histories: no emails")
	assert.Len(t, sim.Users(), before, "bad input changes nothing")
}

func TestRequestNotesAndResolveAreIdempotent(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	user := retry(t, 1, func() (UserRef, error) { return acts.EnsureUser(ctx, userReq("onboarding-E-900")) })
	before := len(sim.Requests())
	req := RequestToOpen{Marker: Marker("onboarding-E-900", "request"), Subject: "New hire onboarding: New Hire (E-900)",
		Description: "<p>plan</p>", RequesterID: user.UserID, CatalogItem: "New Hire Onboarding",
		ItemFields: map[string]any{"employee_name": "New Hire", "start_date": "2026-12-01", "not_a_field": "dropped"}}

	writesLost(sim)
	_, err := acts.EnsureRequest(ctx, req)
	require.Error(t, err)
	sim.SetFaults(atomicworktest.Faults{})
	ref := retry(t, 3, func() (RequestRef, error) { return acts.EnsureRequest(ctx, req) })
	assert.True(t, ref.FromCatalog)
	require.Len(t, sim.Requests(), before+1, "one request despite the lost answer")

	note := NoteRequest{DisplayID: ref.DisplayID, Marker: Marker("onboarding-E-900", "plan"), Description: "<p>plan</p>", Private: true}
	writesLost(sim)
	require.Error(t, acts.AddNote(ctx, note))
	sim.SetFaults(atomicworktest.Faults{})
	retry(t, 3, func() (struct{}, error) { return struct{}{}, acts.AddNote(ctx, note) })
	retry(t, 3, func() (struct{}, error) { return struct{}{}, acts.AddNote(ctx, note) })
	assert.Len(t, sim.Notes(ref.DisplayID), 1, "one note despite retries")

	writesLost(sim)
	require.Error(t, acts.ResolveRequest(ctx, RequestToResolve{DisplayID: ref.DisplayID}))
	sim.SetFaults(atomicworktest.Faults{})
	require.NoError(t, acts.ResolveRequest(ctx, RequestToResolve{DisplayID: ref.DisplayID}))
	for _, r := range sim.Requests() {
		if r.DisplayID == ref.DisplayID {
			assert.True(t, r.Status.Is(atomicwork.StatusResolved))
		}
	}

	// Closing finds the request by its marker, notes why once and leaves it resolved.
	closeReq := RequestToClose{Marker: req.Marker, RequesterID: user.UserID, NoteMarker: Marker("onboarding-E-900", "cancelled"), Note: "<p>offer withdrawn</p>"}
	require.NoError(t, acts.CloseRequest(ctx, closeReq))
	require.NoError(t, acts.CloseRequest(ctx, closeReq))
	assert.Len(t, sim.Notes(ref.DisplayID), 2)

	// Closing a request that was never opened does nothing.
	require.NoError(t, acts.CloseRequest(ctx, RequestToClose{Marker: "atomicflow:none/request", RequesterID: user.UserID, NoteMarker: "x", Note: "x"}))
}

func TestEnsureGrantOnceAndUndo(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	since := time.Now().Add(-time.Second)
	user := retry(t, 1, func() (UserRef, error) { return acts.EnsureUser(ctx, userReq("onboarding-E-900")) })
	okta := sim.EntitlementID("okta-base")
	req := GrantRequest{UserID: user.UserID, EntitlementID: okta, Entitlement: "okta-base", Since: since}

	writesLost(sim)
	_, err := acts.EnsureGrant(ctx, req)
	require.Error(t, err)
	sim.SetFaults(atomicworktest.Faults{})
	g := retry(t, 3, func() (lifecycle.GrantRef, error) { return acts.EnsureGrant(ctx, req) })
	assert.False(t, g.Preexisting, "granted by this workflow's lost write")
	assert.Equal(t, 1, activeGrants(sim, user.UserID, okta))

	// A grant older than the workflow is the user's own: reported, and left alone by undo.
	later := req
	later.Since = time.Now().Add(time.Hour)
	pre, err := acts.EnsureGrant(ctx, later)
	require.NoError(t, err)
	assert.True(t, pre.Preexisting)
	require.NoError(t, acts.UndoGrant(ctx, UndoGrantRequest{UserID: user.UserID, EntitlementID: okta, Since: later.Since, Reason: "test"}))
	assert.Equal(t, 1, activeGrants(sim, user.UserID, okta))

	require.NoError(t, acts.UndoGrant(ctx, UndoGrantRequest{UserID: user.UserID, EntitlementID: okta, Since: since, Reason: "cancelled"}))
	require.NoError(t, acts.UndoGrant(ctx, UndoGrantRequest{UserID: user.UserID, EntitlementID: okta, Since: since, Reason: "cancelled"}))
	assert.Eventually(t, func() bool { return activeGrants(sim, user.UserID, okta) == 0 }, 10*time.Second, 20*time.Millisecond)
}

func activeGrants(sim *atomicworktest.Server, userID, entitlementID int64) int {
	n := 0
	for _, g := range sim.Grants() {
		if g.User != nil && g.User.ID == userID && g.Entitlement != nil && g.Entitlement.ID == entitlementID && g.Active() &&
			(g.RevocationStatus == nil || g.RevocationStatus.Status != atomicwork.RevocationCompleted) {
			n++
		}
	}
	return n
}

func TestResolvePlanPolicyAndUnknownNames(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	acts.policy = Policy{
		Defaults: Provision{Entitlements: []string{"okta-base"}, AssetTypes: []string{"Laptop"}},
		Rules:    []Rule{{Department: "engineering", Provision: Provision{Entitlements: []string{"github-engineering", "okta-base"}, AssetTypes: []string{"Monitor"}}}},
	}
	ctx := context.Background()
	plan, err := acts.ResolvePlan(ctx, PlanRequest{Department: "Engineering"})
	require.NoError(t, err)
	assert.Equal(t, []lifecycle.PlannedEntitlement{{Name: "okta-base", ID: sim.EntitlementID("okta-base")}, {Name: "github-engineering", ID: sim.EntitlementID("github-engineering")}}, plan.Entitlements)
	assert.Equal(t, []lifecycle.PlannedAssetType{{Name: "Laptop", ID: sim.AssetTypeID("Laptop")}, {Name: "Monitor", ID: sim.AssetTypeID("Monitor")}}, plan.AssetTypes)
	assert.Equal(t, "policy", plan.EntitlementsFrom)

	plan, err = acts.ResolvePlan(ctx, PlanRequest{Department: "Engineering", Entitlements: []string{"slack-member"}, AssetTypes: []string{"phone"}})
	require.NoError(t, err)
	assert.Equal(t, "input", plan.EntitlementsFrom)
	assert.Len(t, plan.Entitlements, 1)
	assert.Equal(t, sim.AssetTypeID("Phone"), plan.AssetTypes[0].ID)

	for _, bad := range []PlanRequest{{Entitlements: []string{"no-such-group"}}, {AssetTypes: []string{"Spaceship"}}} {
		_, err = acts.ResolvePlan(ctx, bad)
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		assert.True(t, appErr.NonRetryable())
		assert.Equal(t, ErrUnknownName, appErr.Type())
	}
}

func laptopFilter(sim *atomicworktest.Server) func(a atomicwork.Asset) bool {
	laptop := sim.AssetTypeID("Laptop")
	return func(a atomicwork.Asset) bool { return a.TypeID() == laptop }
}

func TestAssignAssetConvergesAndKeepsOtherFields(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	since := time.Now().Add(-time.Second)
	user := retry(t, 1, func() (UserRef, error) { return acts.EnsureUser(ctx, userReq("onboarding-E-900")) })
	req := AssignAssetRequest{UserID: user.UserID, AssetTypeID: sim.AssetTypeID("Laptop"), AssetTypeName: "Laptop", Since: since}

	writesLost(sim)
	_, err := acts.AssignAsset(ctx, req)
	require.Error(t, err)
	sim.SetFaults(atomicworktest.Faults{})
	got := retry(t, 3, func() (lifecycle.AssetAssignment, error) { return acts.AssignAsset(ctx, req) })
	require.True(t, got.Assigned)
	assert.False(t, got.Preexisting)

	held := 0
	for _, a := range sim.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == user.UserID {
			held++
			assert.Equal(t, got.AssetID, a.ID)
			assert.Equal(t, atomicwork.AssetInUse, a.StatusValue(atomicwork.FieldStatus))
			assert.NotEmpty(t, a.FormFields["serial_number"], "read-modify-write keeps the other fields")
			assert.NotEmpty(t, a.FormFields["display_name"])
		}
	}
	assert.Equal(t, 1, held)

	again, err := acts.AssignAsset(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, got.AssetID, again.AssetID)

	require.NoError(t, acts.UndoAsset(ctx, UndoAssetRequest{UserID: user.UserID, AssetTypeID: req.AssetTypeID, Since: since}))
	require.NoError(t, acts.UndoAsset(ctx, UndoAssetRequest{UserID: user.UserID, AssetTypeID: req.AssetTypeID, Since: since}))
	for _, a := range sim.Assets() {
		if a.ID == got.AssetID {
			assert.Zero(t, a.AssigneeID(atomicwork.FieldAssignedTo))
			assert.Equal(t, atomicwork.AssetAvailable, a.StatusValue(atomicwork.FieldStatus))
		}
	}
}

func TestAssignAssetNeverGivesOneLaptopTwice(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	isLaptop := laptopFilter(sim)
	available := 0
	for _, a := range sim.Assets() {
		if isLaptop(a) && a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetAvailable && a.AssigneeID(atomicwork.FieldAssignedTo) == 0 {
			available++
		}
	}
	hires := available + 5
	users := make([]int64, hires)
	for i := range users {
		req := userReq(fmt.Sprintf("onboarding-E-%d", i))
		req.Email, req.EmployeeID = fmt.Sprintf("hire%d@example.com", i), fmt.Sprintf("E-%d", i)
		users[i] = retry(t, 1, func() (UserRef, error) { return acts.EnsureUser(ctx, req) }).UserID
	}

	var wg sync.WaitGroup
	results := make([]lifecycle.AssetAssignment, hires)
	for i, uid := range users {
		wg.Go(func() {
			r, err := acts.AssignAsset(ctx, AssignAssetRequest{UserID: uid, AssetTypeID: sim.AssetTypeID("Laptop"), AssetTypeName: "Laptop", Since: time.Now()})
			assert.NoError(t, err)
			results[i] = r
		})
	}
	wg.Wait()

	seen := map[int64]int64{}
	assigned := 0
	for i, r := range results {
		if !r.Assigned {
			continue
		}
		assigned++
		prev, dup := seen[r.AssetID]
		assert.False(t, dup, "laptop %d given to users %d and %d", r.AssetID, prev, users[i])
		seen[r.AssetID] = users[i]
	}
	assert.Equal(t, available, assigned, "every available laptop is used, none twice")
	for _, a := range sim.Assets() {
		if owner, ok := seen[a.ID]; ok {
			assert.Equal(t, owner, a.AssigneeID(atomicwork.FieldAssignedTo), "the simulator agrees on who holds laptop %d", a.ID)
		}
	}
}

func TestDeactivateUserOnlyTheWorkflowsOwn(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	ref := retry(t, 1, func() (UserRef, error) { return acts.EnsureUser(ctx, userReq("onboarding-E-900")) })

	require.NoError(t, acts.DeactivateUser(ctx, DeactivateUserRequest{Email: "it.manager@example.com", WorkflowID: "onboarding-E-900"}))
	mgr, _ := sim.UserByEmail("it.manager@example.com")
	assert.False(t, mgr.IsDeleted, "a user the workflow did not create is never deactivated")

	writesLost(sim)
	require.Error(t, acts.DeactivateUser(ctx, DeactivateUserRequest{Email: "new.hire@example.com", WorkflowID: "onboarding-E-900"}))
	sim.SetFaults(atomicworktest.Faults{})
	require.NoError(t, acts.DeactivateUser(ctx, DeactivateUserRequest{Email: "new.hire@example.com", WorkflowID: "onboarding-E-900"}))
	require.NoError(t, acts.DeactivateUser(ctx, DeactivateUserRequest{Email: "new.hire@example.com", WorkflowID: "onboarding-E-900"}))
	u, _ := sim.UserByEmail("new.hire@example.com")
	assert.Equal(t, ref.UserID, u.ID)
	assert.True(t, u.IsDeleted)
	assert.Equal(t, "CANCELLED", u.EmploymentStatus)

	require.NoError(t, acts.DeactivateUser(ctx, DeactivateUserRequest{Email: "never.created@example.com", WorkflowID: "onboarding-E-900"}))
}

func TestErrorMapping(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()

	sim.SetFaults(atomicworktest.Faults{Seed: 1, RateLimit: 1})
	_, err := acts.EnsureUser(ctx, userReq("onboarding-E-900"))
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrRateLimited, appErr.Type())
	assert.False(t, appErr.NonRetryable())
	assert.Equal(t, time.Second, appErr.NextRetryDelay(), "Retry-After becomes NextRetryDelay")

	sim.SetFaults(atomicworktest.Faults{Seed: 1, ServerError: 1})
	_, err = acts.EnsureUser(ctx, userReq("onboarding-E-900"))
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrUnavailable, appErr.Type())
	assert.False(t, appErr.NonRetryable())
	sim.SetFaults(atomicworktest.Faults{})

	err = acts.ResolveRequest(ctx, RequestToResolve{DisplayID: "ITSR-999999"})
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrNotFound, appErr.Type())
	assert.True(t, appErr.NonRetryable())

	_, err = acts.EnsureGrant(ctx, GrantRequest{UserID: 1, EntitlementID: 0})
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrInvalidInput, appErr.Type())

	_, err = acts.EnsureUser(ctx, EnsureUserRequest{WorkspaceID: 77, Email: "a@b.c"})
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrNoWorkspace, appErr.Type())
	assert.True(t, strings.Contains(err.Error(), "ATOMICWORK_KEYS_FILE"))
}

func TestPolicyParse(t *testing.T) {
	p, err := ParsePolicy([]byte(`
defaults:
  entitlements: [okta-base]
rules:
  - department: Engineering
    entitlements: [github-engineering]
    asset_types: [Laptop]
  - title: Designer
    asset_types: [Monitor, laptop]
`))
	require.NoError(t, err)
	assert.Equal(t, Provision{Entitlements: []string{"okta-base", "github-engineering"}, AssetTypes: []string{"Laptop", "Monitor"}},
		p.Resolve("engineering", "Designer"))
	assert.Equal(t, Provision{Entitlements: []string{"okta-base"}}, p.Resolve("Sales", "Rep"))

	_, err = ParsePolicy([]byte("rules:\n  - entitlements: [x]\n"))
	assert.ErrorContains(t, err, "neither department nor title")
	_, err = ParsePolicy([]byte("defaults:\n  entitlement: [x]\n"))
	assert.ErrorContains(t, err, "entitlement")
	empty, err := ParsePolicy(nil)
	require.NoError(t, err)
	assert.Equal(t, Provision{}, empty.Resolve("a", "b"))
}
