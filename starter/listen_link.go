package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// temporalLink is the receiver's way to Temporal. It dials in the background until Temporal
// answers, so a receiver started while Temporal is down serves at once and answers 503 (the HR
// system retries); once connected, the SDK client reconnects by itself after an outage.
type temporalLink struct {
	a      *app
	queue  string
	logger *slog.Logger
	conn   atomic.Pointer[connection]
	health *cachedHealth
}

// newTemporalLink returns a link whose health is checked for real, at most once a second.
func newTemporalLink(a *app, queue string, logger *slog.Logger) *temporalLink {
	l := &temporalLink{a: a, queue: queue, logger: logger}
	l.health = &cachedHealth{check: l.checkHealth, now: time.Now, ttl: healthTTL}
	return l
}

var _ hrevents.Temporal = (*temporalLink)(nil)

// Reconnection backoff of connect.
const (
	dialTimeout  = 10 * time.Second
	dialRetryMin = time.Second
	dialRetryMax = 10 * time.Second
)

// connect dials until it succeeds or ctx ends. A bad setting (TEMPORAL_*, codec keys) is
// returned at once: retrying cannot fix it.
func (l *temporalLink) connect(ctx context.Context) error {
	for wait := dialRetryMin; ; wait = min(2*wait, dialRetryMax) {
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		conn, err := l.a.connect(dctx)
		cancel()
		var bad usageError
		switch {
		case err == nil:
			l.conn.Store(conn)
			l.logger.Info("Connected to Temporal", "Namespace", conn.Namespace, "TaskQueue", l.queue)
			return nil
		case errors.As(err, &bad):
			return err
		case ctx.Err() != nil:
			return nil
		}
		l.logger.Warn("Temporal is not reachable yet: deliveries are answered 503 until it is", "Error", err, "RetryIn", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Health checks of /healthz: each probe may wait healthTimeout for Temporal, and a flood of
// probes costs at most one RPC per healthTTL.
const (
	healthTimeout = 2 * time.Second
	healthTTL     = time.Second
)

// errNotConnected: the link is still dialing.
var errNotConnected = errors.New("not connected to Temporal yet: the receiver keeps dialing (its log says why); " +
	"deliveries are answered 503 until it connects: start Temporal or fix TEMPORAL_ADDRESS")

// checkHealth asks Temporal's frontend whether it serves (the gRPC health check), with its own
// deadline: a probe that hangs up must not cache a failure for the others.
func (l *temporalLink) checkHealth() error {
	c := l.conn.Load()
	if c == nil {
		return errNotConnected
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("Temporal (namespace %s) failed its health check (deadline %s): %w: deliveries are answered 503 until it passes: "+
			"check that Temporal is up and reachable at TEMPORAL_ADDRESS", c.Namespace, healthTimeout, err)
	}
	return nil
}

// cachedHealth remembers the last health check for ttl. Probes wait for the check in flight
// rather than starting their own.
type cachedHealth struct {
	check func() error
	now   func() time.Time
	ttl   time.Duration

	mu  sync.Mutex
	at  time.Time
	err error
}

func (h *cachedHealth) get() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && h.now().Sub(h.at) < h.ttl {
		return h.err
	}
	h.err = h.check()
	h.at = h.now()
	return h.err
}

func (l *temporalLink) close() {
	if c := l.conn.Load(); c != nil {
		c.Close()
	}
}

func (l *temporalLink) temporal() (hrTemporal, error) {
	c := l.conn.Load()
	if c == nil {
		return hrTemporal{}, fmt.Errorf("%w: not connected to Temporal yet", hrevents.ErrUnavailable)
	}
	return hrTemporal{c: c.Client, queue: l.queue}, nil
}

func (l *temporalLink) StartOnboarding(ctx context.Context, in lifecycle.OnboardingInput, rerun bool) (hrevents.Run, error) {
	t, err := l.temporal()
	if err != nil {
		return hrevents.Run{}, err
	}
	return t.StartOnboarding(ctx, in, rerun)
}

func (l *temporalLink) UpdateWithStartOffboarding(ctx context.Context, in lifecycle.OffboardingInput, u hrevents.Update, rerun bool) (hrevents.Run, error) {
	t, err := l.temporal()
	if err != nil {
		return hrevents.Run{}, err
	}
	return t.UpdateWithStartOffboarding(ctx, in, u, rerun)
}

func (l *temporalLink) Update(ctx context.Context, workflowID string, u hrevents.Update) (hrevents.Run, error) {
	t, err := l.temporal()
	if err != nil {
		return hrevents.Run{}, err
	}
	return t.Update(ctx, workflowID, u)
}

func (l *temporalLink) Describe(ctx context.Context, workflowID string) (hrevents.RunInfo, error) {
	t, err := l.temporal()
	if err != nil {
		return hrevents.RunInfo{}, err
	}
	return t.Describe(ctx, workflowID)
}
