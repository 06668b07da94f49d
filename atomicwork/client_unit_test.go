package atomicwork

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests pin the client's behaviour against hand-made answers the simulator never gives
// (HTML 502s, odd envelopes); client_test.go runs every method against the simulator.

const secretKey = "aw_0123456789abcdef0123456789abcdef_SECRET"

func stubClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, APIKey: secretKey, WorkspaceID: 7, Timeout: 2 * time.Second})
	require.NoError(t, err)
	return c
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"empty base URL":     {APIKey: "k"},
		"blank base URL":     {BaseURL: "  ", APIKey: "k"},
		"not a URL":          {BaseURL: "acme.atomicwork.com", APIKey: "k"},
		"empty key":          {BaseURL: "https://acme.atomicwork.com"},
		"negative workspace": {BaseURL: "https://acme.atomicwork.com", APIKey: "k", WorkspaceID: -1},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := New(cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), "atomicwork:")
		})
	}
}

func TestHeadersAndBaseURL(t *testing.T) {
	var got http.Header
	var gotPath string
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		got, gotPath = r.Header.Clone(), r.URL.Path
		fmt.Fprint(w, `{"id":42,"email":"a@b.c"}`)
	})
	u, err := c.GetUser(context.Background(), 42)
	require.NoError(t, err)
	assert.Equal(t, int64(42), u.ID)
	assert.Equal(t, "/api/v1/users/42", gotPath)
	assert.Equal(t, secretKey, got.Get("X-Api-Key"))
	assert.Equal(t, "7", got.Get("X-Workspace-Id"))
	assert.Equal(t, DefaultUserAgent, got.Get("User-Agent"))

	// Workspace discovery must not send the workspace header.
	c = stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		fmt.Fprint(w, `{"data":[{"id":1,"name":"IT"}],"total_pages":1}`)
	})
	ws, err := Collect(c.ListWorkspaces(context.Background()))
	require.NoError(t, err)
	require.Len(t, ws, 1)
	assert.Empty(t, got.Get("X-Workspace-Id"))
	assert.Equal(t, secretKey, got.Get("X-Api-Key"))
}

func TestBaseURLWithAPISuffix(t *testing.T) {
	var gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		fmt.Fprint(w, `{"id":1}`)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/api/v1/", APIKey: "k"})
	require.NoError(t, err)
	_, err = c.GetAsset(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, "/api/v1/assets/1", gotPath)
}

func TestClassification(t *testing.T) {
	cases := []struct {
		status int
		want   Class
	}{
		{400, Permanent}, {401, Permanent}, {403, Permanent}, {404, Permanent}, {409, Permanent}, {422, Permanent},
		{405, Permanent}, {415, Permanent},
		{408, Transient}, {425, Transient}, {429, Transient},
		{500, Transient}, {502, Transient}, {503, Transient}, {504, Transient},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, `{"error":"boom %d","code":"SOME_CODE"}`, tc.status)
			})
			_, err := c.GetUser(context.Background(), 1)
			require.Error(t, err)
			assert.Equal(t, tc.want, Classify(err), "status %d", tc.status)
			assert.Equal(t, tc.status, StatusOf(err))
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "SOME_CODE", apiErr.Code)
			assert.Equal(t, fmt.Sprintf("boom %d", tc.status), apiErr.Message)
			assert.Equal(t, "users.get", apiErr.Op)
			assert.Equal(t, "GET", apiErr.Method)
			assert.Equal(t, "/api/v1/users/1", apiErr.Path)
		})
	}
	// Wrapping keeps the class.
	wrapped := fmt.Errorf("step: %w", &APIError{StatusCode: 404})
	assert.Equal(t, Permanent, Classify(wrapped))
	assert.True(t, IsNotFound(wrapped))
	assert.Equal(t, Canceled, Classify(fmt.Errorf("x: %w", context.Canceled)))
	assert.Equal(t, Transient, Classify(&DecodeError{Err: errors.New("bad")}))
	assert.Equal(t, Permanent, Classify(errors.New("bad input")))
}

func TestNetworkErrorsAreTransient(t *testing.T) {
	// A port that nobody listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c, err := New(Config{BaseURL: "http://" + addr, APIKey: secretKey, Timeout: time.Second})
	require.NoError(t, err)
	_, err = c.GetUser(context.Background(), 1)
	require.Error(t, err)
	assert.Equal(t, Transient, Classify(err))
	var tr *TransportError
	require.ErrorAs(t, err, &tr)
	assert.NotContains(t, err.Error(), secretKey)
}

func TestTimeoutIsTransientAndPrompt(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, APIKey: secretKey, Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	_, err = c.GetUser(context.Background(), 1)
	require.Error(t, err)
	assert.Equal(t, Transient, Classify(err), "%v", err)
}

func TestContextCancellationStopsCall(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, APIKey: secretKey, Timeout: time.Minute})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.GetUser(ctx, 1)
		errc <- err
	}()
	<-started
	cancel()
	select {
	case err := <-errc:
		require.Error(t, err)
		assert.Equal(t, Canceled, Classify(err))
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled call did not return")
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>")
	})
	_, err := c.GetAsset(context.Background(), 5)
	require.Error(t, err)
	assert.Equal(t, Transient, Classify(err))
	assert.Contains(t, err.Error(), "HTTP 502")
	assert.Contains(t, err.Error(), "502 Bad Gateway")
	assert.Contains(t, err.Error(), "assets.get")
	assert.NotContains(t, err.Error(), "<html>")
}

func TestUnparseable2xxNamesOperation(t *testing.T) {
	var calls atomic.Int32
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fmt.Fprint(w, `{"id": 12, "display_id": "ITSR-`)
	})
	_, err := c.GetRequest(context.Background(), "ITSR-1")
	require.Error(t, err)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "requests.get")
	assert.Contains(t, err.Error(), "GET /api/v1/requests/ITSR-1")
	assert.Contains(t, err.Error(), "not valid JSON", "the error says what failed to decode")
	assert.Equal(t, int32(2), calls.Load(), "a read is fetched once more")
	assert.Equal(t, Permanent, Classify(err), "unparseable twice: retrying cannot help")

	c = stubClient(t, func(w http.ResponseWriter, r *http.Request) {})
	_, err = c.GetRequest(context.Background(), "ITSR-1")
	require.ErrorAs(t, err, &de, "an empty 2xx body where an object is expected is an error")
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, 3*time.Second, ParseRetryAfter("3", now))
	assert.Equal(t, time.Duration(0), ParseRetryAfter("", now))
	assert.Equal(t, time.Duration(0), ParseRetryAfter("-4", now))
	assert.Equal(t, time.Duration(0), ParseRetryAfter("soon", now))
	assert.Equal(t, 90*time.Second, ParseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), ParseRetryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now), "a past date means now")

	for name, header := range map[string]string{
		"seconds":   "2",
		"http-date": time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat),
	} {
		t.Run(name, func(t *testing.T) {
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", header)
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":"Too many requests","code":"RATE_LIMITED"}`)
			})
			_, err := c.GetUser(context.Background(), 1)
			require.Error(t, err)
			assert.True(t, IsRateLimited(err))
			assert.Equal(t, Transient, Classify(err))
			d := RetryAfterOf(err)
			assert.Greater(t, d, time.Duration(0))
			assert.LessOrEqual(t, d, 5*time.Second)
		})
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	cfg := Config{BaseURL: "https://acme.atomicwork.com", APIKey: secretKey, WorkspaceID: 3}
	c, err := New(cfg)
	require.NoError(t, err)
	for _, s := range []string{
		//lint:ignore S1025 each verb is a way a key could be printed, %s included
		fmt.Sprint(cfg), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg),
		fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
		fmt.Sprintf("%+v", *c),
	} {
		assert.NotContains(t, s, secretKey)
		assert.NotContains(t, s, "SECRET")
	}
	// An error answer echoing the request must not leak the key through the client's error.
	c = stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"Invalid API key","code":"UNAUTHORIZED"}`)
	})
	_, err = c.GetUser(context.Background(), 1)
	require.Error(t, err)
	assert.NotContains(t, fmt.Sprintf("%+v", err), secretKey)
}

func TestEmailNeverInErrors(t *testing.T) {
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"User not found","code":"NOT_FOUND"}`)
	})
	_, err := c.LookupUserByEmail(context.Background(), "ana.diaz+new@example.com")
	require.Error(t, err)
	assert.True(t, IsNotFound(err))
	assert.NotContains(t, err.Error(), "ana.diaz")
	assert.Contains(t, err.Error(), "/api/v1/users/{email}/email-lookup")

	_, err = c.LookupUserByEmail(context.Background(), "not-an-email")
	require.Error(t, err)
	assert.Equal(t, Permanent, Classify(err))
}

func TestEmailIsPathEscaped(t *testing.T) {
	var raw string
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		raw = r.URL.EscapedPath()
		fmt.Fprint(w, `{"id":1,"email":"a+b@example.com"}`)
	})
	_, err := c.LookupUserByEmail(context.Background(), "a+b@example.com")
	require.NoError(t, err)
	assert.Equal(t, "/api/v1/users/a+b@example.com/email-lookup", raw)
}

func TestOffsetPaginationStops(t *testing.T) {
	type reply func(page int) string
	cases := map[string]struct {
		reply     reply
		wantItems int
		wantCalls int
	}{
		"total_pages": {func(p int) string {
			return fmt.Sprintf(`{"page":%d,"page_size":2,"total_pages":3,"data":[{"id":%d},{"id":%d}]}`, p, 2*p-1, 2*p)
		}, 6, 3},
		"empty page": {func(p int) string {
			if p > 2 {
				return `{"data":[]}`
			}
			return fmt.Sprintf(`{"page_size":2,"data":[{"id":%d},{"id":%d}]}`, 2*p-1, 2*p)
		}, 4, 3},
		"short page": {func(p int) string {
			if p == 2 {
				return `{"per_page":2,"data":[{"id":3}]}`
			}
			return `{"per_page":2,"data":[{"id":1},{"id":2}]}`
		}, 3, 2},
		"bare array": {func(p int) string {
			if p == 1 {
				return `[{"id":1},{"id":2}]`
			}
			return `[]`
		}, 2, 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				assert.LessOrEqual(t, atoi(r.URL.Query().Get("per_page")), MaxPerPage)
				fmt.Fprint(w, tc.reply(atoi(r.URL.Query().Get("page"))))
			})
			users, err := Collect(c.ListUsers(context.Background(), UserListOptions{PerPage: 2}))
			require.NoError(t, err)
			assert.Len(t, users, tc.wantItems)
			assert.Equal(t, int32(tc.wantCalls), calls.Load())
		})
	}
}

func TestPerPageNeverAbove100(t *testing.T) {
	var got string
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query().Get("per_page")
		fmt.Fprint(w, `{"data":[]}`)
	})
	_, err := c.ListAssetsPage(context.Background(), nil, 1, 5000)
	require.NoError(t, err)
	assert.Equal(t, "100", got)
}

func TestTokenPagination(t *testing.T) {
	var calls atomic.Int32
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		assert.JSONEq(t, `[{"attribute":"user","operator":"IS_ANY_OF","values":[{"value":5}]}]`, string(body))
		switch r.URL.Query().Get("next_page_token") {
		case "":
			fmt.Fprint(w, `{"data":[{"id":1},{"id":2}],"next_page_token":"b"}`)
		case "b":
			fmt.Fprint(w, `{"data":[{"id":3}],"next_page_token":"c"}`)
		case "c":
			fmt.Fprint(w, `{"data":[{"id":4}],"next_page_token":null}`)
		default:
			t.Errorf("unexpected token %q", r.URL.Query().Get("next_page_token"))
		}
	})
	grants, err := Collect(c.ListGrants(context.Background(), Filters{}.IsAnyOf("user", 5)))
	require.NoError(t, err)
	assert.Len(t, grants, 4)
	assert.Equal(t, int32(3), calls.Load())
}

func TestTokenPaginationRepeatedTokenEnds(t *testing.T) {
	var calls atomic.Int32
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fmt.Fprint(w, `{"data":[{"id":1}],"next_page_token":"same"}`)
	})
	_, err := Collect(c.ListGrants(context.Background(), nil))
	require.NoError(t, err)
	assert.Equal(t, int32(2), calls.Load())
}

func TestPaginationErrorEndsIteration(t *testing.T) {
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"total_pages":5,"page_size":1,"data":[{"id":1}]}`)
	})
	users, err := Collect(c.ListUsers(context.Background(), UserListOptions{PerPage: 1}))
	require.Error(t, err)
	assert.Len(t, users, 1)
	assert.Equal(t, Transient, Classify(err))
}

func TestFilterBuilder(t *testing.T) {
	var body string
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		fmt.Fprint(w, `{"data":[]}`)
	})
	_, err := c.ListAssetsPage(context.Background(), nil, 1, 10)
	require.NoError(t, err)
	assert.JSONEq(t, `[]`, body, "no filters encode as [], meaning all records")

	f := Filters{}.IsAnyOf("status", AssetAvailable, AssetInUse).IsAnyOf("type_id", int64(12)).
		IsBetween("created_at", "2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z").IsNull("assigned_to_id")
	_, err = c.ListAssetsPage(context.Background(), f, 1, 10)
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"attribute":"status","operator":"IS_ANY_OF","values":[{"value":"AVAILABLE"},{"value":"IN_USE"}]},
		{"attribute":"type_id","operator":"IS_ANY_OF","values":[{"value":12}]},
		{"attribute":"created_at","operator":"IS_BETWEEN","values":[{"value":"2024-01-01T00:00:00Z"},{"value":"2024-12-31T23:59:59Z"}]},
		{"attribute":"assigned_to_id","operator":"IS_NULL","values":[]}]`, body)
}

func TestTolerantDecoding(t *testing.T) {
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/v1/requests/"):
			// A data-wrapped singleton with a bare status string.
			fmt.Fprint(w, `{"data":{"id":9,"display_id":"ITSR-9","status":"Resolved","requester":5}}`)
		default:
			fmt.Fprint(w, `{"id":3,"form_fields":{"assigned_to":{"id":77,"label":"Bo Li"},"status":"IN_USE"},"asset_basic_info":{"asset_type_id":4}}`)
		}
	})
	req, err := c.GetRequest(context.Background(), "ITSR-9")
	require.NoError(t, err)
	assert.Equal(t, "ITSR-9", req.DisplayID)
	assert.True(t, req.Status.Is(StatusResolved))
	assert.Equal(t, int64(5), req.Requester.ID)

	a, err := c.GetAsset(context.Background(), 3)
	require.NoError(t, err)
	assert.Equal(t, int64(77), a.AssigneeID(FieldAssignedTo))
	assert.Equal(t, int64(4), a.TypeID())
	assert.Equal(t, int64(12), AssigneeOf([]any{float64(12)}))
	assert.Equal(t, int64(13), AssigneeOf("13"))
	assert.Equal(t, int64(0), AssigneeOf(nil))
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
