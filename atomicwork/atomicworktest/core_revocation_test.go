package atomicworktest

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// grantByID reads a grant through the inspection API (which settles due revocations first).
func grantByID(t *testing.T, h *Handler, gid int64) atomicwork.Grant {
	t.Helper()
	for _, g := range h.Grants() {
		if g.ID == gid {
			return g
		}
	}
	require.FailNow(t, "no grant", "id %d", gid)
	return atomicwork.Grant{}
}

func deprovision(t *testing.T, c apiClient, gid int64) atomicwork.Grant {
	t.Helper()
	return ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants/"+id(gid)+"/revoke",
		map[string]any{"skip_deprovisioning": false, "reason": "offboarding"}))
}

// deprovisionAll revokes every active grant with deprovisioning, in id order, lets the delay pass
// and returns the final revocation status of each grant by id.
func deprovisionAll(t *testing.T, s *Server, c apiClient, clock *fakeClock, delay time.Duration) map[int64]string {
	t.Helper()
	var ids []int64
	for _, g := range s.Grants() {
		if g.Active() {
			ids = append(ids, g.ID)
		}
	}
	require.GreaterOrEqual(t, len(ids), 10, "the demo dataset has enough grants to see both outcomes")
	for _, gid := range ids {
		require.Equal(t, atomicwork.RevocationInProgress, deprovision(t, c, gid).RevocationStatus.Status)
	}
	clock.Advance(delay)
	out := map[int64]string{}
	for _, gid := range ids {
		out[gid] = grantByID(t, s.Handler, gid).RevocationStatus.Status
	}
	return out
}

func count(outcomes map[int64]string, status string) int {
	n := 0
	for _, s := range outcomes {
		if s == status {
			n++
		}
	}
	return n
}

func TestRevocationFailureOneFailsEveryAttemptAfterTheDelay(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now, RevocationDelay: 2 * time.Minute, RevocationFailure: 1})
	g := activeGrant(t, s.Handler, "bo.li@example.com", "slack-member")

	first := deprovision(t, c, g.ID)
	assert.Equal(t, atomicwork.RevocationInProgress, first.RevocationStatus.Status, "the outcome shows only after the delay")
	clock.Advance(2*time.Minute - time.Second)
	assert.Equal(t, atomicwork.RevocationInProgress, grantByID(t, s.Handler, g.ID).RevocationStatus.Status)

	clock.Advance(time.Second)
	failed := grantByID(t, s.Handler, g.ID)
	assert.Equal(t, atomicwork.RevocationFailed, failed.RevocationStatus.Status)
	assert.Equal(t, atomicwork.GrantGranted, failed.Status, "the account still exists in the identity provider")
	assert.True(t, failed.Active())
	history := ok[atomicwork.Page[atomicwork.GrantEvent]](t, c.get("/api/v1/iga/grants/"+id(g.ID)+"/history"))
	for _, e := range history.Data {
		assert.NotEqual(t, atomicwork.GrantRevoked, e.EventType, "a failed deprovisioning records no revocation")
	}

	// A retry is a new attempt, and fails again.
	retry := deprovision(t, c, g.ID)
	assert.Equal(t, atomicwork.RevocationInProgress, retry.RevocationStatus.Status)
	assert.NotEqual(t, *first.RevocationStatus.ScheduleID, *retry.RevocationStatus.ScheduleID)
	clock.Advance(2 * time.Minute)
	assert.Equal(t, atomicwork.RevocationFailed, grantByID(t, s.Handler, g.ID).RevocationStatus.Status)

	// Skipping deprovisioning is not subject to the probability.
	done := ok[atomicwork.Grant](t, c.do(http.MethodPost, "/api/v1/iga/grants/"+id(g.ID)+"/revoke", map[string]any{"skip_deprovisioning": true}))
	assert.Equal(t, atomicwork.GrantRevoked, done.Status)
	assert.Equal(t, atomicwork.RevocationCompleted, done.RevocationStatus.Status)
}

func TestRevocationFailureZeroCompletesEveryAttempt(t *testing.T) {
	clock := newFakeClock()
	s, c := newSim(t, Options{Now: clock.Now, RevocationDelay: time.Minute, RevocationFailure: 0, Faults: Faults{Seed: 42}})
	outcomes := deprovisionAll(t, s, c, clock, time.Minute)
	assert.Equal(t, len(outcomes), count(outcomes, atomicwork.RevocationCompleted), "%v", outcomes)
	for _, g := range s.Grants() {
		assert.False(t, g.Active(), "grant %d", g.ID)
	}
}

func TestRevocationFailureIsReproducibleFromTheSeed(t *testing.T) {
	run := func(seed int64) (map[int64]string, *Server, apiClient, *fakeClock) {
		clock := newFakeClock()
		s, c := newSim(t, Options{Now: clock.Now, RevocationDelay: time.Minute, RevocationFailure: 0.5, Faults: Faults{Seed: seed}})
		return deprovisionAll(t, s, c, clock, time.Minute), s, c, clock
	}
	first, s, c, clock := run(42)
	assert.NotZero(t, count(first, atomicwork.RevocationFailed), "%v", first)
	assert.NotZero(t, count(first, atomicwork.RevocationCompleted), "%v", first)
	for gid, status := range first {
		if status == atomicwork.RevocationFailed {
			assert.True(t, grantByID(t, s.Handler, gid).Active(), "a failed grant stays active")
		}
	}

	second, _, _, _ := run(42)
	assert.Equal(t, first, second, "same seed, same revokes, same outcomes")

	s.Reset()
	assert.Equal(t, first, deprovisionAll(t, s, c, clock, time.Minute), "Reset restarts the sequence")

	other, _, _, _ := run(43)
	assert.NotEqual(t, first, other, "another seed draws other outcomes")
}

func TestRevocationFailureMustBeAProbability(t *testing.T) {
	for _, p := range []float64{-0.1, 1.01, math.NaN()} {
		assert.PanicsWithValue(t, "atomicworktest.NewHandler: RevocationFailure must be a probability between 0 and 1, got "+
			fmt.Sprint(p), func() { NewHandler(Options{RevocationFailure: p}) })
	}
}
