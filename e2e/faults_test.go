package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// TestReassignmentUnderHeavyFaults: issue 13's heavy faults (30% 5xx, 20% 429, 10% of writes
// applied then answered 500, stalls) on every API call, a worker without a rate limit (ranges):
// the batch still makes progress, completes, and ends with every asset in stock, each written
// once. Before listings kept what they read, its first listing almost never got all its pages
// and the batch moved nothing.
func TestReassignmentUnderHeavyFaults(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{ExtraAssets: 301}, noPolicy)
	boUser, ok := e.sim.UserByEmail(bo)
	require.True(t, ok)
	held := heldBy(e.sim, boUser.ID)
	require.GreaterOrEqual(t, len(held), 301)
	e.sim.SetFaults(atomicworktest.Faults{Seed: 13, ServerError: 0.30, RateLimit: 0.20, WriteThen500: 0.10,
		Stall: 0.01, StallFor: 2 * time.Second})

	in := lifecycle.ReassignmentInput{BatchID: "e2e-heavy-faults", Selector: lifecycle.AssetSelector{AssigneeEmail: bo},
		Target: lifecycle.AssetTarget{Stock: true}, Confirmed: true}
	run := startReassignment(t, e.client, e.queue, in)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var rep lifecycle.ReassignmentReport
	require.NoError(t, run.Get(ctx, &rep), "the batch must complete under heavy faults")

	stats := e.sim.Stats()
	e.sim.SetFaults(atomicworktest.Faults{})
	t.Logf("report: done %d skipped %d failed %d runs %d; sim: writes %d faults %v", rep.Done, rep.Skipped, rep.Failed, rep.Runs,
		stats.WritesApplied, stats.FaultsInjected)
	assert.Equal(t, lifecycle.OutcomeCompleted, rep.Outcome)
	requireInStock(t, e.sim, held)
	assert.Empty(t, heldBy(e.sim, boUser.ID))
	assert.Equal(t, len(held), rep.Done, "every asset moved by this batch, a lost answer included")
	assert.Zero(t, rep.Failed, "%v", rep.Failures)
	assert.Equal(t, len(held), stats.WritesApplied, "each asset written exactly once, whatever the retries")
	for _, f := range []string{atomicworktest.FaultServerError, atomicworktest.FaultRateLimit, atomicworktest.FaultWriteThen500} {
		assert.Positive(t, stats.FaultsInjected[f], "the run must have met %s", f)
	}
	checkHistories(t, e, e.client, run.GetID(), rep, e.logs.String())
}
