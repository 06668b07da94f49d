package workerapp

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/testkit"
)

// withSecrets puts user:secret@ and ?token=secret into an http URL.
func withSecrets(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	u.User = url.UserPassword("ops", "secret")
	u.RawQuery = "token=secret"
	return u.String()
}

// TestTheBaseURLsSecretsAreNeverLogged: with a password and a token in ATOMICWORK_BASE_URL, the
// configuration's printout, its errors and the start-up check's errors and logs never hold them.
func TestTheBaseURLsSecretsAreNeverLogged(t *testing.T) {
	var texts []string
	cfg, err := LoadConfig(testEnv(t, map[string]string{"ATOMICWORK_BASE_URL": withSecrets(t, "http://127.0.0.1:8090")}))
	require.NoError(t, err)
	texts = append(texts, cfg.String(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg))

	_, err = LoadConfig(testEnv(t, map[string]string{"ATOMICWORK_BASE_URL": "ftp://ops:secret@127.0.0.1:8090/?token=secret"}))
	require.Error(t, err)
	texts = append(texts, err.Error())

	logs := &testkit.SyncBuffer{}
	logger := NewLogger(logs, "json", slog.LevelDebug)
	closed := withSecrets(t, closedURL(t))
	down := Config{BaseURL: closed, DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}, APICheckWait: 300 * time.Millisecond}
	err = Preflight(context.Background(), down, logger)
	require.ErrorAs(t, err, new(*ConfigError))
	assert.Contains(t, err.Error(), "did not answer")
	texts = append(texts, err.Error())
	down.StartWithoutAPI = true
	require.NoError(t, Preflight(context.Background(), down, logger))

	sim := atomicworktest.NewServer(t, atomicworktest.Options{})
	u, err := url.Parse(sim.URL)
	require.NoError(t, err)
	u.User = url.UserPassword("ops", "secret") // no query: the client appends paths to the base URL
	refused := Config{BaseURL: u.String(), DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}, APICheckWait: 5 * time.Second}
	err = Preflight(context.Background(), refused, logger)
	require.ErrorAs(t, err, new(*ConfigError))
	assert.Contains(t, err.Error(), "refused the key")
	texts = append(texts, err.Error())

	assert.Contains(t, logs.String(), "starting anyway")
	texts = append(texts, logs.String())
	for _, text := range texts {
		assert.NotContains(t, text, "secret")
	}
	assert.True(t, strings.Contains(logs.String(), "ops:xxxxx@"), "the URL is still named, its password masked: %s", logs.String())
}
