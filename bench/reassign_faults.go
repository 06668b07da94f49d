package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// heavyStallFor is how long a stalled request of --faults heavy hangs: long enough to hold a
// range's mover and a listing up, well under the client's 30 s timeout.
const heavyStallFor = 3 * time.Second

// heavyFaults are issue 13's heavy faults: 30% 5xx, 20% 429 (Retry-After: 1), 10% of writes
// applied then answered 500, 1% of requests stalled for heavyStallFor.
func heavyFaults(seed int64) atomicworktest.Faults {
	return atomicworktest.Faults{Seed: seed, ServerError: 0.30, RateLimit: 0.20, WriteThen500: 0.10,
		Stall: 0.01, StallFor: heavyStallFor}
}

// faultsRow is one batch of the faults benchmark.
type faultsRow struct {
	reassignRow
	finished bool
	want     int // assets of the assignee before the batch
	writes   int // writes applied (write-then-500 ones too)
	faults   map[string]int
}

// exact: every asset left the assignee, each written once.
func (r faultsRow) exact() bool { return r.finished && r.assets == r.want && r.writes == r.want }

// benchReassignFaults times the workflow (rate limit off, so ranges) moving the assignee's
// assets fault-free and under heavy faults, in turn for --repeat rounds, and prints the median of
// each with their ratio and whether the final state is exact.
func benchReassignFaults(ctx context.Context, out io.Writer, sim benchSim, srv *testsuite.DevServer, workerBin string, o reassignOptions) error {
	ac, err := atomicwork.New(atomicwork.Config{BaseURL: sim.URL(), APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	if err != nil {
		return err
	}
	bo, err := ac.LookupUserByEmail(ctx, atomicworktest.DefaultExtraAssetsAssignee)
	if err != nil {
		return fmt.Errorf("the simulator has no %s: %w", atomicworktest.DefaultExtraAssetsAssignee, err)
	}
	worker, err := startBenchWorker(ctx, srv.FrontendHostPort(), srv.Client(), workerBin, sim.URL(), 0)
	if err != nil {
		return err
	}
	defer worker.stop()
	heavy := heavyFaults(o.seed)
	fmt.Fprintf(out, "bulk reassignment under faults: %d+ laptops of bo.li@example.com back to stock; workflow (ranges, rate limit off), concurrency %d; simulator latency %s; simulator: %s\n",
		o.assets, o.concurrency, o.latency, sim)
	fmt.Fprintf(out, "heavy faults: server_error %.2f, rate_limit %.2f (Retry-After 1s), write_then_500 %.2f, stall %.2f for %s, seed %d; a batch still running after %s is stopped\n",
		heavy.ServerError, heavy.RateLimit, heavy.WriteThen500, heavy.Stall, heavy.StallFor, heavy.Seed, o.limit)
	var free, faulty []faultsRow
	for round := range o.repeat {
		f, err := measureFaults(ctx, sim, worker, bo.ID, atomicworktest.Faults{Latency: o.latency}, o)
		if err != nil {
			return fmt.Errorf("fault-free: %w", err)
		}
		h := heavy
		h.Latency = o.latency
		hv, err := measureFaults(ctx, sim, worker, bo.ID, h, o)
		if err != nil {
			return fmt.Errorf("heavy faults: %w", err)
		}
		free, faulty = append(free, f), append(faulty, hv)
		fmt.Fprintf(os.Stderr, "bench: round %d: fault-free %s, heavy faults %s (finished %t, %d of %d moved)\n", round+1,
			f.wall.Round(time.Millisecond), hv.wall.Round(time.Millisecond), hv.finished, hv.assets, hv.want)
	}
	byWall := func(x, y faultsRow) int { return cmp.Compare(x.wall, y.wall) }
	f, h := median(free, byWall), median(faulty, byWall)
	fmt.Fprintf(out, "\n| faults | assets moved | wall time | API requests | 429s | 5xx injected | write-then-500 | stalls | writes applied | workflow runs | final state |\n")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range []struct {
		name string
		row  faultsRow
	}{{"none", f}, {"heavy", h}} {
		wall := r.row.wall.Round(10 * time.Millisecond).String()
		if !r.row.finished {
			wall = fmt.Sprintf("did not finish in %s", o.limit)
		}
		state := "exact: every asset at the target, each written once"
		if !r.row.exact() {
			state = fmt.Sprintf("NOT exact: %d of %d moved, %d writes", r.row.assets, r.row.want, r.row.writes)
		}
		fmt.Fprintf(out, "| %s | %d of %d | %s | %d | %d | %d | %d | %d | %d | %d | %s |\n", r.name, r.row.assets, r.row.want, wall,
			r.row.requests, r.row.rejected, r.row.faults[atomicworktest.FaultServerError], r.row.faults[atomicworktest.FaultWriteThen500],
			r.row.faults[atomicworktest.FaultStall], r.row.writes, r.row.runs, state)
	}
	if h.finished {
		fmt.Fprintf(out, "\nheavy faults / fault-free wall time: %.1fx (median of %d rounds each; goal at most 5x)\n", h.wall.Seconds()/f.wall.Seconds(), o.repeat)
	} else {
		fmt.Fprintf(out, "\nheavy faults: did not finish in %s, %d of %d moved\n", o.limit, h.assets, h.want)
	}
	return nil
}

// measureFaults runs one batch on freshly reset data with faults f (their sequence restarted
// from the seed), and counts the assets moved and the writes applied with the faults off.
func measureFaults(ctx context.Context, sim benchSim, w *benchWorker, userID int64, f atomicworktest.Faults, o reassignOptions) (faultsRow, error) {
	if err := sim.SetFaults(ctx, atomicworktest.Faults{Latency: o.latency}); err != nil {
		return faultsRow{}, err
	}
	if err := sim.Reset(ctx); err != nil {
		return faultsRow{}, err
	}
	want, err := sim.HeldBy(ctx, userID)
	if err == nil {
		err = sim.Reset(ctx)
	}
	if err == nil {
		err = sim.SetFaults(ctx, f)
	}
	if err != nil {
		return faultsRow{}, err
	}
	limited, cancel := context.WithTimeout(ctx, o.limit)
	defer cancel()
	row := faultsRow{want: want, finished: true}
	row.reassignRow, err = w.reassign(limited, o)
	if err != nil && limited.Err() != nil && ctx.Err() == nil { // the SDK reports the deadline its own way
		row.finished, row.wall = false, o.limit
		err = w.terminateLast(ctx)
	}
	if err != nil {
		return faultsRow{}, err
	}
	if err := sim.SetFaults(ctx, atomicworktest.Faults{Latency: o.latency}); err != nil {
		return faultsRow{}, err
	}
	stats, err := sim.Stats(ctx)
	if err != nil {
		return faultsRow{}, err
	}
	row.requests, row.rejected = requestsOf(stats)
	row.writes, row.faults = stats.WritesApplied, stats.FaultsInjected
	left, err := sim.HeldBy(ctx, userID)
	if err != nil {
		return faultsRow{}, err
	}
	row.assets = want - left
	return row, nil
}

// terminateLast stops the worker's last batch, which ran out of time, so that it does not
// write during the next one.
func (w *benchWorker) terminateLast(ctx context.Context) error {
	id := lifecycle.ReassignmentID(fmt.Sprintf("%s-%d", w.queue, w.runs))
	return w.c.TerminateWorkflow(ctx, id, "", "bench: the batch ran past --limit")
}
