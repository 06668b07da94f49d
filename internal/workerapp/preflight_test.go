package workerapp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/testkit"
)

// preflightConfig loads a configuration the way the binary does, so the key variables are known.
func preflightConfig(t *testing.T, env map[string]string) Config {
	t.Helper()
	env["TEMPORAL_CONFIG_FILE"] = filepath.Join(t.TempDir(), "absent.toml")
	cfg, err := LoadConfig(mapLookup(env))
	require.NoError(t, err)
	return cfg
}

func mapLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// closedURL is an http URL where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

func TestPreflightRefusesAWrongKeyNamingItsVariable(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{})
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte(testKey+"\n"), 0o600))
	keysFile := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, os.WriteFile(keysFile, []byte("1: "+atomicworktest.DevKey+"\n2: "+otherKey+"\n"), 0o600))

	for name, tc := range map[string]struct {
		env      map[string]string
		variable string
		ws       string
	}{
		"ATOMICWORK_API_KEY":      {map[string]string{"ATOMICWORK_API_KEY": testKey}, "ATOMICWORK_API_KEY", "workspace 1"},
		"ATOMICWORK_API_KEY_FILE": {map[string]string{"ATOMICWORK_API_KEY_FILE": keyFile}, "ATOMICWORK_API_KEY_FILE", "workspace 1"},
		"ATOMICWORK_KEYS_FILE":    {map[string]string{"ATOMICWORK_KEYS_FILE": keysFile}, "ATOMICWORK_KEYS_FILE", "workspace 2"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.env["ATOMICWORK_BASE_URL"] = sim.URL
			tc.env["ATOMICWORK_WORKSPACE_ID"] = "1"
			cfg := preflightConfig(t, tc.env)
			logs := &testkit.SyncBuffer{}
			err := Preflight(context.Background(), cfg, NewLogger(logs, "text", slog.LevelInfo))
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			require.Len(t, ce.Problems, 1, "%v", ce.Problems)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(ce.Problems[0], tc.variable+": "), msg)
			assert.Contains(t, msg, "refused the key of "+tc.ws+" (HTTP 401)")
			assert.NotContains(t, msg+logs.String(), testKey)
			assert.NotContains(t, msg+logs.String(), otherKey)
			assert.NotContains(t, msg+logs.String(), atomicworktest.DevKey)
		})
	}
}

func TestPreflightRefusesAKeyOfAnotherWorkspace(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{})
	cfg := preflightConfig(t, map[string]string{"ATOMICWORK_BASE_URL": sim.URL, "ATOMICWORK_WORKSPACE_ID": "1",
		"ATOMICWORK_API_KEY": atomicworktest.HRKey})
	err := Preflight(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.ErrorAs(t, err, new(*ConfigError))
	assert.Contains(t, err.Error(), "ATOMICWORK_API_KEY: the key of workspace 1 may not access workspace 1 (HTTP 403)")
}

func TestPreflightGivesUpOnAnUnreachableAPIWithinTheWait(t *testing.T) {
	url := closedURL(t)
	cfg := Config{BaseURL: url, DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}, APICheckWait: 300 * time.Millisecond}
	start := time.Now()
	err := Preflight(context.Background(), cfg, slog.New(slog.DiscardHandler))
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Less(t, time.Since(start), 10*time.Second, "bounded by APICheckWait, not by the client's 30s timeout")
	assert.Contains(t, err.Error(), "ATOMICWORK_BASE_URL: Atomicwork at "+url+" did not answer within 300ms")
	assert.Contains(t, err.Error(), "ATOMICFLOW_START_WITHOUT_API=true")
	assert.NotContains(t, err.Error(), testKey)
}

func TestPreflightStartsWithoutTheAPIWhenAskedTo(t *testing.T) {
	cfg := preflightConfig(t, map[string]string{"ATOMICWORK_BASE_URL": closedURL(t), "ATOMICWORK_WORKSPACE_ID": "1",
		"ATOMICWORK_API_KEY": testKey, "ATOMICFLOW_START_WITHOUT_API": "true", "ATOMICFLOW_API_CHECK_WAIT": "300ms"})
	logs := &testkit.SyncBuffer{}
	require.NoError(t, Preflight(context.Background(), cfg, NewLogger(logs, "text", slog.LevelInfo)))
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "starting anyway (ATOMICFLOW_START_WITHOUT_API=true)")
}

func TestPreflightRetriesUntilTheAPIAnswers(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: testKey,
		Faults: atomicworktest.Faults{Seed: 3, ServerError: 0.6}})
	cfg := Config{BaseURL: sim.URL, DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}, APICheckWait: time.Minute}
	require.NoError(t, Preflight(context.Background(), cfg, slog.New(slog.DiscardHandler)))
}

func TestPreflightWarnsAboutUnknownPolicyNames(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: testKey})
	policy, err := activities.ParsePolicy([]byte(`
defaults:
  entitlements: [okta-base, okta-typo]
  asset_types: [Laptop]
rules:
  - department: Engineering
    entitlements: [github-engineering, okta-typo, github-admin]
    asset_types: [Monitr]
  - title: SRE
    asset_types: [monitr]
`))
	require.NoError(t, err)
	cfg := Config{BaseURL: sim.URL, DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}, Policy: policy}
	logs := &testkit.SyncBuffer{}
	require.NoError(t, Preflight(context.Background(), cfg, NewLogger(logs, "json", slog.LevelInfo)), "unknown names warn, they do not stop the worker")

	warnings := logLines(t, logs, "WARN")
	byName := map[string]string{}
	for _, w := range warnings {
		byName[w["Name"].(string)] = w["In"].(string)
	}
	assert.Equal(t, map[string]string{
		"okta-typo":    "defaults; rule 1 (department Engineering)",
		"github-admin": "rule 1 (department Engineering)", // a draft: onboarding cannot grant it
		"Monitr":       "rule 1 (department Engineering); rule 2 (title SRE)",
	}, byName, "one warning per unknown name, with the rules that use it: %s", logs.String())
}

func TestPreflightWarnsAboutAnEmptyPolicy(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: testKey})
	cfg := Config{BaseURL: sim.URL, DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}}
	logs := &testkit.SyncBuffer{}
	require.NoError(t, Preflight(context.Background(), cfg, NewLogger(logs, "json", slog.LevelInfo)))
	warnings := logLines(t, logs, "WARN")
	require.Len(t, warnings, 1, logs.String())
	assert.Contains(t, warnings[0]["msg"], "The provisioning policy is empty")
	assert.Contains(t, warnings[0]["msg"], "ATOMICFLOW_POLICY_FILE")
}

func TestPreflightEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := Config{BaseURL: closedURL(t), DefaultWorkspace: 1, Keys: map[int64]string{1: testKey}}
	err := Preflight(ctx, cfg, slog.New(slog.DiscardHandler))
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestLoadConfigReadsTheStartUpCheckSettings(t *testing.T) {
	env := map[string]string{"ATOMICWORK_BASE_URL": "http://127.0.0.1:8090", "ATOMICWORK_WORKSPACE_ID": "1", "ATOMICWORK_API_KEY": testKey}
	cfg := preflightConfig(t, env)
	assert.Equal(t, DefaultAPICheckWait, cfg.APICheckWait)
	assert.False(t, cfg.StartWithoutAPI)

	env["ATOMICFLOW_START_WITHOUT_API"] = "sometimes"
	env["ATOMICFLOW_API_CHECK_WAIT"] = "soon"
	_, err := LoadConfig(mapLookup(env))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `ATOMICFLOW_START_WITHOUT_API: "sometimes" is not true or false`)
	assert.Contains(t, err.Error(), "ATOMICFLOW_API_CHECK_WAIT")
}

// logLines returns the JSON log lines at level.
func logLines(t *testing.T, logs *testkit.SyncBuffer, level string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m["level"] == level {
			out = append(out, m)
		}
	}
	return out
}
