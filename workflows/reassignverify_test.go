package workflows

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// listFaults is a test middleware over the simulator that answers assets/list the ways the
// published API allows and the simulator does not (yet): the second listing of page 1 empty
// (totals unchanged, so a page before the last), every page in descending order, or 400 to sort.
type listFaults struct {
	next       http.Handler
	emptyOnce  bool
	reverse    bool
	refuseSort bool

	mu     sync.Mutex
	page1s int
}

func (l *listFaults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/assets/list" {
		l.next.ServeHTTP(w, r)
		return
	}
	if l.refuseSort && q.Has("sort") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(atomicwork.ErrorBody{Error: "sort: unknown field id", Code: atomicwork.CodeBadRequest})
		return
	}
	rec := httptest.NewRecorder()
	l.next.ServeHTTP(rec, r)
	var page map[string]json.RawMessage
	var data []json.RawMessage
	if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &page) == nil && json.Unmarshal(page["data"], &data) == nil {
		l.mu.Lock()
		if q.Get("page") == "1" && q.Get("per_page") == "100" {
			l.page1s++
			if l.emptyOnce && l.page1s == 2 {
				data = nil
			}
		}
		l.mu.Unlock()
		if l.reverse {
			slices.Reverse(data)
		}
		page["data"], _ = json.Marshal(append([]json.RawMessage{}, data...))
		body, _ := json.Marshal(page)
		rec.Body = bytes.NewBuffer(body)
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// TestReassignmentOverListAnswersThatBrokeIt runs the batch with the real activities over the
// simulator: a listing that an empty page before the last ended after its first page (the
// batch reported completed with 100 of 301 done), and lists the cursor cannot use. Each ends
// completed with every asset of the leaver in stock, and no pause.
func TestReassignmentOverListAnswersThatBrokeIt(t *testing.T) {
	for _, mode := range []struct {
		name string
		mode ReassignMode
	}{{"per asset", ReassignPerAsset}, {"in ranges", ReassignInRanges}} {
		for name, faults := range map[string]func() *listFaults{
			"an empty page before the last": func() *listFaults { return &listFaults{emptyOnce: true} },
			"descending pages":              func() *listFaults { return &listFaults{reverse: true} },
			"sort refused":                  func() *listFaults { return &listFaults{refuseSort: true} },
		} {
			t.Run(mode.name+"/"+name, func(t *testing.T) { reassignOver(t, mode.mode, faults()) })
		}
	}
}

// reassignOver runs a leaver's batch in mode over the simulator behind faults and checks the end.
func reassignOver(t *testing.T, mode ReassignMode, faults *listFaults) {
	h := atomicworktest.NewHandler(atomicworktest.Options{ExtraAssets: 300})
	faults.next = h
	srv := httptest.NewServer(faults)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	c, err := atomicwork.New(atomicwork.Config{BaseURL: srv.URL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	require.NoError(t, err)
	a, err := activities.New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: c}, atomicworktest.ITWorkspaceID, activities.Policy{})
	require.NoError(t, err)
	bo, ok := h.UserByEmail(atomicworktest.DefaultExtraAssetsAssignee)
	require.True(t, ok)
	held := len(h.AssetsOf(bo.ID))
	require.Greater(t, held, 200)

	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(a)
	wf := NewReassignment(mode)
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: lifecycle.ReassignmentWorkflowName})
	env.SetTestTimeout(time.Minute) // real HTTP calls; a paused batch would never end
	env.ExecuteWorkflow(wf, lifecycle.ReassignmentInput{BatchID: "leaver", Selector: lifecycle.AssetSelector{AssigneeEmail: bo.Email},
		Target: lifecycle.AssetTarget{Stock: true}, Confirmed: true, Concurrency: 20})
	rep := completedResult[lifecycle.ReassignmentReport](require.New(t), env)
	assert.Equal(t, lifecycle.OutcomeCompleted, rep.Outcome)
	assert.Zero(t, len(h.AssetsOf(bo.ID)), "every asset of the leaver moved")
	assert.Equal(t, held, rep.Done, "each once")
	assert.Zero(t, rep.Unfinished)
}
