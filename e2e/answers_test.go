package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// Every workflow under the answers a real API may legally give (issue 20): unknown fields, empty
// and short pages before the last, lists in another order than ascending ids, integers written as
// N.0, 429s without Retry-After, a proxy's HTML 502, connections closed without an answer. Each
// test asserts the exact final state in the simulator, never how many faults landed where.

// legalAnswers is the simulator answering in every legal way at once, seeded, with lists in order.
func legalAnswers(seed int64, order string) atomicworktest.Faults {
	return atomicworktest.Faults{Seed: seed, ListOrder: order,
		UnknownFields: 0.3, EmptyPage: 0.2, ShortPage: 0.2, IntegralFloats: 0.3,
		RateLimitNoRetryAfter: 0.05, HTMLServerError: 0.05, Reset: 0.03}
}

// requireAnswered checks the run really met the answer modes (a seed that drew none proves
// nothing): the frequent ones only, since how many requests a run makes depends on the machine.
func requireAnswered(t *testing.T, sim *atomicworktest.Server) {
	t.Helper()
	stats := sim.Stats()
	t.Logf("faults injected: %v; writes applied: %d", stats.FaultsInjected, stats.WritesApplied)
	for _, mode := range []string{atomicworktest.FaultUnknownFields, atomicworktest.FaultIntegralFloats} {
		assert.Positive(t, stats.FaultsInjected[mode], "the run must have met %s", mode)
	}
}

func TestOnboardingUnderLegalAnswers(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, engineeringPolicy)
	e.sim.SetFaults(legalAnswers(21, atomicworktest.ListOrderShuffled))
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	ins := []lifecycle.OnboardingInput{hire(40, today()), hire(41, today())}
	var runs []string
	for _, in := range ins {
		run := e.startOnboarding(in)
		runs = append(runs, run.GetRunID())
	}
	for i, in := range ins {
		var res lifecycle.OnboardingResult
		require.NoError(t, e.client.GetWorkflow(ctx, lifecycle.OnboardingID(in.EmployeeID), runs[i]).Get(ctx, &res))
		assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	}
	requireAnswered(t, e.sim)
	e.sim.SetFaults(atomicworktest.Faults{})
	for _, in := range ins {
		requireOnboarded(t, e.sim, in.Email, []string{"okta-base", "slack-member", "github-engineering"}, []string{"Laptop", "Monitor"})
	}
}

func TestOffboardingUnderLegalAnswers(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{RevocationDelay: 300 * time.Millisecond}, activities.Policy{})
	leaver := leaverWithAccess(t, e.sim)
	held := e.sim.AssetsOf(leaver.ID)
	id := employeeID(t, e.sim, leaver)
	e.sim.SetFaults(legalAnswers(22, atomicworktest.ListOrderIDDesc))

	in := lifecycle.OffboardingInput{EmployeeID: id, Email: leaver.Email, LastDay: time.Now().UTC().Format(time.DateOnly),
		TimeZone: "UTC", Assets: lifecycle.AssetsManager, Immediate: true, GracePeriod: 2 * time.Second}
	run := e.startOffboarding(in)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var res lifecycle.OffboardingResult
	require.NoError(t, run.Get(ctx, &res))
	requireAnswered(t, e.sim)
	e.sim.SetFaults(atomicworktest.Faults{})

	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	assert.Empty(t, e.sim.ActiveGrantsOf(leaver.ID), "the leaver keeps no access")
	for _, a := range held {
		assert.Equal(t, leaver.Manager.ID, assetByID(e.sim, a.ID).AssigneeID(atomicwork.FieldAssignedTo), "asset %d goes to the manager", a.ID)
	}
	u, ok := e.sim.UserByEmail(leaver.Email)
	require.True(t, ok)
	assert.True(t, u.IsDeleted)
	assert.Equal(t, "TERMINATED", u.EmploymentStatus)
}

func TestReassignmentUnderLegalAnswers(t *testing.T) {
	for _, order := range []string{atomicworktest.ListOrderIDDesc, atomicworktest.ListOrderShuffled} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t, atomicworktest.Options{ExtraAssets: 302}, noPolicy)
			boUser, ok := e.sim.UserByEmail(bo)
			require.True(t, ok)
			held := heldBy(e.sim, boUser.ID)
			e.sim.SetFaults(legalAnswers(23, order))

			in := lifecycle.ReassignmentInput{BatchID: "e2e-legal-" + order, Selector: lifecycle.AssetSelector{AssigneeEmail: bo},
				Target: lifecycle.AssetTarget{Stock: true}, Confirmed: true, Concurrency: 10, AssetsPerRun: 150}
			run := startReassignment(t, e.client, e.queue, in)
			ctx, cancel := context.WithTimeout(context.Background(), 2*runDeadline)
			defer cancel()
			var rep lifecycle.ReassignmentReport
			require.NoError(t, run.Get(ctx, &rep))
			requireAnswered(t, e.sim)
			writes := e.sim.Stats().WritesApplied
			e.sim.SetFaults(atomicworktest.Faults{})

			assert.Equal(t, lifecycle.OutcomeCompleted, rep.Outcome, "%+v", rep)
			assert.Empty(t, heldBy(e.sim, boUser.ID), "no asset stays with the old owner")
			requireInStock(t, e.sim, held)
			assert.Equal(t, len(held), writes, "each asset written exactly once")
			assert.Zero(t, rep.Failed, "%v", rep.Failures)
		})
	}
}

func TestReconciliationUnderLegalAnswers(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	leavers, _ := seedDrift(t, e.sim)
	var owed int
	for _, uid := range leavers {
		owed += len(e.sim.AssetsOf(uid)) + len(e.sim.ActiveGrantsOf(uid))
	}
	e.sim.SetFaults(legalAnswers(24, atomicworktest.ListOrderShuffled))
	fix := e.reconcile("legal", lifecycle.ReconciliationInput{ReportTo: "it.manager@example.com"})
	requireAnswered(t, e.sim)
	e.sim.SetFaults(atomicworktest.Faults{})

	assert.Equal(t, owed, fix.Fixed, "%+v", fix.Drift)
	assert.Zero(t, fix.Failed)
	for _, uid := range leavers {
		assert.Empty(t, e.sim.AssetsOf(uid), "user %d still holds assets", uid)
		assert.Empty(t, e.sim.ActiveGrantsOf(uid), "user %d still holds grants", uid)
	}
}
