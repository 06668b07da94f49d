package activities

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// alteredActivities runs the activities against the simulator with its 2xx answers passed
// through alter (a legal answer the simulator does not give itself), while alter returns true.
func alteredActivities(t *testing.T, alter func(r *http.Request, body []byte) ([]byte, bool)) (*Activities, *atomicworktest.Server) {
	t.Helper()
	sim := atomicworktest.NewServer(t, atomicworktest.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sim.Handler.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code < 300 {
			if b, ok := alter(r, body); ok {
				body = b
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c, err := atomicwork.New(atomicwork.Config{BaseURL: srv.URL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	require.NoError(t, err)
	acts, err := New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: c}, atomicworktest.ITWorkspaceID, Policy{})
	require.NoError(t, err)
	return acts, sim
}

func TestShortListingIsRetriedNeverTakenAsAll(t *testing.T) {
	// Every assets/list page one item short of what it says (total_count unchanged).
	var short atomic.Bool
	acts, sim := alteredActivities(t, func(r *http.Request, body []byte) ([]byte, bool) {
		if !short.Load() || r.URL.Path != "/api/v1/assets/list" {
			return nil, false
		}
		var page map[string]any
		require.NoError(t, json.Unmarshal(body, &page))
		if data, _ := page["data"].([]any); len(data) > 0 {
			page["data"] = data[1:]
		}
		b, err := json.Marshal(page)
		require.NoError(t, err)
		return b, true
	})
	u := seededLeaver(t, sim)
	held := len(sim.AssetsOf(u.ID))
	require.NotZero(t, held)

	short.Store(true)
	_, err := acts.ListAccess(context.Background(), AccessRequest{UserID: u.ID})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "a listing short of its total_count is not the user's access")
	assert.Equal(t, ErrIncompleteListing, appErr.Type())
	assert.False(t, appErr.NonRetryable(), "listing again may get every page")

	short.Store(false)
	access, err := acts.ListAccess(context.Background(), AccessRequest{UserID: u.ID})
	require.NoError(t, err)
	assert.Len(t, access.Assets, held)
}

func TestUnparseableReadAnswerIsNonRetryable(t *testing.T) {
	acts, sim := newActivities(t, atomicworktest.Options{})
	u := seededLeaver(t, sim)
	sim.SetFaults(atomicworktest.Faults{MalformedJSON: 1})
	_, err := acts.ListAccess(context.Background(), AccessRequest{UserID: u.ID})
	sim.SetFaults(atomicworktest.Faults{})

	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrUnparseable, appErr.Type())
	assert.True(t, appErr.NonRetryable(), "fetched twice, unparseable twice: 2 hours of retries would not help")
	assert.Contains(t, err.Error(), "iga.list-grants", "the error names the call")
	assert.NotContains(t, err.Error(), u.Email, "no body, no email")
}

func TestUnparseableWriteAnswerIsRetriedAndConverges(t *testing.T) {
	// The create's answer is cut on the way, once; every read is clean.
	var cuts atomic.Int32
	acts, sim := alteredActivities(t, func(r *http.Request, body []byte) ([]byte, bool) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/users" || cuts.Add(1) > 1 {
			return nil, false
		}
		return body[:len(body)/2], true
	})
	ctx := context.Background()
	before := len(sim.Users())

	_, err := acts.EnsureUser(ctx, userReq("onboarding-E-900"))
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, ErrUnavailable, appErr.Type(), "the write applied, its answer was lost: retry, which re-reads first")
	assert.False(t, appErr.NonRetryable())

	ref := retry(t, 3, func() (UserRef, error) { return acts.EnsureUser(ctx, userReq("onboarding-E-900")) })
	assert.True(t, ref.Created)
	assert.Len(t, sim.Users(), before+1, "created once")
	assert.Equal(t, int32(1), cuts.Load(), "the create was not sent again")
}
