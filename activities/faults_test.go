package activities

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// failing is a client transport that answers 503 to the requests fail picks, up to times each
// (0: always), and passes the others on. With retryAfter set it answers 429 with that
// Retry-After instead.
type failing struct {
	next       http.RoundTripper
	fail       func(r *http.Request) (key string, ok bool)
	times      int
	retryAfter string

	mu     sync.Mutex
	failed map[string]int
}

func (f *failing) RoundTrip(r *http.Request) (*http.Response, error) {
	if key, ok := f.fail(r); ok {
		f.mu.Lock()
		n := f.failed[key]
		hit := f.times == 0 || n < f.times
		if hit {
			f.failed[key] = n + 1
		}
		f.mu.Unlock()
		if hit && f.retryAfter != "" {
			if r.Body != nil {
				_ = r.Body.Close()
			}
			return &http.Response{StatusCode: http.StatusTooManyRequests, Status: "429 Too Many Requests", Request: r,
				Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {f.retryAfter}},
				Body:   io.NopCloser(strings.NewReader(`{"error":"Too many requests","code":"RATE_LIMITED"}`))}, nil
		}
		if hit {
			if r.Body != nil {
				_ = r.Body.Close()
			}
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable", Request: r,
				Header: http.Header{"Content-Type": {"application/json"}},
				Body:   io.NopCloser(strings.NewReader(`{"error":"test fault: unavailable","code":"INTERNAL"}`))}, nil
		}
	}
	return f.next.RoundTrip(r)
}

// failingActivities returns activities whose client goes through a failing transport.
func failingActivities(t *testing.T, sim *atomicworktest.Server, f *failing) *Activities {
	t.Helper()
	f.next, f.failed = http.DefaultTransport, map[string]int{}
	c, err := atomicwork.New(atomicwork.Config{BaseURL: sim.URL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID, Transport: f})
	require.NoError(t, err)
	acts, err := New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: c}, atomicworktest.ITWorkspaceID, Policy{})
	require.NoError(t, err)
	return acts
}

// listOfPage picks the assets/list calls of one page at one page size.
func listOfPage(page, perPage string) func(r *http.Request) (string, bool) {
	return func(r *http.Request) (string, bool) {
		q := r.URL.Query()
		return "list " + page, strings.HasSuffix(r.URL.Path, "/assets/list") && q.Get("page") == page && q.Get("per_page") == perPage
	}
}

// TestNextAssetPageHandsBackThePagesReadBeforeOneFails: listing several pages at once, a page
// that still fails after its inline retries ends the listing there: the pages before it come
// back (not Done), and the next listing goes on from the cursor. Every asset comes back once,
// in id order.
func TestNextAssetPageHandsBackThePagesReadBeforeOneFails(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 60})
	// Page 3 (of 10) fails for one listing's worth of tries, then answers.
	f := &failing{fail: listOfPage("3", "10"), times: maxListTries}
	acts := failingActivities(t, sim, f)
	boID := userID(t, sim, bo)
	want := assetsOf(sim, boID)
	require.Greater(t, len(want), 50)
	filter := AssetFilter{AssigneeID: boID}

	first, err := acts.NextAssetPage(context.Background(), AssetPageRequest{Filter: filter, Page: 1, PageSize: 10, Max: 50})
	require.NoError(t, err, "the pages read before the failing one are progress, not an error")
	assert.Equal(t, want[:20], first.AssetIDs, "pages 1 and 2, proven joined")
	assert.False(t, first.Done, "a listing cut short is not the end of the selection")

	got := slices.Clone(first.AssetIDs)
	after, page := first.AssetIDs[len(first.AssetIDs)-1], NextPageHint(first, len(first.AssetIDs), 10, false)
	for range 20 {
		p, err := acts.NextAssetPage(context.Background(), AssetPageRequest{Filter: filter, After: after, Page: page, PageSize: 10, Max: 50})
		require.NoError(t, err)
		got = append(got, p.AssetIDs...)
		if p.Done {
			break
		}
		after, page = p.AssetIDs[len(p.AssetIDs)-1], NextPageHint(p, len(p.AssetIDs), 10, false)
	}
	assert.Equal(t, want, got, "every asset once, in id order")
}

// TestNextAssetPageRetriesAFlakyPageInline: a page or probe that fails a few times is tried again
// within the listing, which then reads every page it was asked for.
func TestNextAssetPageRetriesAFlakyPageInline(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 60})
	f := &failing{times: maxListTries - 1, fail: func(r *http.Request) (string, bool) {
		return r.URL.RawQuery, strings.HasSuffix(r.URL.Path, "/assets/list") // every list call fails, the first few times
	}}
	acts := failingActivities(t, sim, f)
	boID := userID(t, sim, bo)
	want := assetsOf(sim, boID)

	got, err := acts.NextAssetPage(context.Background(), AssetPageRequest{Filter: AssetFilter{AssigneeID: boID}, Page: 1, PageSize: 10, Max: 200})
	require.NoError(t, err)
	assert.Equal(t, want, got.AssetIDs, "every page read despite the failures")
	assert.True(t, got.Done)
}

// TestNextAssetPageUnderHeavyFaults: with a third of the calls failing, listings still make
// progress: most listings hand back ids, and paging from the cursor (retrying a listing that
// failed, as Temporal does) returns every asset once, in id order.
func TestNextAssetPageUnderHeavyFaults(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{ExtraAssets: 230})
	boID := userID(t, sim, bo)
	want := assetsOf(sim, boID)
	sim.SetFaults(atomicworktest.Faults{Seed: 13, ServerError: 0.35})

	var got []int64
	after, page, failed, listings := int64(0), 1, 0, 0
	for range 200 {
		p, err := acts.NextAssetPage(context.Background(), AssetPageRequest{Filter: AssetFilter{AssigneeID: boID}, After: after, Page: page, PageSize: 20, Max: 100})
		listings++
		if err != nil {
			failed++
			continue
		}
		got = append(got, p.AssetIDs...)
		if p.Done {
			break
		}
		after, page = p.AssetIDs[len(p.AssetIDs)-1], NextPageHint(p, len(p.AssetIDs), 20, false)
	}
	t.Logf("%d listings, %d failed; faults %v", listings, failed, sim.Stats().FaultsInjected)
	assert.Equal(t, want, got, "every asset once, in id order")
	assert.Less(t, failed, listings/2, "most listings make progress")
}

// TestReassignRangeRetriesSoonAfterProgress: an attempt that moved assets and then had some
// fail hands them back as its error's details and asks to be retried soon (not after the
// policy's growing backoff); one that moved nothing leaves the delay to the policy.
func TestReassignRangeRetriesSoonAfterProgress(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 20})
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)[:20]
	stuck := map[string]bool{}
	for _, id := range held[5:8] {
		stuck["/api/v1/assets/"+strconv.FormatInt(id, 10)] = true
	}
	f := &failing{fail: func(r *http.Request) (string, bool) { return r.URL.Path, stuck[r.URL.Path] }}
	acts := failingActivities(t, sim, f)
	req := ReassignRangeRequest{AssetIDs: held, Filter: AssetFilter{AssigneeID: boID}, Status: atomicwork.AssetAvailable,
		Since: time.Now(), Concurrency: 4, Budget: time.Minute}

	_, err := acts.ReassignRange(context.Background(), req)
	appErr, progress := rangeError(t, err, ErrUnavailable, false)
	assert.Equal(t, held[5:8], progress.Pending, "the failing assets are left")
	assert.Equal(t, append(slices.Clone(held[:5]), held[8:]...), endedIDs(progress.Assets), "the others moved")
	assert.Equal(t, progressRetry, appErr.NextRetryDelay(), "progress made: retried soon")
	assertAt(t, sim, endedIDs(progress.Assets), 0, atomicwork.AssetAvailable)

	// Resumed, with only the failing assets left: nothing moves, the policy's backoff applies.
	_, err = execRange(t, acts, req, &progress, nil)
	appErr, again := rangeError(t, err, ErrUnavailable, false)
	assert.Equal(t, progress, again, "nothing changed")
	assert.Zero(t, appErr.NextRetryDelay(), "no progress: the retry policy's backoff")
	assert.Equal(t, len(held)-3, sim.Stats().WritesApplied)
}

// TestReassignRangeHandsBackAPartialNextListing: the range's listing of the next ids fails on
// its third page: the range hands back its moved assets and the pages it read before.
func TestReassignRangeHandsBackAPartialNextListing(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 80})
	f := &failing{fail: listOfPage("3", "10")} // always
	acts := failingActivities(t, sim, f)
	boID := userID(t, sim, bo)
	want := assetsOf(sim, boID)
	require.Greater(t, len(want), 60)
	filter := AssetFilter{AssigneeID: boID}

	// The range moves the first 20; they leave the selection, so the next ids start on page 1
	// again: pages 1 and 2 are read, 3 fails.
	next := &AssetPageRequest{Filter: filter, After: want[19], Page: 1, PageSize: 10, Max: 60}
	res, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: want[:20], Filter: filter,
		Status: atomicwork.AssetAvailable, Since: time.Now(), Concurrency: 4, Budget: time.Minute, Next: next})
	require.NoError(t, err)
	assert.Equal(t, want[:20], endedIDs(res.Assets), "the range's own assets moved")
	require.NotNil(t, res.Next, "the pages read before the failing one are handed back")
	assert.Equal(t, want[20:40], res.Next.AssetIDs)
	assert.False(t, res.Next.Done)
	assert.Equal(t, 20, sim.Stats().WritesApplied, "only the range's own assets are written")
}

// TestPlanningRetriesFlakyReadsInline: resolving and planning a reassignment get through reads
// that fail a few times, without a retry of the activity.
func TestPlanningRetriesFlakyReadsInline(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 20})
	f := &failing{times: maxListTries - 1, fail: func(r *http.Request) (string, bool) {
		return r.Method + " " + r.URL.String(), strings.HasPrefix(r.URL.Path, "/api/v1/") // every read fails, the first few times
	}}
	acts := failingActivities(t, sim, f)
	boID := userID(t, sim, bo)

	got, err := acts.ResolveReassignment(context.Background(), ResolveReassignmentRequest{AssigneeEmail: bo, AssetType: "Laptop", TargetEmail: ana})
	require.NoError(t, err)
	assert.Equal(t, lifecycle.ResolvedReassignment{AssigneeID: boID, AssetTypeID: sim.AssetTypeID("Laptop"), TargetUserID: userID(t, sim, ana)}, got)

	plan, err := acts.PlanReassignment(context.Background(), PlanReassignmentRequest{Filter: AssetFilter{AssigneeID: boID}, SampleSize: 5})
	require.NoError(t, err)
	assert.Equal(t, len(assetsOf(sim, boID)), plan.Matched)
	held := assetsOf(sim, boID)[:3]
	plan, err = acts.PlanReassignment(context.Background(), PlanReassignmentRequest{AssetIDs: held, SampleSize: 5})
	require.NoError(t, err)
	require.Len(t, plan.Sample, 3)
	assert.False(t, plan.Sample[0].Missing)
}

// TestReassignRangeA429HoldsBackOnlyItsAsset: an asset answered 429 waits out its Retry-After
// without holding back the range's other assets, nor its mover: with one mover and a budget
// shorter than the wait, every other asset still moves in this attempt. The asset that keeps
// getting 429s is left pending after its tries, with the rate limit as the range's error.
func TestReassignRangeA429HoldsBackOnlyItsAsset(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 10})
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)[:10]
	limited := "/api/v1/assets/" + strconv.FormatInt(held[0], 10)
	f := &failing{retryAfter: "2", fail: func(r *http.Request) (string, bool) { return r.URL.Path, r.URL.Path == limited }}
	acts := failingActivities(t, sim, f)

	_, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: held, Filter: AssetFilter{AssigneeID: boID},
		Status: atomicwork.AssetAvailable, Since: time.Now(), Concurrency: 1, Budget: 1500 * time.Millisecond})
	_, progress := rangeError(t, err, ErrRateLimited, false)
	assert.Equal(t, held[1:], endedIDs(progress.Assets), "the others moved while the first waited")
	assert.Equal(t, held[:1], progress.Pending)
	assert.Equal(t, maxAssetTries, f.failed[limited], "the limited asset was tried %d times", maxAssetTries)
	assert.Equal(t, len(held)-1, sim.Stats().WritesApplied)
}

// TestReassignRangeRetriesWhileAssetsKeepEnding: under an API that fails at random but works,
// an asset is tried again within the attempt for as long as it takes while other assets end:
// here asset k's reads fail its first k%7 times (up to six, more than maxAssetTries), and the
// range ends every asset in one attempt, each read once per failure and once more, written once.
func TestReassignRangeRetriesWhileAssetsKeepEnding(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 21})
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)[:21]
	failsOf := map[string]int{}
	for k, id := range held {
		failsOf["/api/v1/assets/"+strconv.FormatInt(id, 10)] = k % 7
	}
	var mu sync.Mutex
	reads := map[string]int{}
	f := &failing{fail: func(r *http.Request) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodGet {
			return "", false
		}
		reads[r.URL.Path]++
		return r.URL.Path, reads[r.URL.Path] <= failsOf[r.URL.Path]
	}}
	acts := failingActivities(t, sim, f)

	res, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: held, Filter: AssetFilter{AssigneeID: boID},
		Status: atomicwork.AssetAvailable, Since: time.Now(), Concurrency: 4, Budget: time.Minute})
	require.NoError(t, err, "one attempt")
	assert.Equal(t, held, endedIDs(res.Assets))
	assert.Equal(t, map[string]int{AssetMoved: len(held)}, outcomes(res.Assets))
	for path, n := range failsOf {
		assert.Equal(t, n+1, reads[path], "reads of %s", path)
	}
	assert.Equal(t, len(held), sim.Stats().WritesApplied)
}

// TestReassignRangeStopsWhenTheAPIIsDown: when every call fails, the range stops after
// rangeFailStreak tries in a row (and those in flight) and leaves the rest to Temporal's retry,
// instead of trying each asset it started again and again.
func TestReassignRangeStopsWhenTheAPIIsDown(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 100})
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)[:100]
	f := &failing{fail: func(r *http.Request) (string, bool) { return "all", true }}
	acts := failingActivities(t, sim, f)

	const concurrency = 4
	_, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: held, Filter: AssetFilter{AssigneeID: boID},
		Status: atomicwork.AssetAvailable, Since: time.Now(), Concurrency: concurrency, Budget: time.Minute})
	appErr, progress := rangeError(t, err, ErrUnavailable, false)
	assert.Equal(t, held, progress.Pending, "every asset left for the next attempt")
	assert.Empty(t, progress.Assets)
	assert.Zero(t, appErr.NextRetryDelay(), "no progress: the retry policy's backoff")
	assert.LessOrEqual(t, f.failed["all"], rangeFailStreak+concurrency, "calls to an API that is down")
	assert.Zero(t, sim.Stats().WritesApplied)
}

// TestReassignRangeStartsPastItsBudgetWhileARetryWaits: a range cannot end before its retries,
// so while one waits out a Retry-After its movers go on with new assets past the budget: with a
// budget for about three assets, all twenty move while the first waits its second.
func TestReassignRangeStartsPastItsBudgetWhileARetryWaits(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{ExtraAssets: 20, Faults: atomicworktest.Faults{Latency: 20 * time.Millisecond}})
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)[:20]
	first := "/api/v1/assets/" + strconv.FormatInt(held[0], 10)
	f := &failing{times: 1, retryAfter: "1", fail: func(r *http.Request) (string, bool) { return r.URL.Path, r.URL.Path == first }}
	acts := failingActivities(t, sim, f)

	res, err := acts.ReassignRange(context.Background(), ReassignRangeRequest{AssetIDs: held, Filter: AssetFilter{AssigneeID: boID},
		Status: atomicwork.AssetAvailable, Since: time.Now(), Concurrency: 1, Budget: 100 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, held, endedIDs(res.Assets), "every asset moved in the range")
	assert.Empty(t, res.Pending)
	assert.Equal(t, len(held), sim.Stats().WritesApplied)
}
