package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// benchOnboarding times one onboarding end to end (start to result, day one already reached,
// zero simulator latency), alternating two ways of doing the same work on one simulator:
// a plain Go sequence of the same idempotent steps (the script baseline) and the workflow on a
// real dev server with an in-process worker.
func benchOnboarding(ctx context.Context, out io.Writer, runs int, temporalBin string) error {
	wd, err := newWorld(ctx, temporalBin, "bench-onboarding")
	if err != nil {
		return err
	}
	defer wd.close()
	sim, srvClient, queue := wd.sim, wd.client, wd.queue
	acts, err := activities.New(map[int64]*atomicwork.Client{atomicworktest.ITWorkspaceID: wd.ac}, atomicworktest.ITWorkspaceID, activities.Policy{})
	if err != nil {
		return err
	}

	var script, flow, flowServer []time.Duration
	for i := range runs {
		in := benchHire(i)
		sim.Reset()
		d, err := timeScript(ctx, acts, in)
		if err != nil {
			return fmt.Errorf("script run %d: %w", i, err)
		}
		script = append(script, d)

		sim.Reset()
		wall, server, err := timeWorkflow(ctx, srvClient, queue, in)
		if err != nil {
			return fmt.Errorf("workflow run %d: %w", i, err)
		}
		flow, flowServer = append(flow, wall), append(flowServer, server)
	}

	fmt.Fprintf(out, "onboarding end to end, %d runs each, alternating, zero simulator latency, 2 entitlements + 2 asset types\n\n", runs)
	fmt.Fprintln(out, "| mode | median | p90 | min | max | median vs script |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	base := percentile(script, 50)
	for _, row := range []struct {
		name string
		ds   []time.Duration
	}{
		{"plain Go sequence of the same steps (script)", script},
		{"atomicflow workflow: run time on the server (start to close event)", flowServer},
		{"atomicflow workflow: start call to result in the caller", flow},
	} {
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %.1fx |\n", row.name, ms(percentile(row.ds, 50)), ms(percentile(row.ds, 90)),
			ms(slices.Min(row.ds)), ms(slices.Max(row.ds)), float64(percentile(row.ds, 50))/float64(base))
	}
	return nil
}

// benchHire is the i-th onboarding: day one already reached, 2 entitlements and 2 asset types.
func benchHire(i int) lifecycle.OnboardingInput {
	return lifecycle.OnboardingInput{
		EmployeeID: fmt.Sprintf("B-%d", i), Email: fmt.Sprintf("bench%d@example.com", i), FirstName: "Bench", LastName: fmt.Sprint(i),
		Department: "Engineering", TimeZone: "UTC", StartDate: time.Now().UTC().Add(-24 * time.Hour).Format(time.DateOnly),
		Entitlements: []string{"okta-base", "github-engineering"}, AssetTypes: []string{"Laptop", "Monitor"},
	}
}

// timeWorkflow runs one onboarding workflow to its result: the caller's wall time and the
// server's run time (start to close event).
func timeWorkflow(ctx context.Context, c client.Client, queue string, in lifecycle.OnboardingInput) (wall, server time.Duration, err error) {
	start := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: lifecycle.OnboardingID(in.EmployeeID), TaskQueue: queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}, lifecycle.OnboardingWorkflowName, in)
	if err != nil {
		return 0, 0, err
	}
	var res lifecycle.OnboardingResult
	if err := run.Get(ctx, &res); err != nil {
		return 0, 0, err
	}
	wall = time.Since(start)
	desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		return 0, 0, err
	}
	info := desc.GetWorkflowExecutionInfo()
	return wall, info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime()), nil
}

// benchOnboardingTransient times each onboarding twice on the same fresh simulator: clean, then
// with a share of answers turned into transient faults (503 and 429 with Retry-After: 1 s, half
// each, seeded by the run), and prints the ratio per onboarding.
func benchOnboardingTransient(ctx context.Context, out io.Writer, runs int, share float64, temporalBin string) error {
	wd, err := newWorld(ctx, temporalBin, "bench-onboarding")
	if err != nil {
		return err
	}
	defer wd.close()
	// Drawn independently per request: 1-(1-p)^2 = share.
	p := 1 - math.Sqrt(1-share)
	var clean, faulty []time.Duration
	var ratios, beyond []float64
	injected, limited := 0, 0
	for i := range runs {
		in := benchHire(i)
		wd.sim.Reset()
		wd.sim.SetFaults(atomicworktest.Faults{})
		_, c, err := timeWorkflow(ctx, wd.client, wd.queue, in)
		if err != nil {
			return fmt.Errorf("clean run %d: %w", i, err)
		}
		wd.sim.Reset()
		wd.sim.SetFaults(atomicworktest.Faults{Seed: int64(i + 1), ServerError: p, RateLimit: p})
		_, f, err := timeWorkflow(ctx, wd.client, wd.queue, in)
		if err != nil {
			return fmt.Errorf("run %d with transient answers: %w", i, err)
		}
		st := wd.sim.Stats()
		n429 := st.FaultsInjected[atomicworktest.FaultRateLimit]
		injected += st.FaultsInjected[atomicworktest.FaultServerError] + n429
		limited += n429
		clean, faulty = append(clean, c), append(faulty, f)
		ratios = append(ratios, float64(f)/float64(c))
		// Each 429 says Retry-After: 1 s, which the worker honours: no retry policy can beat that.
		beyond = append(beyond, float64(f-time.Duration(n429)*time.Second)/float64(c))
	}
	wd.sim.SetFaults(atomicworktest.Faults{})

	fmt.Fprintf(out, "onboarding workflow run time on the server, %d onboardings, each clean then with %.0f%% transient answers "+
		"(503 and 429 with Retry-After: 1 s, %d injected in all, %d of them 429s)\n\n", runs, share*100, injected, limited)
	fmt.Fprintln(out, "| | median | max |")
	fmt.Fprintln(out, "|---|---|---|")
	fmt.Fprintf(out, "| clean | %s | %s |\n", ms(percentile(clean, 50)), ms(slices.Max(clean)))
	fmt.Fprintf(out, "| transient | %s | %s |\n", ms(percentile(faulty, 50)), ms(slices.Max(faulty)))
	for _, r := range []struct {
		name string
		xs   []float64
	}{
		{"transient / clean, per onboarding", ratios},
		{"(transient - 1 s per 429's Retry-After) / clean, per onboarding", beyond},
	} {
		slices.Sort(r.xs)
		fmt.Fprintf(out, "| %s | %.1fx | %.1fx |\n", r.name, r.xs[(len(r.xs)-1)/2], r.xs[len(r.xs)-1])
	}
	return nil
}

// timeScript runs the onboarding's steps in order without Temporal, as a script would.
func timeScript(ctx context.Context, acts *activities.Activities, in lifecycle.OnboardingInput) (time.Duration, error) {
	start := time.Now()
	wf := lifecycle.OnboardingID(in.EmployeeID)
	plan, err := acts.ResolvePlan(ctx, activities.PlanRequest{Entitlements: in.Entitlements, AssetTypes: in.AssetTypes})
	if err != nil {
		return 0, err
	}
	user, err := acts.EnsureUser(ctx, activities.EnsureUserRequest{WorkflowID: wf, Email: in.Email, FirstName: in.FirstName,
		LastName: in.LastName, EmployeeID: in.EmployeeID, StartDate: in.StartDate})
	if err != nil {
		return 0, err
	}
	req, err := acts.EnsureRequest(ctx, activities.RequestToOpen{Marker: activities.Marker(wf, "request"), Subject: "bench",
		Description: "plan", RequesterID: user.UserID, CatalogItem: "New Hire Onboarding",
		ItemFields: map[string]any{"employee_name": "Bench", "start_date": in.StartDate}})
	if err != nil {
		return 0, err
	}
	if err := acts.AddNote(ctx, activities.NoteRequest{DisplayID: req.DisplayID, Marker: activities.Marker(wf, "plan"), Description: "plan"}); err != nil {
		return 0, err
	}
	for _, e := range plan.Entitlements {
		if _, err := acts.EnsureGrant(ctx, activities.GrantRequest{UserID: user.UserID, EntitlementID: e.ID, Since: start}); err != nil {
			return 0, err
		}
	}
	for range 2 { // claim, then the day-one re-check
		for _, t := range plan.AssetTypes {
			if _, err := acts.AssignAsset(ctx, activities.AssignAssetRequest{UserID: user.UserID, AssetTypeID: t.ID, Since: start}); err != nil {
				return 0, err
			}
		}
	}
	if err := acts.AddNote(ctx, activities.NoteRequest{DisplayID: req.DisplayID, Marker: activities.Marker(wf, "day-one"), Description: "day one"}); err != nil {
		return 0, err
	}
	if err := acts.ResolveRequest(ctx, activities.RequestToResolve{DisplayID: req.DisplayID}); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s) - 1) * p / 100
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
