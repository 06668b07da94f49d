// Package activities holds atomicflow's Temporal activities: idempotent steps over the Atomicwork
// API. Every mutating activity is check-then-act (read, return if the target state holds, else
// write), so a retry after "write applied, response lost" converges instead of duplicating.
package activities

import (
	"fmt"
	"sort"
	"sync"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Activities are registered once per worker. They hold the Atomicwork clients, and with them the
// keys, which never leave the worker: inputs name a workspace id only.
type Activities struct {
	clients          map[int64]*atomicwork.Client
	defaultWorkspace int64
	policy           Policy
	// assetLocks serialises "pick an available asset and claim it" per workspace and asset type
	// within this worker, since the API offers no conditional write (see AssignAsset).
	assetLocks keyedMutex
	// catalogue reuses catalogue items resolved by name for a minute (see EnsureRequest).
	catalogue catalogueCache
}

// New returns the activities over one client per workspace. defaultWorkspace serves inputs with
// workspace id 0.
func New(clients map[int64]*atomicwork.Client, defaultWorkspace int64, policy Policy) (*Activities, error) {
	if len(clients) == 0 {
		return nil, fmt.Errorf("activities: no Atomicwork client configured")
	}
	if _, ok := clients[defaultWorkspace]; !ok {
		return nil, fmt.Errorf("activities: no Atomicwork key for the default workspace %d", defaultWorkspace)
	}
	return &Activities{clients: clients, defaultWorkspace: defaultWorkspace, policy: policy}, nil
}

// client returns the client of a workspace (0 = default) or a non-retryable error.
func (a *Activities) client(workspaceID int64) (*atomicwork.Client, error) {
	if workspaceID == 0 {
		workspaceID = a.defaultWorkspace
	}
	c, ok := a.clients[workspaceID]
	if !ok {
		known := make([]int64, 0, len(a.clients))
		for id := range a.clients {
			known = append(known, id)
		}
		sort.Slice(known, func(i, j int) bool { return known[i] < known[j] })
		return nil, nonRetryable(ErrNoWorkspace, fmt.Sprintf(
			"the worker holds no Atomicwork key for workspace %d (it has keys for %v): add one to ATOMICWORK_KEYS_FILE", workspaceID, known))
	}
	return c, nil
}

// keyedMutex is a set of mutexes by key, created on first use.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*sync.Mutex{}
	}
	l, ok := k.locks[key]
	if !ok {
		l = &sync.Mutex{}
		k.locks[key] = l
	}
	k.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// Marker tags what a workflow step created, so a retry finds it instead of creating it again.
// It derives from the workflow id (stable across continue-as-new), never the run id.
func Marker(workflowID, step string) string { return markerPrefix + workflowID + "/" + step }

// markerPrefix starts every marker, so what atomicflow created can be recognised.
const markerPrefix = "atomicflow:"
