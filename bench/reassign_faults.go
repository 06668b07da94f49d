package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
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
// assets fault-free and under heavy faults, in turn for --repeat rounds at each latency
// (--latencies, else --latency), and prints the median of each with their ratio, the floor of
// any client under those faults (faultsFloor), and whether the final state is exact.
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
	latencies := o.latencies
	if len(latencies) == 0 {
		latencies = []time.Duration{o.latency}
	}
	heavy := heavyFaults(o.seed)
	fmt.Fprintf(out, "bulk reassignment under faults: %d+ laptops of bo.li@example.com back to stock; workflow (ranges, rate limit off), concurrency %d; simulator latency %s; simulator: %s\n",
		o.assets, o.concurrency, joinDurations(latencies), sim)
	fmt.Fprintf(out, "heavy faults: server_error %.2f, rate_limit %.2f (Retry-After 1s), write_then_500 %.2f, stall %.2f for %s, seed %d; a batch still running after %s is stopped\n",
		heavy.ServerError, heavy.RateLimit, heavy.WriteThen500, heavy.Stall, heavy.StallFor, heavy.Seed, o.limit)
	free, faulty := make([][]faultsRow, len(latencies)), make([][]faultsRow, len(latencies))
	for round := range o.repeat {
		for i, latency := range latencies {
			f, err := measureFaults(ctx, sim, worker, bo.ID, atomicworktest.Faults{Latency: latency}, o)
			if err != nil {
				return fmt.Errorf("fault-free: %w", err)
			}
			h := heavy
			h.Latency = latency
			hv, err := measureFaults(ctx, sim, worker, bo.ID, h, o)
			if err != nil {
				return fmt.Errorf("heavy faults: %w", err)
			}
			free[i], faulty[i] = append(free[i], f), append(faulty[i], hv)
			fmt.Fprintf(os.Stderr, "bench: round %d, latency %s: fault-free %s, heavy faults %s (finished %t, %d of %d moved)\n", round+1, latency,
				f.wall.Round(time.Millisecond), hv.wall.Round(time.Millisecond), hv.finished, hv.assets, hv.want)
		}
	}
	byWall := func(x, y faultsRow) int { return cmp.Compare(x.wall, y.wall) }
	if len(latencies) > 1 {
		printFaultsByLatency(out, latencies, free, faulty, heavy, o)
		return nil
	}
	f, h := median(free[0], byWall), median(faulty[0], byWall)
	fmt.Fprintf(out, "\n| faults | assets moved | wall time | API requests | 429s | 5xx injected | write-then-500 | stalls | writes applied | workflow runs | final state |\n")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range []struct {
		name string
		row  faultsRow
	}{{"none", f}, {"heavy", h}} {
		fmt.Fprintf(out, "| %s | %d of %d | %s | %d | %d | %d | %d | %d | %d | %d | %s |\n", r.name, r.row.assets, r.row.want, r.row.wallText(o.limit),
			r.row.requests, r.row.rejected, r.row.faults[atomicworktest.FaultServerError], r.row.faults[atomicworktest.FaultWriteThen500],
			r.row.faults[atomicworktest.FaultStall], r.row.writes, r.row.runs, r.row.state())
	}
	if h.finished {
		fmt.Fprintf(out, "\nheavy faults / fault-free wall time: %.1fx (median of %d rounds each; goal at most 5x)\n", h.wall.Seconds()/f.wall.Seconds(), o.repeat)
	} else {
		fmt.Fprintf(out, "\nheavy faults: did not finish in %s, %d of %d moved\n", o.limit, h.assets, h.want)
	}
	floor := faultsFloor(heavy, h.want, latencies[0], o.seed)
	fmt.Fprintf(out, "floor of any client under these faults (see faultsFloor): %s, %.1fx the fault-free time\n", floor.Round(10*time.Millisecond), floor.Seconds()/f.wall.Seconds())
	return nil
}

// printFaultsByLatency prints a row per latency: the medians fault-free and under heavy faults,
// their ratio, and the floor of any client under those faults beside it.
func printFaultsByLatency(out io.Writer, latencies []time.Duration, free, faulty [][]faultsRow, heavy atomicworktest.Faults, o reassignOptions) {
	byWall := func(x, y faultsRow) int { return cmp.Compare(x.wall, y.wall) }
	fmt.Fprintf(out, "\neach wall time the median of %d rounds; the floor is that of any client under these faults that honours Retry-After (see faultsFloor)\n", o.repeat)
	fmt.Fprintln(out, "\n| latency | fault-free | heavy faults | heavy / fault-free | floor | floor / fault-free | 429s | 5xx | stalls | final state (heavy) |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|")
	for i, latency := range latencies {
		f, h := median(free[i], byWall), median(faulty[i], byWall)
		floor := faultsFloor(heavy, h.want, latency, o.seed)
		ratio := "-"
		if h.finished {
			ratio = fmt.Sprintf("%.1fx", h.wall.Seconds()/f.wall.Seconds())
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %.1fx | %d | %d | %d | %s |\n", latency, f.wallText(o.limit), h.wallText(o.limit), ratio,
			floor.Round(10*time.Millisecond), floor.Seconds()/f.wall.Seconds(), h.rejected, h.faults[atomicworktest.FaultServerError],
			h.faults[atomicworktest.FaultStall], h.state())
	}
}

func (r faultsRow) wallText(limit time.Duration) string {
	if !r.finished {
		return fmt.Sprintf("did not finish in %s", limit)
	}
	return r.wall.Round(10 * time.Millisecond).String()
}

func (r faultsRow) state() string {
	if !r.exact() {
		return fmt.Sprintf("NOT exact: %d of %d moved, %d writes", r.assets, r.want, r.writes)
	}
	return "exact: every asset at the target, each written once"
}

func joinDurations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ", ")
}

// measureFaults runs one batch on freshly reset data with faults f (their sequence restarted
// from the seed), and counts the assets moved and the writes applied with the faults off.
func measureFaults(ctx context.Context, sim benchSim, w *benchWorker, userID int64, f atomicworktest.Faults, o reassignOptions) (faultsRow, error) {
	clean := atomicworktest.Faults{Latency: f.Latency}
	if err := sim.SetFaults(ctx, clean); err != nil {
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
	if err := sim.SetFaults(ctx, clean); err != nil {
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
