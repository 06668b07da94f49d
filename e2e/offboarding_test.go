package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// startOffboarding starts an offboarding the way the starter does.
func (e *env) startOffboarding(in lifecycle.OffboardingInput) client.WorkflowRun {
	e.t.Helper()
	run, err := e.client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID:                       lifecycle.OffboardingID(in.EmployeeID),
		TaskQueue:                e.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    temporal.NewSearchAttributes(lifecycle.EmployeeIDKey.ValueSet(in.EmployeeID)),
		StaticSummary:            "Offboarding " + in.EmployeeID,
	}, lifecycle.OffboardingWorkflowName, in)
	require.NoError(e.t, err)
	return run
}

// leaverWithAccess picks a seeded Engineering user with a manager and three active grants, and
// gives them a second asset, so the offboarding has 3 grants and 2 assets to deal with.
func leaverWithAccess(t *testing.T, sim *atomicworktest.Server) atomicwork.User {
	t.Helper()
	var leaver atomicwork.User
	for _, u := range sim.Users() {
		if !u.IsDeleted && u.Manager != nil && len(sim.ActiveGrantsOf(u.ID)) == 3 && len(sim.AssetsOf(u.ID)) == 1 {
			leaver = u
			break
		}
	}
	require.NotZero(t, leaver.ID, "the demo dataset has a user with a manager, 3 grants and 1 asset")
	monitor := sim.AssetTypeID("Monitor")
	for _, a := range sim.Assets() {
		if a.TypeID() == monitor && a.StatusValue(atomicwork.FieldStatus) == atomicwork.AssetAvailable {
			_, _, err := sim.Client(t).SetAssignment(context.Background(), a.ID, atomicwork.Assignment{AssigneeID: leaver.ID, Status: atomicwork.AssetInUse})
			require.NoError(t, err)
			break
		}
	}
	require.Len(t, sim.AssetsOf(leaver.ID), 2)
	return leaver
}

func TestOffboardingEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults atomicworktest.Faults
	}{
		{"clean", atomicworktest.Faults{}},
		{"under faults", atomicworktest.Faults{Seed: 11, ServerError: 0.10, RateLimit: 0.05, WriteThen500: 0.05}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, atomicworktest.Options{RevocationDelay: 300 * time.Millisecond}, activities.Policy{})
			leaver := leaverWithAccess(t, e.sim)
			held := e.sim.AssetsOf(leaver.ID)
			id := employeeID(t, e.sim, leaver)
			e.sim.SetFaults(tc.faults)

			in := lifecycle.OffboardingInput{EmployeeID: id, Email: leaver.Email, LastDay: time.Now().UTC().Format(time.DateOnly),
				TimeZone: "UTC", Assets: lifecycle.AssetsManager, Immediate: true, GracePeriod: 2 * time.Second}
			run := e.startOffboarding(in)
			ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
			defer cancel()
			var res lifecycle.OffboardingResult
			require.NoError(t, run.Get(ctx, &res))
			e.sim.SetFaults(atomicworktest.Faults{})

			assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
			assert.True(t, res.Deleted)
			assert.Empty(t, e.sim.ActiveGrantsOf(leaver.ID), "the leaver keeps no access")
			for _, a := range held {
				now := assetByID(e.sim, a.ID)
				assert.Equal(t, leaver.Manager.ID, now.AssigneeID(atomicwork.FieldAssignedTo), "asset %d goes to the manager", a.ID)
			}
			u, ok := e.sim.UserByEmail(leaver.Email)
			require.True(t, ok)
			assert.True(t, u.IsDeleted, "deleted after the grace period")
			assert.Equal(t, "TERMINATED", u.EmploymentStatus)
			require.NotNil(t, u.TerminatedOn)

			var req atomicwork.Request
			for _, r := range e.sim.Requests() {
				if r.DisplayID == res.RequestID {
					req = r
				}
			}
			assert.True(t, req.Status.Is(atomicwork.StatusResolved), "request %s is %v", res.RequestID, req.Status)
			var summary int
			for _, n := range e.sim.Notes(res.RequestID) {
				if strings.Contains(n.Description, "/summary -->") {
					summary++
					assert.Contains(t, n.Description, "revoked")
				}
			}
			assert.Equal(t, 1, summary, "one summary note")
			e.requireNoKeyLeak(run.GetID(), run.GetRunID())
			if tc.faults == (atomicworktest.Faults{}) {
				recordHistory(t, e, run.GetID(), run.GetRunID(), "offboarding-completed.json")
			}
		})
	}
}

func TestFiftyOffboardingsInTheSameMinute(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{RevocationDelay: 100 * time.Millisecond}, activities.Policy{})
	c := e.sim.Client(t)
	ctx := context.Background()
	okta := e.sim.EntitlementID("okta-base")
	const n = 50
	users := make([]atomicwork.User, n)
	for i := range users {
		u, err := c.CreateUser(ctx, atomicwork.UserInput{Email: fmt.Sprintf("leaver%02d@example.com", i), FirstName: "Leaver", LastName: fmt.Sprint(i), EmployeeID: fmt.Sprintf("L-%02d", i)})
		require.NoError(t, err)
		_, err = c.CreateGrant(ctx, atomicwork.GrantInput{UserID: u.ID, EntitlementID: okta})
		require.NoError(t, err)
		users[i] = *u
	}

	// Everyone's access ends at the same minute, the first whole minute at least 40 s from now
	// (time enough to start them all and cancel one first, on a busy machine too).
	at := time.Now().UTC().Add(40 * time.Second).Add(time.Minute - 1).Truncate(time.Minute)
	day, endOfDay := at.Format(time.DateOnly), at.Format("15:04")
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			e.startOffboarding(lifecycle.OffboardingInput{EmployeeID: u.EmployeeID, Email: u.Email, LastDay: day, EndOfDay: endOfDay, TimeZone: "UTC", GracePeriod: time.Hour})
		})
	}
	wg.Wait()
	// The termination of the first one is withdrawn before the minute.
	cancelled := users[0]
	h, err := e.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: lifecycle.OffboardingID(cancelled.EmployeeID),
		UpdateName: lifecycle.UpdateCancel, Args: []any{lifecycle.CancelRequest{Reason: "resignation withdrawn"}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))
	t.Logf("fifty started and one cancelled %s before the minute", time.Until(at).Round(time.Second))

	for i, u := range users {
		wctx, cancel := context.WithTimeout(ctx, runDeadline)
		if i == 0 {
			var res lifecycle.OffboardingResult
			require.NoError(t, e.client.GetWorkflow(wctx, lifecycle.OffboardingID(u.EmployeeID), "").Get(wctx, &res))
			assert.Equal(t, lifecycle.OutcomeCancelled, res.Outcome)
			cancel()
			continue
		}
		// The others wait out their grace period: done means grace-period stage with nothing held.
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			v, err := e.client.QueryWorkflow(wctx, lifecycle.OffboardingID(u.EmployeeID), "", lifecycle.QueryStatus)
			if !assert.NoError(ct, err) {
				return
			}
			var st lifecycle.OffboardingStatus
			assert.NoError(ct, v.Get(&st))
			assert.Equal(ct, lifecycle.StageOffGracePeriod, st.Stage, u.EmployeeID)
		}, runDeadline, 500*time.Millisecond)
		cancel()
		assert.Empty(t, e.sim.ActiveGrantsOf(u.ID), "%s keeps access", u.EmployeeID)
		for _, g := range e.sim.Grants() {
			if g.User != nil && g.User.ID == u.ID && g.Status == atomicwork.GrantRevoked && g.RevocationStatus != nil {
				assert.False(t, g.UpdatedAt.Before(at), "%s: access removed at %s, before the scheduled %s", u.EmployeeID, g.UpdatedAt, at)
			}
		}
	}
	assert.Len(t, e.sim.ActiveGrantsOf(cancelled.ID), 1, "nothing is revoked for a cancelled offboarding")
}

func assetByID(sim *atomicworktest.Server, id int64) atomicwork.Asset {
	for _, a := range sim.Assets() {
		if a.ID == id {
			return a
		}
	}
	return atomicwork.Asset{}
}
