package workerapp

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetricsServer(t *testing.T) {
	logger := NewLogger(io.Discard, "json", slog.LevelInfo)
	m, err := startMetrics("127.0.0.1:0", logger)
	require.NoError(t, err)
	m.handler.Counter("atomicflow_test_calls").Inc(3)
	url := "http://" + m.addr.String() + "/metrics"
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, scrape(c, url), "atomicflow_test_calls_total 3")
	}, 10*time.Second, 100*time.Millisecond)

	// A second server on the same port fails at once, naming the setting.
	_, err = startMetrics(m.addr.String(), logger)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "METRICS_ADDR")

	require.NoError(t, m.close(context.Background()))
}
