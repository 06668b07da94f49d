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
	"github.com/atomicflow/atomicflow/workflows"
)

const benchSecret = "bench-webhook-secret-0123456789"

// benchWebhook measures the real `starter listen` binary in front of a dev server: deliveries
// accepted per second and their latency (send to answer), with a fixed number of concurrent
// senders, for each kind of delivery, next to the same starts made directly with the SDK (the
// baseline: what the receiver costs on top of Temporal). A worker that runs the workflows, not
// their activities, answers the updates.
func benchWebhook(ctx context.Context, out io.Writer, n, senders int, temporalBin string) error {
	rig, err := startWebhookRig(ctx, temporalBin, "")
	if err != nil {
		return err
	}
	defer rig.close()
	srv, rx, queue := rig.srv, rig.rx, rig.queue
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}

	hires, terminations := make([]string, n), make([]string, n)
	startDate := time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)
	lastDay := time.Now().UTC().AddDate(0, 0, 20).Format(time.DateOnly)
	for i := range n {
		hires[i] = fmt.Sprintf(`{"event_id":"evt-hire-%d","type":"employee.hired","occurred_at":"%s","employee":{"employee_id":"B-H%d",`+
			`"email":"bench.hire%d@example.com","first_name":"Bench","last_name":"Hire","timezone":"UTC","start_date":"%s"}}`,
			i, time.Now().UTC().Format(time.RFC3339), i, i, startDate)
		terminations[i] = fmt.Sprintf(`{"event_id":"evt-term-%d","type":"employee.terminated","occurred_at":"%s","employee":{"employee_id":"B-T%d",`+
			`"email":"bench.leaver%d@example.com","timezone":"UTC","last_working_day":"%s"}}`,
			i, time.Now().UTC().Format(time.RFC3339), i, i, lastDay)
	}
	post := func(body string) (time.Duration, bool) { return deliverSigned(ctx, c, rx.URL, body) }
	// Terminations first: their answer waits for the worker, which the hires' first workflow
	// tasks keep busy afterwards (as they do for the baseline's starts).
	rows := []webhookRow{
		measure("employee.terminated: Update-with-Start of an offboarding", terminations, senders, post),
		measure("employee.hired: starts an onboarding", hires, senders, post),
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
	w := worker.New(rig.srv.Client(), rig.queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: workflows.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: workflows.OffboardingWorkflowName})
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
	in := workflows.OnboardingInput{EmployeeID: "B-D" + i, Email: "bench.direct" + i + "@example.com", FirstName: "Bench", StartDate: startDate}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.OnboardingID(in.EmployeeID), TaskQueue: queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
	}, workflows.OnboardingWorkflowName, in)
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
