package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/testkit"
	"github.com/atomicflow/atomicflow/internal/workerapp"
)

// world is what the in-process benchmarks run on: the simulator with the demo dataset, a dev
// server, and a worker on one task queue.
type world struct {
	sim    *atomicworktest.Handler
	api    *httptest.Server
	client client.Client
	queue  string
	// ac is an Atomicwork client of workspace 1, for setup and script baselines.
	ac    *atomicwork.Client
	close func()
}

func newWorld(ctx context.Context, temporalBin, queue string) (*world, error) {
	if _, err := os.Stat(temporalBin); err != nil {
		return nil, fmt.Errorf("%s is missing: run `make tools` first", temporalBin)
	}
	sim := atomicworktest.NewHandler(atomicworktest.Options{})
	api := httptest.NewServer(sim)
	closers := []func(){sim.Close, api.Close}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	srv, err := testkit.StartDevServer(ctx, temporalBin)
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, func() { _ = srv.Stop() })
	w, err := workerapp.NewWorker(srv.Client(), workerapp.Config{TaskQueue: queue, BaseURL: api.URL,
		DefaultWorkspace: atomicworktest.ITWorkspaceID, Keys: map[int64]string{atomicworktest.ITWorkspaceID: atomicworktest.DevKey},
		Timeout: 10 * time.Second})
	if err == nil {
		err = w.Start()
	}
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, w.Stop)
	ac, err := atomicwork.New(atomicwork.Config{BaseURL: api.URL, APIKey: atomicworktest.DevKey, WorkspaceID: atomicworktest.ITWorkspaceID})
	if err != nil {
		closeAll()
		return nil, err
	}
	return &world{sim: sim, api: api, client: srv.Client(), queue: queue, ac: ac, close: closeAll}, nil
}
