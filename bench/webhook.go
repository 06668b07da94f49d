package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/listener"
	"github.com/atomicflow/atomicflow/internal/workerapp"
	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/workflows"
)

const benchSecret = "bench-webhook-secret-0123456789"

// benchWebhook measures the real `starter listen` binary in front of a dev server: deliveries
// accepted per second and their latency (send to answer), with a fixed number of concurrent
// senders, for each kind of delivery, next to the same starts made directly with the SDK (the
// baseline: what the receiver costs on top of Temporal). Every HR event type has a row. A worker
// that runs the workflows, not their activities, answers the updates.
func benchWebhook(ctx context.Context, out io.Writer, n, senders int, temporalBin string) error {
	rig, err := startWebhookRig(ctx, temporalBin, "")
	if err != nil {
		return err
	}
	defer rig.close()
	srv, rx, queue := rig.srv, rig.rx, rig.queue
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}

	startDate := time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)
	lastDay := time.Now().UTC().AddDate(0, 0, 20).Format(time.DateOnly)
	events := func(typ, employee, fields string) []string {
		out := make([]string, n)
		for i := range n {
			id := fmt.Sprintf(employee, i)
			out[i] = fmt.Sprintf(`{"event_id":"evt-%s-%s","type":"%s","occurred_at":"%s","employee":{"employee_id":"%s",`+
				`"email":"%s@example.com","first_name":"Bench","last_name":"Employee","timezone":"UTC"%s}}`,
				typ, id, typ, time.Now().UTC().Format(time.RFC3339Nano), id, strings.ToLower(id), fields)
		}
		return out
	}
	later := func(days int) string { return time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly) }
	hires := events("employee.hired", "B-H%d", `,"start_date":"`+startDate+`"`)
	post := func(body string) (time.Duration, bool) { return deliverSigned(ctx, c, rx.URL, body) }
	// Terminations first: their answer waits for the worker, which the hires' first workflow
	// tasks keep busy afterwards (as they do for the baseline's starts). Every event type of
	// HR-EVENTS.md has a row; each acts on the runs the rows before it started.
	rows := []webhookRow{
		measure("employee.terminated: Update-with-Start of an offboarding", events("employee.terminated", "B-T%d", `,"last_working_day":"`+lastDay+`"`), senders, post),
		measure("employee.termination_changed: Update-with-Start, moves the date", events("employee.termination_changed", "B-T%d", `,"last_working_day":"`+later(25)+`"`), senders, post),
		measure("employee.access_revoked_immediately: Update-with-Start, offboard now", events("employee.access_revoked_immediately", "B-R%d", ""), senders, post),
		measure("employee.termination_cancelled: update cancels the offboarding", events("employee.termination_cancelled", "B-T%d", ""), senders, post),
		measure("employee.hired: starts an onboarding", hires, senders, post),
		measure("employee.updated: update moves the start date", events("employee.updated", "B-H%d", `,"start_date":"`+later(35)+`"`), senders, post),
		measure("employee.hire_cancelled: update cancels the onboarding", events("employee.hire_cancelled", "B-H%d", ""), senders, post),
		measure("employee.rehired: no offboarding ran, starts an onboarding", events("employee.rehired", "B-X%d", `,"start_date":"`+startDate+`"`), senders, post),
		measure("baseline: the same starts with the SDK, no HTTP", indexes(n), senders, func(i string) (time.Duration, bool) {
			return startDirectly(ctx, srv.Client(), queue, i, startDate)
		}),
		measure("redelivery of a hire: 200 duplicate, from memory", hires, senders, post),
	}
	if err := rx.Stop(); err != nil {
		return err
	}

	fmt.Fprintf(out, "starter listen (the binary) on a Temporal dev server, %d deliveries per row, %d concurrent senders\n\n", n, senders)
	fmt.Fprintln(out, "| delivery | accepted/s | p50 | p99 | max | not accepted |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(out, "| %s | %.0f | %s | %s | %s | %d |\n", r.name, float64(r.accepted)/r.wall.Seconds(),
			ms(percentile(r.latencies, 50)), ms(percentile(r.latencies, 99)), ms(percentile(r.latencies, 100)), len(r.latencies)-r.accepted)
	}
	return nil
}

// webhookRig is a dev server, a worker that runs the workflows (not their activities) and a
// `starter listen` in front of them, connected.
type webhookRig struct {
	srv    *testsuite.DevServer
	rx     *listener.Process
	queue  string
	closer []func()
}

// startWebhookRig starts the rig; starterBin is the starter binary to run, "" to build this tree's.
func startWebhookRig(ctx context.Context, temporalBin, starterBin string) (rig *webhookRig, err error) {
	if _, err := os.Stat(temporalBin); err != nil {
		return nil, fmt.Errorf("%s is missing: run `make tools` first", temporalBin)
	}
	rig = &webhookRig{queue: "bench-webhook"}
	defer func() {
		if err != nil {
			rig.close()
		}
	}()
	if rig.srv, err = devserver.Start(ctx, temporalBin); err != nil {
		return nil, err
	}
	rig.closer = append(rig.closer, func() { _ = rig.srv.Stop() })
	// The production worker's pollers; no activity poller: the workflows' activities are not
	// registered (their tasks wait, which the answers measured here do not).
	w := worker.New(rig.srv.Client(), rig.queue, workerapp.WithPollers(worker.Options{LocalActivityWorkerOnly: true}))
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: lifecycle.OffboardingWorkflowName})
	if err := w.Start(); err != nil {
		return nil, err
	}
	rig.closer = append(rig.closer, w.Stop)
	if starterBin == "" {
		dir, err := os.MkdirTemp("", "bench-webhook")
		if err != nil {
			return nil, err
		}
		rig.closer = append(rig.closer, func() { _ = os.RemoveAll(dir) })
		if starterBin, err = listener.Build(ctx, dir); err != nil {
			return nil, err
		}
	}
	rig.rx, err = listener.Start(ctx, starterBin, map[string]string{"TEMPORAL_ADDRESS": rig.srv.FrontendHostPort(),
		"ATOMICFLOW_TASK_QUEUE": rig.queue, "ATOMICFLOW_HR_SECRETS": benchSecret})
	if err != nil {
		return nil, err
	}
	rig.closer = append(rig.closer, func() { _ = rig.rx.Stop() })
	return rig, waitConnected(ctx, http.DefaultClient, rig.rx.URL)
}

// close stops what was started, the last first.
func (r *webhookRig) close() {
	for i := len(r.closer) - 1; i >= 0; i-- {
		r.closer[i]()
	}
}

type webhookRow struct {
	name      string
	accepted  int
	latencies []time.Duration
	wall      time.Duration
}

// measure sends every item with senders concurrent senders.
func measure(name string, items []string, senders int, send func(string) (time.Duration, bool)) webhookRow {
	work := make(chan string)
	var (
		mu  sync.Mutex
		row = webhookRow{name: name}
		wg  sync.WaitGroup
	)
	start := time.Now()
	for range senders {
		wg.Go(func() {
			for item := range work {
				d, ok := send(item)
				mu.Lock()
				row.latencies = append(row.latencies, d)
				if ok {
					row.accepted++
				}
				mu.Unlock()
			}
		})
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	row.wall = time.Since(start)
	return row
}

// deliverSigned posts body signed now; accepted means a 2xx answer.
func deliverSigned(ctx context.Context, c *http.Client, url, body string) (time.Duration, bool) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/hr/events", strings.NewReader(body))
	if err != nil {
		return time.Since(start), false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(hrevents.HeaderTimestamp, strconv.FormatInt(start.Unix(), 10))
	req.Header.Set(hrevents.HeaderSignature, hrevents.Sign(benchSecret, start, []byte(body)))
	resp, err := c.Do(req)
	if err != nil {
		return time.Since(start), false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(start), resp.StatusCode < 300
}

// startDirectly is the baseline: the start a hire makes, from Go, with the same policies.
func startDirectly(ctx context.Context, c client.Client, queue, i, startDate string) (time.Duration, bool) {
	start := time.Now()
	in := lifecycle.OnboardingInput{EmployeeID: "B-D" + i, Email: "bench.direct" + i + "@example.com", FirstName: "Bench", StartDate: startDate}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: lifecycle.OnboardingID(in.EmployeeID), TaskQueue: queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
	}, lifecycle.OnboardingWorkflowName, in)
	return time.Since(start), err == nil
}

func indexes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// waitConnected waits until the receiver has reached Temporal (before, it answers 503).
func waitConnected(ctx context.Context, c *http.Client, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get(url + "/healthz")
		if err == nil {
			var health struct{ Temporal string }
			err = json.NewDecoder(resp.Body).Decode(&health)
			resp.Body.Close()
			if err == nil && health.Temporal == "connected" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("starter listen did not reach Temporal within 30s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
