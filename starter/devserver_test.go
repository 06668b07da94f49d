package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/workflows"
)

// startDevServer starts the Temporal CLI dev server of the repository (bin/temporal) with
// atomicflow's search attributes, stopped when the test ends.
func startDevServer(t *testing.T) *testsuite.DevServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     temporalCLI(t),
		SearchAttributes: searchAttributes(),
		LogLevel:         "error",
	})
	require.NoError(t, err, "starting the Temporal dev server")
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

func searchAttributes() temporal.SearchAttributes {
	var updates []temporal.SearchAttributeUpdate
	for _, k := range workflows.SearchAttributes() {
		if kw, ok := k.(temporal.SearchAttributeKeyKeyword); ok {
			updates = append(updates, kw.ValueSet(""))
		}
	}
	return temporal.NewSearchAttributes(updates...)
}

// temporalCLI finds bin/temporal at the module root. Without it the test fails on CI and is
// skipped elsewhere, saying how to install it.
func temporalCLI(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test's directory")
		dir = parent
	}
	path := filepath.Join(dir, "bin", "temporal")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: CI must run `make tools` first", path)
		}
		t.Skipf("%s is missing: run `make tools` to install the Temporal CLI, then rerun", path)
	}
	return path
}
