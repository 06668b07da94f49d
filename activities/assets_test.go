package activities

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// emptyPage answers a listing with no data and the given total_count.
func emptyPage(total string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"page":1,"page_size":10,"total_pages":` + total + `,"total_count":` + total + `,"data":[]}`))
	}
}

// "No laptop available" is concluded only when verified: an empty listing that its own
// total_count or a second query contradicts is retried, and the laptop in stock is assigned.
func TestAssignAssetVerifiesNoneAvailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		// answer is the scripted answer to the i-th listing of available laptops (from 1).
		answer func(i int) http.HandlerFunc
		want   bool // assigned
	}{
		{"empty page that counts 3", func(i int) http.HandlerFunc {
			if i == 1 {
				return emptyPage("3")
			}
			return nil
		}, true},
		{"empty page that a count contradicts", func(i int) http.HandlerFunc {
			if i == 1 {
				return emptyPage("0")
			}
			return nil
		}, true},
		{"none in stock, confirmed", func(int) http.HandlerFunc { return emptyPage("0") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listings := 0
			acts, sim, _ := scriptedActivities(t, func(_ int, r *http.Request, body string) http.HandlerFunc {
				if r.URL.Path == "/api/v1/assets/list" && strings.Contains(body, atomicwork.AssetAvailable) {
					listings++
					return tc.answer(listings)
				}
				return nil
			})
			user, err := acts.EnsureUser(context.Background(), userReq("onboarding-E-900"))
			require.NoError(t, err)
			var got lifecycle.AssetAssignment
			runRetried(t, "AssignAsset", acts.AssignAsset, AssignAssetRequest{UserID: user.UserID,
				AssetTypeID: sim.AssetTypeID("Laptop"), AssetTypeName: "Laptop", Since: time.Now().Add(-time.Second)}, &got)

			assert.Equal(t, tc.want, got.Assigned)
			held := sim.AssetsOf(user.UserID)
			if tc.want {
				require.Len(t, held, 1)
				assert.Equal(t, got.AssetID, held[0].ID)
			} else {
				assert.Empty(t, held)
			}
		})
	}
}
