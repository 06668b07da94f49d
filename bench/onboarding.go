package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/workflows"
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
	dayOne := time.Now().UTC().Add(-24 * time.Hour).Format(time.DateOnly)
	for i := range runs {
		in := workflows.OnboardingInput{
			EmployeeID: fmt.Sprintf("B-%d", i), Email: fmt.Sprintf("bench%d@example.com", i), FirstName: "Bench", LastName: fmt.Sprint(i),
			Department: "Engineering", TimeZone: "UTC", StartDate: dayOne,
			Entitlements: []string{"okta-base", "github-engineering"}, AssetTypes: []string{"Laptop", "Monitor"},
		}
		sim.Reset()
		d, err := timeScript(ctx, acts, in)
		if err != nil {
			return fmt.Errorf("script run %d: %w", i, err)
		}
		script = append(script, d)

		sim.Reset()
		start := time.Now()
		run, err := srvClient.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: workflows.OnboardingID(in.EmployeeID), TaskQueue: queue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		}, workflows.OnboardingWorkflowName, in)
		if err != nil {
			return err
		}
		var res workflows.OnboardingResult
		if err := run.Get(ctx, &res); err != nil {
			return fmt.Errorf("workflow run %d: %w", i, err)
		}
		flow = append(flow, time.Since(start))
		desc, err := srvClient.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
		if err != nil {
			return err
		}
		info := desc.GetWorkflowExecutionInfo()
		flowServer = append(flowServer, info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime()))
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

// timeScript runs the onboarding's steps in order without Temporal, as a script would.
func timeScript(ctx context.Context, acts *activities.Activities, in workflows.OnboardingInput) (time.Duration, error) {
	start := time.Now()
	wf := workflows.OnboardingID(in.EmployeeID)
	plan, err := acts.ResolvePlan(ctx, activities.PlanRequest{Entitlements: in.Entitlements, AssetTypes: in.AssetTypes})
	if err != nil {
		return 0, err
	}
	user, err := acts.EnsureUser(ctx, activities.EnsureUserRequest{WorkflowID: wf, Email: in.Email, FirstName: in.FirstName,
		LastName: in.LastName, EmployeeID: in.EmployeeID, StartDate: in.StartDate})
	if err != nil {
		return 0, err
	}
	req, err := acts.EnsureRequest(ctx, activities.EnsureRequestRequest{Marker: activities.Marker(wf, "request"), Subject: "bench",
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
	if err := acts.ResolveRequest(ctx, activities.ResolveRequestRequest{DisplayID: req.DisplayID}); err != nil {
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
