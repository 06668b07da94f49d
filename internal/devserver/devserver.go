// Package devserver starts the Temporal CLI dev server (bin/temporal, from `make tools`) with
// atomicflow's search attributes registered, for tests and benchmarks. It never downloads.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/internal/serverconfig"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// SearchAttributes is every search attribute of the workflow contract, as a dev server registers them.
func SearchAttributes() temporal.SearchAttributes {
	var updates []temporal.SearchAttributeUpdate
	for _, k := range lifecycle.SearchAttributes() {
		if kw, ok := k.(temporal.SearchAttributeKeyKeyword); ok {
			updates = append(updates, kw.ValueSet(""))
		}
	}
	return temporal.NewSearchAttributes(updates...)
}

// FindCLI returns bin/temporal of the module that contains the working directory.
func FindCLI() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
	path := filepath.Join(dir, "bin", "temporal")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s is missing: run `make tools` to install the pinned Temporal CLI", path)
	}
	return path, nil
}

// Start starts a dev server from the CLI at cli with our search attributes and quiet logs, without
// the UI. extraArgs are passed to `temporal server start-dev`.
func Start(ctx context.Context, cli string, extraArgs ...string) (*testsuite.DevServer, error) {
	return start(ctx, cli, "", extraArgs)
}

// StartWithUI is Start with Temporal UI served on a free loopback port (never a developer's
// :8233), whose base URL it returns, e.g. http://127.0.0.1:41234.
func StartWithUI(ctx context.Context, cli string, extraArgs ...string) (*testsuite.DevServer, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", fmt.Errorf("find a free port for Temporal UI: %w", err)
	}
	srv, err := start(ctx, cli, port, extraArgs)
	if err != nil {
		return nil, "", err
	}
	return srv, "http://127.0.0.1:" + port, nil
}

// start runs the dev server; uiPort "" means no UI (--headless).
func start(ctx context.Context, cli, uiPort string, extraArgs []string) (*testsuite.DevServer, error) {
	extraArgs = append(serverconfig.DevServerFlags(), extraArgs...)
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     cli,
		LogLevel:         "error",
		SearchAttributes: SearchAttributes(),
		EnableUI:         uiPort != "",
		UIPort:           uiPort,
		ExtraArgs:        extraArgs,
		ClientOptions:    &client.Options{Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))},
		// Its banner and "Stopping server..." are not the caller's output (a bench's tables).
		Stdout: os.Stderr,
	})
	if err != nil {
		return nil, fmt.Errorf("start the Temporal dev server from %s: %w", cli, err)
	}
	return srv, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// RequireCLI returns bin/temporal for a test. Without it the test fails when CI is set (a
// missing install step must not pass as a skip) and is skipped elsewhere, saying what to run.
func RequireCLI(t testing.TB) string {
	t.Helper()
	cli, err := FindCLI()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (CI is set: the e2e layer is required)", err)
		}
		t.Skip(err.Error())
	}
	return cli
}

// ForTest starts a dev server for one test and stops it when the test ends.
func ForTest(t testing.TB) *testsuite.DevServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := Start(ctx, RequireCLI(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}
