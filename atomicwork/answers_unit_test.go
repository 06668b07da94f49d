package atomicwork

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Legal answers of the real API that must not end a listing early or fail a decode (issue 20).

func userIDs(users []User) []int64 {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids
}

// pagedUsers answers users/list with reply(page), counting the calls.
func pagedUsers(t *testing.T, reply func(page int) string) (*Client, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fmt.Fprint(w, reply(atoi(r.URL.Query().Get("page"))))
	})
	return c, &calls
}

func TestOffsetListingGoesOnPastEmptyAndShortPages(t *testing.T) {
	cases := map[string]struct {
		pages     map[int]string // page number -> answer; others are past the end
		wantIDs   []int64
		wantCalls int
	}{
		"empty page before total_pages": {map[int]string{
			1: `{"page":1,"page_size":2,"total_pages":3,"data":[{"id":1},{"id":2}]}`,
			2: `{"page":2,"page_size":2,"total_pages":3,"data":[]}`,
			3: `{"page":3,"page_size":2,"total_pages":3,"data":[{"id":5},{"id":6}]}`,
		}, []int64{1, 2, 5, 6}, 4}, // page 2 fetched twice
		"short page before total_pages": {map[int]string{
			1: `{"page":1,"page_size":2,"total_pages":3,"data":[{"id":1}]}`,
			2: `{"page":2,"page_size":2,"total_pages":3,"data":[{"id":3},{"id":4}]}`,
			3: `{"page":3,"page_size":2,"total_pages":3,"data":[{"id":5}]}`,
		}, []int64{1, 3, 4, 5}, 4}, // page 1 fetched twice; page 3 is the last
		"empty page before total_count items, no total_pages": {map[int]string{
			1: `{"page_size":2,"total_count":6,"data":[{"id":1},{"id":2}]}`,
			2: `{"page_size":2,"total_count":6,"data":[]}`,
			3: `{"page_size":2,"total_count":6,"data":[{"id":3},{"id":4}]}`,
			4: `{"page_size":2,"total_count":6,"data":[{"id":5},{"id":6}]}`,
		}, []int64{1, 2, 3, 4, 5, 6}, 5}, // page 2 fetched twice
		// Asked for 2 a page, the server sends 1 without saying so: every page looks short.
		"server pages smaller than asked, total_count only": {map[int]string{
			1: `{"total_count":3,"data":[{"id":1}]}`,
			2: `{"total_count":3,"data":[{"id":2}]}`,
			3: `{"total_count":3,"data":[{"id":3}]}`,
		}, []int64{1, 2, 3}, 3}, // no page_size: short pages are not known to be cut
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, calls := pagedUsers(t, func(p int) string {
				if a, ok := tc.pages[p]; ok {
					return a
				}
				return `{"data":[]}`
			})
			users, err := Collect(c.ListUsers(context.Background(), UserListOptions{PerPage: 2}))
			require.NoError(t, err)
			assert.Equal(t, tc.wantIDs, userIDs(users))
			assert.Equal(t, int32(tc.wantCalls), calls.Load())
		})
	}
}

func TestOffsetListingShortOfTotalCountIsIncomplete(t *testing.T) {
	// Page 1 lost an item: by page number it is gone for good, and the count proves it.
	c, _ := pagedUsers(t, func(p int) string {
		switch p {
		case 1:
			return `{"page_size":2,"total_pages":2,"total_count":4,"data":[{"id":1}]}`
		case 2:
			return `{"page_size":2,"total_pages":2,"total_count":4,"data":[{"id":3},{"id":4}]}`
		}
		return `{"data":[]}`
	})
	users, err := Collect(c.ListUsers(context.Background(), UserListOptions{PerPage: 2}))
	assert.Equal(t, []int64{1, 3, 4}, userIDs(users), "what was read is yielded, nothing invented")
	assertIncomplete(t, err, "users.list", "/api/v1/users/list", 3, 4)

	// Past the pages the count implies, an empty page ends the listing as incomplete too.
	c, calls := pagedUsers(t, func(p int) string {
		if p == 1 {
			return `{"page_size":2,"total_count":4,"data":[{"id":1},{"id":2}]}`
		}
		if p == 2 {
			return `{"page_size":2,"total_count":4,"data":[{"id":3}]}`
		}
		return `{"page_size":2,"total_count":4,"data":[]}`
	})
	_, err = Collect(c.ListUsers(context.Background(), UserListOptions{PerPage: 2}))
	assertIncomplete(t, err, "users.list", "/api/v1/users/list", 3, 4)
	assert.Equal(t, int32(5), calls.Load(), "pages 2 and 3 fetched twice each, then it ends")
}

func TestOffsetListingEmptyPagesForeverIsBounded(t *testing.T) {
	c, calls := pagedUsers(t, func(int) string {
		return `{"page_size":2,"total_pages":1000000,"total_count":2000000,"data":[]}`
	})
	_, err := Collect(c.ListUsers(context.Background(), UserListOptions{PerPage: 2}))
	assertIncomplete(t, err, "users.list", "/api/v1/users/list", 0, 2000000)
	assert.Equal(t, int32(2*maxEmptyRun), calls.Load(), "each empty page fetched twice")
}

// tokenGrants answers grants/list with pages[token], counting the calls.
func tokenGrants(t *testing.T, reply func(token string) string) (*Client, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fmt.Fprint(w, reply(r.URL.Query().Get("next_page_token")))
	})
	return c, &calls
}

func grantIDs(gs []Grant) []int64 {
	ids := make([]int64, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	return ids
}

func TestTokenListingGoesOnPastEmptyPages(t *testing.T) {
	pages := map[string]string{
		"":  `{"data":[],"next_page_token":"b"}`,
		"b": `{"data":[{"id":1},{"id":2}],"next_page_token":"c"}`,
		"c": `{"data":[],"next_page_token":"d"}`,
		"d": `{"data":[{"id":3}],"next_page_token":null}`,
	}
	c, calls := tokenGrants(t, func(tok string) string { return pages[tok] })
	grants, err := Collect(c.ListGrants(context.Background(), nil))
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3}, grantIDs(grants))
	assert.Equal(t, int32(6), calls.Load(), "each empty page fetched twice")
}

func TestTokenListingShortOfTotalCountIsIncomplete(t *testing.T) {
	pages := map[string]string{
		"":  `{"total_count":3,"data":[{"id":1}],"next_page_token":"b"}`,
		"b": `{"total_count":3,"data":[{"id":2}]}`,
	}
	c, _ := tokenGrants(t, func(tok string) string { return pages[tok] })
	grants, err := Collect(c.ListGrants(context.Background(), nil))
	assert.Equal(t, []int64{1, 2}, grantIDs(grants))
	assertIncomplete(t, err, "iga.list-grants", "/api/v1/iga/grants/list", 2, 3)
}

func TestTokenListingEmptyPagesForeverIsBounded(t *testing.T) {
	var n atomic.Int32
	c, calls := tokenGrants(t, func(string) string {
		return fmt.Sprintf(`{"data":[],"next_page_token":"t%d"}`, n.Add(1))
	})
	_, err := Collect(c.ListGrants(context.Background(), nil))
	assertIncomplete(t, err, "iga.list-grants", "/api/v1/iga/grants/list", 0, 0)
	assert.Equal(t, int32(2*maxEmptyRun), calls.Load(), "each empty page fetched twice")
}

// glitchy answers full pages, except that the first answer to each request in cut is cut.
func glitchy(cut map[string]string, full func(key string) string) func(key string) string {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(key string) string {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := cut[key]; ok && !seen[key] {
			seen[key] = true
			return c
		}
		return full(key)
	}
}

func TestCutPageIsFetchedOnceMoreAndKeptWhole(t *testing.T) {
	offset := glitchy(map[string]string{
		"1": `{"page":1,"page_size":2,"total_pages":3,"total_count":6,"data":[{"id":1}]}`,
		"2": `{"page":2,"page_size":2,"total_pages":3,"total_count":6,"data":[]}`,
		"3": `{"page":3,"page_size":2,"total_pages":3,"total_count":6,"data":[{"id":5}]}`,
	}, func(p string) string {
		n := atoi(p)
		return fmt.Sprintf(`{"page":%d,"page_size":2,"total_pages":3,"total_count":6,"data":[{"id":%d},{"id":%d}]}`, n, 2*n-1, 2*n)
	})
	c, calls := pagedUsers(t, func(p int) string { return offset(fmt.Sprint(p)) })
	users, err := Collect(c.ListUsers(context.Background(), UserListOptions{PerPage: 2}))
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3, 4, 5, 6}, userIDs(users), "every item once")
	assert.Equal(t, int32(6), calls.Load())

	token := glitchy(map[string]string{
		"b": `{"total_count":4,"page_size":2,"data":[],"next_page_token":"c"}`,
		"c": `{"total_count":4,"page_size":2,"data":[{"id":3}]}`,
	}, func(tok string) string {
		return map[string]string{
			"":  `{"total_count":4,"page_size":2,"data":[{"id":1}],"next_page_token":"b"}`,
			"b": `{"total_count":4,"page_size":2,"data":[{"id":2}],"next_page_token":"c"}`,
			"c": `{"total_count":4,"page_size":2,"data":[{"id":3},{"id":4}]}`,
		}[tok]
	})
	gc, _ := tokenGrants(t, token)
	grants, err := Collect(gc.ListGrants(context.Background(), nil))
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3, 4}, grantIDs(grants))
}

func assertIncomplete(t *testing.T, err error, op, path string, read, total int) {
	t.Helper()
	var inc *IncompleteListingError
	require.ErrorAs(t, err, &inc)
	assert.Equal(t, op, inc.Op)
	assert.Equal(t, path, inc.Path)
	assert.Equal(t, read, inc.Read)
	assert.Equal(t, total, inc.Total)
	assert.ErrorIs(t, err, ErrIncompleteListing)
	assert.Equal(t, Transient, Classify(err), "list again: never conclude there are no more")
	assert.Contains(t, err.Error(), op)
	assert.Contains(t, err.Error(), "incomplete")
}

func TestIntegralFloatsDecodeIntoIntegerFields(t *testing.T) {
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/users/list" && r.URL.Query().Get("page") == "1":
			fmt.Fprint(w, `{"page":1.0,"page_size":2.0,"total_pages":2.0,"total_count":3.0,"data":[
				{"id":1002.0,"department":{"id":5.0},"manager":7.0,"title":"v1.0 lead","custom_fields":{"level":2.5,"grade":"3.0"}},
				{"id":1.003e3}]}`)
		case r.URL.Path == "/api/v1/users/list":
			fmt.Fprint(w, `{"page":2.0,"per_page":2.0,"total_pages":2.0,"total_count":3E0,"data":[{"id":10040e-1}]}`)
		case r.URL.Path == "/api/v1/iga/grants/list":
			fmt.Fprint(w, `{"total_count":1.0,"data":[{"id":9.0,"user":{"id":1002.0},"entitlement":{"id":4.00},"granted_by":3.0}]}`)
		case strings.HasPrefix(r.URL.Path, "/api/v1/requests/"):
			fmt.Fprint(w, `{"data":{"id":12.0,"display_id":"ITSR-12","workspace_id":1.0,"item_id":8.0,"tags":[1.0,2.0],"requester":"1002.0","items":[{"id":3.0,"item_id":8.0}]}}`)
		case r.URL.Path == "/api/v1/workspaces":
			fmt.Fprint(w, `{"page":1.0,"page_size":100.0,"total_pages":1.0,"total_count":1.0,"data":[{"id":1.0,"name":"IT"}]}`)
		default:
			fmt.Fprint(w, `{"id":33.0,"asset_type_id":4.0,"asset_basic_info":{"id":33.0,"asset_type_id":4.0},"form_fields":{"assigned_to":1002.0}}`)
		}
	})
	ctx := context.Background()

	users, err := Collect(c.ListUsers(ctx, UserListOptions{PerPage: 2}))
	require.NoError(t, err)
	assert.Equal(t, []int64{1002, 1003, 1004}, userIDs(users))
	assert.Equal(t, int64(5), users[0].Department.ID)
	assert.Equal(t, int64(7), users[0].Manager.ID)
	assert.Equal(t, "v1.0 lead", users[0].Title, "numbers inside strings are left alone")
	assert.Equal(t, 2.5, users[0].CustomFields["level"], "a real fraction stays a fraction")
	assert.Equal(t, "3.0", users[0].CustomFields["grade"])

	grants, err := Collect(c.ListGrants(ctx, nil))
	require.NoError(t, err)
	require.Len(t, grants, 1)
	assert.Equal(t, int64(9), grants[0].ID)
	assert.Equal(t, int64(1002), grants[0].User.ID)
	assert.Equal(t, int64(4), grants[0].Entitlement.ID)
	assert.Equal(t, int64(3), *grants[0].GrantedBy)

	req, err := c.GetRequest(ctx, "ITSR-12")
	require.NoError(t, err)
	assert.Equal(t, int64(12), req.ID)
	assert.Equal(t, int64(1), req.WorkspaceID)
	assert.Equal(t, int64(8), *req.ItemID)
	assert.Equal(t, []int64{1, 2}, req.Tags)
	assert.Equal(t, int64(1002), req.Requester.ID, "a numeric string reference too")
	assert.Equal(t, int64(3), req.Items[0].ID)

	ws, err := Collect(c.ListWorkspaces(ctx))
	require.NoError(t, err)
	require.Len(t, ws, 1)
	assert.Equal(t, int64(1), ws[0].ID)

	a, err := c.GetAsset(ctx, 33)
	require.NoError(t, err)
	assert.Equal(t, int64(33), a.ID)
	assert.Equal(t, int64(4), a.TypeID())
	assert.Equal(t, int64(1002), a.AssigneeID(FieldAssignedTo))
}

func TestNonIntegralOrNonNumericIDIsAPermanentDecodeError(t *testing.T) {
	for name, body := range map[string]string{
		"1002.5":         `{"id":1002.5,"email":"ana.diaz@example.com"}`,
		"a string":       `{"id":"abc","email":"ana.diaz@example.com"}`,
		"a fraction ref": `{"id":1,"manager":7.5,"email":"ana.diaz@example.com"}`,
		"too big":        `{"id":9223372036854775808.0,"email":"ana.diaz@example.com"}`,
		"a time":         `{"id":1,"created_at":"ana.diaz@example.com"}`,
	} {
		t.Run(name, func(t *testing.T) {
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
			_, err := c.GetUser(context.Background(), 1)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.True(t, de.Refetched)
			assert.Equal(t, Permanent, Classify(err))
			assert.Contains(t, err.Error(), "users.get: GET /api/v1/users/1")
			assert.NotContains(t, err.Error(), "ana.diaz", "the body is not repeated")
		})
	}
	c, _ := pagedUsers(t, func(int) string { return `{"total_count":3.5,"data":[{"id":1}]}` })
	_, err := Collect(c.ListUsers(context.Background(), UserListOptions{}))
	assert.ErrorContains(t, err, "total_count", "the error names what failed to decode")
	assert.Equal(t, Permanent, Classify(err))
}

func TestUnparseableReadIsFetchedOnceMore(t *testing.T) {
	var calls atomic.Int32
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			fmt.Fprint(w, `{"page":1,"data":[{"id":1},{"i`) // cut on the way
			return
		}
		fmt.Fprint(w, `{"page":1,"total_count":2,"data":[{"id":1},{"id":2}]}`)
	})
	// A POST .../list is a search: as safe to send again as a GET.
	assets, err := Collect(c.ListAssets(context.Background(), nil))
	require.NoError(t, err)
	assert.Len(t, assets, 2)
	assert.Equal(t, int32(2), calls.Load())
}

func TestUnparseableWriteAnswerIsNotResent(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			var calls atomic.Int32
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				fmt.Fprint(w, `{"id":5,"ema`)
			})
			var err error
			switch method {
			case http.MethodPost:
				_, err = c.CreateUser(context.Background(), UserInput{Email: "a@b.c", FirstName: "A"})
			case http.MethodPut:
				_, err = c.UpdateUser(context.Background(), 5, UserInput{Title: "x"})
			case http.MethodPatch:
				_, err = c.PatchUser(context.Background(), 5, UserInput{Title: "x"})
			}
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.False(t, de.Refetched)
			assert.Equal(t, int32(1), calls.Load())
			assert.Equal(t, Transient, Classify(err), "the caller's retry re-reads before writing again")
		})
	}
}

func TestIntegralLiteral(t *testing.T) {
	for lit, want := range map[string]string{
		"1002.0": "1002", "1.002e3": "1002", "-7.00": "-7", "1E+2": "100", "10e-1": "1", "0.5e1": "5",
		"0.0": "0", "-0.0": "0", "0e-5": "0", "9007199254740993.0": "9007199254740993",
		"9223372036854775807.0": "9223372036854775807", "-9223372036854775808.0": "-9223372036854775808",
	} {
		got, ok := integralLiteral(lit)
		assert.True(t, ok, lit)
		assert.Equal(t, want, got, lit)
	}
	for _, lit := range []string{"1002", "1002.5", "1e-2", "01.0", "1.", ".5", "1e", "1e400", "1e999999999999",
		"9223372036854775808.0", "1.0.0", "--1.0", "1e+-2"} {
		_, ok := integralLiteral(lit)
		assert.False(t, ok, lit)
	}
	body := []byte(`{"a":"x1.0","b":[1.0,2.5,"\"3.0",4e0],"c":true}`)
	assert.Equal(t, `{"a":"x1.0","b":[1,2.5,"\"3.0",4],"c":true}`, string(integralNumbers(body)))
	plain := []byte(`{"id":1,"email":"a@b.c"}`)
	assert.True(t, slices.Equal(plain, integralNumbers(plain)))
}
