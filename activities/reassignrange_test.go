package activities

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// Simulator operations, as sim.Stats().Calls names them.
const (
	opGetAsset   = "GET /api/v1/assets/{asset_id}"
	opPutAsset   = "PUT /api/v1/assets/{asset_id}"
	opListAssets = "POST /api/v1/assets/list"
)

const ana = "ana.diaz@example.com"

// rangeRecorder is a client transport that counts the requests per asset and the most requests in
// flight at once (all of them, and those of single assets: reads and writes, not lists).
type rangeRecorder struct {
	next http.RoundTripper

	mu                    sync.Mutex
	reads, writes         map[int64]int
	inFlight, inFlightOne int
	maxInFlight, maxOne   int
}

func (rec *rangeRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	id, one := assetOfPath(r.URL.Path)
	rec.mu.Lock()
	rec.inFlight++
	rec.maxInFlight = max(rec.maxInFlight, rec.inFlight)
	if one {
		rec.inFlightOne++
		rec.maxOne = max(rec.maxOne, rec.inFlightOne)
		switch r.Method {
		case http.MethodGet:
			rec.reads[id]++
		case http.MethodPut, http.MethodPatch:
			rec.writes[id]++
		}
	}
	rec.mu.Unlock()
	defer func() {
		rec.mu.Lock()
		rec.inFlight--
		if one {
			rec.inFlightOne--
		}
		rec.mu.Unlock()
	}()
	return rec.next.RoundTrip(r)
}

// reset forgets the counts (not the requests in flight: call it between ranges).
func (rec *rangeRecorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.reads, rec.writes = map[int64]int{}, map[int64]int{}
	rec.maxInFlight, rec.maxOne = 0, 0
}

func (rec *rangeRecorder) counts() (reads, writes map[int64]int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return maps.Clone(rec.reads), maps.Clone(rec.writes)
}

// assetOfPath recognises /api/v1/assets/{id}.
func assetOfPath(path string) (int64, bool) {
	rest, ok := strings.CutPrefix(path, "/api/v1/assets/")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// recordedActivities returns activities whose client, with the given key, goes through a recorder.
func recordedActivities(t *testing.T, sim *atomicworktest.Server, key string) (*Activities, *rangeRecorder) {
	t.Helper()
	rec := &rangeRecorder{next: http.DefaultTransport}
	rec.reset()
	c, err := atomicwork.New(atomicwork.Config{BaseURL: sim.URL, APIKey: key, WorkspaceID: atomicworktest.ITWorkspaceID, Transport: rec})
	require.NoError(t, err)
	acts, err := New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: c}, atomicworktest.ITWorkspaceID, Policy{})
	require.NoError(t, err)
	return acts, rec
}

// execRange runs ReassignRange as a Temporal activity (attempt 1: the test environment has no
// other), resuming from heartbeat when given. beats, when set, gets each heartbeat sent.
func execRange(t *testing.T, acts *Activities, req ReassignRangeRequest, heartbeat *ReassignRangeResult, beats func(ReassignRangeResult)) (ReassignRangeResult, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	if heartbeat != nil {
		env.SetHeartbeatDetails(*heartbeat)
	}
	if beats != nil {
		env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
			var r ReassignRangeResult
			if assert.NoError(t, details.Get(&r)) {
				beats(r)
			}
		})
	}
	v, err := env.ExecuteActivity(acts.ReassignRange, req)
	if err != nil {
		return ReassignRangeResult{}, err
	}
	var out ReassignRangeResult
	require.NoError(t, v.Get(&out))
	return out, nil
}

// rangeError checks err is an ApplicationError of errType, retryable or not, and returns it with its
// details (the range's progress).
func rangeError(t *testing.T, err error, errType string, nonRetryable bool) (*temporal.ApplicationError, ReassignRangeResult) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an ApplicationError, got %v", err)
	require.Equal(t, errType, appErr.Type(), "%v", err)
	require.Equal(t, nonRetryable, appErr.NonRetryable(), "%v", err)
	var progress ReassignRangeResult
	require.NoError(t, appErr.Details(&progress), "the progress is the error's details")
	return appErr, progress
}

// endedIDs returns the ids of the ended assets, sorted; a duplicate shows as a repeated id.
func endedIDs(rs []AssetResult) []int64 {
	ids := make([]int64, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.AssetID)
	}
	slices.Sort(ids)
	return ids
}

func outcomes(rs []AssetResult) map[string]int {
	n := map[string]int{}
	for _, r := range rs {
		n[r.Outcome+r.ErrorType]++
	}
	return n
}

func assetsByID(sim *atomicworktest.Server) map[int64]atomicwork.Asset {
	out := map[int64]atomicwork.Asset{}
	for _, a := range sim.Assets() {
		out[a.ID] = a
	}
	return out
}

func totalCalls(sim *atomicworktest.Server) (n int) {
	for _, byStatus := range sim.Stats().Calls {
		for _, c := range byStatus {
			n += c
		}
	}
	return n
}

func opCalls(sim *atomicworktest.Server, op string) (n int) {
	for _, c := range sim.Stats().Calls[op] {
		n += c
	}
	return n
}

// assertAt checks that every asset of ids is with assignee (0: stock) in status.
func assertAt(t *testing.T, sim *atomicworktest.Server, ids []int64, assignee int64, status string) {
	t.Helper()
	all := assetsByID(sim)
	for _, id := range ids {
		a, ok := all[id]
		if !assert.True(t, ok, "asset %d", id) {
			continue
		}
		assert.Equal(t, assignee, a.AssigneeID(atomicwork.FieldAssignedTo), "assignee of asset %d", id)
		assert.Equal(t, status, a.StatusValue(atomicwork.FieldStatus), "status of asset %d", id)
	}
}

// listAll lists a selection the way the workflow does, with NextAssetPage, up to max ids.
func listAll(t *testing.T, acts *Activities, req AssetPageRequest) AssetPage {
	t.Helper()
	page, err := acts.NextAssetPage(context.Background(), req)
	require.NoError(t, err)
	return page
}

func TestReassignRangeMovesEveryAssetOnce(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 250})
	boID := userID(t, sim, bo)
	want := assetsOf(sim, boID)
	require.GreaterOrEqual(t, len(want), 250)
	filter := AssetFilter{AssigneeID: boID}
	page := listAll(t, acts, AssetPageRequest{Filter: filter, Page: 1, PageSize: 100, Max: MaxRangeAssets})
	require.True(t, page.Done)
	require.Equal(t, want, page.AssetIDs)

	res, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: page.AssetIDs, Filter: filter,
		Status: atomicwork.AssetAvailable, Since: time.Now(), Concurrency: 8, Budget: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, want, endedIDs(res.Assets), "every asset of Bo ended, once")
	assert.Equal(t, map[string]int{AssetMoved: len(want)}, outcomes(res.Assets))
	assert.Empty(t, res.Pending)

	assert.Equal(t, len(want), sim.Stats().WritesApplied, "each asset written exactly once")
	assert.Equal(t, len(want), sim.Stats().Calls[opGetAsset][http.StatusOK], "each asset read once")
	assertAt(t, sim, want, 0, atomicwork.AssetAvailable)
	assert.Empty(t, assetsOf(sim, boID))
}

// TestReassignRangeListsTheNextRange: asked to, a range lists the ids after its own once they
// have ended (so its writes do not move the pages under the listing); it writes none of them.
func TestReassignRangeListsTheNextRange(t *testing.T) {
	for _, selection := range []struct {
		name   string
		filter func(sim *atomicworktest.Server) AssetFilter
		status string
	}{
		{"assignee selector, left by the writes", func(sim *atomicworktest.Server) AssetFilter {
			return AssetFilter{AssigneeID: userID(t, sim, bo)}
		}, atomicwork.AssetAvailable},
		{"type selector, kept by the writes", func(sim *atomicworktest.Server) AssetFilter {
			return AssetFilter{AssetTypeID: sim.AssetTypeID("Laptop")}
		}, ""},
	} {
		t.Run(selection.name, func(t *testing.T) {
			acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 450})
			filter := selection.filter(sim)
			var want []int64
			for _, a := range sim.Assets() {
				if filter.matches(sim.Client(t), &a) {
					want = append(want, a.ID)
				}
			}
			const size, first = 100, 200
			page := listAll(t, acts, AssetPageRequest{Filter: filter, Page: 1, PageSize: size, Max: first})
			require.Equal(t, want[:first], page.AssetIDs)
			hint := NextPageHint(page, first, size, filter.LeftByWrites(selection.status))
			next := &AssetPageRequest{Filter: filter, After: want[first-1], Page: hint, PageSize: size, Max: MaxRangeAssets}
			res, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: page.AssetIDs, Filter: filter,
				TargetUserID: userID(t, sim, "ana.diaz@example.com"), Status: selection.status, Since: time.Now(),
				Concurrency: 8, Budget: time.Minute, Next: next})
			require.NoError(t, err)
			assert.Equal(t, want[:first], endedIDs(res.Assets))
			require.NotNil(t, res.Next)
			assert.Equal(t, want[first:], res.Next.AssetIDs, "every id after the range, in order")
			assert.True(t, res.Next.Done)
			assert.Equal(t, outcomes(res.Assets)[AssetMoved], sim.Stats().WritesApplied, "only the range's own assets are written")
		})
	}
}

// TestReassignRangeInSlicesOfTheSelection: the workflow lists a slice of the selection (Max ids),
// moves it with a range, and lists the rest from the cursor and the page hint. The assignee
// selector is left by the writes (the hint stays), the type selector keeps them (the hint moves
// on with the cursor). Together the ranges move every asset once.
func TestReassignRangeInSlicesOfTheSelection(t *testing.T) {
	const slice, size = 120, 100
	// twoSlices moves the first slice ids, checks the state with between, and moves the rest.
	twoSlices := func(t *testing.T, acts *Activities, sim *atomicworktest.Server, req ReassignRangeRequest, want []int64, wantHint int,
		between func()) []AssetResult {
		t.Helper()
		leaves := req.Filter.LeftByWrites(req.Status)
		first := listAll(t, acts, AssetPageRequest{Filter: req.Filter, Page: 1, PageSize: size, Max: slice})
		require.Equal(t, want[:slice], first.AssetIDs, "the %d smallest ids", slice)
		require.False(t, first.Done)
		req.AssetIDs = first.AssetIDs
		a, err := acts.ReassignRange(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, want[:slice], endedIDs(a.Assets), "exactly the first slice")
		assert.Empty(t, a.Pending)
		between()

		hint := NextPageHint(first, len(first.AssetIDs), size, leaves)
		assert.Equal(t, wantHint, hint, "page hint")
		rest := listAll(t, acts, AssetPageRequest{Filter: req.Filter, After: first.AssetIDs[slice-1], Page: hint, PageSize: size, Max: MaxRangeAssets})
		require.True(t, rest.Done)
		require.Equal(t, want[slice:], rest.AssetIDs, "the rest, from the cursor")
		assert.LessOrEqual(t, first.Calls+rest.Calls, 2*((len(want)+size-1)/size)+1, "a right hint costs at most a probe per page")
		req.AssetIDs = rest.AssetIDs
		b, err := acts.ReassignRange(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, want[slice:], endedIDs(b.Assets), "exactly the rest")
		assert.Empty(t, b.Pending)
		all := append(slices.Clone(a.Assets), b.Assets...)
		assert.Equal(t, want, endedIDs(all), "together: every asset once")
		return all
	}

	t.Run("assignee selector, left by the writes", func(t *testing.T) {
		acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 250})
		boID := userID(t, sim, bo)
		want := assetsOf(sim, boID)
		req := ReassignRangeRequest{Filter: AssetFilter{AssigneeID: boID}, Status: atomicwork.AssetAvailable, Since: time.Now(),
			Concurrency: 8, Budget: time.Minute}
		require.True(t, req.Filter.LeftByWrites(req.Status))

		all := twoSlices(t, acts, sim, req, want, 1, func() {
			assert.Equal(t, slice, sim.Stats().WritesApplied)
			assertAt(t, sim, want[:slice], 0, atomicwork.AssetAvailable)
			assert.Equal(t, want[slice:], assetsOf(sim, boID), "the others untouched")
		})
		assert.Equal(t, map[string]int{AssetMoved: len(want)}, outcomes(all))
		assert.Equal(t, len(want), sim.Stats().WritesApplied, "no asset written twice")
		assertAt(t, sim, want, 0, atomicwork.AssetAvailable)
	})

	t.Run("type selector, kept by the writes", func(t *testing.T) {
		acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 250})
		laptop := sim.AssetTypeID("Laptop")
		anaID := userID(t, sim, ana)
		before := assetsByID(sim)
		var want []int64
		held := map[int64]bool{} // laptops Ana already has
		for _, a := range sim.Assets() {
			if a.TypeID() == laptop {
				want = append(want, a.ID)
				held[a.ID] = a.AssigneeID(atomicwork.FieldAssignedTo) == anaID
			}
		}
		require.Greater(t, len(want), 2*size+slice/2, "three pages of laptops")
		req := ReassignRangeRequest{Filter: AssetFilter{AssetTypeID: laptop}, TargetUserID: anaID, Since: time.Now(),
			Concurrency: 8, Budget: time.Minute}
		require.False(t, req.Filter.LeftByWrites(req.Status))

		// Rank 120 is on page 2 of pages of 100: the hint moves on with the cursor.
		all := twoSlices(t, acts, sim, req, want, 2, func() {
			after := assetsByID(sim)
			for i, id := range want {
				if i < slice {
					assert.Equal(t, anaID, after[id].AssigneeID(atomicwork.FieldAssignedTo), "asset %d moved", id)
				} else {
					assert.Equal(t, before[id].AssigneeID(atomicwork.FieldAssignedTo), after[id].AssigneeID(atomicwork.FieldAssignedTo), "asset %d untouched", id)
				}
				assert.Equal(t, before[id].StatusValue(atomicwork.FieldStatus), after[id].StatusValue(atomicwork.FieldStatus), "status of %d kept", id)
			}
		})
		nHeld := 0
		for _, r := range all {
			if held[r.AssetID] {
				nHeld++
				assert.Equal(t, AssetAlready, r.Outcome, "asset %d was Ana's", r.AssetID)
			} else {
				assert.Equal(t, AssetMoved, r.Outcome, "asset %d", r.AssetID)
			}
		}
		assert.Equal(t, len(want)-nHeld, sim.Stats().WritesApplied, "no asset written twice, none already there written")
		after := assetsByID(sim)
		for _, id := range want {
			assert.Equal(t, anaID, after[id].AssigneeID(atomicwork.FieldAssignedTo), "asset %d", id)
		}
	})
}

func TestReassignRangeExplicitIDs(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 10})
	boID := userID(t, sim, bo)
	anaID := userID(t, sim, ana)
	held := assetsOf(sim, boID)
	var stock int64 // an available laptop in stock: not Bo's
	for _, a := range sim.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == 0 && a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetAvailable {
			stock = a.ID
			break
		}
	}
	require.NotZero(t, stock)
	ids := []int64{held[4], 999999, held[0], stock, held[2], held[1], held[3]}
	req := ReassignRangeRequest{AssetIDs: ids, Filter: AssetFilter{AssigneeID: boID}, TargetUserID: anaID, Status: atomicwork.AssetInUse,
		Since: time.Now(), Concurrency: 3, Budget: time.Minute}

	res, err := acts.ReassignRange(context.Background(), req)
	require.NoError(t, err, "an unknown asset is an outcome of the asset, not an error of the range")
	assert.Equal(t, slices.Sorted(slices.Values(ids)), endedIDs(res.Assets), "each id ended once")
	for _, r := range res.Assets {
		switch r.AssetID {
		case 999999:
			assert.Equal(t, ErrNotFound, r.ErrorType)
			assert.NotEmpty(t, r.Error)
			assert.Empty(t, r.Outcome)
		case stock:
			assert.Equal(t, AssetResult{AssetID: stock, Outcome: AssetNotMatching}, r)
		default:
			assert.Equal(t, AssetResult{AssetID: r.AssetID, Outcome: AssetMoved}, r)
		}
	}
	assert.Empty(t, res.Pending)

	assert.Zero(t, opCalls(sim, opListAssets), "a range lists nothing")
	assert.Equal(t, 5, sim.Stats().WritesApplied)
	assertAt(t, sim, held[:5], anaID, atomicwork.AssetInUse)
	assertAt(t, sim, []int64{stock}, 0, atomicwork.AssetAvailable)
	assert.Equal(t, held[5:], assetsOf(sim, boID), "the others stay Bo's")
}

func TestReassignRangeStopsStartingAtItsBudget(t *testing.T) {
	t.Run("spent before the first asset", func(t *testing.T) {
		acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 10})
		boID := userID(t, sim, bo)
		held := assetsOf(sim, boID)
		ids := slices.Clone(held[:10])
		slices.Reverse(ids)
		res, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: ids, Filter: AssetFilter{AssigneeID: boID},
			Status: atomicwork.AssetAvailable, Since: time.Now(), Concurrency: 4, Budget: time.Nanosecond})
		require.NoError(t, err, "a spent budget is no error: the workflow queues the rest")
		assert.Empty(t, res.Assets)
		assert.Equal(t, held[:10], res.Pending, "every given asset pending, in id order")
		assert.Zero(t, totalCalls(sim), "nothing started")
		assert.Zero(t, sim.Stats().WritesApplied)
		assert.Equal(t, held, assetsOf(sim, boID))
	})

	t.Run("runs out mid-range", func(t *testing.T) {
		acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 20, Faults: atomicworktest.Faults{Latency: 20 * time.Millisecond}})
		boID := userID(t, sim, bo)
		held := assetsOf(sim, boID)[:20]
		res, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: held, Filter: AssetFilter{AssigneeID: boID},
			Status: atomicwork.AssetAvailable, Since: time.Now(), Concurrency: 1, Budget: 150 * time.Millisecond})
		require.NoError(t, err)
		require.NotEmpty(t, res.Assets, "the first asset starts at once")
		require.NotEmpty(t, res.Pending, "20 assets of 40ms each do not fit in 150ms")
		ended := endedIDs(res.Assets)
		assert.Equal(t, held, slices.Sorted(slices.Values(append(slices.Clone(ended), res.Pending...))), "every asset ended or pending, not both")
		assert.Equal(t, held[:len(ended)], ended, "in id order, one at a time")
		assert.Equal(t, map[string]int{AssetMoved: len(ended)}, outcomes(res.Assets))
		assert.Equal(t, len(ended), sim.Stats().WritesApplied, "nothing written for the pending ones")
		assert.Equal(t, len(ended), opCalls(sim, opGetAsset), "the pending ones were not even read")
		assertAt(t, sim, ended, 0, atomicwork.AssetAvailable)
		assertAt(t, sim, res.Pending, boID, atomicwork.AssetInUse)
	})
}

// TestReassignRangeResumesAfterARateLimit: a 429 stops the range; its error is retryable, after
// Retry-After, with the progress as details. The retry resumes from them as heartbeat details:
// no ended asset is read again, none written twice.
func TestReassignRangeResumesAfterARateLimit(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 30})
	acts, rec := recordedActivities(t, sim, atomicworktest.DevKey)
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)
	ids := slices.Clone(held)
	slices.Reverse(ids)
	req := ReassignRangeRequest{AssetIDs: ids, Filter: AssetFilter{AssigneeID: boID}, Status: atomicwork.AssetAvailable, Since: time.Now(),
		Concurrency: 1, Budget: time.Minute}

	// 7 requests pass: three assets (a read and a write each), the fourth's read.
	sim.SetRateLimit(0.001, 7)
	out, err := acts.ReassignRange(context.Background(), req)
	appErr, progress := rangeError(t, err, ErrRateLimited, false)
	assert.Positive(t, appErr.NextRetryDelay(), "Retry-After becomes the delay, the activity does not sleep")
	assert.Equal(t, out, progress, "the details are the answer")
	assert.Equal(t, []AssetResult{{AssetID: held[0], Outcome: AssetMoved}, {AssetID: held[1], Outcome: AssetMoved}, {AssetID: held[2], Outcome: AssetMoved}},
		progress.Assets)
	assert.Equal(t, held[3:], progress.Pending, "the rest")
	assert.Equal(t, 3, sim.Stats().WritesApplied)
	assertAt(t, sim, held[:3], 0, atomicwork.AssetAvailable)
	assert.Equal(t, held[3:], assetsOf(sim, boID))
	readsBefore, _ := rec.counts()
	t.Logf("first attempt: %d assets read", len(readsBefore))
	assert.LessOrEqual(t, len(readsBefore), 5, "no asset starts after the 429 (but the one handed over already)")

	sim.SetRateLimit(0, 0)
	rec.reset()
	res, err := execRange(t, acts, req, &progress, nil)
	require.NoError(t, err)
	assert.Equal(t, progress.Assets, res.Assets[:3], "the ended assets carried over")
	assert.Equal(t, held, endedIDs(res.Assets), "every asset once")
	assert.Equal(t, map[string]int{AssetMoved: len(held)}, outcomes(res.Assets))
	assert.Empty(t, res.Pending)

	reads, writes := rec.counts()
	for i, id := range held {
		want := 1
		if i < 3 {
			want = 0
		}
		assert.Equal(t, want, reads[id], "reads of asset %d in the retry", id)
		assert.Equal(t, want, writes[id], "writes of asset %d in the retry", id)
	}
	assert.Equal(t, len(held), sim.Stats().WritesApplied, "no asset written twice")
	assertAt(t, sim, held, 0, atomicwork.AssetAvailable)
}

// TestReassignRangeConvergesWhenWriteAnswersAreLost: writes apply and answer 500 (and some
// requests fail outright); an attempt that leaves assets pending fails with its progress as
// details, and each retry resumes from the last error's details with Again set (the test
// environment runs every activity as attempt 1), until the range succeeds. (The range retries
// within its attempt while assets keep ending, so its first attempt may already succeed.)
func TestReassignRangeConvergesWhenWriteAnswersAreLost(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 60})
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)
	req := ReassignRangeRequest{AssetIDs: held, Filter: AssetFilter{AssigneeID: boID}, Status: atomicwork.AssetAvailable, Since: time.Now(),
		Concurrency: 4, Budget: time.Minute}
	sim.SetFaults(atomicworktest.Faults{Seed: 6, WriteThen500: 0.6, ServerError: 0.1})

	res, err := acts.ReassignRange(context.Background(), req)
	req.Again = true
	attempts := 1
	for ; err != nil && attempts < 30; attempts++ {
		var progress ReassignRangeResult
		_, progress = rangeError(t, err, ErrUnavailable, false)
		require.NotEmpty(t, progress.Pending)
		assert.Equal(t, held, slices.Sorted(slices.Values(append(endedIDs(progress.Assets), progress.Pending...))),
			"no fault stops the range: every asset ended or pending")
		var mu sync.Mutex
		var last *ReassignRangeResult
		res, err = execRange(t, acts, req, &progress, func(r ReassignRangeResult) { mu.Lock(); last = &r; mu.Unlock() })
		if err != nil {
			_, failed := rangeError(t, err, ErrUnavailable, false)
			mu.Lock()
			if assert.NotNil(t, last, "a failed attempt heartbeats its progress") {
				assert.Equal(t, failed, *last, "the last heartbeat is the error's details")
			}
			mu.Unlock()
		}
	}
	require.NoError(t, err, "still failing after %d attempts", attempts)
	t.Logf("%d assets: %d attempt(s), faults %v", len(held), attempts, sim.Stats().FaultsInjected)

	require.Positive(t, sim.Stats().FaultsInjected[atomicworktest.FaultWriteThen500])
	assert.Equal(t, held, endedIDs(res.Assets), "every asset once")
	assert.Equal(t, map[string]int{AssetMoved: len(held)}, outcomes(res.Assets), "a lost answer's write counts as moved")
	assert.Empty(t, res.Pending)
	assert.Equal(t, len(held), sim.Stats().WritesApplied, "no second write to an asset already there")
	assertAt(t, sim, held, 0, atomicwork.AssetAvailable)
}

func TestReassignRangeStopsOnARejectedKey(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 40})
	acts, _ := recordedActivities(t, sim, "wrong")
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)
	ids := slices.Clone(held)
	slices.Reverse(ids)
	const concurrency = 4
	req := ReassignRangeRequest{AssetIDs: ids, Filter: AssetFilter{AssigneeID: boID}, Status: atomicwork.AssetAvailable, Since: time.Now(),
		Concurrency: concurrency, Budget: time.Minute,
		// A failed range lists nothing: below, every call is a read answered 401.
		Next: &AssetPageRequest{Filter: AssetFilter{AssigneeID: boID}, After: held[len(held)-1], Page: 1, PageSize: 100, Max: MaxRangeAssets}}

	_, err := acts.ReassignRange(context.Background(), req)
	_, progress := rangeError(t, err, ErrUnauthorized, true)
	assert.Empty(t, progress.Assets, "a rejected key is no outcome of an asset")
	assert.Equal(t, held, progress.Pending, "every asset pending")
	calls := totalCalls(sim)
	t.Logf("%d calls for %d assets", calls, len(held))
	assert.Equal(t, calls, sim.Stats().Calls[opGetAsset][http.StatusUnauthorized])
	assert.LessOrEqual(t, calls, concurrency+1, "the range stopped at the first 401, not after %d assets", len(held))
	assert.Zero(t, sim.Stats().WritesApplied)
	assert.Equal(t, held, assetsOf(sim, boID))
}

func TestReassignRangeRejectsInvalidInput(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 3})
	ok := ReassignRangeRequest{AssetIDs: []int64{1}, Concurrency: 2, Budget: time.Minute}
	tooMany := make([]int64, MaxRangeAssets+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	for name, edit := range map[string]func(*ReassignRangeRequest){
		"no concurrency":           func(r *ReassignRangeRequest) { r.Concurrency = 0 },
		"negative concurrency":     func(r *ReassignRangeRequest) { r.Concurrency = -1 },
		"concurrency over the max": func(r *ReassignRangeRequest) { r.Concurrency = MaxRangeConcurrency + 1 },
		"too many ids":             func(r *ReassignRangeRequest) { r.AssetIDs = tooMany },
		"no ids":                   func(r *ReassignRangeRequest) { r.AssetIDs = nil },
		"no budget":                func(r *ReassignRangeRequest) { r.Budget = 0 },
		"negative budget":          func(r *ReassignRangeRequest) { r.Budget = -time.Second },
	} {
		req := ok
		edit(&req)
		_, err := acts.ReassignRange(context.Background(), req)
		var appErr *temporal.ApplicationError
		if assert.True(t, errors.As(err, &appErr), "%s: %v", name, err) {
			assert.Equal(t, ErrInvalidInput, appErr.Type(), name)
			assert.True(t, appErr.NonRetryable(), name)
		}
	}

	req := ok
	req.WorkspaceID = 77
	_, err := acts.ReassignRange(context.Background(), req)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrNoWorkspace, appErr.Type())
	assert.True(t, appErr.NonRetryable())

	assert.Zero(t, totalCalls(sim), "nothing called")

	// The edges are valid (a spent budget: nothing starts).
	edge := ReassignRangeRequest{AssetIDs: tooMany[:MaxRangeAssets], Concurrency: MaxRangeConcurrency, Budget: time.Nanosecond}
	res, err := acts.ReassignRange(context.Background(), edge)
	require.NoError(t, err)
	assert.Len(t, res.Pending, MaxRangeAssets)
}

// TestReassignRangeBoundsItsConcurrency: with every request slowed down, never more than
// Concurrency assets are in flight (a range lists nothing: no other request either).
func TestReassignRangeBoundsItsConcurrency(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 40, Faults: atomicworktest.Faults{Latency: 5 * time.Millisecond}})
	acts, rec := recordedActivities(t, sim, atomicworktest.DevKey)
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)
	const concurrency = 4
	res, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: held, Filter: AssetFilter{AssigneeID: boID},
		Status: atomicwork.AssetAvailable, Since: time.Now(), Concurrency: concurrency, Budget: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, held, endedIDs(res.Assets))
	assert.Equal(t, len(held), sim.Stats().WritesApplied)

	rec.mu.Lock()
	maxOne, maxAll := rec.maxOne, rec.maxInFlight
	rec.mu.Unlock()
	t.Logf("at most %d asset requests and %d requests in flight", maxOne, maxAll)
	assert.LessOrEqual(t, maxOne, concurrency, "asset requests in flight")
	assert.LessOrEqual(t, maxAll, concurrency+1, "requests in flight, any list call included")
	assert.Greater(t, maxOne, 1, "the assets do move concurrently")
}
