package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Limits of one ReassignRange, which bound its answer and heartbeat details too.
const (
	MaxRangeAssets      = 2000
	MaxRangeConcurrency = 200
)

// rangeHeartbeatEvery is how often a range records its progress (the SDK sends it on at most
// every 80% of the heartbeat timeout, and always before a failed attempt ends).
const rangeHeartbeatEvery = time.Second

// AssetResult is how one asset of a range ended: an Outcome, or a permanent error of the asset
// (ErrorType, Error).
type AssetResult struct {
	AssetID   int64  `json:"asset_id"`
	Outcome   string `json:"outcome,omitempty"`
	ErrorType string `json:"error_type,omitempty"`
	Error     string `json:"error,omitempty"`
}

// ReassignRangeRequest is one range of a bulk reassignment on a worker without a rate limit:
// up to MaxRangeAssets assets, listed by the workflow (NextAssetPage) so that every asset a range
// may have written is in its history, moved Concurrency at a time, each exactly as ReassignAsset
// moves one.
type ReassignRangeRequest struct {
	WorkspaceID  int64       `json:"workspace_id,omitempty"`
	Filter       AssetFilter `json:"filter"`
	TargetUserID int64       `json:"target_user_id,omitempty"`
	Status       string      `json:"status,omitempty"`
	Since        time.Time   `json:"since"`
	Concurrency  int         `json:"concurrency"`
	AssetIDs     []int64     `json:"asset_ids"`
	// Again: an earlier range may have written these assets (see ReassignAssetRequest.Again).
	Again bool `json:"again,omitempty"`
	// Budget: no asset starts once it has passed (unless the range's retries wait anyway: see
	// rangeStretch), so the workflow hears of progress, and a pause takes effect, about this
	// often whatever the API's speed.
	Budget time.Duration `json:"budget"`
	// Next asks the range to list the assets after it (as NextAssetPage) once its own have
	// ended, so that the next range can start without a page activity in between. These ids are
	// only listed here, never written: the next range gets them in its input.
	Next *AssetPageRequest `json:"next,omitempty"`
}

// ReassignRangeResult is a range's progress: its answer, its heartbeat details, and the details
// of its error, so that a retry or the workflow knows exactly what is left.
type ReassignRangeResult struct {
	// Assets ended (moved, already there, no longer matching, or a permanent error of the asset),
	// in the order they ended.
	Assets []AssetResult `json:"assets"`
	// Pending have not ended: the budget ran out before they started, or the range failed. The
	// workflow queues them again.
	Pending []int64 `json:"pending,omitempty"`
	// Next is the listing the request's Next asked for; nil when the range failed or the listing
	// did (the workflow then lists with NextAssetPage, which reports the error).
	Next *AssetPage `json:"next,omitempty"`
}

func (req ReassignRangeRequest) validate() error {
	switch {
	case req.Concurrency < 1 || req.Concurrency > MaxRangeConcurrency:
		return fmt.Errorf("concurrency %d, want 1 to %d", req.Concurrency, MaxRangeConcurrency)
	case len(req.AssetIDs) == 0 || len(req.AssetIDs) > MaxRangeAssets:
		return fmt.Errorf("%d asset ids, want 1 to %d", len(req.AssetIDs), MaxRangeAssets)
	case req.Budget <= 0:
		return errors.New("the time budget is missing")
	}
	return nil
}

// ReassignRange moves one range of assets (see ReassignRangeRequest). An asset that ends is
// recorded. A transient error (429, 5xx, timeout) is tried again within the range while the API
// works (see move); an asset that still fails stays pending, and the range then returns a
// retryable error whose NextRetryDelay is short when the attempt made progress, else what is
// left of a Retry-After (see rangeRetryError); Temporal's retry resumes from the heartbeat with
// the assets still pending, and (attempt > 1) counts one found at the target since the batch
// began as moved. A rejected key or workspace stops the range with a non-retryable error. Every
// error carries the progress as its details.
func (a *Activities) ReassignRange(ctx context.Context, req ReassignRangeRequest) (ReassignRangeResult, error) {
	if err := req.validate(); err != nil {
		return ReassignRangeResult{}, nonRetryable(ErrInvalidInput, "reassign range: "+err.Error())
	}
	c, err := a.client(req.WorkspaceID)
	if err != nil {
		return ReassignRangeResult{}, err
	}
	r := &rangeRun{a: a, c: c, req: req, pending: map[int64]bool{}}
	r.res = ReassignRangeResult{Pending: req.AssetIDs}
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		var last ReassignRangeResult
		if activity.GetHeartbeatDetails(ctx, &last) == nil { // unreadable: start over (harmless)
			r.res = last
		}
	}
	for _, id := range r.res.Pending {
		r.pending[id] = true
	}
	r.resumed = len(r.res.Assets)
	return r.run(ctx)
}

// rangeRun is one attempt of a range.
type rangeRun struct {
	a   *Activities
	c   *atomicwork.Client
	req ReassignRangeRequest

	mu        sync.Mutex
	res       ReassignRangeResult // Pending is rebuilt from pending by snapshot
	resumed   int                 // assets of res ended by earlier attempts
	pending   map[int64]bool
	transient []error   // this attempt's errors of assets left pending
	stop      error     // a permanent error of the range itself: nothing more starts
	notBefore time.Time // the latest end of a 429's Retry-After: the next attempt's earliest start
	slowDown  bool      // a 429 asked for more than maxInlineWait: nothing more starts
	later     []try     // tries waiting for their time (a backoff, a Retry-After)
	started   int       // tries handed to the movers and not done
	lastEnd   time.Time // when this attempt last ended an asset: the API works, if flakily
	failures  int       // tries failed in a row, transiently, across the range
	down      bool      // rangeFailStreak tries failed in a row: nothing more starts
	wake      chan struct{}

	// When new assets may start (mayStart), and the last time any try may start (zero: no
	// deadline), which leaves the tries in flight rangeTryRoom before the attempt's deadline.
	start, budgetEnd, lastTry time.Time
}

// try is one try of one asset: its n-th, not before at, after lastErr.
type try struct {
	id      int64
	n       int
	at      time.Time
	lastErr error
}

// Inline retries of one asset's transient errors: a flaky answer costs a short wait for that
// asset, not a retry of the whole range. An asset is tried again for as long as the range goes
// on ending assets (one within rangeAliveFor: the API works, if flakily), else up to
// maxAssetTries tries; after a short jittered backoff (up to maxAssetBackoff), or a 429's
// Retry-After. Once rangeFailStreak tries in a row have failed (the API is down), nothing more
// is tried. Longer waits are left to Temporal's retry of the range, as is what would start
// within rangeTryRoom of the attempt's deadline.
//
// Under an API that fails half its calls and answers a fifth of them 429 with Retry-After 1 s
// (bench reassign --faults heavy), an asset that needs 15 tries is ordinary among 300: left
// after a few, it would wait for the attempt's slowest asset to end, then for Temporal's retry
// (a second or more), before its next try.
const (
	maxAssetTries   = 4
	firstAssetRetry = 50 * time.Millisecond
	maxAssetBackoff = 200 * time.Millisecond
	maxInlineWait   = 5 * time.Second
	rangeAliveFor   = 3 * time.Second
	rangeFailStreak = 40
	rangeTryRoom    = 10 * time.Second
)

// rangeStretch: while a range's retries wait (it cannot end before them anyway), its movers take
// new assets past the budget, until this long after the attempt began. Under a flaky API the
// tries of a range's first assets outlast its budget by seconds, movers idle meanwhile; at 100 ms
// a call, 20 movers take about 8 s to start 300 assets under heavy faults, and what is not
// started waits for the range's slowest asset before the next range. Retries go on until
// rangeTryRoom before the deadline (the budget and 30 s), 21 s into the attempt.
const rangeStretch = 15 * time.Second

func (r *rangeRun) run(ctx context.Context) (ReassignRangeResult, error) {
	r.start = time.Now()
	r.budgetEnd = r.start.Add(r.req.Budget)
	if deadline, ok := ctx.Deadline(); ok {
		r.lastTry = deadline.Add(-rangeTryRoom)
	}
	r.wake = make(chan struct{}, 1)
	work := make(chan try)
	var movers sync.WaitGroup
	for range r.req.Concurrency {
		movers.Go(func() {
			for t := range work {
				if r.canTry(ctx, t) { // again: a stop may have come while it was handed over
					r.move(ctx, t)
				} else {
					r.leave(t)
				}
				r.done()
			}
		})
	}
	stopBeats := r.heartbeat(ctx)

	r.feed(ctx, work)
	close(work)
	movers.Wait()
	r.leaveLater()

	out := r.snapshot()
	err := r.outcome(ctx, out)
	if err == nil && r.req.Next != nil {
		out.Next = r.listNext(ctx) // still heartbeating: a slow API may take a while
	}
	stopBeats()
	if err != nil && activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, out) // flushed before the failure is reported: the retry resumes here
	}
	return out, err
}

// listNext lists what the request's Next asks for, after the range's own writes have ended (so
// they do not move the pages under the listing); nil when that fails.
func (r *rangeRun) listNext(ctx context.Context) *AssetPage {
	next, err := listAfter(ctx, r.c, *r.req.Next)
	if err != nil {
		if activity.IsActivity(ctx) {
			activity.GetLogger(ctx).Warn("Listing the next range failed; the workflow lists it", "After", r.req.Next.After, "Error", err)
		}
		return nil
	}
	return &next
}

// feed hands the pending assets to the movers, in id order, and their retries when their time
// has come (a mover is never held by a wait), until all have ended or are left, no more may
// start (mayStart), or something stops the range.
func (r *rangeRun) feed(ctx context.Context, work chan<- try) {
	r.mu.Lock()
	todo := slices.Sorted(maps.Keys(r.pending))
	r.mu.Unlock()
	for r.canGoOn(ctx) {
		t, ok, until := r.next(&todo)
		if ok {
			select {
			case work <- t:
				continue
			case <-ctx.Done():
				r.leave(t)
				r.done()
				return
			}
		}
		if until.IsZero() {
			return // every asset ended or left, none in flight
		}
		select {
		case <-r.wake:
		case <-time.After(time.Until(until)):
		case <-ctx.Done():
			return
		}
	}
}

// next is the next try to hand over: a retry whose time has come, else the next asset; or,
// when there is none yet, until when to wait for one (zero: nothing more will come).
func (r *rangeRun) next(todo *[]int64) (try, bool, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if i := slices.IndexFunc(r.later, func(t try) bool { return !t.at.After(now) }); i >= 0 {
		t := r.later[i]
		r.later = slices.Delete(r.later, i, i+1)
		r.started++
		return t, true, time.Time{}
	}
	if len(*todo) > 0 && r.mayStart(now) {
		t := try{id: (*todo)[0], n: 1}
		*todo = (*todo)[1:]
		r.started++
		return t, true, time.Time{}
	}
	if len(r.later) == 0 && r.started == 0 {
		return try{}, false, time.Time{} // the rest, if any, is left for the workflow
	}
	until := now.Add(maxInlineWait) // a mover may queue a retry meanwhile: it wakes the feeder
	for _, t := range r.later {
		until = minTime(until, t.at)
	}
	return try{}, false, until
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// retry counts t's transient failure and queues next, the try after it, for when its wait is
// over; it reports whether it did (see maxAssetTries).
func (r *rangeRun) retry(t, next try) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures++
	r.down = r.down || r.failures >= rangeFailStreak
	alive := !r.lastEnd.IsZero() && time.Since(r.lastEnd) < rangeAliveFor
	if r.down || (t.n >= maxAssetTries && !alive) || (!r.lastTry.IsZero() && !next.at.Before(r.lastTry)) {
		return false
	}
	r.later = append(r.later, next)
	return true
}

// done: a try handed over has ended (or was left); the feeder may have more to hand over.
func (r *rangeRun) done() {
	r.mu.Lock()
	r.started--
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// leave keeps a try's asset pending, for the next attempt: a retry with its last error.
func (r *rangeRun) leave(t try) {
	if t.lastErr != nil {
		r.fail(t.lastErr)
	}
}

// leaveLater leaves the retries still waiting when the attempt ends.
func (r *rangeRun) leaveLater() {
	r.mu.Lock()
	later := r.later
	r.later = nil
	r.mu.Unlock()
	for _, t := range later {
		r.leave(t)
	}
}

// mayStart reports whether a new asset may start at now (r.mu held): within the budget, or
// within rangeStretch while retries wait; never past lastTry.
func (r *rangeRun) mayStart(now time.Time) bool {
	if !r.lastTry.IsZero() && !now.Before(r.lastTry) {
		return false
	}
	return now.Before(r.budgetEnd) || (len(r.later) > 0 && now.Before(r.start.Add(rangeStretch)))
}

// canTry: an asset starts when mayStart; its retries go on after (see retry), unless something
// stops the range.
func (r *rangeRun) canTry(ctx context.Context, t try) bool {
	if !r.canGoOn(ctx) {
		return false
	}
	if t.n > 1 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mayStart(time.Now())
}

func (r *rangeRun) canGoOn(ctx context.Context) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stop == nil && !r.slowDown && !r.down && ctx.Err() == nil
}

// move makes one try of an asset and records how it ended, or queues its next try, or keeps
// it pending. A transient error is tried again (see retry), after a short jittered backoff,
// or Retry-After for a 429, as a retry: a write applied whose answer was lost then counts as
// moved. The wait holds back only that asset: the mover takes others meanwhile. Under a flaky
// API that answers a fifth of all calls 429, holding every request of the range back as long
// stalled it nearly all the time, and holding the asset's mover left movers idle. A Retry-After
// beyond maxInlineWait (a real limit) stops the range, and the next attempt starts after it.
func (r *rangeRun) move(ctx context.Context, t try) {
	req := ReassignAssetRequest{WorkspaceID: r.req.WorkspaceID, AssetID: t.id, Filter: r.req.Filter,
		TargetUserID: r.req.TargetUserID, Status: r.req.Status, Since: r.req.Since, Again: r.req.Again || t.n > 1}
	res, err := r.a.ReassignAsset(ctx, req)
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		r.end(AssetResult{AssetID: t.id, Outcome: res.Outcome})
		return
	case errors.As(err, &appErr) && appErr.NonRetryable() && IsKeyOrWorkspaceError(appErr.Type()):
		r.fail(appErr)
		return
	case errors.As(err, &appErr) && appErr.NonRetryable():
		r.end(AssetResult{AssetID: t.id, ErrorType: appErr.Type(), Error: appErr.Message()})
		return
	case ctx.Err() != nil:
		r.fail(ctx.Err())
		return
	}
	limited := errors.As(err, &appErr) && appErr.Type() == ErrRateLimited
	wait := jitter(min(firstAssetRetry<<min(t.n-1, 8), maxAssetBackoff))
	if limited {
		wait = max(appErr.NextRetryDelay(), firstAssetRetry)
		r.retryAfter(wait)
	}
	next := try{id: t.id, n: t.n + 1, at: time.Now().Add(wait), lastErr: err}
	if wait > maxInlineWait || !r.retry(t, next) {
		r.fail(err)
	}
}

// retryAfter records a 429's Retry-After d: the next attempt starts after it, and when it is
// longer than an asset waits inline, no asset starts any more.
func (r *rangeRun) retryAfter(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := time.Now().Add(d); t.After(r.notBefore) {
		r.notBefore = t
	}
	r.slowDown = r.slowDown || d > maxInlineWait
}

func (r *rangeRun) end(res AssetResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastEnd, r.failures = time.Now(), 0
	delete(r.pending, res.AssetID)
	r.res.Assets = append(r.res.Assets, res)
}

// fail records an error that leaves its asset pending.
func (r *rangeRun) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(err, &appErr) && appErr.NonRetryable():
		if r.stop == nil {
			r.stop = appErr
		}
	default:
		r.transient = append(r.transient, err)
	}
}

// heartbeat records the progress every rangeHeartbeatEvery until the returned func is called.
func (r *rangeRun) heartbeat(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(rangeHeartbeatEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				activity.RecordHeartbeat(ctx, r.snapshot())
			case <-done:
				return
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// snapshot is the progress as of now; assets in flight count as pending.
func (r *rangeRun) snapshot() ReassignRangeResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.res
	out.Assets = slices.Clone(r.res.Assets)
	out.Pending = slices.Sorted(maps.Keys(r.pending))
	return out
}

// outcome is the range's error, with its progress as details; nil when every started asset ended.
func (r *rangeRun) outcome(ctx context.Context, out ReassignRangeResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var appErr *temporal.ApplicationError
	switch {
	case r.stop != nil && errors.As(r.stop, &appErr):
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%s (%d asset(s) of the range left)", appErr.Message(), len(out.Pending)),
			appErr.Type(), temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{out}})
	case ctx.Err() != nil:
		return ctx.Err()
	case len(r.transient) > 0:
		return rangeRetryError(r.transient, out, time.Until(r.notBefore), len(out.Assets) > r.resumed)
	}
	return nil
}

// progressRetry is the delay before the next attempt of a range whose attempt ended assets
// and then had some fail: the API works, if flakily, and the policy's growing backoff (up to a
// minute) would spend far longer waiting than the attempts take.
const progressRetry = 200 * time.Millisecond

// rangeRetryError: the first error's type and message, the progress as details, and as
// NextRetryDelay what is left of the 429s' Retry-After (retryAfter), at least progressRetry when
// the attempt made progress; 0 (the policy's backoff) for an attempt that ended nothing and met
// no 429 still in force.
func rangeRetryError(errs []error, out ReassignRangeResult, retryAfter time.Duration, progressed bool) error {
	delay := max(retryAfter, 0)
	if progressed {
		delay = max(delay, progressRetry)
	}
	errType, msg := ErrUnavailable, errs[0].Error()
	if appErr := (*temporal.ApplicationError)(nil); errors.As(errs[0], &appErr) {
		errType, msg = appErr.Type(), appErr.Message()
	}
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%d asset(s) of the range still to do: %s", len(out.Pending), msg), errType,
		temporal.ApplicationErrorOptions{NextRetryDelay: delay, Details: []any{out}})
}
