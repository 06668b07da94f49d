package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// seededLeaver returns a demo user with a manager, active grants and an asset.
func seededLeaver(t *testing.T, sim *atomicworktest.Server) atomicwork.User {
	t.Helper()
	for _, u := range sim.Users() {
		if u.IsDeleted || u.Manager == nil {
			continue
		}
		grants, assets := 0, 0
		for _, g := range sim.Grants() {
			if g.User != nil && g.User.ID == u.ID && g.Active() {
				grants++
			}
		}
		for _, a := range sim.Assets() {
			if a.AssigneeID(atomicwork.FieldAssignedTo) == u.ID {
				assets++
			}
		}
		if grants >= 2 && assets >= 1 {
			return u
		}
	}
	t.Fatal("the demo dataset has no user with a manager, grants and an asset")
	return atomicwork.User{}
}

func TestLookupLeaver(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	u := seededLeaver(t, sim)

	l, err := acts.LookupLeaver(ctx, LeaverRequest{Email: u.Email, Disposition: "return"})
	require.NoError(t, err)
	assert.Equal(t, Leaver{UserID: u.ID}, l)

	l, err = acts.LookupLeaver(ctx, LeaverRequest{Email: u.Email, Disposition: dispositionManager})
	require.NoError(t, err)
	assert.Equal(t, u.Manager.ID, l.RecipientID)

	mgr, _ := sim.UserByEmail("it.manager@example.com")
	l, err = acts.LookupLeaver(ctx, LeaverRequest{Email: u.Email, Disposition: dispositionUser, RecipientEmail: mgr.Email})
	require.NoError(t, err)
	assert.Equal(t, mgr.ID, l.RecipientID)

	for _, bad := range []LeaverRequest{
		{Email: "nobody@example.com", Disposition: "return"},
		{Email: u.Email, Disposition: dispositionUser, RecipientEmail: "nobody@example.com"},
		{Email: u.Email, Disposition: dispositionUser, RecipientEmail: u.Email},
	} {
		_, err := acts.LookupLeaver(ctx, bad)
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		assert.True(t, appErr.NonRetryable(), "%+v", bad)
		assert.NotContains(t, err.Error(), "nobody@example.com", "errors reach histories: no emails")
	}
}

func TestRevocationFollowUpAndEscalationPath(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{RevocationDelay: 30 * time.Millisecond, FailRevocationOf: []string{"slack-member"}})
	ctx := context.Background()
	u := seededLeaver(t, sim)
	access, err := acts.ListAccess(ctx, AccessRequest{UserID: u.ID})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(access.Grants), 2)
	require.NotEmpty(t, access.Assets)

	var ids []int64
	var failing int64
	for _, g := range access.Grants {
		res, err := acts.RevokeGrant(ctx, RevokeRequest{GrantID: g.GrantID, Reason: "offboarding"})
		require.NoError(t, err)
		assert.Equal(t, atomicwork.RevocationInProgress, res.Revocation)
		ids = append(ids, g.GrantID)
		if g.Entitlement == "slack-member" {
			failing = g.GrantID
		}
	}
	require.NotZero(t, failing, "the demo user holds slack-member")

	// In progress: still active, and reported so by ListAccess.
	access, err = acts.ListAccess(ctx, AccessRequest{UserID: u.ID})
	require.NoError(t, err)
	for _, g := range access.Grants {
		assert.Contains(t, []string{atomicwork.RevocationInProgress, atomicwork.RevocationFailed}, g.Revocation)
	}

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		states, err := acts.RevocationStates(ctx, RevocationStatesRequest{GrantIDs: ids})
		if !assert.NoError(c, err) {
			return
		}
		for _, st := range states {
			if st.GrantID == failing {
				assert.Equal(c, atomicwork.RevocationFailed, st.Revocation)
			} else {
				assert.Equal(c, atomicwork.GrantRevoked, st.Status)
			}
		}
	}, 10*time.Second, 20*time.Millisecond)

	esc := EscalationRequest{Marker: Marker("offboarding-X", "escalation"), RequesterID: u.ID, Subject: "remove slack by hand", Description: "<p>x</p>"}
	writesLost(sim)
	_, err = acts.OpenEscalation(ctx, esc)
	require.Error(t, err)
	sim.SetFaults(atomicworktest.Faults{})
	ref := retry(t, 3, func() (RequestRef, error) { return acts.OpenEscalation(ctx, esc) })
	again, err := acts.OpenEscalation(ctx, esc)
	require.NoError(t, err)
	assert.Equal(t, ref, again, "one escalation per marker")

	done, err := acts.RequestDone(ctx, RequestStatusRequest{DisplayID: ref.DisplayID})
	require.NoError(t, err)
	assert.False(t, done)
	_, err = sim.Client(t).PatchRequest(ctx, ref.DisplayID, atomicwork.RequestPatch{Status: "Resolved"})
	require.NoError(t, err)
	done, err = acts.RequestDone(ctx, RequestStatusRequest{DisplayID: ref.DisplayID})
	require.NoError(t, err)
	assert.True(t, done)

	require.NoError(t, acts.ConfirmRevoked(ctx, ConfirmRevokedRequest{GrantID: failing, Reason: "removed by IT"}))
	require.NoError(t, acts.ConfirmRevoked(ctx, ConfirmRevokedRequest{GrantID: failing, Reason: "removed by IT"}))
	access, err = acts.ListAccess(ctx, AccessRequest{UserID: u.ID})
	require.NoError(t, err)
	assert.Empty(t, access.Grants)
}

func TestReclaimAssetConvergesAndRespectsOthers(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	u := seededLeaver(t, sim)
	access, err := acts.ListAccess(ctx, AccessRequest{UserID: u.ID})
	require.NoError(t, err)
	asset := access.Assets[0]

	// To the manager, with the write's answer lost once.
	writesLost(sim)
	_, err = acts.ReclaimAsset(ctx, ReclaimRequest{AssetID: asset.AssetID, FromUserID: u.ID, ToUserID: u.Manager.ID})
	require.Error(t, err)
	sim.SetFaults(atomicworktest.Faults{})
	res := retry(t, 3, func() (ReclaimResult, error) {
		return acts.ReclaimAsset(ctx, ReclaimRequest{AssetID: asset.AssetID, FromUserID: u.ID, ToUserID: u.Manager.ID})
	})
	assert.Equal(t, ReclaimResult{AssetID: asset.AssetID, Moved: true, ToUserID: u.Manager.ID}, res)
	for _, a := range sim.Assets() {
		if a.ID == asset.AssetID {
			assert.Equal(t, u.Manager.ID, a.AssigneeID(atomicwork.FieldAssignedTo))
			assert.Equal(t, atomicwork.AssetInUse, a.StatusValue(atomicwork.FieldStatus))
			assert.NotEmpty(t, a.FormFields["serial_number"])
		}
	}

	// Now the manager holds it: a reclaim "to stock from the leaver" must leave it alone.
	res, err = acts.ReclaimAsset(ctx, ReclaimRequest{AssetID: asset.AssetID, FromUserID: u.ID})
	require.NoError(t, err)
	assert.False(t, res.Moved)
	for _, a := range sim.Assets() {
		if a.ID == asset.AssetID {
			assert.Equal(t, u.Manager.ID, a.AssigneeID(atomicwork.FieldAssignedTo), "someone else's asset is never taken")
		}
	}
}

func TestTerminationDeleteAndRestoreAreIdempotent(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	u := seededLeaver(t, sim)

	writesLost(sim)
	require.Error(t, acts.RecordTermination(ctx, TerminationRequest{UserID: u.ID, TerminatedOn: "2026-11-27"}))
	sim.SetFaults(atomicworktest.Faults{})
	before := sim.Stats().WritesApplied
	require.NoError(t, acts.RecordTermination(ctx, TerminationRequest{UserID: u.ID, TerminatedOn: "2026-11-27"}))
	assert.Equal(t, before, sim.Stats().WritesApplied, "the lost write had applied: nothing to write again")
	got, _ := sim.UserByEmail(u.Email)
	assert.Equal(t, "TERMINATED", got.EmploymentStatus)
	require.NotNil(t, got.TerminatedOn)
	assert.Equal(t, "2026-11-27", *got.TerminatedOn)

	require.NoError(t, acts.DeleteLeaver(ctx, UserRequest{UserID: u.ID}))
	require.NoError(t, acts.DeleteLeaver(ctx, UserRequest{UserID: u.ID}))
	got, _ = sim.UserByEmail(u.Email)
	assert.True(t, got.IsDeleted)

	require.NoError(t, acts.RestoreLeaver(ctx, UserRequest{UserID: u.ID}))
	restored := sim.Stats().WritesApplied
	require.NoError(t, acts.RestoreLeaver(ctx, UserRequest{UserID: u.ID}))
	assert.Equal(t, restored, sim.Stats().WritesApplied, "restored already: nothing to write again")
	got, _ = sim.UserByEmail(u.Email)
	assert.False(t, got.IsDeleted)
	assert.Equal(t, "ACTIVE", got.EmploymentStatus)
	assert.Nil(t, got.TerminatedOn, "a rehired employee has no termination date")
}
