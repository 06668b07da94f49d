package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// seedDrift makes the drift a nightly job must find: a terminated user and a deleted user who
// still hold grants and assets, and an onboarding request forgotten open since January.
func seedDrift(t *testing.T, sim *atomicworktest.Server) (leavers []int64, staleRequest string) {
	t.Helper()
	c := sim.Client(t)
	ctx := context.Background()
	for _, u := range sim.Users() {
		if len(leavers) == 2 {
			break
		}
		if u.IsDeleted || len(sim.ActiveGrantsOf(u.ID)) == 0 || len(sim.AssetsOf(u.ID)) == 0 || strings.Contains(u.Email, "manager") {
			continue
		}
		if len(leavers) == 0 {
			// Terminated today: her grants and assets, seeded now, predate it and are hers as a
			// leaver (reconciliation leaves alone what was given after terminated_on).
			_, err := c.UpdateUser(ctx, u.ID, atomicwork.UserInput{EmploymentStatus: "TERMINATED", TerminatedOn: time.Now().UTC().Format(time.DateOnly)})
			require.NoError(t, err)
		} else {
			require.NoError(t, c.DeleteUser(ctx, u.ID))
		}
		leavers = append(leavers, u.ID)
	}
	require.Len(t, leavers, 2, "the demo dataset has two users with grants and assets")

	hire, _ := sim.UserByEmail("bo.li@example.com")
	r, err := c.CreateRequest(ctx, atomicwork.RequestInput{RequestType: atomicwork.RequestTypeServiceRequest,
		Subject:   "New hire onboarding: Old Hire (E-OLD), starts 2026-01-05 [atomicflow:onboarding-E-OLD/request]",
		Requester: hire.ID, Description: "<p>plan</p>"})
	require.NoError(t, err)
	return leavers, r.DisplayID
}

func (e *env) reconcile(key string, in lifecycle.ReconciliationInput) lifecycle.ReconciliationReport {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: lifecycle.ReconciliationID(key), TaskQueue: e.queue},
		lifecycle.ReconciliationWorkflowName, in)
	require.NoError(e.t, err)
	var rep lifecycle.ReconciliationReport
	require.NoError(e.t, run.Get(ctx, &rep))
	e.requireNoKeyLeak(run.GetID(), run.GetRunID())
	return rep
}

func countKind(rep lifecycle.ReconciliationReport, kind string) int {
	n := 0
	for _, d := range rep.Drift {
		if d.Kind == kind {
			n++
		}
	}
	return n
}

func TestReconciliationDryRunFixThenNothing(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	leavers, stale := seedDrift(t, e.sim)
	var assets, grants int
	for _, uid := range leavers {
		assets += len(e.sim.AssetsOf(uid))
		grants += len(e.sim.ActiveGrantsOf(uid))
	}
	writesBefore := e.sim.Stats().WritesApplied

	dry := e.reconcile("dry", lifecycle.ReconciliationInput{DryRun: true, ReportTo: "it.manager@example.com"})
	assert.True(t, dry.DryRun)
	assert.Equal(t, assets, countKind(dry, lifecycle.DriftAssetOfLeaver))
	assert.Equal(t, grants, countKind(dry, lifecycle.DriftGrantOfLeaver))
	assert.Equal(t, 1, countKind(dry, lifecycle.DriftStaleOnboarding))
	assert.Zero(t, dry.Fixed)
	assert.Equal(t, writesBefore, e.sim.Stats().WritesApplied, "a dry run writes nothing")

	fix := e.reconcile("fix", lifecycle.ReconciliationInput{ReportTo: "it.manager@example.com"})
	assert.Equal(t, assets+grants, fix.Fixed, "%+v", fix.Drift)
	assert.Zero(t, fix.Failed)
	require.NotEmpty(t, fix.RequestID, "a summary request when anything was fixed")
	for _, uid := range leavers {
		assert.Empty(t, e.sim.AssetsOf(uid), "user %d still holds assets", uid)
		assert.Empty(t, e.sim.ActiveGrantsOf(uid), "user %d still holds grants", uid)
	}
	var staleNotes, summaries int
	for _, n := range e.sim.Notes(stale) {
		if strings.Contains(n.Description, "/stale -->") {
			staleNotes++
		}
	}
	for _, n := range e.sim.Notes(fix.RequestID) {
		if strings.Contains(n.Description, "/summary -->") {
			summaries++
		}
	}
	assert.Equal(t, 1, staleNotes)
	assert.Equal(t, 1, summaries)

	// The owner resolves the forgotten request; the next night finds nothing.
	_, err := e.sim.Client(t).PatchRequest(context.Background(), stale, atomicwork.RequestPatch{Status: "Resolved"})
	require.NoError(t, err)
	again := e.reconcile("again", lifecycle.ReconciliationInput{ReportTo: "it.manager@example.com"})
	assert.Empty(t, again.Drift)
	assert.Zero(t, again.Fixed)
	assert.Empty(t, again.RequestID)
}
