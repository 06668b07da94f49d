package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/workerapp"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// A grant that fails for good after planning (the entitlement went back to DRAFT) blocks the
// onboarding with a note instead of ending it half done; cancel then undoes everything, retry
// after the fix completes it.

// withdrawn sits in front of the simulator and, while on, refuses grants of one entitlement as
// the simulator refuses a DRAFT one: 400 VALIDATION_ERROR.
type withdrawn struct {
	entitlementID int64
	on            atomic.Bool
}

func (wd *withdrawn) proxy(t *testing.T, sim *atomicworktest.Server) string {
	target, err := url.Parse(sim.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wd.on.Load() && r.Method == http.MethodPost && r.URL.Path == "/api/v1/iga/grants" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var in struct {
				EntitlementID int64 `json:"entitlement_id"`
			}
			if json.Unmarshal(body, &in) == nil && in.EntitlementID == wd.entitlementID {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(atomicwork.ErrorBody{Code: atomicwork.CodeValidationError,
					Error: fmt.Sprintf("entitlement %d is DRAFT: only PUBLISHED entitlements can be granted", in.EntitlementID)})
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// startBlockedOnboarding starts an onboarding whose slack-member grant is refused, on a worker
// that reaches the simulator through wd, and waits until it is blocked on that grant.
func startBlockedOnboarding(t *testing.T, n int) (*env, *withdrawn, lifecycle.OnboardingInput, client.WorkflowRun, lifecycle.OnboardingStatus) {
	e := newEnvWithoutWorker(t)
	wd := &withdrawn{entitlementID: e.sim.EntitlementID("slack-member")}
	wd.on.Store(true)
	w, err := workerapp.NewWorker(e.client, workerapp.Config{
		TaskQueue: e.queue, BaseURL: wd.proxy(t, e.sim), DefaultWorkspace: atomicworktest.ITWorkspaceID,
		Keys: map[int64]string{atomicworktest.ITWorkspaceID: apiKey}, Timeout: 5 * time.Second, StopTimeout: 5 * time.Second,
	})
	require.NoError(t, err)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	in := hire(n, today())
	in.EmployeeID = testEmployeeID(t, in.EmployeeID)
	in.Entitlements, in.AssetTypes = []string{"okta-base", "slack-member"}, []string{"Laptop"}
	run := e.startOnboarding(in)
	return e, wd, in, run, e.awaitFailedStep(run.GetID(), "failed-1")
}

// awaitFailedStep waits until the onboarding is blocked on a failed step noted with marker step.
func (e *env) awaitFailedStep(workflowID, note string) lifecycle.OnboardingStatus {
	e.t.Helper()
	var st lifecycle.OnboardingStatus
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		var err error
		st, err = e.status(context.Background(), workflowID)
		if assert.NoError(c, err) && assert.Equal(c, lifecycle.StageBlocked, st.Stage) && assert.NotNil(c, st.Failed) {
			assert.True(c, strings.HasSuffix(st.Failed.Note, "/"+note), "note %q", st.Failed.Note)
		}
	}, runDeadline, 100*time.Millisecond)
	return st
}

// assertBlockedOnSlack checks what a blocked run says, and the note on its request.
func assertBlockedOnSlack(t *testing.T, e *env, in lifecycle.OnboardingInput, st lifecycle.OnboardingStatus) {
	t.Helper()
	assert.Equal(t, "grant slack-member", st.Failed.Step)
	assert.Contains(t, st.Failed.Error, "ATOMICWORK_BAD_REQUEST: ")
	assert.Contains(t, st.Failed.Error, "only PUBLISHED entitlements can be granted")
	assert.Contains(t, st.Blocked, "starter onboard retry --employee-id "+in.EmployeeID)
	assert.Contains(t, st.Blocked, "noted on request "+st.RequestID)
	assert.Equal(t, []string{"user", "request", "grant okta-base"}, st.Done)
	assert.Len(t, notesWith(e.sim, st.RequestID, "/failed-1 -->", "grant slack-member"), 1, "the failure is noted once on the request")
}

// notesWith are the notes of a request that contain every one of parts.
func notesWith(sim *atomicworktest.Server, displayID string, parts ...string) []atomicwork.Note {
	var out []atomicwork.Note
	for _, n := range sim.Notes(displayID) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(n.Description, p)
		}
		if all {
			out = append(out, n)
		}
	}
	return out
}

func (e *env) onboardingUpdate(workflowID, name string, arg any) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	h, err := e.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(e.t, err)
	require.NoError(e.t, h.Get(ctx, nil))
}

func TestFailedGrantBlocksOnboardingAndCancelUndoesEverything(t *testing.T) {
	e, _, in, run, st := startBlockedOnboarding(t, 300)
	assertBlockedOnSlack(t, e, in, st)
	u, ok := e.sim.UserByEmail(in.Email)
	require.True(t, ok)
	assert.False(t, u.IsDeleted, "blocked, not undone: the operator decides")
	assert.Len(t, e.sim.ActiveGrantsOf(u.ID), 1, "okta-base stays granted while blocked")

	// A retry while the entitlement is still withdrawn fails again and blocks again, noted again.
	e.onboardingUpdate(run.GetID(), lifecycle.UpdateRetry, lifecycle.RetryRequest{})
	e.awaitFailedStep(run.GetID(), "failed-2")

	e.onboardingUpdate(run.GetID(), lifecycle.UpdateCancel, lifecycle.CancelRequest{Reason: "offer withdrawn"})
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var res lifecycle.OnboardingResult
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, lifecycle.OutcomeCancelled, res.Outcome)
	require.NotNil(t, res.Failed, "the result names the step the run was blocked on")
	assert.Equal(t, "grant slack-member", res.Failed.Step)

	// Final state: nothing of the onboarding is left active, and the request says why.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Empty(c, e.sim.ActiveGrantsOf(u.ID), "no grant of the cancelled hire is active")
	}, settle, 100*time.Millisecond)
	u, _ = e.sim.UserByEmail(in.Email)
	assert.True(t, u.IsDeleted, "the user this onboarding created is deactivated")
	assert.Empty(t, e.sim.AssetsOf(u.ID))
	var req atomicwork.Request
	for _, r := range e.sim.Requests() {
		if r.DisplayID == res.RequestID {
			req = r
		}
	}
	assert.True(t, req.Status.Is(atomicwork.StatusResolved) || req.Status.Is(atomicwork.StatusClosed), "request %s is %v", req.DisplayID, req.Status)
	assert.Len(t, notesWith(e.sim, res.RequestID, "/failed-1 -->", "ATOMICWORK_BAD_REQUEST"), 1)
	assert.Len(t, notesWith(e.sim, res.RequestID, "/failed-2 -->"), 1)
	assert.Len(t, notesWith(e.sim, res.RequestID, "/cancelled -->", "offer withdrawn"), 1)

	e.requireNoKeyLeak(run.GetID(), run.GetRunID())
	recordHistory(t, e, run.GetID(), run.GetRunID(), "onboarding-blocked-cancelled.json")
}

func TestFailedGrantBlocksOnboardingAndRetryAfterTheFixCompletes(t *testing.T) {
	e, wd, in, run, st := startBlockedOnboarding(t, 301)
	assertBlockedOnSlack(t, e, in, st)

	wd.on.Store(false) // the entitlement is published again
	e.onboardingUpdate(run.GetID(), lifecycle.UpdateRetry, lifecycle.RetryRequest{})
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var res lifecycle.OnboardingResult
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	assert.Nil(t, res.Failed)
	requireOnboarded(t, e.sim, in.Email, []string{"okta-base", "slack-member"}, []string{"Laptop"})
	recordHistory(t, e, run.GetID(), run.GetRunID(), "onboarding-blocked-retried.json")
}
