package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/internal/testkit"
	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/runs"
	"github.com/atomicflow/atomicflow/workflows"
)

// TestNoInputIsAnswered5xx hunts, on a real server and the real workflows (no activities), for
// deliveries answered 5xx: an input that can never succeed must be a 4xx, and one Temporal takes
// a 2xx. Only Temporal being unreachable may be a 5xx (503).
func TestNoInputIsAnswered5xx(t *testing.T) {
	srv := testkit.NewDevServer(t)
	const queue = "listen-hunt"
	w := worker.New(srv.Client(), queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Offboarding, workflow.RegisterOptions{Name: lifecycle.OffboardingWorkflowName})
	require.NoError(t, w.Start())
	defer w.Stop()
	const secret = "hunt-secret-0123456789"
	h, err := hrevents.NewHandler(hrevents.Config{Secrets: []string{secret}, Runs: runs.Temporal{Client: srv.Client(), TaskQueue: queue},
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
