package atomicwork

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestListAssetsPageSort: the sort asked for goes in the spec's sort parameter; none, none sent.
func TestListAssetsPageSort(t *testing.T) {
	var sorts []string
	var sent []bool
	c := stubClient(t, func(w http.ResponseWriter, r *http.Request) {
		sorts = append(sorts, r.URL.Query().Get("sort"))
		sent = append(sent, r.URL.Query().Has("sort"))
		fmt.Fprint(w, `{"data":[]}`)
	})
	_, err := c.ListAssetsPage(context.Background(), nil, 1, 10, SortAssetsByID)
	require.NoError(t, err)
	_, err = c.ListAssetsPage(context.Background(), nil, 1, 10, SortAssetsByID, "created_at:DESC")
	require.NoError(t, err)
	_, err = c.ListAssetsPage(context.Background(), nil, 1, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"id:ASC", "id:ASC,created_at:DESC", ""}, sorts)
	assert.Equal(t, []bool{true, true, false}, sent)
}
