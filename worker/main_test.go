package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/version"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func TestBadConfigurationExits2WithOneLine(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), nil, lookup(map[string]string{
		"ATOMICWORK_BASE_URL":     "http://127.0.0.1:8090",
		"ATOMICWORK_API_KEY":      "sk-secret-worker-key",
		"ATOMICWORK_WORKSPACE_ID": "IT",
		"TEMPORAL_CONFIG_FILE":    filepath.Join(t.TempDir(), "absent.toml"),
	}), io.Discard, &stderr)
	assert.Equal(t, 2, code)
	out := stderr.String()
	assert.Equal(t, 1, strings.Count(out, "\n"), out)
	assert.Contains(t, out, "ATOMICWORK_WORKSPACE_ID")
	assert.NotContains(t, out, "sk-secret-worker-key")
}

func TestInterruptBeforeConnectingExits0(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // SIGTERM arrived before the worker connected
	var stderr bytes.Buffer
	code := run(ctx, nil, lookup(map[string]string{
		"ATOMICWORK_BASE_URL":     "http://127.0.0.1:8090",
		"ATOMICWORK_API_KEY":      "sk-secret-worker-key",
		"ATOMICWORK_WORKSPACE_ID": "1",
		"TEMPORAL_ADDRESS":        "127.0.0.1:1",
		"TEMPORAL_CONFIG_FILE":    filepath.Join(t.TempDir(), "absent.toml"),
	}), io.Discard, &stderr)
	assert.Equal(t, 0, code, stderr.String())
	assert.NotContains(t, stderr.String(), "sk-secret-worker-key")
}

func TestUnreachableTemporalExits1(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{APIKey: "sk-secret-worker-key"})
	var stderr bytes.Buffer
	code := run(context.Background(), nil, lookup(map[string]string{
		"ATOMICWORK_BASE_URL":     sim.URL,
		"ATOMICWORK_API_KEY":      "sk-secret-worker-key",
		"ATOMICWORK_WORKSPACE_ID": "1",
		"TEMPORAL_ADDRESS":        "127.0.0.1:1",
		"TEMPORAL_CONFIG_FILE":    filepath.Join(t.TempDir(), "absent.toml"),
		"LOG_FORMAT":              "text",
	}), io.Discard, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "cannot connect to Temporal")
	assert.NotContains(t, stderr.String(), "sk-secret-worker-key")
}

// noEnv fails the test when the worker reads its configuration: --help and --version start nothing.
func noEnv(t *testing.T) func(string) (string, bool) {
	return func(name string) (string, bool) {
		t.Errorf("read %s: --help and --version must not load the configuration", name)
		return "", false
	}
}

func TestHelpPrintsUsageAndStartsNothing(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{arg}, noEnv(t), &stdout, &stderr)
		assert.Equal(t, 0, code, arg)
		assert.Contains(t, stdout.String(), "Usage: worker")
		for _, v := range []string{"ATOMICWORK_BASE_URL", "ATOMICWORK_WORKSPACE_ID", "ATOMICWORK_API_KEY", ".env.example"} {
			assert.Contains(t, stdout.String(), v)
		}
		assert.Empty(t, stderr.String())
	}
}

func TestVersionPrintsTheBuild(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"--version"}, noEnv(t), &stdout, &stderr))
	assert.Equal(t, version.String("worker")+"\n", stdout.String())
	assert.Empty(t, stderr.String())
}

func TestUnknownArgumentExits2(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"--queue=x"}, noEnv(t), &stdout, &stderr))
	assert.Contains(t, stderr.String(), `unexpected argument "--queue=x"`)
	assert.Contains(t, stderr.String(), "worker --help")
	assert.Empty(t, stdout.String())
}

// A key Atomicwork refuses stops the worker at start (before: it started, and every run failed).
func TestWrongKeyExits2NamingTheWorkspaceAndVariable(t *testing.T) {
	sim := atomicworktest.NewServer(t, atomicworktest.Options{})
	var stderr bytes.Buffer
	code := run(context.Background(), nil, lookup(map[string]string{
		"ATOMICWORK_BASE_URL":     sim.URL,
		"ATOMICWORK_API_KEY":      "sk-secret-worker-key",
		"ATOMICWORK_WORKSPACE_ID": "1",
		"TEMPORAL_ADDRESS":        "127.0.0.1:1",
		"TEMPORAL_CONFIG_FILE":    filepath.Join(t.TempDir(), "absent.toml"),
		"LOG_FORMAT":              "text",
	}), io.Discard, &stderr)
	assert.Equal(t, 2, code, stderr.String())
	out := stderr.String()
	assert.Contains(t, out, "worker: invalid configuration: ATOMICWORK_API_KEY: ")
	assert.Contains(t, out, "refused the key of workspace 1 (HTTP 401)")
	assert.NotContains(t, out, "sk-secret-worker-key")
}
