package main

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
)

// simRetryAfter is the Retry-After of the simulator's injected 429s.
const simRetryAfter = time.Second

// floorTrials is how many batches faultsFloor plays; the floor is their median.
const floorTrials = 1001

// faultsFloor is a lower bound on the wall time of any client that moves assets assets under
// faults f and honours every 429's Retry-After: the median, over floorTrials seeded batches, of
// an ideal client's. It has unbounded concurrency, retries a 5xx at once, never waits for a
// stall, writes again after a 5xx without reading first, and makes only the calls a move cannot
// do without: the assignee's lookup, the listing (its pages at once), and each asset's read and
// write (a read again after a write whose answer was lost), each call taking latency. Each call draws its faults as the simulator does: a 429
// first, then a 5xx, then, for a write that passes, applied-then-500.
func faultsFloor(f atomicworktest.Faults, assets int, latency time.Duration, seed int64) time.Duration {
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	hit := func(p float64) bool { return rng.Float64() < p }
	// call makes one call until it is answered (a write may be applied and answered 500); it
	// returns the time it took and whether the answer was a write's lost one.
	call := func(write bool) (took time.Duration, lost bool) {
		for {
			took += latency
			switch {
			case hit(f.RateLimit):
				took += simRetryAfter
			case hit(f.ServerError):
			case write && hit(f.WriteThen500):
				return took, true
			default:
				return took, false
			}
		}
	}
	move := func() time.Duration {
		read, _ := call(false)
		write, lost := call(true)
		if lost {
			again, _ := call(false) // the write landed: the read that sees it ends the move
			return read + write + again
		}
		return read + write
	}
	pages := max(1, (assets+atomicwork.MaxPerPage-1)/atomicwork.MaxPerPage)
	walls := make([]time.Duration, floorTrials)
	for i := range walls {
		lookup, _ := call(false)
		var listing, moves time.Duration
		for range pages {
			page, _ := call(false)
			listing = max(listing, page)
		}
		for range assets {
			moves = max(moves, move())
		}
		walls[i] = lookup + listing + moves
	}
	slices.Sort(walls)
	return walls[len(walls)/2]
}
