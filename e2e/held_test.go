package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// newLeaver creates the test's own leaver, with two active grants and one assigned asset, whose
// HR employee id (prefix plus a hash of the test's name, unique on the shared dev server) and
// Atomicwork employee_id agree.
func newLeaver(t *testing.T, sim *atomicworktest.Server, prefix string) atomicwork.User {
	t.Helper()
	sum := sha256.Sum256([]byte(t.Name()))
	employeeID := fmt.Sprintf("%s-%x", prefix, sum[:3])
	ctx, c := context.Background(), sim.Client(t)
	u, err := c.CreateUser(ctx, atomicwork.UserInput{Email: strings.ToLower(employeeID) + "@example.com", FirstName: "Leaver",
		LastName: employeeID, EmployeeID: employeeID})
	require.NoError(t, err)
	for _, name := range []string{"okta-base", "slack-member"} {
		_, err := c.CreateGrant(ctx, atomicwork.GrantInput{UserID: u.ID, EntitlementID: sim.EntitlementID(name)})
		require.NoError(t, err)
	}
	for _, a := range sim.Assets() {
		if a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetAvailable {
			_, _, err := c.SetAssignment(ctx, a.ID, atomicwork.Assignment{AssigneeID: u.ID, Status: atomicwork.AssetInUse})
			require.NoError(t, err)
			break
		}
	}
	require.Len(t, sim.ActiveGrantsOf(u.ID), 2)
	require.Len(t, sim.AssetsOf(u.ID), 1)
	return *u
}

// stageOf is a workflow's LifecycleStage search attribute, as the server holds it now.
func (e *env) stageOf(ctx context.Context, workflowID string) (string, error) {
	d, err := e.client.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return "", err
	}
	var stage string
	p := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[lifecycle.LifecycleStageKey.GetName()]
	if p == nil {
		return "", nil
	}
	return stage, converter.GetDefaultDataConverter().FromPayload(p, &stage)
}

// offboardingStatus queries an offboarding's status.
func (e *env) offboardingStatus(ctx context.Context, workflowID string) (lifecycle.OffboardingStatus, error) {
	var st lifecycle.OffboardingStatus
	v, err := e.client.QueryWorkflow(ctx, workflowID, "", lifecycle.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// awaitStage polls until the offboarding's search attribute and status are in stage, and returns the status.
func (e *env) awaitStage(ctx context.Context, workflowID, stage string) lifecycle.OffboardingStatus {
	e.t.Helper()
	var st lifecycle.OffboardingStatus
	require.EventuallyWithT(e.t, func(ct *assert.CollectT) {
		sa, err := e.stageOf(ctx, workflowID)
		if !assert.NoError(ct, err) || !assert.Equal(ct, stage, sa) {
			return
		}
		st, err = e.offboardingStatus(ctx, workflowID)
		assert.NoError(ct, err)
		assert.Equal(ct, stage, st.Stage)
	}, time.Minute, 200*time.Millisecond)
	return st
}

func TestHeldOffboardingRevokesNothingUntilRevokeNow(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	leaver := newLeaver(t, e.sim, "H")
	noGrace := 0
	lastDay := time.Now().UTC().AddDate(0, 0, -60).Format(time.DateOnly)
	reason := fmt.Sprintf("HR last working day %s is 60 days past, more than 30", lastDay)
	run := e.startOffboarding(lifecycle.OffboardingInput{EmployeeID: leaver.EmployeeID, Email: leaver.Email, LastDay: lastDay,
		TimeZone: "UTC", GraceDays: &noGrace, Hold: reason})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	st := e.awaitStage(ctx, run.GetID(), lifecycle.StageOffHeld)
	assert.Equal(t, reason, st.Hold)
	require.NotEmpty(t, st.RequestID, "the request is open")
	var held string
	for _, n := range e.sim.Notes(st.RequestID) {
		if strings.Contains(n.Description, "/held-1 -->") {
			held = n.Description
		}
	}
	assert.Contains(t, held, reason)
	assert.Contains(t, held, "starter offboard now --employee-id "+leaver.EmployeeID)
	// Held: the run waits on no timer and nothing is in flight, so this is the end state until an operator acts.
	assert.Len(t, e.sim.ActiveGrantsOf(leaver.ID), 2, "a held offboarding revokes nothing")
	assert.Len(t, e.sim.AssetsOf(leaver.ID), 1, "a held offboarding reclaims nothing")

	h, err := e.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: lifecycle.UpdateRevokeNow,
		Args: []any{lifecycle.RevokeNowRequest{Reason: "checked with HR"}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))
	var res lifecycle.OffboardingResult
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	assert.Empty(t, e.sim.ActiveGrantsOf(leaver.ID), "revoke_now offboards the held leaver")
	assert.Empty(t, e.sim.AssetsOf(leaver.ID))
	e.requireNoKeyLeak(run.GetID(), run.GetRunID())
	recordHistory(t, e, run.GetID(), run.GetRunID(), "offboarding-held.json")
}
