package workerapp

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/workflows"
)

const (
	testKey  = "sk-test-4f9a1c7e"
	otherKey = "sk-other-b2d80e13"
)

// testEnv returns a lookup over a minimal valid environment plus overrides; "" in overrides
// removes a variable. TEMPORAL_CONFIG_FILE points at a missing file so the developer's own
// temporal.toml never leaks into a test.
func testEnv(t *testing.T, overrides map[string]string) func(string) (string, bool) {
	t.Helper()
	env := map[string]string{
		"ATOMICWORK_BASE_URL":     "http://127.0.0.1:8090",
		"ATOMICWORK_API_KEY":      testKey,
		"ATOMICWORK_WORKSPACE_ID": "1",
		"TEMPORAL_CONFIG_FILE":    filepath.Join(t.TempDir(), "absent.toml"),
	}
	for k, v := range overrides {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(testEnv(t, nil))
	require.NoError(t, err)
	assert.Equal(t, lifecycle.DefaultTaskQueue, cfg.TaskQueue)
	assert.Equal(t, "http://127.0.0.1:8090", cfg.BaseURL)
	assert.Equal(t, int64(1), cfg.DefaultWorkspace)
	assert.Equal(t, map[int64]string{1: testKey}, cfg.Keys)
	assert.Equal(t, 30*time.Second, cfg.Timeout)
	assert.Equal(t, 30*time.Second, cfg.StopTimeout)
	assert.Equal(t, "json", cfg.LogFormat)
	assert.Equal(t, slog.LevelInfo, cfg.LogLevel)
	assert.Empty(t, cfg.MetricsAddr)
	assert.Empty(t, cfg.Policy.Rules)
	assert.Empty(t, cfg.Policy.Defaults.Entitlements)
	assert.Equal(t, "localhost:7233", cfg.Temporal.HostPort, "no address: the SDK default")
}

func TestLoadConfigEverySetting(t *testing.T) {
	policy := writeFile(t, "policy.yaml", "defaults:\n  entitlements: [okta-base]\nrules:\n  - department: Engineering\n    entitlements: [github-engineering]\n")
	cfg, err := LoadConfig(testEnv(t, map[string]string{
		"ATOMICWORK_BASE_URL":            "https://acme.atomicwork.com",
		"ATOMICWORK_WORKSPACE_ID":        " 7 ",
		"ATOMICWORK_TIMEOUT":             "5s",
		"ATOMICFLOW_TASK_QUEUE":          "atomicflow-test",
		"ATOMICFLOW_POLICY_FILE":         policy,
		"ATOMICFLOW_WORKER_STOP_TIMEOUT": "0s",
		"LOG_FORMAT":                     "TEXT",
		"LOG_LEVEL":                      "debug",
		"METRICS_ADDR":                   "127.0.0.1:9090",
		"TEMPORAL_ADDRESS":               "temporal.internal:7233",
		"TEMPORAL_NAMESPACE":             "hr",
	}))
	require.NoError(t, err)
	assert.Equal(t, "https://acme.atomicwork.com", cfg.BaseURL)
	assert.Equal(t, map[int64]string{7: testKey}, cfg.Keys)
	assert.Equal(t, int64(7), cfg.DefaultWorkspace)
	assert.Equal(t, 5*time.Second, cfg.Timeout)
	assert.Equal(t, "atomicflow-test", cfg.TaskQueue)
	assert.Equal(t, []string{"okta-base"}, cfg.Policy.Defaults.Entitlements)
	require.Len(t, cfg.Policy.Rules, 1)
	assert.Equal(t, time.Duration(0), cfg.StopTimeout, "0 is allowed: stop without waiting")
	assert.Equal(t, "text", cfg.LogFormat)
	assert.Equal(t, slog.LevelDebug, cfg.LogLevel)
	assert.Equal(t, "127.0.0.1:9090", cfg.MetricsAddr)
	assert.Equal(t, "temporal.internal:7233", cfg.Temporal.HostPort)
	assert.Equal(t, "hr", cfg.Temporal.Namespace)
}

func TestLoadConfigTemporalProfile(t *testing.T) {
	toml := writeFile(t, "temporal.toml", "[profile.staging]\naddress = \"staging.internal:7233\"\nnamespace = \"hr-staging\"\n")
	cfg, err := LoadConfig(testEnv(t, map[string]string{"TEMPORAL_CONFIG_FILE": toml, "TEMPORAL_PROFILE": "staging"}))
	require.NoError(t, err)
	assert.Equal(t, "staging.internal:7233", cfg.Temporal.HostPort)
	assert.Equal(t, "hr-staging", cfg.Temporal.Namespace)
}

func TestLoadConfigKeyFileIsTrimmed(t *testing.T) {
	cfg, err := LoadConfig(testEnv(t, map[string]string{
		"ATOMICWORK_API_KEY":      "",
		"ATOMICWORK_API_KEY_FILE": writeFile(t, "key", "\n  "+testKey+"\n"),
	}))
	require.NoError(t, err)
	assert.Equal(t, map[int64]string{1: testKey}, cfg.Keys)
}

func TestLoadConfigKeysFile(t *testing.T) {
	for name, content := range map[string]string{
		"yaml": "# workspace id: key\n1: " + testKey + "\n2: '" + otherKey + "'\n",
		"json": `{"1": "` + testKey + `", "2": "` + otherKey + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadConfig(testEnv(t, map[string]string{
				"ATOMICWORK_API_KEY":   "",
				"ATOMICWORK_KEYS_FILE": writeFile(t, "keys."+name, content),
			}))
			require.NoError(t, err)
			assert.Equal(t, map[int64]string{1: testKey, 2: otherKey}, cfg.Keys)
		})
	}
	t.Run("with ATOMICWORK_API_KEY for the default workspace", func(t *testing.T) {
		cfg, err := LoadConfig(testEnv(t, map[string]string{
			"ATOMICWORK_KEYS_FILE": writeFile(t, "keys.yaml", "2: "+otherKey+"\n"),
		}))
		require.NoError(t, err)
		assert.Equal(t, map[int64]string{1: testKey, 2: otherKey}, cfg.Keys)
	})
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		variable string
	}{
		{"base URL missing", map[string]string{"ATOMICWORK_BASE_URL": ""}, "ATOMICWORK_BASE_URL"},
		{"base URL not http", map[string]string{"ATOMICWORK_BASE_URL": "ftp://acme"}, "ATOMICWORK_BASE_URL"},
		{"base URL without host", map[string]string{"ATOMICWORK_BASE_URL": "acme.atomicwork.com"}, "ATOMICWORK_BASE_URL"},
		{"workspace missing", map[string]string{"ATOMICWORK_WORKSPACE_ID": ""}, "ATOMICWORK_WORKSPACE_ID"},
		{"workspace not a number", map[string]string{"ATOMICWORK_WORKSPACE_ID": "IT"}, "ATOMICWORK_WORKSPACE_ID"},
		{"workspace zero", map[string]string{"ATOMICWORK_WORKSPACE_ID": "0"}, "ATOMICWORK_WORKSPACE_ID"},
		{"workspace negative", map[string]string{"ATOMICWORK_WORKSPACE_ID": "-2"}, "ATOMICWORK_WORKSPACE_ID"},
		{"no key at all", map[string]string{"ATOMICWORK_API_KEY": ""}, "ATOMICWORK_API_KEY"},
		{"blank key", map[string]string{"ATOMICWORK_API_KEY": "   "}, "ATOMICWORK_API_KEY"},
		{"key and key file", map[string]string{"ATOMICWORK_API_KEY_FILE": "/run/secrets/key"}, "ATOMICWORK_API_KEY_FILE"},
		{"key file missing", map[string]string{"ATOMICWORK_API_KEY": "", "ATOMICWORK_API_KEY_FILE": "/nonexistent/key"}, "ATOMICWORK_API_KEY_FILE"},
		{"timeout not a duration", map[string]string{"ATOMICWORK_TIMEOUT": "30"}, "ATOMICWORK_TIMEOUT"},
		{"timeout zero", map[string]string{"ATOMICWORK_TIMEOUT": "0s"}, "ATOMICWORK_TIMEOUT"},
		{"timeout negative", map[string]string{"ATOMICWORK_TIMEOUT": "-1s"}, "ATOMICWORK_TIMEOUT"},
		{"stop timeout invalid", map[string]string{"ATOMICFLOW_WORKER_STOP_TIMEOUT": "soon"}, "ATOMICFLOW_WORKER_STOP_TIMEOUT"},
		{"policy file missing", map[string]string{"ATOMICFLOW_POLICY_FILE": "/nonexistent/policy.yaml"}, "ATOMICFLOW_POLICY_FILE"},
		{"log format", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"metrics address", map[string]string{"METRICS_ADDR": "9090"}, "METRICS_ADDR"},
		{"temporal TLS", map[string]string{"TEMPORAL_TLS": "yes"}, "TEMPORAL_TLS"},
		{"temporal profile", map[string]string{"TEMPORAL_PROFILE": "nope"}, "TEMPORAL_PROFILE"},
		{"keys file missing", map[string]string{"ATOMICWORK_KEYS_FILE": "/nonexistent/keys.yaml"}, "ATOMICWORK_KEYS_FILE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(testEnv(t, tc.env))
			requireConfigError(t, err, tc.variable)
		})
	}
	t.Run("bad file contents", func(t *testing.T) {
		files := []struct {
			name, variable, file, content string
		}{
			{"empty key file", "ATOMICWORK_API_KEY_FILE", "key", " \n"},
			{"invalid policy", "ATOMICFLOW_POLICY_FILE", "policy.yaml", "rules:\n  - entitlements: [okta-base]\n"},
			{"policy with unknown key", "ATOMICFLOW_POLICY_FILE", "policy.yaml", "default:\n  entitlements: [okta-base]\n"},
			{"temporal.toml not TOML", "TEMPORAL_CONFIG_FILE", "temporal.toml", "[profile.default\n"},
		}
		for _, f := range files {
			t.Run(f.name, func(t *testing.T) {
				env := map[string]string{f.variable: writeFile(t, f.file, f.content)}
				if f.variable == "ATOMICWORK_API_KEY_FILE" {
					env["ATOMICWORK_API_KEY"] = ""
				}
				_, err := LoadConfig(testEnv(t, env))
				requireConfigError(t, err, f.variable)
			})
		}
	})
}

func TestLoadConfigKeysFileErrors(t *testing.T) {
	cases := []struct{ name, content string }{
		{"not YAML", "1: [unclosed\n"},
		{"only a key", testKey + "\n"}, // someone pasted the key itself
		{"a list", "- " + testKey + "\n"},
		{"key and id swapped", testKey + ": 1\n"},
		{"id zero", "0: " + testKey + "\n"},
		{"empty key", "1: ''\n"},
		{"key not a string", "1: [" + testKey + "]\n"},
		{"duplicate id", "1: " + testKey + "\n01: " + otherKey + "\n"},
		{"empty file", ""},
		{"no key for the default workspace", "2: " + otherKey + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(testEnv(t, map[string]string{
				"ATOMICWORK_API_KEY":   "",
				"ATOMICWORK_KEYS_FILE": writeFile(t, "keys.yaml", tc.content),
			}))
			requireConfigError(t, err, "ATOMICWORK_KEYS_FILE")
		})
	}
	t.Run("another key than ATOMICWORK_API_KEY", func(t *testing.T) {
		_, err := LoadConfig(testEnv(t, map[string]string{
			"ATOMICWORK_KEYS_FILE": writeFile(t, "keys.yaml", "1: "+otherKey+"\n"),
		}))
		requireConfigError(t, err, "ATOMICWORK_KEYS_FILE")
	})
}

func TestLoadConfigReportsEveryProblemOnOneLine(t *testing.T) {
	_, err := LoadConfig(testEnv(t, map[string]string{"ATOMICWORK_BASE_URL": "", "LOG_LEVEL": "loud"}))
	requireConfigError(t, err, "ATOMICWORK_BASE_URL")
	assert.Contains(t, err.Error(), "LOG_LEVEL")
}

// requireConfigError checks that err is a one-line ConfigError naming variable, without a key.
func requireConfigError(t *testing.T, err error, variable string) {
	t.Helper()
	require.Error(t, err)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	msg := err.Error()
	assert.Contains(t, msg, variable)
	assert.NotContains(t, msg, "\n")
	assert.NotContains(t, msg, testKey)
	assert.NotContains(t, msg, otherKey)
}

func TestConfigNeverPrintsKeys(t *testing.T) {
	cfg, err := LoadConfig(testEnv(t, map[string]string{
		"ATOMICWORK_KEYS_FILE": writeFile(t, "keys.yaml", "2: "+otherKey+"\n"),
		"TEMPORAL_API_KEY":     "temporal-cloud-secret",
	}))
	require.NoError(t, err)
	require.NotNil(t, cfg.Temporal.Credentials, "the Temporal API key was loaded")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{cfg, &cfg} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, testKey, verb)
			assert.NotContains(t, out, otherKey, verb)
			assert.NotContains(t, out, "temporal-cloud-secret", verb)
			assert.Contains(t, out, "[REDACTED", verb)
		}
	}
	assert.True(t, strings.Contains(cfg.String(), "workspaces [1 2]"), cfg.String())
}

// TestExamplePolicy keeps examples/policy.yaml loadable and meaningful.
func TestExamplePolicy(t *testing.T) {
	cfg, err := LoadConfig(testEnv(t, map[string]string{"ATOMICFLOW_POLICY_FILE": "../../examples/policy.yaml"}))
	require.NoError(t, err)
	got := cfg.Policy.Resolve("engineering", "Site Reliability Engineer")
	assert.Equal(t, []string{"okta-base", "slack-member", "github-engineering"}, got.Entitlements)
	assert.Equal(t, []string{"Laptop", "Monitor", "Phone"}, got.AssetTypes)
}

func TestLoadConfigRPS(t *testing.T) {
	cfg, err := LoadConfig(testEnv(t, nil))
	require.NoError(t, err)
	assert.Zero(t, cfg.RPS, "unset: no limit")
	assert.Zero(t, ActivitiesPerSecond(cfg.RPS), "no limit: the worker sets no task-queue rate")

	cfg, err = LoadConfig(testEnv(t, map[string]string{"ATOMICWORK_RPS": " 200 "}))
	require.NoError(t, err)
	assert.Equal(t, 200.0, cfg.RPS)
	assert.Contains(t, cfg.String(), "RPS:200")
	// Every activity makes at least one call, which the worker's pacer paces: a one-call activity
	// is not held to half the limit.
	assert.InDelta(t, 200.0, ActivitiesPerSecond(cfg.RPS), 1e-9)
	assert.Equal(t, workflows.ReassignInRanges, ReassignMode(cfg.RPS), "the pacer paces a range's calls: a limit keeps ranges")
	assert.Equal(t, workflows.ReassignInRanges, ReassignMode(0), "no limit: ranges")
	assert.Equal(t, workflows.ReassignPerAsset, ReassignMode(minRangeRPS-1), "too low a limit for a range to finish in time: one asset per activity")

	for _, bad := range []string{"fast", "-1", "NaN", "+Inf", "10/s"} {
		t.Run(bad, func(t *testing.T) {
			_, err := LoadConfig(testEnv(t, map[string]string{"ATOMICWORK_RPS": bad}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "ATOMICWORK_RPS:")
			assert.Contains(t, err.Error(), "requests per second")
		})
	}
}
