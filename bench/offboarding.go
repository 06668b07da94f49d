package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// benchOffboarding schedules n offboardings for the same minute and measures, from each run's
// history, how late after the scheduled instant the durable timer fired and the first revocation
// reached the API.
func benchOffboarding(ctx context.Context, out io.Writer, n int, temporalBin string) error {
	wd, err := newWorld(ctx, temporalBin, "bench-offboarding")
	if err != nil {
		return err
	}
	defer wd.close()
	sim, c, queue, ac := wd.sim, wd.client, wd.queue, wd.ac
	okta := sim.EntitlementID("okta-base")
	at := time.Now().UTC().Add(20 * time.Second).Add(time.Minute - 1).Truncate(time.Minute)
	ids := make([]string, n)
	for i := range n {
		u, err := ac.CreateUser(ctx, atomicwork.UserInput{Email: fmt.Sprintf("bench.leaver%03d@example.com", i), FirstName: "Leaver", EmployeeID: fmt.Sprintf("BL-%03d", i)})
		if err != nil {
			return err
		}
		if _, err := ac.CreateGrant(ctx, atomicwork.GrantInput{UserID: u.ID, EntitlementID: okta}); err != nil {
			return err
		}
		in := lifecycle.OffboardingInput{EmployeeID: u.EmployeeID, Email: u.Email, LastDay: at.Format(time.DateOnly),
			EndOfDay: at.Format("15:04"), TimeZone: "UTC", GracePeriod: time.Hour}
		ids[i] = lifecycle.OffboardingID(u.EmployeeID)
		if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ids[i], TaskQueue: queue}, lifecycle.OffboardingWorkflowName, in); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "%d offboardings scheduled for %s; waiting...\n", n, at.Format(time.RFC3339))

	var mu sync.Mutex
	var timerLate, revokeLate []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, id := range ids {
		wg.Go(func() {
			fired, revoked, err := firstRevocation(ctx, c, id)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", id, err)
				return
			}
			mu.Lock()
			timerLate = append(timerLate, fired.Sub(at))
			revokeLate = append(revokeLate, revoked.Sub(at))
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}

	fmt.Fprintf(out, "\ndelay after the scheduled instant, %d offboardings due in the same minute, zero simulator latency\n\n", n)
	fmt.Fprintln(out, "| event | median | p90 | max |")
	fmt.Fprintln(out, "|---|---|---|---|")
	for _, row := range []struct {
		name string
		ds   []time.Duration
	}{{"durable timer fired", timerLate}, {"first revocation call started", revokeLate}} {
		fmt.Fprintf(out, "| %s | %s | %s | %s |\n", row.name, ms(percentile(row.ds, 50)), ms(percentile(row.ds, 90)), ms(slices.Max(row.ds)))
	}
	return nil
}

// firstRevocation waits until the run has revoked a grant and returns when its wait timer fired
// and when the first RevokeGrant activity started, from the run's history.
func firstRevocation(ctx context.Context, c client.Client, workflowID string) (fired, revoked time.Time, err error) {
	for {
		fired, revoked = time.Time{}, time.Time{}
		scheduled := map[int64]bool{}
		it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return fired, revoked, err
			}
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_TIMER_FIRED:
				if fired.IsZero() {
					fired = ev.GetEventTime().AsTime()
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				if ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "RevokeGrant" {
					scheduled[ev.GetEventId()] = true
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				if scheduled[ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()] && revoked.IsZero() {
					revoked = ev.GetEventTime().AsTime()
				}
			}
		}
		if !revoked.IsZero() && !fired.IsZero() {
			return fired, revoked, nil
		}
		select {
		case <-ctx.Done():
			return fired, revoked, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
