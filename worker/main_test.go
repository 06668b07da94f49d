package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func TestBadConfigurationExits2WithOneLine(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), lookup(map[string]string{
		"ATOMICWORK_BASE_URL":     "http://127.0.0.1:8090",
		"ATOMICWORK_API_KEY":      "sk-secret-worker-key",
		"ATOMICWORK_WORKSPACE_ID": "IT",
		"TEMPORAL_CONFIG_FILE":    filepath.Join(t.TempDir(), "absent.toml"),
	}), &stderr)
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
	code := run(ctx, lookup(map[string]string{
		"ATOMICWORK_BASE_URL":     "http://127.0.0.1:8090",
		"ATOMICWORK_API_KEY":      "sk-secret-worker-key",
		"ATOMICWORK_WORKSPACE_ID": "1",
		"TEMPORAL_ADDRESS":        "127.0.0.1:1",
		"TEMPORAL_CONFIG_FILE":    filepath.Join(t.TempDir(), "absent.toml"),
	}), &stderr)
	assert.Equal(t, 0, code, stderr.String())
	assert.NotContains(t, stderr.String(), "sk-secret-worker-key")
}

func TestUnreachableTemporalExits1(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), lookup(map[string]string{
		"ATOMICWORK_BASE_URL":     "http://127.0.0.1:8090",
		"ATOMICWORK_API_KEY":      "sk-secret-worker-key",
		"ATOMICWORK_WORKSPACE_ID": "1",
		"TEMPORAL_ADDRESS":        "127.0.0.1:1",
		"TEMPORAL_CONFIG_FILE":    filepath.Join(t.TempDir(), "absent.toml"),
		"LOG_FORMAT":              "text",
	}), &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "cannot connect to Temporal")
	assert.NotContains(t, stderr.String(), "sk-secret-worker-key")
}
