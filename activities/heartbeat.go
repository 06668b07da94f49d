package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
// StartToClose. Its beats carry the activity's progress (saveProgress), which a retry resumes
// from; it runs an activity again at once, within the attempt, after a 5xx or network error
// (runQuickRetries), and sets a transient failure's retry delay from the attempts that failed in
// a row without progress (retryDelay). Give it to worker.Options.Interceptors.
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
	if info.IsLocalActivity || heartbeatsItself[info.ActivityType.Name] {
		return k.Next.ExecuteActivity(ctx, in)
	}
	p := resumeAttempt(ctx)
	actx, cancel := ignoreCancelRequests(context.WithValue(ctx, progressKey{}, p))
	defer cancel()
	done := make(chan struct{})
	var wg sync.WaitGroup
	if info.HeartbeatTimeout > 0 {
		wg.Go(func() { beat(ctx, p, info.HeartbeatTimeout/4, done) })
	}
	res, err := func() (any, error) {
		defer wg.Wait() // no beat after the activity returned
		defer close(done)
		if countsAttempts[info.ActivityType.Name] {
			return k.Next.ExecuteActivity(actx, in)
		}
		return runQuickRetries(actx, func() (any, error) { return k.Next.ExecuteActivity(actx, in) })
	}()
	if err != nil {
		err = p.failed(ctx, err)
	}
	return res, err
}

// quickRetries are the waits before running an activity again within its attempt after a 5xx or
// network error. Temporal's server waits at least about a second before any retry (measured on
// 1.29: a 10 ms NextRetryDelay took 1.08 s), while one bad answer is mostly followed by good
// ones; the activity resumes from the progress it saved, and every activity is check-then-act,
// as for Temporal's retries. A 429 is not retried here: it waits, for Retry-After or a second.
var quickRetries = []time.Duration{25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}

// countsAttempts lists the activities that tell an earlier write whose answer was lost from the
// attempt number (ReassignAsset: "moved" rather than "already"): a run again within the attempt
// would misreport it, so only Temporal retries them.
var countsAttempts = map[string]bool{"ReassignAsset": true}

// quickRetryRoom is the time an attempt must have left for a quick retry: one API call's timeout.
const quickRetryRoom = 30 * time.Second

// runQuickRetries runs body, and again after each of quickRetries while it fails with a 5xx or
// network error and the attempt has room left; the last error goes to Temporal's retry.
func runQuickRetries(ctx context.Context, body func() (any, error)) (any, error) {
	for i := 0; ; i++ {
		res, err := body()
		if err == nil || i == len(quickRetries) || !quickRetryable(ctx, err, quickRetries[i]) {
			return res, err
		}
		t := time.NewTimer(quickRetries[i])
		select {
		case <-ctx.Done():
			t.Stop()
			return res, err
		case <-t.C:
		}
	}
}

func quickRetryable(ctx context.Context, err error, wait time.Duration) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.NonRetryable() || appErr.Type() != ErrUnavailable {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > wait+quickRetryRoom
}

// beat heartbeats every interval until done, with the attempt's progress so that a keep-alive
// beat never overwrites what the activity recorded. The first beat waits an interval too: the
// server's heartbeat timer runs from the attempt's start, and a short activity then costs no
// heartbeat call.
func beat(ctx context.Context, p *progress, interval time.Duration, done <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			activity.RecordHeartbeat(ctx, p.snapshot())
		}
	}
}

// progressBeat is the heartbeat details of the activities the keep-alive runs: what the activity
// recorded as done (saveProgress), and how many attempts in a row failed transiently without
// recording anything new, which sets the delay before the next one (see retryDelay).
type progressBeat struct {
	Done   json.RawMessage `json:"done,omitempty"`
	Stalls int             `json:"stalls,omitempty"`
}

// progress is one attempt's view of its progressBeat.
type progress struct {
	mu   sync.Mutex
	beat progressBeat
}

type progressKey struct{}

// resumeAttempt starts an attempt from the details the previous one left; details it cannot read
// (none, or another shape) start from nothing, which only costs reads again.
func resumeAttempt(ctx context.Context) *progress {
	p := &progress{}
	if activity.HasHeartbeatDetails(ctx) {
		var b progressBeat
		if activity.GetHeartbeatDetails(ctx, &b) == nil {
			p.beat = b
		}
	}
	return p
}

func (p *progress) snapshot() progressBeat {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.beat
}

// failed records how many attempts in a row failed transiently without progress (this one
// included) and gives a transient failure its retry delay from that count.
func (p *progress) failed(ctx context.Context, err error) error {
	if !transient(err) {
		return err
	}
	p.mu.Lock()
	p.beat.Stalls++
	b := p.beat
	p.mu.Unlock()
	activity.RecordHeartbeat(ctx, b) // flushed with the failure, read by the next attempt
	return withRetryDelay(err, b.Stalls)
}

// loadProgress decodes what earlier attempts of this activity recorded with saveProgress into
// v; false when there is nothing (a first attempt, or outside the keep-alive).
func loadProgress(ctx context.Context, v any) bool {
	p, ok := ctx.Value(progressKey{}).(*progress)
	if !ok {
		return false
	}
	b := p.snapshot()
	return len(b.Done) > 0 && json.Unmarshal(b.Done, v) == nil
}

// saveProgress records v, the activity's whole progress so far, in its heartbeat details: a
// retry resumes from it (loadProgress). Record only what stays true: a write proven done, or a
// read that cannot change within the run.
func saveProgress(ctx context.Context, v any) {
	p, ok := ctx.Value(progressKey{}).(*progress)
	if !ok {
		return
	}
	done, err := json.Marshal(v)
	if err != nil {
		return // progress types are plain structs; an attempt without it only repeats reads
	}
	p.mu.Lock()
	if !bytes.Equal(done, p.beat.Done) {
		p.beat.Done, p.beat.Stalls = done, 0 // progress: the next failure is the first in a row
	}
	b := p.beat
	p.mu.Unlock()
	activity.RecordHeartbeat(ctx, b)
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
