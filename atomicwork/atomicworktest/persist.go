package atomicworktest

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// StateDebounce is how long a simulator with a state file waits after a change before writing
// it: a burst of writes costs one file write, and a crash loses at most this much.
const StateDebounce = 500 * time.Millisecond

// OpenHandler returns a simulator whose data lives in the state file at path: loaded from it
// when it exists (instead of the demo dataset), else the demo dataset, written to path at once.
// Every applied change is written back within StateDebounce, atomically; SaveState writes at
// once and Close writes what is still unsaved. A file that cannot be read or parsed is an error
// naming it; it is never replaced by the demo data.
func OpenHandler(opts Options, path string) (*Handler, error) {
	h := NewHandler(opts)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := writeFileAtomic(path, mustMarshal(h.core)); err != nil {
			return nil, fmt.Errorf("cannot create the simulator state file %s: %v: create its directory or choose another path", path, pathCause(err))
		}
	case err != nil:
		return nil, fmt.Errorf("cannot read the simulator state file %s: %v: fix its permissions, or delete it to start from the demo data", path, pathCause(err))
	default:
		if err := h.core.unmarshalState(b); err != nil {
			return nil, fmt.Errorf("the simulator state file %s is unusable (%v): delete it to start from the demo data, or restore a good copy", path, err)
		}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	h.state = newPersister(path, h.core, logger)
	return h, nil
}

// mustMarshal encodes a fresh core; only a bug can make that fail.
func mustMarshal(c *core) []byte {
	b, err := c.marshalState()
	if err != nil {
		panic("atomicworktest: encoding the state: " + err.Error())
	}
	return b
}

// pathCause drops the operation and path from an *fs.PathError: the message names the path already.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// persister writes the state file after changes, at most once per StateDebounce.
type persister struct {
	path   string
	core   *core
	logger *slog.Logger

	changes atomic.Uint64 // bumped by every applied change
	kick    chan struct{} // one pending wake-up is enough
	stop    chan struct{}
	done    chan struct{}

	mu    sync.Mutex // serialises writes
	saved uint64     // changes as of the last successful write
}

func newPersister(path string, c *core, logger *slog.Logger) *persister {
	p := &persister{path: path, core: c, logger: logger,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

// changed records a change; the loop writes it after StateDebounce.
func (p *persister) changed() {
	p.changes.Add(1)
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *persister) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.kick:
		case <-p.stop:
			return
		}
		select {
		case <-time.After(StateDebounce):
		case <-p.stop:
			return // close writes it
		}
		if err := p.save(); err != nil {
			p.logger.Error("simulator state not saved; the next change retries", "file", p.path, "error", err)
		}
	}
}

// save writes the state when something changed since the last write.
func (p *persister) save() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.changes.Load()
	if n == p.saved {
		return nil
	}
	b, err := p.core.marshalState()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(p.path, b); err != nil {
		return fmt.Errorf("writing %s: %v", p.path, pathCause(err))
	}
	p.saved = n
	return nil
}

// close stops the loop and writes what is unsaved.
func (p *persister) close() error {
	close(p.stop)
	<-p.done
	return p.save()
}
