package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/workerapp"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// layoffEntitlements are what each leaver holds, besides one laptop.
var layoffEntitlements = []string{"okta-base", "slack-member"}

// layoffRow is one setting of the layoff day.
type layoffRow struct {
	name      string
	workerRPS float64 // ATOMICWORK_RPS of the worker; 0 = unset
}

// benchLayoff offboards n leavers at the same instant (Immediate) against the simulator limited
// to rps requests per second, once with the worker given ATOMICWORK_RPS=rps and once without it,
// and measures the time until none of them holds a grant or an asset, against the ideal: the
// API calls that took, at rps.
func benchLayoff(ctx context.Context, out io.Writer, n int, rps float64, temporalBin string) error {
	// The world's own worker polls a queue no run uses: each row gets a worker of its own.
	wd, err := newWorld(ctx, temporalBin, "bench-layoff-idle")
	if err != nil {
		return err
	}
	defer wd.close()
	rows := []layoffRow{
		{name: fmt.Sprintf("ATOMICWORK_RPS=%g", rps), workerRPS: rps},
		{name: "ATOMICWORK_RPS unset (adaptive)"},
	}
	fmt.Fprintf(out, "layoff day: %d leavers (each %d grants and a laptop) offboarded at the same instant; simulator at %g requests/s (burst %g)\n\n",
		n, len(layoffEntitlements), rps, rps)
	fmt.Fprintln(out, "| worker | time to zero access | API calls needed | ideal (calls / rps) | ratio | 429s |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	for i, row := range rows {
		fmt.Fprintf(os.Stderr, "bench: %s: setting up %d leavers...\n", row.name, n)
		res, err := layoffRun(ctx, wd, fmt.Sprintf("L%d", i), n, rps, row.workerRPS)
		if err != nil {
			return fmt.Errorf("%s: %w", row.name, err)
		}
		ideal := time.Duration(float64(res.needed) / rps * float64(time.Second))
		fmt.Fprintf(out, "| %s | %s | %d | %s | %.2fx | %d (%.2f%%) |\n", row.name, res.elapsed.Round(100*time.Millisecond),
			res.needed, ideal.Round(100*time.Millisecond), res.elapsed.Seconds()/ideal.Seconds(),
			res.rejected, 100*float64(res.rejected)/float64(max(res.needed+res.rejected, 1)))
	}
	return nil
}

type layoffResult struct {
	elapsed          time.Duration
	needed, rejected int // API calls answered otherwise than 429, and 429s
}

// layoffRun sets up n leavers with the rate limit off, then limits the simulator to rps, starts a
// worker with ATOMICWORK_RPS=workerRPS (0: unset) on a queue of its own and offboards them all.
func layoffRun(ctx context.Context, wd *world, prefix string, n int, rps, workerRPS float64) (layoffResult, error) {
	wd.sim.SetRateLimit(0, 0)
	users, err := layoffLeavers(ctx, wd, prefix, n)
	if err != nil {
		return layoffResult{}, err
	}
	queue := "bench-layoff-" + prefix
	w, err := workerapp.NewWorker(wd.client, workerapp.Config{TaskQueue: queue, BaseURL: wd.api.URL,
		DefaultWorkspace: atomicworktest.ITWorkspaceID, Keys: map[int64]string{atomicworktest.ITWorkspaceID: atomicworktest.DevKey},
		Timeout: 10 * time.Second, RPS: workerRPS})
	if err != nil {
		return layoffResult{}, err
	}
	if err := w.Start(); err != nil {
		return layoffResult{}, err
	}
	defer w.Stop()
	wd.sim.SetRateLimit(rps, 0) // a fresh, full bucket
	before := wd.sim.Stats()

	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, u := range users {
		g.Go(func() error {
			in := lifecycle.OffboardingInput{EmployeeID: u.EmployeeID, Email: u.Email, LastDay: start.UTC().Format(time.DateOnly),
				TimeZone: "UTC", Immediate: true, GracePeriod: time.Hour}
			_, err := wd.client.ExecuteWorkflow(gctx, client.StartWorkflowOptions{ID: lifecycle.OffboardingID(u.EmployeeID), TaskQueue: queue},
				lifecycle.OffboardingWorkflowName, in)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return layoffResult{}, err
	}
	fmt.Fprintf(os.Stderr, "bench: %d offboardings started in %s; waiting for zero access...\n", n, time.Since(start).Round(time.Millisecond))
	for !zeroAccess(wd.sim, users) {
		select {
		case <-ctx.Done():
			return layoffResult{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	res := layoffResult{elapsed: time.Since(start)}
	after := wd.sim.Stats()
	for op, byStatus := range after.Calls {
		for status, count := range byStatus {
			count -= before.Calls[op][status]
			if status == http.StatusTooManyRequests {
				res.rejected += count
			} else {
				res.needed += count
			}
		}
	}
	return res, nil
}

// layoffLeavers creates n users, each with layoffEntitlements and a laptop.
func layoffLeavers(ctx context.Context, wd *world, prefix string, n int) ([]atomicwork.User, error) {
	laptop := wd.sim.AssetTypeID("Laptop")
	users := make([]atomicwork.User, n)
	for i := range n {
		u, err := wd.ac.CreateUser(ctx, atomicwork.UserInput{Email: fmt.Sprintf("layoff.%s.%03d@example.com", prefix, i),
			FirstName: "Leaver", EmployeeID: fmt.Sprintf("%s-%03d", prefix, i)})
		if err != nil {
			return nil, err
		}
		for _, name := range layoffEntitlements {
			if _, err := wd.ac.CreateGrant(ctx, atomicwork.GrantInput{UserID: u.ID, EntitlementID: wd.sim.EntitlementID(name)}); err != nil {
				return nil, err
			}
		}
		if _, err := wd.ac.CreateAsset(ctx, atomicwork.AssetInput{AssetTypeID: laptop, FormFields: map[string]any{
			"display_name": fmt.Sprintf("LAP-%s-%03d", prefix, i), "serial_number": fmt.Sprintf("SN-%s-%03d", prefix, i),
			atomicwork.FieldStatus: atomicwork.AssetInUse, atomicwork.FieldAssignedTo: u.ID,
		}}); err != nil {
			return nil, err
		}
		users[i] = *u
	}
	return users, nil
}

// zeroAccess reports whether none of users holds an active grant or an asset.
func zeroAccess(sim *atomicworktest.Handler, users []atomicwork.User) bool {
	for _, u := range users {
		if len(sim.ActiveGrantsOf(u.ID)) > 0 || len(sim.AssetsOf(u.ID)) > 0 {
			return false
		}
	}
	return true
}
