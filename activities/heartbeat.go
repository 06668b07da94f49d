package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
)

// NewKeepAlive returns the worker interceptor that heartbeats for every activity with a heartbeat
// timeout while it runs, so that Temporal notices a dead worker within that timeout instead of
// the attempt's StartToClose. It beats from a goroutine: one API call may itself outlast the
// heartbeat timeout (the client's timeout is 30 s), and a hung activity is still cut by its
// StartToClose. Give it to worker.Options.Interceptors.
func NewKeepAlive() interceptor.WorkerInterceptor { return &keepAlive{} }

// heartbeatsItself lists the activities that heartbeat with progress details: a detail-less
// beat from here would overwrite the details their retry resumes from.
var heartbeatsItself = map[string]bool{"ReassignRange": true, "ScanDrift": true}

type keepAlive struct {
	interceptor.WorkerInterceptorBase
}

func (*keepAlive) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &keepAliveInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type keepAliveInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (k *keepAliveInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	if info.IsLocalActivity || info.HeartbeatTimeout <= 0 || heartbeatsItself[info.ActivityType.Name] {
		return k.Next.ExecuteActivity(ctx, in)
	}
	actx, cancel := ignoreCancelRequests(ctx)
	defer cancel()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { beat(ctx, info.HeartbeatTimeout/4, done) })
	defer wg.Wait() // no beat after the activity returned
	defer close(done)
	return k.Next.ExecuteActivity(actx, in)
}

// beat heartbeats every interval until done. The first beat waits an interval too: the server's
// heartbeat timer runs from the attempt's start, and a short activity then costs no heartbeat call.
func beat(ctx context.Context, interval time.Duration, done <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			activity.RecordHeartbeat(ctx)
		}
	}
}

// ignoreCancelRequests returns ctx without the cancellation a heartbeat response delivers when
// the workflow cancels the activity: before heartbeats, a cancelled step never heard of it and
// finished its write, which the workflows' compensation counts on (WaitForCancellation). The
// deadline, worker shutdown, pause and reset still end it.
func ignoreCancelRequests(ctx context.Context) (context.Context, context.CancelFunc) {
	out, cancelCause := context.WithCancelCause(context.WithoutCancel(ctx))
	cancelDeadline := func() {}
	if d, ok := ctx.Deadline(); ok {
		out, cancelDeadline = context.WithDeadline(out, d)
	}
	stop := context.AfterFunc(ctx, func() {
		if cause := context.Cause(ctx); !temporal.IsCanceledError(cause) {
			cancelCause(cause)
		}
	})
	return out, func() {
		stop()
		cancelDeadline()
		cancelCause(nil)
	}
}
