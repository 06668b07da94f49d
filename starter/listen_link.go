package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/workflows"
)

// temporalLink is the receiver's way to Temporal. It dials in the background until Temporal
// answers, so a receiver started while Temporal is down serves at once and answers 503 (the HR
// system retries); once connected, the SDK client reconnects by itself after an outage.
type temporalLink struct {
	a      *app
	queue  string
	logger *slog.Logger
	conn   atomic.Pointer[connection]
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

// connected tells /healthz whether Temporal was reached.
func (l *temporalLink) connected() bool { return l.conn.Load() != nil }

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

func (l *temporalLink) StartOnboarding(ctx context.Context, in workflows.OnboardingInput, rerun bool) (hrevents.Run, error) {
	t, err := l.temporal()
	if err != nil {
		return hrevents.Run{}, err
	}
	return t.StartOnboarding(ctx, in, rerun)
}

func (l *temporalLink) UpdateWithStartOffboarding(ctx context.Context, in workflows.OffboardingInput, u hrevents.Update, rerun bool) (hrevents.Run, error) {
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
