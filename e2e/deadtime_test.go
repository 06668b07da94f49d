package e2e

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/deadtime"
	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// TestOnboardingActivityOutlivesItsWorker kills (SIGKILL) the worker process while an onboarding's
// EnsureUser attempt runs on it (the simulator answers each call after a second), starts another
// worker, and checks that Temporal noticed the dead attempt by its heartbeat timeout, not by the
// attempt's StartToClose (which left it unattended for two minutes), and that the run then
// completes with every write once: one user, one request, one grant per entitlement, one asset.
// The dead time it logs is what `bench crash` tabulates; it is not asserted.
func TestOnboardingActivityOutlivesItsWorker(t *testing.T) {
	srv := devServer(t)
	bin := buildWorker(t)
	sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: apiKey,
		Faults: atomicworktest.Faults{Latency: time.Second}})
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	queue := "e2e-deadtime"
	logs := &syncbuf.Buffer{}
	workerEnv := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"TEMPORAL_ADDRESS=" + srv.FrontendHostPort(), "TEMPORAL_NAMESPACE=default",
		"TEMPORAL_CONFIG_FILE=" + filepath.Join(t.TempDir(), "absent.toml"),
		"ATOMICWORK_BASE_URL=" + sim.URL, "ATOMICWORK_API_KEY=" + apiKey, "ATOMICWORK_WORKSPACE_ID=1",
		"ATOMICFLOW_TASK_QUEUE=" + queue, "ATOMICFLOW_WORKER_STOP_TIMEOUT=1s", "LOG_LEVEL=info",
	}
	first := startWorker(t, bin, workerEnv, logs, 1)
	t.Cleanup(func() { terminateOpen(t, c, queue) })

	in := hire(1300, today())
	in.EmployeeID = testEmployeeID(t, in.EmployeeID)
	in.Entitlements, in.AssetTypes = []string{"okta-base", "github-engineering"}, []string{"Laptop"}
	e := &env{t: t, sim: sim, client: c, queue: queue, logs: logs}
	run := e.startOnboarding(in)

	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	inFlight, err := deadtime.Started(ctx, c, run.GetID(), "EnsureUser")
	require.NoError(t, err)
	require.NoError(t, first.Process.Signal(syscall.SIGKILL)) // only the process this test started
	killed := time.Now()
	_ = first.Wait()
	startWorker(t, bin, workerEnv, logs, 2)

	next, err := deadtime.NextAttempt(ctx, c, run.GetID(), inFlight)
	require.NoError(t, err)
	t.Logf("dead time after the kill: %s (attempt %d ended by a %s timeout)",
		next.GetLastStartedTime().AsTime().Sub(killed).Round(100*time.Millisecond), inFlight.GetAttempt(), deadtime.TimeoutType(next))
	assert.Equal(t, enumspb.TIMEOUT_TYPE_HEARTBEAT.String(), deadtime.TimeoutType(next), "the dead attempt must be noticed by its heartbeat timeout")

	var res lifecycle.OnboardingResult
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	requireOnboarded(t, sim, in.Email, in.Entitlements, in.AssetTypes)
	require.NotContains(t, logs.String(), apiKey)
}
