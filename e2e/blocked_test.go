package e2e

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/internal/workerapp"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// wrongKey is a key the simulator refuses (401), as after a rotation the worker missed.
const wrongKey = "aw_e2e_rotated_away_DO_NOT_LEAK"

// newEnvWithoutWorker is newEnv with no worker: the test starts its own with startWorker.
func newEnvWithoutWorker(t *testing.T) *env {
	t.Helper()
	srv := devServer(t)
	sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: apiKey})
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: sdklog.NewStructuredLogger(logger)})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	queue := "e2e-" + t.Name()
	t.Cleanup(func() { terminateOpen(t, c, queue) })
	return &env{t: t, sim: sim, client: c, queue: queue, logs: logs}
}

// startWorker starts a worker on the test's queue whose key for the IT workspace is key.
func (e *env) startWorker(key string) worker.Worker {
	e.t.Helper()
	w, err := workerapp.NewWorker(e.client, workerapp.Config{
		TaskQueue: e.queue, BaseURL: e.sim.URL, DefaultWorkspace: atomicworktest.ITWorkspaceID,
		Keys: map[int64]string{atomicworktest.ITWorkspaceID: key}, Timeout: 5 * time.Second, StopTimeout: 5 * time.Second,
	})
	require.NoError(e.t, err)
	require.NoError(e.t, w.Start())
	e.t.Cleanup(w.Stop) // a second Stop is a no-op
	return w
}

func TestRefusedKeyBlocksOffboardingUntilTheKeyWorks(t *testing.T) {
	e := newEnvWithoutWorker(t)
	leaver := newLeaver(t, e.sim, "B")
	refused := e.startWorker(wrongKey)
	noGrace := 0
	run := e.startOffboarding(lifecycle.OffboardingInput{EmployeeID: leaver.EmployeeID, Email: leaver.Email,
		LastDay: time.Now().UTC().Format(time.DateOnly), TimeZone: "UTC", Immediate: true, GraceDays: &noGrace})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	st := e.awaitStage(ctx, run.GetID(), lifecycle.StageOffBlocked)
	t.Logf("blocked: %+v", st)
	assert.Contains(t, st.Blocked, activities.ErrAtomicworkAuth+": ")
	assert.Contains(t, st.Blocked, "the worker's key for the default workspace (ATOMICWORK_WORKSPACE_ID) is refused: fix ATOMICWORK_API_KEY or ATOMICWORK_KEYS_FILE")
	assert.Len(t, e.sim.ActiveGrantsOf(leaver.ID), 2, "nothing can be revoked with a refused key")

	// The operator fixes the key and restarts the worker: the run goes on by itself.
	refused.Stop()
	e.startWorker(apiKey)
	var res lifecycle.OffboardingResult
	require.NoError(t, run.Get(ctx, &res), "the run completes once the key works")
	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	assert.Empty(t, e.sim.ActiveGrantsOf(leaver.ID), "the leaver keeps no access")
	assert.Empty(t, e.sim.AssetsOf(leaver.ID), "the leaver keeps no asset")
	st, err := e.offboardingStatus(ctx, run.GetID())
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StageOffCompleted, st.Stage)
	assert.Empty(t, st.Blocked)
	e.requireNoKeyLeak(run.GetID(), run.GetRunID())
	require.NotContains(t, decodedText(t, e.history(run.GetID(), run.GetRunID())), wrongKey)
	require.NotContains(t, e.logs.String(), wrongKey)
	recordHistory(t, e, run.GetID(), run.GetRunID(), "offboarding-blocked.json")
}
