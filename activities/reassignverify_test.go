package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// listAnswers is a test middleware over the simulator that changes assets/list answers the ways
// the published API allows and the simulator does not (yet) do: a page before the last empty, a
// list in descending order, a 400 to the sort parameter. It records the sort asked for.
type listAnswers struct {
	next http.Handler

	mu         sync.Mutex
	emptyPage  int  // this page (of more than one) comes back once with no data, totals unchanged
	reverse    bool // pages come back in descending id order
	refuseSort bool // a sort parameter gets 400
	fail503    int  // this page answers 503 once
	sorts      []string
}

func (l *listAnswers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/assets/list") {
		l.next.ServeHTTP(w, r)
		return
	}
	l.mu.Lock()
	l.sorts = append(l.sorts, r.URL.Query().Get("sort"))
	empty, reverse, refuse := l.emptyPage, l.reverse, l.refuseSort
	fail := l.fail503 > 0 && r.URL.Query().Get("page") == strconv.Itoa(l.fail503)
	if fail {
		l.fail503 = 0
	}
	l.mu.Unlock()
	if fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if refuse && r.URL.Query().Has("sort") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(atomicwork.ErrorBody{Error: "unknown sort field id", Code: atomicwork.CodeBadRequest})
		return
	}
	rec := httptest.NewRecorder()
	l.next.ServeHTTP(rec, r)
	var page map[string]json.RawMessage
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
		copyAnswer(w, rec)
		return
	}
	var data []json.RawMessage
	if json.Unmarshal(page["data"], &data) != nil {
		copyAnswer(w, rec)
		return
	}
	var totalPages int
	_ = json.Unmarshal(page["total_pages"], &totalPages)
	if n, _ := strconv.Atoi(r.URL.Query().Get("page")); n == empty && n < totalPages {
		data = nil
		l.mu.Lock()
		l.emptyPage = 0
		l.mu.Unlock()
	}
	if reverse {
		slices.Reverse(data)
	}
	page["data"], _ = json.Marshal(append([]json.RawMessage{}, data...))
	body, _ := json.Marshal(page)
	rec.Body = bytes.NewBuffer(body)
	copyAnswer(w, rec)
}

func copyAnswer(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// listAnswerActivities returns activities whose API answers go through a listAnswers over a simulator.
func listAnswerActivities(t *testing.T, opts atomicworktest.Options) (*Activities, *atomicworktest.Server, *listAnswers) {
	t.Helper()
	h := atomicworktest.NewHandler(opts)
	l := &listAnswers{next: h}
	srv := httptest.NewServer(l)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	c, err := atomicwork.New(atomicwork.Config{BaseURL: srv.URL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	require.NoError(t, err)
	acts, err := New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: c}, atomicworktest.ITWorkspaceID, Policy{})
	require.NoError(t, err)
	return acts, &atomicworktest.Server{Handler: h, URL: srv.URL}, l
}

// TestNextAssetPageAsksForAscendingIDs: the keyset cursor needs ascending ids, so every list
// call of a listing asks for them.
func TestNextAssetPageAsksForAscendingIDs(t *testing.T) {
	for _, lst := range listings {
		t.Run(lst.name, func(t *testing.T) {
			acts, sim, l := listAnswerActivities(t, atomicworktest.Options{ExtraAssets: 60})
			boID := userID(t, sim, bo)
			got, _ := pageAll(t, acts, AssetFilter{AssigneeID: boID}, 7, lst.max, func(p AssetPage) int { return p.Page }, func([]int64) {})
			assert.Equal(t, assetsOf(sim, boID), got)
			require.NotEmpty(t, l.sorts)
			for _, s := range l.sorts {
				assert.Equal(t, atomicwork.SortAssetsByID, s)
			}
		})
	}
}

// TestNextAssetPageNamesAnOrderItCannotGet: a list in another order, or an API that refuses to
// sort, is ErrAssetOrder (the workflow's cue to go on without the cursor), not a bad request.
func TestNextAssetPageNamesAnOrderItCannotGet(t *testing.T) {
	for name, alter := range map[string]func(*listAnswers){
		"descending":    func(l *listAnswers) { l.reverse = true },
		"sort refused":  func(l *listAnswers) { l.refuseSort = true },
		"both, refused": func(l *listAnswers) { l.refuseSort, l.reverse = true, true },
	} {
		t.Run(name, func(t *testing.T) {
			acts, sim, l := listAnswerActivities(t, atomicworktest.Options{ExtraAssets: 30})
			alter(l)
			_, err := acts.NextAssetPage(context.Background(), AssetPageRequest{Filter: AssetFilter{AssigneeID: userID(t, sim, bo)}, Page: 1, PageSize: 10})
			require.Error(t, err)
			assert.Equal(t, ErrAssetOrder, appType(t, err))
			if l.refuseSort {
				assert.Contains(t, err.Error(), "refuses sort=id:ASC")
			}
		})
	}
}

// TestVerifyReassignmentCountsWhatIsLeft: after a partial move, the verification counts the
// assets still to do, reading past an empty page before the last, whatever the order.
func TestVerifyReassignmentCountsWhatIsLeft(t *testing.T) {
	for name, alter := range map[string]func(*listAnswers){
		"as the simulator answers": func(*listAnswers) {},
		"an empty page 1":          func(l *listAnswers) { l.emptyPage = 1 },
		"an empty page 2":          func(l *listAnswers) { l.emptyPage = 2 },
		"descending":               func(l *listAnswers) { l.reverse = true },
		"sort refused":             func(l *listAnswers) { l.refuseSort = true },
	} {
		t.Run(name, func(t *testing.T) {
			acts, sim, l := listAnswerActivities(t, atomicworktest.Options{ExtraAssets: 330})
			boID := userID(t, sim, bo)
			held := assetsOf(sim, boID)
			require.Greater(t, len(held), 3*atomicwork.MaxPerPage, "pages 2 and 3 are full")
			c := sim.Client(t)
			for _, id := range held[:50] { // what the batch moved
				_, _, err := c.SetAssignment(context.Background(), id, atomicwork.Assignment{Status: atomicwork.AssetAvailable})
				require.NoError(t, err)
			}
			alter(l)
			failed := held[60]
			res, err := acts.VerifyReassignment(context.Background(), VerifyReassignmentRequest{Filter: AssetFilter{AssigneeID: boID},
				Status: atomicwork.AssetAvailable, Exclude: []int64{failed, held[0]}, Max: 100})
			require.NoError(t, err)
			left := slices.DeleteFunc(slices.Clone(held[50:]), func(id int64) bool { return id == failed })
			assert.Equal(t, len(left), res.Remaining, "every asset still with Bo, the failed one apart")
			assert.Equal(t, 1, res.Failed)
			assert.Equal(t, left[:100], res.AssetIDs, "the first ones, ascending")
			assert.Equal(t, l.refuseSort, res.Unsorted)
		})
	}
}

// TestVerifyReassignmentOfASelectionThatStays: moving laptops to Ana keeps them laptops: only
// those not at Ana count.
func TestVerifyReassignmentOfASelectionThatStays(t *testing.T) {
	acts, sim, _ := listAnswerActivities(t, atomicworktest.Options{ExtraAssets: 40})
	laptop := sim.AssetTypeID("Laptop")
	ana := userID(t, sim, "ana.diaz@example.com")
	var laptops []int64
	for _, a := range sim.Assets() {
		if a.TypeID() == laptop {
			laptops = append(laptops, a.ID)
		}
	}
	c := sim.Client(t)
	for _, id := range laptops[1:] {
		_, _, err := c.SetAssignment(context.Background(), id, atomicwork.Assignment{AssigneeID: ana})
		require.NoError(t, err)
	}
	res, err := acts.VerifyReassignment(context.Background(), VerifyReassignmentRequest{Filter: AssetFilter{AssetTypeID: laptop},
		TargetUserID: ana, Max: 10})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Remaining)
	assert.Equal(t, laptops[:1], res.AssetIDs)

	// Explicit ids are read one by one; an unknown one is nothing to do.
	res, err = acts.VerifyReassignment(context.Background(), VerifyReassignmentRequest{AssetIDs: []int64{laptops[0], laptops[1], 999999},
		Filter: AssetFilter{AssetTypeID: laptop}, TargetUserID: ana, Max: 10})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Remaining)
	assert.Equal(t, laptops[:1], res.AssetIDs)
	assert.Equal(t, 3, res.Calls)
}

// TestVerifyReassignmentRetriesATransientAnswerInPlace: a 503 in the middle of the selection
// costs a call, not the pages already read, nor the activity.
func TestVerifyReassignmentRetriesATransientAnswerInPlace(t *testing.T) {
	acts, sim, l := listAnswerActivities(t, atomicworktest.Options{ExtraAssets: 250})
	boID := userID(t, sim, bo)
	held := assetsOf(sim, boID)
	pages := (len(held) + atomicwork.MaxPerPage - 1) / atomicwork.MaxPerPage
	require.GreaterOrEqual(t, pages, 3)
	l.fail503 = 2
	res, err := acts.VerifyReassignment(context.Background(), VerifyReassignmentRequest{Filter: AssetFilter{AssigneeID: boID}, Max: 1})
	require.NoError(t, err)
	assert.Equal(t, len(held), res.Remaining)
	assert.Equal(t, pages+1, res.Calls, "each page once, and page 2 again")
}

// TestNextAssetPageReadsPastAnEmptyPageBeforeTheLast: the listing of the issue (an assignee
// selection emptied by the batch's writes, page 1 coming back empty once while total_pages says
// more) goes on instead of ending after its first page.
func TestNextAssetPageReadsPastAnEmptyPageBeforeTheLast(t *testing.T) {
	for _, lst := range listings {
		t.Run(lst.name, func(t *testing.T) {
			acts, sim, l := listAnswerActivities(t, atomicworktest.Options{ExtraAssets: 100})
			c := sim.Client(t)
			boID := userID(t, sim, bo)
			want := assetsOf(sim, boID)
			listed := 0
			got, _ := pageAll(t, acts, AssetFilter{AssigneeID: boID}, 10, lst.max, func(p AssetPage) int { return p.Page },
				func(ids []int64) {
					for _, id := range ids {
						_, _, err := c.SetAssignment(context.Background(), id, atomicwork.Assignment{Status: atomicwork.AssetAvailable})
						require.NoError(t, err)
					}
					if listed++; listed == 1 {
						l.mu.Lock()
						l.emptyPage = 1 // the next answer of page 1
						l.mu.Unlock()
					}
				})
			assert.Equal(t, want, got, "every asset of Bo once, in id order")
		})
	}
}
