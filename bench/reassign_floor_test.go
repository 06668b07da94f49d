package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// Without faults the floor is its four calls in a row (lookup, listing, read, write); the heavy
// faults' mandated Retry-After puts it seconds above that, whatever the latency.
func TestFaultsFloor(t *testing.T) {
	assert.Equal(t, 4*20*time.Millisecond, faultsFloor(atomicworktest.Faults{}, 301, 20*time.Millisecond, 1))

	heavy := heavyFaults(1)
	floor := faultsFloor(heavy, 302, 0, 1)
	assert.Equal(t, floor, faultsFloor(heavy, 302, 0, 1), "seeded")
	assert.GreaterOrEqual(t, floor, 5*simRetryAfter, "the slowest of 302 assets meets several 429s")
	assert.Greater(t, faultsFloor(heavy, 302, 100*time.Millisecond, 1), floor)
	assert.Less(t, faultsFloor(heavy, 10, 0, 1), floor, "fewer assets, a faster slowest one")
	t.Logf("floor of 302 assets under heavy faults: %s at 0 latency, %s at 20ms, %s at 100ms", floor,
		faultsFloor(heavy, 302, 20*time.Millisecond, 1), faultsFloor(heavy, 302, 100*time.Millisecond, 1))
}
