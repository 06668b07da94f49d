package activities

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

const bo = atomicworktest.DefaultExtraAssetsAssignee

// assetsOf returns the ids of the assets assigned to a user, ascending.
func assetsOf(sim *atomicworktest.Server, userID int64) []int64 {
	var ids []int64
	for _, a := range sim.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == userID {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

func userID(t *testing.T, sim *atomicworktest.Server, email string) int64 {
	t.Helper()
	u, ok := sim.UserByEmail(email)
	require.True(t, ok, email)
	return u.ID
}

func appType(t *testing.T, err error) string {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	return appErr.Type()
}

func TestResolveReassignment(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	ctx := context.Background()
	got, err := acts.ResolveReassignment(ctx, ResolveReassignmentRequest{AssigneeEmail: bo, AssetType: "laptop", TargetEmail: "ana.diaz@example.com"})
	require.NoError(t, err)
	assert.Equal(t, lifecycle.ResolvedReassignment{AssigneeID: userID(t, sim, bo), AssetTypeID: sim.AssetTypeID("Laptop"),
		TargetUserID: userID(t, sim, "ana.diaz@example.com")}, got)

	_, err = acts.ResolveReassignment(ctx, ResolveReassignmentRequest{TargetEmail: "nobody@example.com"})
	assert.Equal(t, ErrUnknownUser, appType(t, err))
	assert.NotContains(t, err.Error(), "nobody", "no email in errors (they reach the history unencrypted)")
	_, err = acts.ResolveReassignment(ctx, ResolveReassignmentRequest{AssetType: "Hoverboard"})
	assert.Equal(t, ErrUnknownName, appType(t, err))

	// A deleted user can be the source (a leaver) but not the target.
	require.NoError(t, sim.Client(t).DeleteUser(ctx, userID(t, sim, bo)))
	_, err = acts.ResolveReassignment(ctx, ResolveReassignmentRequest{AssigneeEmail: bo})
	require.NoError(t, err)
	_, err = acts.ResolveReassignment(ctx, ResolveReassignmentRequest{TargetEmail: bo})
	assert.Equal(t, ErrUnknownUser, appType(t, err))
	assert.Contains(t, err.Error(), "deleted")
}

func TestPlanReassignment(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 30})
	ctx := context.Background()
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)

	plan, err := acts.PlanReassignment(ctx, PlanReassignmentRequest{Filter: AssetFilter{AssigneeID: boID}, SampleSize: 10})
	require.NoError(t, err)
	assert.Equal(t, len(held), plan.Matched)
	require.Len(t, plan.Sample, 10)
	assert.Equal(t, held[0], plan.Sample[0].AssetID)
	assert.Equal(t, boID, plan.Sample[0].AssigneeID)
	assert.NotEmpty(t, plan.Sample[0].Label)

	plan, err = acts.PlanReassignment(ctx, PlanReassignmentRequest{AssetIDs: []int64{held[0], 999999}, SampleSize: 10})
	require.NoError(t, err)
	assert.Equal(t, 2, plan.Matched)
	assert.Equal(t, []lifecycle.AssetSample{plan.Sample[0], {AssetID: 999999, Missing: true}}, plan.Sample)

	_, err = acts.PlanReassignment(ctx, PlanReassignmentRequest{Filter: AssetFilter{Status: "BROKEN"}, SampleSize: 10})
	assert.Equal(t, ErrBadRequest, appType(t, err), "an unknown status is a bad request, not retried")
	assert.Equal(t, 0, sim.Stats().WritesApplied)
}

// pageAll pages through a selection the way the workflow does, up to max ids per listing (0: a
// page), calling handle on every listing before asking for the next one, and returns every id in
// the order it was returned.
func pageAll(t *testing.T, acts *Activities, filter AssetFilter, size, max int, hint func(AssetPage) int, handle func([]int64)) ([]int64, int) {
	t.Helper()
	var all []int64
	after, page, calls := int64(0), 1, 0
	for range 1000 {
		p, err := acts.NextAssetPage(context.Background(), AssetPageRequest{Filter: filter, After: after, Page: page, PageSize: size, Max: max})
		require.NoError(t, err)
		calls += p.Calls
		all = append(all, p.AssetIDs...)
		if len(p.AssetIDs) > 0 {
			after = p.AssetIDs[len(p.AssetIDs)-1]
		}
		handle(p.AssetIDs)
		if p.Done {
			return all, calls
		}
		page = hint(p)
	}
	t.Fatal("paging did not end")
	return nil, 0
}

// listings are the two ways the workflow lists: a page at a time (per asset), and up to a
// range's worth of ids, whole pages as ranges are, over several pages read at once (ranges).
var listings = []struct {
	name string
	max  int
}{{"a page at a time", 0}, {"several pages at once", 40}}

// TestNextAssetPageIsExactWhileWritesEmptyTheSelection: moving assets off "assigned to Bo" takes
// them out of the selection, so offset paging would skip half of them. Some writes fail (the
// assets stay in the selection), and the hint is sometimes wrong: every asset comes back once.
func TestNextAssetPageIsExactWhileWritesEmptyTheSelection(t *testing.T) {
	for _, l := range listings {
		t.Run(l.name, func(t *testing.T) {
			acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 230})
			c := sim.Client(t)
			boID := userID(t, sim, bo)
			want := assetsOf(sim, boID)
			rng := rand.New(rand.NewPCG(3, 4))
			got, calls := pageAll(t, acts, AssetFilter{AssigneeID: boID}, 7, l.max,
				func(p AssetPage) int { return max(1, p.Page+rng.IntN(5)-2) }, // a hint that is off by up to 2 pages
				func(ids []int64) {
					for _, id := range ids {
						if rng.IntN(10) == 0 {
							continue // this write "failed": the asset stays assigned to Bo
						}
						_, _, err := c.SetAssignment(context.Background(), id, atomicwork.Assignment{Status: atomicwork.AssetAvailable})
						require.NoError(t, err)
					}
				})
			assert.Equal(t, want, got, "every asset of Bo exactly once, in id order")
			t.Logf("%d assets, pages of 7: %d list calls", len(want), calls)
		})
	}
}

// TestNextAssetPageIsExactWhenTheSelectionStays: a type selection keeps the assets after the write.
func TestNextAssetPageIsExactWhenTheSelectionStays(t *testing.T) {
	for _, l := range listings {
		t.Run(l.name, func(t *testing.T) {
			acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 50})
			c := sim.Client(t)
			laptop := sim.AssetTypeID("Laptop")
			var want []int64
			for _, a := range sim.Assets() {
				if a.TypeID() == laptop {
					want = append(want, a.ID)
				}
			}
			ana := userID(t, sim, "ana.diaz@example.com")
			got, calls := pageAll(t, acts, AssetFilter{AssetTypeID: laptop}, 10, l.max,
				func(p AssetPage) int { return NextPageHint(p, len(p.AssetIDs), 10, false) },
				func(ids []int64) {
					for _, id := range ids {
						_, _, err := c.SetAssignment(context.Background(), id, atomicwork.Assignment{AssigneeID: ana})
						require.NoError(t, err)
					}
				})
			assert.Equal(t, want, got)
			pages := (len(want) + 9) / 10
			assert.LessOrEqual(t, calls, 2*pages+1, "a right hint costs at most a probe per page")
		})
	}
}

// TestNextAssetPageAfterOthersChangedAssetsBehindTheCursor: assets handled earlier leave the
// selection by another hand (the pages shift back under the cursor): none after it is missed.
func TestNextAssetPageAfterOthersChangedAssetsBehindTheCursor(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 40})
	c := sim.Client(t)
	ctx := context.Background()
	inUse := AssetFilter{Status: atomicwork.AssetInUse}
	first, err := acts.NextAssetPage(ctx, AssetPageRequest{Filter: inUse, Page: 1, PageSize: 10})
	require.NoError(t, err)
	require.Len(t, first.AssetIDs, 10)
	after := first.AssetIDs[9]
	// Someone retires three of the handled assets: page 2 would now start three assets late.
	for _, id := range first.AssetIDs[:3] {
		_, _, err := c.SetAssignment(ctx, id, atomicwork.Assignment{Status: atomicwork.AssetRetired})
		require.NoError(t, err)
	}
	next, err := acts.NextAssetPage(ctx, AssetPageRequest{Filter: inUse, After: after, Page: 2, PageSize: 10})
	require.NoError(t, err)
	var want []int64
	for _, a := range sim.Assets() {
		if a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetInUse && a.ID > after {
			want = append(want, a.ID)
		}
	}
	require.NotEmpty(t, next.AssetIDs)
	assert.Equal(t, want[:len(next.AssetIDs)], next.AssetIDs, "the first assets after the cursor, none skipped")
	assert.Equal(t, 1, next.Page, "found one page back")
}

func TestNextAssetPageOfAnEmptySelection(t *testing.T) {
	acts, _ := newActivities(t, atomicworktest.Options{})
	p, err := acts.NextAssetPage(context.Background(), AssetPageRequest{Filter: AssetFilter{Status: "RETIRED", AssigneeID: 999999}, Page: 4, PageSize: 10})
	require.NoError(t, err)
	assert.True(t, p.Done)
	assert.Empty(t, p.AssetIDs)
}

func TestReassignAsset(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 3})
	ctx := context.Background()
	boID := userID(t, sim, bo)
	ana := userID(t, sim, "ana.diaz@example.com")
	held := assetsOf(sim, boID)
	since := time.Now().Add(-time.Minute)
	req := func(id int64) ReassignAssetRequest {
		return ReassignAssetRequest{AssetID: id, Filter: AssetFilter{AssigneeID: boID}, TargetUserID: ana, Status: atomicwork.AssetInUse, Since: since}
	}

	res, err := acts.ReassignAsset(ctx, req(held[0]))
	require.NoError(t, err)
	assert.Equal(t, ReassignAssetResult{AssetID: held[0], Outcome: AssetMoved}, res)
	a := findAsset(t, sim, held[0])
	assert.Equal(t, ana, a.AssigneeID(atomicwork.FieldAssignedTo))
	assert.Equal(t, atomicwork.AssetInUse, a.StatusValue(atomicwork.FieldStatus))
	assert.NotEmpty(t, a.FormFields["serial_number"], "other fields are kept")

	writes := sim.Stats().WritesApplied
	res, err = acts.ReassignAsset(ctx, req(held[0]))
	require.NoError(t, err)
	assert.Equal(t, AssetAlready, res.Outcome, "a second run over the same asset writes nothing")
	assert.Equal(t, writes, sim.Stats().WritesApplied)

	// Someone gave the next asset to another user meanwhile: it no longer matches "assigned to Bo".
	grace := userID(t, sim, "it.manager@example.com")
	_, _, err = sim.Client(t).SetAssignment(ctx, held[1], atomicwork.Assignment{AssigneeID: grace})
	require.NoError(t, err)
	res, err = acts.ReassignAsset(ctx, req(held[1]))
	require.NoError(t, err)
	assert.Equal(t, AssetNotMatching, res.Outcome)
	assert.Equal(t, grace, findAsset(t, sim, held[1]).AssigneeID(atomicwork.FieldAssignedTo), "left alone")

	// Deleted meanwhile (the simulator serves no DELETE: an id it does not know answers the same 404).
	_, err = acts.ReassignAsset(ctx, req(999999))
	assert.Equal(t, ErrNotFound, appType(t, err))

	_, err = acts.ReassignAsset(ctx, ReassignAssetRequest{})
	assert.Equal(t, ErrInvalidInput, appType(t, err))
}

func TestReassignAssetConvergesWhenTheWriteAnswerIsLost(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 1})
	ctx := context.Background()
	boID := userID(t, sim, bo)
	id := assetsOf(sim, boID)[0]
	writesLost(sim)
	_, err := acts.ReassignAsset(ctx, ReassignAssetRequest{AssetID: id, Filter: AssetFilter{AssigneeID: boID}, Status: atomicwork.AssetAvailable})
	require.Error(t, err)
	assert.NotEqual(t, ErrBadRequest, appType(t, err), "a lost answer is retried")
	sim.SetFaults(atomicworktest.Faults{})
	res := retry(t, 3, func() (ReassignAssetResult, error) {
		return acts.ReassignAsset(ctx, ReassignAssetRequest{AssetID: id, Filter: AssetFilter{AssigneeID: boID}, Status: atomicwork.AssetAvailable})
	})
	assert.Equal(t, AssetAlready, res.Outcome, "outside Temporal there is no attempt number: the retry only sees the target state")
	assert.Equal(t, 1, sim.Stats().WritesApplied, "written once")
}

func TestReassignAssetHonoursRetryAfter(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 1, RPS: 1, Burst: 1})
	ctx := context.Background()
	boID := userID(t, sim, bo)
	id := assetsOf(sim, boID)[0]
	_, err := acts.ReassignAsset(ctx, ReassignAssetRequest{AssetID: id, Status: atomicwork.AssetAvailable})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	assert.Equal(t, ErrRateLimited, appErr.Type())
	assert.GreaterOrEqual(t, appErr.NextRetryDelay(), time.Second)
}

func TestNormalizeAssetStatus(t *testing.T) {
	for in, want := range map[string]string{"In Use": "IN_USE", "in-use": "IN_USE", " available ": "AVAILABLE", "RETIRED": "RETIRED"} {
		assert.Equal(t, want, lifecycle.NormalizeAssetStatus(in), in)
	}
}

func findAsset(t *testing.T, sim *atomicworktest.Server, id int64) atomicwork.Asset {
	t.Helper()
	assets := sim.Assets()
	i := slices.IndexFunc(assets, func(a atomicwork.Asset) bool { return a.ID == id })
	require.GreaterOrEqual(t, i, 0, "asset %d", id)
	return assets[i]
}

// TestNextAssetPageIsExactWhileWritesLandBetweenItsCalls: with as many assets in flight as a page
// holds, the writes of earlier pages land while the next page is looked for (and, listing
// several pages at once, between the pages and their probes).
func TestNextAssetPageIsExactWhileWritesLandBetweenItsCalls(t *testing.T) {
	for _, l := range listings {
		t.Run(l.name, func(t *testing.T) {
			sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 300})
			direct := sim.Client(t)
			lw := &atomicworktest.LandWrites{Next: http.DefaultTransport, Apply: func(id int64) {
				_, _, err := direct.SetAssignment(context.Background(), id, atomicwork.Assignment{Status: atomicwork.AssetAvailable})
				require.NoError(t, err)
			}}
			c, err := atomicwork.New(atomicwork.Config{BaseURL: sim.URL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID, Transport: lw})
			require.NoError(t, err)
			acts, err := New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: c}, atomicworktest.ITWorkspaceID, Policy{})
			require.NoError(t, err)
			boID := userID(t, sim, bo)
			want := assetsOf(sim, boID)
			got, calls := pageAll(t, acts, AssetFilter{AssigneeID: boID}, 10, l.max, func(p AssetPage) int { return p.Page },
				func(ids []int64) {
					lw.Later(ids...) // in flight: they land during the next calls
				})
			assert.Equal(t, want, got, "every asset once, in id order")
			t.Logf("%d assets, pages of 10, writes landing between calls: %d list calls", len(want), calls)
		})
	}
}
