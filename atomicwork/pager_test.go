package atomicwork_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// The keyset pager (ListAssetsAfter) against the simulator: every matching asset once and in id
// order, whatever the hint, while writes take assets out of the selection between its calls,
// with each call made through the caller's retry; a list the cursor cannot use is named.

const listAssetsCall = "POST /api/v1/assets/list"

// heldBy is the ids of the simulator's assets assigned to userID, ascending.
func heldBy(sim *atomicworktest.Server, userID int64) []int64 {
	var ids []int64
	for _, a := range sim.Assets() {
		if a.AssigneeID(atomicwork.FieldAssignedTo) == userID {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

func assignedTo(t *testing.T, sim *atomicworktest.Server, email string) (int64, atomicwork.Filters) {
	t.Helper()
	u, ok := sim.UserByEmail(email)
	require.True(t, ok, email)
	return u.ID, atomicwork.Filters{}.IsAnyOf("assigned_to_id", u.ID)
}

// listAllAfter pages through filters as a batch does, up to max ids a listing (0: a page of
// size), calling handle on each listing's ids before asking for the next; next is the page
// hint after a listing. It returns every id in the order listed and the calls the listings took.
func listAllAfter(t *testing.T, c *atomicwork.Client, filters atomicwork.Filters, size, max int, retry atomicwork.RetryFunc,
	next func(atomicwork.AssetsAfter) int, handle func([]int64)) ([]int64, int) {
	t.Helper()
	var all []int64
	cur := atomicwork.AssetCursor{Filters: filters, Page: 1, PageSize: size, Max: max}
	calls := 0
	for range 1000 {
		got, err := c.ListAssetsAfter(t.Context(), cur, retry)
		require.NoError(t, err)
		calls += got.Calls
		all = append(all, got.IDs...)
		handle(got.IDs)
		if got.Done {
			return all, calls
		}
		cur.After, cur.Page = got.IDs[len(got.IDs)-1], next(got)
	}
	t.Fatal("the listing did not end")
	return nil, 0
}

func TestListAssetsAfterListsEveryAssetOnceWhateverTheHint(t *testing.T) {
	for _, max := range []int{0, 35} {
		sim, c := newSim(t, atomicworktest.Options{ExtraAssets: 95})
		boID, filters := assignedTo(t, sim, atomicworktest.DefaultExtraAssetsAssignee)
		rng := rand.New(rand.NewPCG(1, uint64(max)))
		got, _ := listAllAfter(t, c, filters, 10, max, nil,
			func(p atomicwork.AssetsAfter) int { return p.Page + rng.IntN(5) - 2 }, // off by up to 2 pages, or below 1
			func([]int64) {})
		assert.Equal(t, heldBy(sim, boID), got, "max %d: every asset once, in id order", max)
	}
}

// TestListAssetsAfterIsExactWhileWritesLandBetweenItsCalls: with as many assets in flight as a
// page holds, each going back to stock (out of the "assigned to" selection), the writes of
// earlier listings land while the next one looks for its page (and, listing several pages at
// once, between the pages and their probes).
func TestListAssetsAfterIsExactWhileWritesLandBetweenItsCalls(t *testing.T) {
	for _, max := range []int{0, 30} {
		sim, direct := newSim(t, atomicworktest.Options{ExtraAssets: 300})
		lw := &atomicworktest.LandWrites{Next: http.DefaultTransport, Apply: func(id int64) {
			_, _, err := direct.SetAssignment(context.Background(), id, atomicwork.Assignment{Status: atomicwork.AssetAvailable})
			require.NoError(t, err)
		}}
		c := newSimClient(t, sim, atomicwork.Config{WorkspaceID: atomicworktest.ITWorkspaceID, Transport: lw})
		boID, filters := assignedTo(t, sim, atomicworktest.DefaultExtraAssetsAssignee)
		want := heldBy(sim, boID)
		got, calls := listAllAfter(t, c, filters, 10, max, nil,
			func(p atomicwork.AssetsAfter) int { return p.Page }, // the written assets left: the same page
			func(ids []int64) {
				lw.Later(ids...) // in flight: they land during the next calls
			})
		assert.Equal(t, want, got, "max %d: every asset once, in id order", max)
		assert.Equal(t, sim.Stats().Calls[listAssetsCall][http.StatusOK], calls, "max %d: every list call counted", max)
	}
}

// TestListAssetsAfterMakesEachCallThroughTheRetry: under 503s, the caller's retry gets every
// list call and the listing reads every asset; the calls it reports are those made. Without a
// retry the first 503 ends the listing, a transient error.
func TestListAssetsAfterMakesEachCallThroughTheRetry(t *testing.T) {
	sim, c := newSim(t, atomicworktest.Options{ExtraAssets: 95, Faults: atomicworktest.Faults{Seed: 7, ServerError: 0.3}})
	boID, filters := assignedTo(t, sim, atomicworktest.DefaultExtraAssetsAssignee)
	want := heldBy(sim, boID)
	var mu sync.Mutex
	made := 0
	retry := func(_ context.Context, call func() error) (int, error) {
		for try := 1; ; try++ {
			err := call()
			mu.Lock()
			made++
			mu.Unlock()
			if err == nil || try == 20 || atomicwork.Classify(err) != atomicwork.Transient {
				return try, err
			}
		}
	}
	got, calls := listAllAfter(t, c, filters, 10, 30, retry, func(p atomicwork.AssetsAfter) int { return p.Page + 3 }, func([]int64) {})
	assert.Equal(t, want, got)
	assert.Equal(t, made, calls, "the calls reported are the calls made")
	list := sim.Stats().Calls[listAssetsCall]
	assert.Equal(t, made, list[http.StatusOK]+list[http.StatusServiceUnavailable])
	assert.Positive(t, list[http.StatusServiceUnavailable], "the faults answered some calls")

	sim.SetFaults(atomicworktest.Faults{ServerError: 1})
	_, err := c.ListAssetsAfter(t.Context(), atomicwork.AssetCursor{Filters: filters, Page: 1, PageSize: 10}, nil)
	require.Error(t, err)
	assert.Equal(t, atomicwork.Transient, atomicwork.Classify(err))
	assert.Equal(t, http.StatusServiceUnavailable, atomicwork.StatusOf(err))
}

// orderFaults is a middleware over the simulator's assets/list: refuse answers 400 to a sorted
// call, reverse answers every page in descending id order.
type orderFaults struct {
	next    http.Handler
	refuse  bool
	reverse bool
}

func (o *orderFaults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/assets/list") {
		o.next.ServeHTTP(w, r)
		return
	}
	if o.refuse && r.URL.Query().Has("sort") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(atomicwork.ErrorBody{Error: "unknown sort field id", Code: atomicwork.CodeBadRequest})
		return
	}
	rec := httptest.NewRecorder()
	o.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var page map[string]json.RawMessage
	var data []json.RawMessage
	if o.reverse && rec.Code == http.StatusOK && json.Unmarshal(body, &page) == nil && json.Unmarshal(page["data"], &data) == nil {
		slices.Reverse(data)
		page["data"], _ = json.Marshal(data)
		body, _ = json.Marshal(page)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = io.Copy(w, bytes.NewReader(body))
}

// TestListAssetsAfterNamesAListItCannotUse: an API that refuses sort=id:ASC, or answers in
// another order, gets an *AssetOrderError (permanent), not a bad request or a wrong page.
func TestListAssetsAfterNamesAListItCannotUse(t *testing.T) {
	for name, faults := range map[string]orderFaults{
		"sort refused": {refuse: true},
		"descending":   {reverse: true},
		"both":         {refuse: true, reverse: true},
	} {
		t.Run(name, func(t *testing.T) {
			h := atomicworktest.NewHandler(atomicworktest.Options{ExtraAssets: 30})
			faults.next = h
			srv := httptest.NewServer(&faults)
			t.Cleanup(func() {
				srv.Close()
				h.Close()
			})
			c, err := atomicwork.New(atomicwork.Config{BaseURL: srv.URL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
			require.NoError(t, err)
			bo, ok := h.UserByEmail(atomicworktest.DefaultExtraAssetsAssignee)
			require.True(t, ok)

			_, err = c.ListAssetsAfter(t.Context(), atomicwork.AssetCursor{Filters: atomicwork.Filters{}.IsAnyOf("assigned_to_id", bo.ID),
				Page: 1, PageSize: 10, Max: 30}, nil)
			var order *atomicwork.AssetOrderError
			require.True(t, errors.As(err, &order), "%v", err)
			assert.Equal(t, atomicwork.Permanent, atomicwork.Classify(err))
			if faults.refuse {
				assert.Equal(t, http.StatusBadRequest, atomicwork.StatusOf(err), "the refusal is kept")
				assert.Contains(t, err.Error(), "refuses sort=id:ASC")
			} else {
				assert.Greater(t, order.Prev, order.ID, "the ids out of order")
			}
		})
	}
}
