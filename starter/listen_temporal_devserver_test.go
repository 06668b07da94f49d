package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/workflows"
)

// TestHRTemporalMapsTemporalsAnswers runs the real workflows without activities: starts, updates
// and their validators answer from the workflow task alone.
func TestHRTemporalMapsTemporalsAnswers(t *testing.T) {
	srv := devserver.ForTest(t)
	const queue = "listen-adapter"
	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: lifecycle.OffboardingWorkflowName})
	require.NoError(t, w.Start())
	defer w.Stop()
	tc := hrTemporal{c: srv.Client(), queue: queue}
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()

	const id = "onboarding-E-9"
	_, err := tc.Describe(ctx, id)
	require.ErrorIs(t, err, hrevents.ErrNotFound)
	_, err = tc.Update(ctx, id, hrevents.Update{ID: "evt-0", Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{}})
	require.ErrorIs(t, err, hrevents.ErrNotRunning)

	in := lifecycle.OnboardingInput{EmployeeID: "E-9", Email: "e9@example.com", FirstName: "Nine", StartDate: "2031-01-06"}
	run, err := tc.StartOnboarding(ctx, in, false)
	require.NoError(t, err)
	again, err := tc.StartOnboarding(ctx, in, false)
	require.NoError(t, err)
	assert.Equal(t, run, again, "a repeated start reaches the running run")

	_, err = tc.Update(ctx, id, hrevents.Update{ID: "evt-1", Name: lifecycle.UpdateSetStartDate, Arg: lifecycle.SetStartDateRequest{StartDate: "2031-02-30"}})
	var rejected *hrevents.RejectedError
	require.ErrorAs(t, err, &rejected)
	assert.Contains(t, rejected.Reason, "YYYY-MM-DD")
	info, err := tc.Describe(ctx, id)
	require.NoError(t, err)
	started := info.StartedAt
	assert.WithinDuration(t, time.Now(), started, runDeadline, "the run started during this test")
	info.StartedAt = time.Time{}
	assert.Equal(t, hrevents.RunInfo{RunID: run.RunID, Running: true, Stage: lifecycle.StagePlanning}, info)

	upd, err := tc.Update(ctx, id, hrevents.Update{ID: "evt-2", Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{Reason: "offer withdrawn"}})
	require.NoError(t, err)
	assert.Equal(t, run, upd)
	require.NoError(t, srv.Client().GetWorkflow(ctx, id, run.RunID).Get(ctx, nil))
	info, err = tc.Describe(ctx, id)
	require.NoError(t, err)
	assert.False(t, info.Running)
	assert.Equal(t, lifecycle.OutcomeCancelled, info.Outcome)
	assert.WithinDuration(t, time.Now(), info.ClosedAt, runDeadline, "the run closed during this test")
	assert.Equal(t, started, info.StartedAt, "a closed run keeps its start time")

	redelivered, err := tc.Update(ctx, id, hrevents.Update{ID: "evt-2", Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{}})
	require.NoError(t, err, "a known update id gets its first answer, even from a closed run")
	assert.Equal(t, run, redelivered)
	_, err = tc.Update(ctx, id, hrevents.Update{ID: "evt-5", Name: lifecycle.UpdateCancel, Arg: lifecycle.CancelRequest{}})
	require.ErrorIs(t, err, hrevents.ErrNotRunning, "a closed run takes no new update")
	closed, err := tc.StartOnboarding(ctx, in, false)
	require.ErrorIs(t, err, hrevents.ErrClosed)
	assert.Equal(t, run, closed)
	rerun, err := tc.StartOnboarding(ctx, in, true)
	require.NoError(t, err)
	assert.NotEqual(t, run.RunID, rerun.RunID)

	off := lifecycle.OffboardingInput{EmployeeID: "E-9", Email: "e9@example.com", LastDay: "2031-03-07", TimeZone: "Europe/Paris"}
	later := hrevents.Update{ID: "evt-3", Name: lifecycle.UpdateReschedule, Arg: lifecycle.RescheduleRequest{LastDay: "2031-03-14", AsOf: time.Now()}}
	offRun, err := tc.UpdateWithStartOffboarding(ctx, off, later, false)
	require.NoError(t, err)
	assert.Equal(t, "offboarding-E-9", offRun.WorkflowID)
	past := hrevents.Update{ID: "evt-4", Name: lifecycle.UpdateReschedule, Arg: lifecycle.RescheduleRequest{LastDay: "2020-01-01"}}
	same, err := tc.UpdateWithStartOffboarding(ctx, off, past, false)
	require.ErrorAs(t, err, &rejected)
	assert.Contains(t, rejected.Reason, "before today")
	assert.Equal(t, offRun, same, "the rejection names the run that refused it")
	info, err = tc.Describe(ctx, offRun.WorkflowID)
	require.NoError(t, err)
	assert.True(t, info.Running)
	assert.Equal(t, lifecycle.StageOffPlanning, info.Stage)
}

func TestHRTemporalUnreachableIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	c, err := client.NewLazyClient(client.Options{HostPort: addr})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = hrTemporal{c: c, queue: "q"}.StartOnboarding(ctx, lifecycle.OnboardingInput{EmployeeID: "E-1"}, false)
	require.ErrorIs(t, err, hrevents.ErrUnavailable)
}

// TestNoInputIsAnswered5xx hunts, on a real server and the real workflows (no activities), for
// deliveries answered 5xx: an input that can never succeed must be a 4xx, and one Temporal takes
// a 2xx. Only Temporal being unreachable may be a 5xx (503).
func TestNoInputIsAnswered5xx(t *testing.T) {
	srv := devserver.ForTest(t)
	const queue = "listen-hunt"
	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: lifecycle.OffboardingWorkflowName})
	require.NoError(t, w.Start())
	defer w.Stop()
	const secret = "hunt-secret-0123456789"
	h, err := hrevents.NewHandler(hrevents.Config{Secrets: []string{secret}, Temporal: hrTemporal{c: srv.Client(), queue: queue},
		Logger: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry(), Timeout: 10 * time.Second})
	require.NoError(t, err)
	rx := httptest.NewServer(h)
	defer rx.Close()

	now := time.Now().UTC()
	at := now.Add(-time.Minute).Format(time.RFC3339)
	event := func(id, typ string, employee map[string]any) string {
		e := map[string]any{"employee_id": "E-H1", "email": "hunt@example.com", "first_name": "Hunt", "timezone": "Europe/Berlin",
			"start_date": now.AddDate(0, 0, 30).Format(time.DateOnly), "last_working_day": now.AddDate(0, 0, 30).Format(time.DateOnly)}
		for k, v := range employee {
			e[k] = v
		}
		b, _ := json.Marshal(map[string]any{"event_id": id, "type": typ, "occurred_at": at, "employee": e})
		return string(b)
	}
	emoji := strings.Repeat("🦫", lifecycle.MaxTextLen) // 256 characters, 1 KiB
	for _, body := range []string{
		event("evt-far-future-start", hrevents.TypeHired, map[string]any{"employee_id": "E-H2", "start_date": "9999-12-31"}),
		event("evt-year-one-start", hrevents.TypeHired, map[string]any{"employee_id": "E-H3", "start_date": "0001-01-01"}),
		event("evt-longest-names", hrevents.TypeHired, map[string]any{"employee_id": strings.Repeat("E", lifecycle.MaxEmployeeIDLen),
			"first_name": emoji, "last_name": emoji, "title": emoji, "department": emoji}),
		event(strings.Repeat("é", 100), hrevents.TypeHired, map[string]any{"employee_id": "E-H4"}), // a 200-byte Unicode update id
		event("evt-hire", hrevents.TypeHired, nil),
		event("evt-move-far", hrevents.TypeUpdated, map[string]any{"start_date": "9999-12-31"}),
		event("evt-move-invalid-for-the-workflow", hrevents.TypeUpdated, map[string]any{"start_date": "2000-01-01", "timezone": "Pacific/Kiritimati"}),
		event("evt-far-future-leave", hrevents.TypeTerminated, map[string]any{"employee_id": "E-H5", "last_working_day": "9999-12-31"}),
		event("evt-year-one-leave", hrevents.TypeTerminated, map[string]any{"employee_id": "E-H6", "last_working_day": "0001-01-01"}),
		event("evt-cancel-unknown", hrevents.TypeTerminationCancelled, map[string]any{"employee_id": "E-H7"}),
		event("evt-rehire-unknown", hrevents.TypeRehired, map[string]any{"employee_id": "E-H8"}),
		event("evt-hire", hrevents.TypeHired, map[string]any{"first_name": "Other"}), // a reused event id
	} {
		req, err := http.NewRequest(http.MethodPost, rx.URL, strings.NewReader(body))
		require.NoError(t, err)
		signedAt := time.Now()
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(hrevents.HeaderTimestamp, strconv.FormatInt(signedAt.Unix(), 10))
		req.Header.Set(hrevents.HeaderSignature, hrevents.Sign(secret, signedAt, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("%d %s", resp.StatusCode, answer)
		assert.Less(t, resp.StatusCode, 500, "%.120s: %s", body, answer)
	}
}
