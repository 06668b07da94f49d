package atomicworktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Tests of the answer modes: legal answers of a real API, checked on the raw body.

const mwListAssets = "/api/v1/assets/list"

// mwRaw decodes a JSON body keeping numbers as written.
func mwRaw(t *testing.T, body []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]any
	require.NoError(t, d.Decode(&m), "body: %s", body)
	return m
}

// mwAssetsPage lists one page of all assets, as the simulator answers it.
func mwAssetsPage(t *testing.T, srv *Server, query string) map[string]any {
	t.Helper()
	resp, body := mwDo(t, srv, http.MethodPost, mwListAssets+"?"+query, DevKey, []any{})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return mwRaw(t, body)
}

// mwAllAssetIDs pages through every asset with per_page 3 and returns the ids in answer order.
func mwAllAssetIDs(t *testing.T, srv *Server, extra string) []string {
	t.Helper()
	var ids []string
	for page := 1; ; page++ {
		env := mwAssetsPage(t, srv, fmt.Sprintf("page=%d&per_page=3%s", page, extra))
		for _, item := range env["data"].([]any) {
			ids = append(ids, string(item.(map[string]any)["asset_basic_info"].(map[string]any)["id"].(json.Number)))
		}
		if pages, _ := number(env["total_pages"]); int64(page) >= pages {
			return ids
		}
	}
}

func mwWithoutData(env map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range env {
		if k != "data" {
			out[k] = v
		}
	}
	return out
}

func TestAnswerUnknownFields(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{UnknownFields: 1}})

	resp, body := mwDo(t, srv, http.MethodGet, mwListUsers, DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	env := mwRaw(t, body)
	assert.Equal(t, map[string]any{"a": json.Number("1")}, env[unknownField])
	require.NotEmpty(t, env["data"])
	for _, item := range env["data"].([]any) {
		assert.Contains(t, item, unknownField)
	}
	var page atomicwork.Page[atomicwork.User]
	require.NoError(t, json.Unmarshal(body, &page), "a client that ignores unknown fields reads the answer")
	assert.NotEmpty(t, page.Data)

	user := page.Data[0]
	resp, body = mwDo(t, srv, http.MethodGet, fmt.Sprintf("/api/v1/users/%d", user.ID), DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, mwRaw(t, body), unknownField, "singletons too")

	resp, body = mwDo(t, srv, http.MethodGet, mwListUsers, "", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.NotContains(t, mwRaw(t, body), unknownField, "error envelopes are left alone")

	assert.Equal(t, 2, srv.Stats().FaultsInjected[FaultUnknownFields])
}

func TestAnswerEmptyPageBeforeTheLast(t *testing.T) {
	clock := newFakeClock() // both servers seed the same timestamps
	clean := NewServer(t, Options{ExtraAssets: 5, Now: clock.Now})
	srv := NewServer(t, Options{ExtraAssets: 5, Now: clock.Now, Faults: Faults{EmptyPage: 1}})

	want := mwAssetsPage(t, clean, "page=1&per_page=2")
	pages, _ := number(want["total_pages"])
	require.Greater(t, pages, int64(1))
	got := mwAssetsPage(t, srv, "page=1&per_page=2")
	assert.Equal(t, []any{}, got["data"])
	assert.Equal(t, mwWithoutData(want), mwWithoutData(got), "the envelope's counts are unchanged")

	last := fmt.Sprintf("page=%d&per_page=2", pages)
	assert.Equal(t, mwAssetsPage(t, clean, last), mwAssetsPage(t, srv, last), "the last page is whole")
	assert.Equal(t, 1, srv.Stats().FaultsInjected[FaultEmptyPage])

	// A token list: a page with a next_page_token is not the last either.
	resp, body := mwDo(t, srv, http.MethodPost, "/api/v1/iga/grants/list?per_page=1", DevKey, []any{})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	env := mwRaw(t, body)
	require.NotNil(t, env["next_page_token"], "the demo data has more than one grant")
	assert.Equal(t, []any{}, env["data"])
	assert.Equal(t, 2, srv.Stats().FaultsInjected[FaultEmptyPage])
}

func TestAnswerShortPageBeforeTheLast(t *testing.T) {
	clock := newFakeClock() // both servers seed the same timestamps
	clean := NewServer(t, Options{ExtraAssets: 5, Now: clock.Now})
	srv := NewServer(t, Options{ExtraAssets: 5, Now: clock.Now, Faults: Faults{ShortPage: 1}})

	want := mwAssetsPage(t, clean, "page=1&per_page=3")
	got := mwAssetsPage(t, srv, "page=1&per_page=3")
	require.Len(t, want["data"], 3)
	assert.Equal(t, want["data"].([]any)[:2], got["data"], "the page's last item is missing")
	assert.Equal(t, mwWithoutData(want), mwWithoutData(got), "the envelope's counts are unchanged")

	pages, _ := number(want["total_pages"])
	last := fmt.Sprintf("page=%d&per_page=3", pages)
	assert.Equal(t, mwAssetsPage(t, clean, last), mwAssetsPage(t, srv, last), "the last page is whole")
	assert.Equal(t, 1, srv.Stats().FaultsInjected[FaultShortPage])
}

func TestAnswerIntegralFloats(t *testing.T) {
	srv := NewServer(t, Options{ExtraAssets: 2, Faults: Faults{IntegralFloats: 1}})

	resp, body := mwDo(t, srv, http.MethodPost, mwListAssets+"?page=1&per_page=2", DevKey, []any{})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	env := mwRaw(t, body)
	assert.Equal(t, json.Number("1.0"), env["page"])
	assert.Equal(t, json.Number("2.0"), env["page_size"])
	item := env["data"].([]any)[0].(map[string]any)
	id := item["asset_basic_info"].(map[string]any)["id"].(json.Number)
	assert.True(t, strings.HasSuffix(string(id), ".0"), "id %s", id)
	assert.Contains(t, string(body), `"id":`+string(id))
	assert.Equal(t, 1, srv.Stats().FaultsInjected[FaultIntegralFloats])

	// The values are the same numbers: only their spelling changed.
	srv.SetFaults(Faults{})
	resp, clean := mwDo(t, srv, http.MethodPost, mwListAssets+"?page=1&per_page=2", DevKey, []any{})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var a, b any
	require.NoError(t, json.Unmarshal(body, &a))
	require.NoError(t, json.Unmarshal(clean, &b))
	assert.Equal(t, b, a)
}

func TestFaultRateLimitWithoutRetryAfter(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{RateLimitNoRetryAfter: 1}})

	resp, body := mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("never.created@example.com"))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.NotContains(t, resp.Header, "Retry-After")
	assert.Equal(t, atomicwork.CodeRateLimited, mwEnvelope(t, body).Code)

	st := srv.Stats()
	assert.Equal(t, 1, st.FaultsInjected[FaultRateLimitNoRetryAfter])
	assert.Zero(t, st.WritesApplied)
	srv.SetFaults(Faults{})
	assert.False(t, mwUserExists(t, srv, "never.created@example.com"))
}

func TestFaultHTMLServerError(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{HTMLServerError: 1}})

	resp, body := mwDo(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("never.created@example.com"))
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "text/html", resp.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(string(body), "<html>"), "%s", body)
	assert.False(t, json.Valid(body))

	st := srv.Stats()
	assert.Equal(t, 1, st.FaultsInjected[FaultHTMLServerError])
	assert.Equal(t, map[int]int{http.StatusBadGateway: 1}, st.Calls[mwCreateOp])
	assert.Zero(t, st.WritesApplied)
	srv.SetFaults(Faults{})
	assert.False(t, mwUserExists(t, srv, "never.created@example.com"))
}

// mwFreshConn sends every request on a new connection, so net/http does not replay a request
// whose reused connection was reset.
var mwFreshConn = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func TestFaultResetClosesWithoutAnswer(t *testing.T) {
	srv := NewServer(t, Options{Faults: Faults{Reset: 1}})

	resp, err := mwFreshConn.Do(mwRequest(t, srv, http.MethodPost, mwCreateUser, DevKey, mwNewUser("never.created@example.com")))
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "no answer")

	st := srv.Stats()
	assert.Equal(t, 1, st.FaultsInjected[FaultReset])
	assert.Equal(t, map[int]int{0: 1}, st.Calls[mwCreateOp], "status 0: closed without an answer")
	assert.Zero(t, st.WritesApplied)
	srv.SetFaults(Faults{})
	assert.False(t, mwUserExists(t, srv, "never.created@example.com"))
}

func TestListOrderIDDesc(t *testing.T) {
	asc := mwAllAssetIDs(t, NewServer(t, Options{ExtraAssets: 7}), "")
	srv := NewServer(t, Options{ExtraAssets: 7, Faults: Faults{ListOrder: ListOrderIDDesc}})
	desc := mwAllAssetIDs(t, srv, "")
	require.Len(t, desc, len(asc))
	want := slices.Clone(asc)
	slices.Reverse(want)
	assert.Equal(t, want, desc)
	assert.Empty(t, srv.Stats().FaultsInjected, "list_order is a setting, not a counted fault")

	// Every list, not only assets.
	resp, body := mwDo(t, srv, http.MethodGet, "/api/v1/users/list?page=1&per_page=100", DevKey, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var users atomicwork.Page[atomicwork.User]
	require.NoError(t, json.Unmarshal(body, &users))
	require.Greater(t, len(users.Data), 1)
	assert.True(t, slices.IsSortedFunc(users.Data, func(a, b atomicwork.User) int { return int(b.ID - a.ID) }))
}

func TestListOrderShuffledIsAFixedPermutation(t *testing.T) {
	asc := mwAllAssetIDs(t, NewServer(t, Options{ExtraAssets: 20}), "")
	srv := NewServer(t, Options{ExtraAssets: 20, Faults: Faults{Seed: 5, ListOrder: ListOrderShuffled}})
	shuffled := mwAllAssetIDs(t, srv, "")
	assert.ElementsMatch(t, asc, shuffled, "every asset once: offset paging stays consistent")
	assert.NotEqual(t, asc, shuffled)
	assert.Equal(t, shuffled, mwAllAssetIDs(t, srv, ""), "stable across requests")

	other := NewServer(t, Options{ExtraAssets: 20, Faults: Faults{Seed: 6, ListOrder: ListOrderShuffled}})
	assert.NotEqual(t, shuffled, mwAllAssetIDs(t, other, ""), "another seed, another permutation")
}

func TestAssetsListExplicitSortWinsOverListOrder(t *testing.T) {
	asc := mwAllAssetIDs(t, NewServer(t, Options{ExtraAssets: 7}), "")
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	for _, order := range []string{ListOrderIDDesc, ListOrderShuffled} {
		srv := NewServer(t, Options{ExtraAssets: 7, Faults: Faults{Seed: 1, ListOrder: order}})
		assert.Equal(t, asc, mwAllAssetIDs(t, srv, "&sort=id:ASC"), order)
		assert.Equal(t, desc, mwAllAssetIDs(t, srv, "&sort=id:desc"), order)
		assert.Equal(t, asc, mwAllAssetIDs(t, srv, "&sort_order=CREATED_AT_ASC"), "the demo assets are created in id order")
	}

	srv := NewServer(t, Options{})
	for _, bad := range []string{"sort=purchase_date:ASC", "sort=id:UP", "sort=id", "sort_order=SIZE_ASC"} {
		resp, body := mwDo(t, srv, http.MethodPost, mwListAssets+"?page=1&"+bad, DevKey, []any{})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", bad, body)
		assert.Equal(t, atomicwork.CodeBadRequest, mwEnvelope(t, body).Code, bad)
	}
	resp, body := mwDo(t, srv, http.MethodPost, mwListAssets+"?page=1&sort=purchase_date:ASC", DevKey, []any{})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, mwEnvelope(t, body).Error, "display_name, id")
}

// mwAnswers sends n list calls on fresh connections and returns what came back for each: the
// status (0 for a reset) and the body.
func mwAnswers(t *testing.T, srv *Server, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		resp, err := mwFreshConn.Do(mwRequest(t, srv, http.MethodPost, mwListAssets+"?page=1&per_page=2", DevKey, []any{}))
		if err != nil {
			out[i] = "reset"
			continue
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		out[i] = fmt.Sprintf("%d %s", resp.StatusCode, b.String())
	}
	return out
}

func TestAnswerModesSameSeedSameSequence(t *testing.T) {
	faults := Faults{Seed: 11, UnknownFields: 0.3, EmptyPage: 0.2, ShortPage: 0.2, IntegralFloats: 0.3,
		RateLimitNoRetryAfter: 0.1, HTMLServerError: 0.1, Reset: 0.1, ServerError: 0.1, ListOrder: ListOrderShuffled}
	clock := newFakeClock() // the answers carry timestamps of the seed
	opts := Options{ExtraAssets: 5, Faults: faults, Now: clock.Now}
	srv := NewServer(t, opts)
	first := mwAnswers(t, srv, 60)
	st := srv.Stats()
	for _, name := range []string{FaultUnknownFields, FaultEmptyPage, FaultShortPage, FaultIntegralFloats,
		FaultRateLimitNoRetryAfter, FaultHTMLServerError, FaultReset, FaultServerError} {
		assert.Positive(t, st.FaultsInjected[name], name)
	}

	again := NewServer(t, opts)
	assert.Equal(t, first, mwAnswers(t, again, 60), "a new simulator with the same seed")
	again.Reset()
	assert.Equal(t, first, mwAnswers(t, again, 60), "Reset restarts the sequence")
	assert.Equal(t, st.FaultsInjected, again.Stats().FaultsInjected)

	opts.Faults.Seed = 12
	assert.NotEqual(t, first, mwAnswers(t, NewServer(t, opts), 60), "another seed")
}

// The answer modes draw only when set: a seed's sequence of the older faults is what it was.
func TestAnswerModesLeaveOlderSequencesAlone(t *testing.T) {
	faults := Faults{Seed: 42, ServerError: 0.3, RateLimit: 0.2, MalformedJSON: 0.2}
	before := mwFaultSequence(t, NewServer(t, Options{Faults: faults}), 40)
	faults.ListOrder = ListOrderIDDesc
	assert.Equal(t, before, mwFaultSequence(t, NewServer(t, Options{Faults: faults}), 40))
}

// Every paginated list follows list_order, so no list the client reads hides an id order.
func TestListOrderAppliesToEveryList(t *testing.T) {
	s, c := newSim(t, Options{ExtraAssets: 3})
	bo := mustUser(t, s.Handler, DefaultExtraAssetsAssignee)
	rq := ok[atomicwork.Request](t, c.do(http.MethodPost, "/api/v1/requests", map[string]any{"subject": "Order", "requester": bo.ID}))
	for _, d := range []string{"first", "second"} {
		ok[atomicwork.Note](t, c.do(http.MethodPost, "/api/v1/requests/"+rq.DisplayID+"/notes", map[string]any{"description": d}))
	}
	items := ok[atomicwork.Page[atomicwork.CatalogItem]](t, c.get("/api/v1/workspaces/1/catalogue/items"))
	require.NotEmpty(t, items.Data)
	s.SetFaults(Faults{ListOrder: ListOrderIDDesc})

	for _, l := range []struct {
		method, path string
		atLeast      int
	}{
		{http.MethodGet, "/api/v1/workspaces?page=1", 1},
		{http.MethodGet, "/api/v1/users/list?page=1", 2},
		{http.MethodGet, "/api/v1/workspaces/1/catalogue/items?page=1", 2},
		{http.MethodGet, "/api/v1/forms/ASSET/status/options", 2},
		{http.MethodPost, "/api/v1/requests/list?page=1", 1},
		{http.MethodPost, "/api/v1/workspaces/1/requests/list?page=1", 1},
		{http.MethodGet, "/api/v1/requests/" + rq.DisplayID + "/notes?page=1", 2},
		{http.MethodGet, "/api/v1/iga/apps", 2},
		{http.MethodGet, "/api/v1/iga/entitlements", 2},
		{http.MethodPost, "/api/v1/iga/grants/list", 2},
		{http.MethodGet, "/api/v1/assets/attributes?page_size=100", 2},
		{http.MethodPost, "/api/v1/assets/list?page=1", 2},
		{http.MethodGet, "/api/v1/assets/users/" + id(bo.ID) + "/list?page=1", 2},
	} {
		var body any
		if l.method == http.MethodPost {
			body = []any{}
		}
		env := ok[envelope[struct {
			ID int64 `json:"id"`
		}]](t, c.do(l.method, l.path, body))
		ids := make([]int64, len(env.Data))
		for i, d := range env.Data {
			ids[i] = d.ID
		}
		assert.GreaterOrEqual(t, len(ids), l.atLeast, l.path)
		assert.True(t, slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }), "%s: %v", l.path, ids)
	}
}
