package atomicworktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// rawCall is apiClient.do for goroutines, where require must not be used.
func rawCall(baseURL, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, baseURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Api-Key", DevKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestConcurrentRequests runs mixed reads and writes in parallel (meaningful under -race) and
// checks that check-then-act inside the simulator stays atomic.
func TestConcurrentRequests(t *testing.T) {
	s, c := newSim(t, Options{})
	ana := mustUser(t, s.Handler, "ana.diaz@example.com")
	laptop := availableLaptop(t, s.Handler)
	kai := ok[atomicwork.User](t, c.do(http.MethodPost, "/api/v1/users", map[string]any{"email": "kai@example.com", "first_name": "Kai"}))
	okta := s.EntitlementID("okta-base")

	const workers = 16
	type result struct {
		op     string
		status int
		body   []byte
		err    error
	}
	results := make(chan result, workers*8)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			call := func(op, method, path string, body any) {
				status, b, err := rawCall(s.URL, method, path, body)
				results <- result{op, status, b, err}
			}
			call("dup-user", http.MethodPost, "/api/v1/users", map[string]any{"email": "same@example.com", "first_name": "Same"})
			call("dup-grant", http.MethodPost, "/api/v1/iga/grants", map[string]any{"user_id": kai.ID, "entitlement_id": okta})
			call("request", http.MethodPost, "/api/v1/requests", map[string]any{"subject": fmt.Sprint("r", w), "requester": ana.ID})
			call("asset", http.MethodPut, "/api/v1/assets/"+id(laptop.ID), map[string]any{
				"asset_type_id": laptop.AssetTypeID, "form_fields": map[string]any{"serial_number": fmt.Sprint("SN", w)}})
			call("list", http.MethodPost, "/api/v1/assets/list?per_page=100", []any{})
			call("list", http.MethodPost, "/api/v1/iga/grants/list", []any{})
			call("list", http.MethodGet, "/api/v1/users/list?per_page=100", nil)
			_ = s.Requests() // inspection races with the API too
			call("list", http.MethodPost, "/api/v1/requests/list", []any{})
		}()
	}
	wg.Wait()
	close(results)

	counts := map[string]map[int]int{}
	for r := range results {
		require.NoError(t, r.err)
		if counts[r.op] == nil {
			counts[r.op] = map[int]int{}
		}
		counts[r.op][r.status]++
		if r.status == http.StatusOK || r.status == http.StatusConflict {
			assert.True(t, json.Valid(r.body))
		}
	}
	assert.Equal(t, map[int]int{200: 1, 409: workers - 1}, counts["dup-user"])
	assert.Equal(t, map[int]int{200: 1, 409: workers - 1}, counts["dup-grant"])
	assert.Equal(t, map[int]int{200: workers}, counts["request"])
	assert.Equal(t, map[int]int{200: workers}, counts["asset"])
	assert.Equal(t, map[int]int{200: 4 * workers}, counts["list"])

	seen := map[string]bool{}
	for _, rq := range s.Requests() {
		assert.False(t, seen[rq.DisplayID], "display id %s issued twice", rq.DisplayID)
		seen[rq.DisplayID] = true
	}
	assert.Len(t, seen, workers)
}
