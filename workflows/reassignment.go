package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// Reassignment moves every asset a selector matches to a target, a user or back to stock:
// plan first (count and sample; a dry run stops there), wait for a confirmation above the
// threshold, then move the assets with bounded concurrency, each by read-modify-write so that
// retries, restarts and a second run over the same selector are harmless. Thousands of assets
// go through continue-as-new runs that carry a cursor and counters, never the asset list.
//
// Concurrency is a sliding window: at most Concurrency ReassignAsset activities are pending at
// once (lifecycle.MaxReassignConcurrency, far under the server's 2,000), refilled as each one completes,
// from a buffer of asset ids that the page activity refills ahead of need. One activity per
// asset keeps retries per asset (Retry-After honoured by Temporal): for a rate limit so low that a
// range could not finish its assets in flight in time (workerapp's ReassignMode).
//
// A worker without a rate limit registers NewReassignment(ReassignInRanges) instead: see there.
func Reassignment(ctx workflow.Context, in lifecycle.ReassignmentInput) (lifecycle.ReassignmentReport, error) {
	return NewReassignment(ReassignPerAsset)(ctx, in)
}

// ReassignMode is how a worker's reassignment moves assets.
type ReassignMode int

const (
	// ReassignPerAsset runs one ReassignAsset activity per asset, paced by the task queue's
	// activity rate and the worker's call pacer: for an API with a very low rate limit.
	ReassignPerAsset ReassignMode = iota
	// ReassignInRanges lists up to ReassignRangeSize ids at a time (from rangesV2Change on, each
	// range lists the next one's) and moves them with one ReassignRange activity at a time,
	// Concurrency at a time within ReassignRangeBudget, resuming from its heartbeat when retried:
	// for an API without a rate limit or with one the worker's call pacer keeps (each call of a
	// range is paced), where the bookkeeping of one activity per asset would be the bottleneck.
	ReassignInRanges
)

// NewReassignment returns the Reassignment workflow of a worker that moves assets in mode. Each
// run records the worker's mode once (a side effect, behind the version reassignRangesVersion,
// so that histories recorded before ranges replay unchanged as per-asset runs); the run keeps
// it, and the next run takes the then current worker's.
func NewReassignment(mode ReassignMode) func(workflow.Context, lifecycle.ReassignmentInput) (lifecycle.ReassignmentReport, error) {
	return func(ctx workflow.Context, in lifecycle.ReassignmentInput) (lifecycle.ReassignmentReport, error) {
		r, err := newReassignment(ctx, in)
		if err != nil {
			return lifecycle.ReassignmentReport{}, err
		}
		if workflow.GetVersion(ctx, reassignRangesChange, workflow.DefaultVersion, reassignRangesVersion) == reassignRangesVersion {
			if err := workflow.SideEffect(ctx, func(workflow.Context) any { return mode }).Get(&r.mode); err != nil {
				return lifecycle.ReassignmentReport{}, err
			}
		}
		if r.mode == ReassignInRanges {
			r.rangesV2 = workflow.GetVersion(ctx, rangesV2Change, workflow.DefaultVersion, rangesV2Version) == rangesV2Version
		}
		r.verifies = workflow.GetVersion(ctx, reassignVerifyChange, workflow.DefaultVersion, reassignVerifyVersion) == reassignVerifyVersion
		return r.run(ctx)
	}
}

// The change that introduced ReassignRange (TEMPORAL-NOTES §10). It replaced the ReassignAssets
// batches of change "reassign-batches", which was never deployed (only this repository's tests
// and benchmarks ran it), so its recorded histories were replaced rather than kept replayable.
const (
	reassignRangesChange  = "reassign-ranges"
	reassignRangesVersion = workflow.Version(1)
)

// The second version of ranges (ReassignInRanges only), for a fast API where each activity and
// workflow task between ranges showed (about 5 ms each):
//   - a range lists the next range's ids once its own have ended (ReassignRangeRequest.Next),
//     instead of a page activity between two ranges, and the last range takes up to
//     ReassignRangeTail more ids rather than leave them to a range of their own;
//   - the reads (resolve, plan, and the listings still needed) run within the workflow task, as
//     local activities. Writes stay activities.
//
// Runs recorded before it list with page activities and read with activities.
const (
	rangesV2Change  = "reassign-ranges-v2"
	rangesV2Version = workflow.Version(1)
)

// The change that made a batch verify its selector before it completes (VerifyReassignment,
// rounds over what is left, lifecycle.OutcomeIncomplete), and go on in those rounds instead of pausing
// when the assets list cannot be had in id order (ErrAssetOrder). Runs recorded before it
// complete when their listing ends, and pause on ErrAssetOrder.
const (
	reassignVerifyChange  = "reassign-verify"
	reassignVerifyVersion = workflow.Version(1)
)

type reassignment struct {
	in     lifecycle.ReassignmentInput // normalised; Continued moved to st
	st     lifecycle.ReassignmentState // what the next run inherits
	id     string
	logger log.Logger
	stage  string
	// work runs the batch: disconnected from workflow cancellation, which is turned into a
	// clean stop (requestCancel) so that assets in flight finish and the report is returned.
	work workflow.Context
	mode ReassignMode
	// rangesV2 (rangesV2Change): a range that leaves less than a range's worth of ids in the
	// buffer lists the next ids, the batch's last range takes a tail, and reads are local activities.
	rangesV2 bool
	// verifies (reassignVerifyChange): the batch verifies its selector before it completes.
	verifies bool

	// This run only.
	inFlight    int     // assets started and not ended (ReassignInRanges: the range's most)
	ranging     bool    // a ReassignRange is pending
	buffer      []int64 // listed ids not started yet, ascending, all above st.After
	fetchAfter  int64   // the next page starts after this id
	fetchPage   int
	fetching    bool
	exhausted   bool
	dispatched  int       // assets started in this run
	activeSince time.Time // start of the current running segment; zero when not running
	cancelled   bool
	incomplete  bool // the verifications did not converge
	reason      string
	changed     int // bumped by every completion and message: what the main loop waits on
	upserted    bool
}

func newReassignment(ctx workflow.Context, in lifecycle.ReassignmentInput) (*reassignment, error) {
	state := in.Continued
	in.Continued = nil
	in = in.Normalized()
	if err := in.Validate(); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidInput, nil)
	}
	r := &reassignment{
		in:     in,
		id:     workflow.GetInfo(ctx).WorkflowExecution.ID,
		logger: log.With(workflow.GetLogger(ctx), "BatchId", in.BatchID),
	}
	if state != nil {
		r.st = *state
	} else {
		r.st = lifecycle.ReassignmentState{StartedAt: workflow.Now(ctx), Confirmed: in.Confirmed}
	}
	r.st.Runs++
	r.fetchAfter, r.fetchPage = r.st.After, max(r.st.Page, 1)
	r.stage = lifecycle.StageReassignPlanning
	if state != nil {
		r.stage = lifecycle.StageReassignRunning
	}
	if err := workflow.SetQueryHandler(ctx, lifecycle.QueryProgress, func() (lifecycle.ReassignmentProgress, error) {
		return r.progress(ctx), nil
	}); err != nil {
		return nil, err
	}
	for _, h := range []struct {
		name      string
		handler   any
		validator any
	}{
		{lifecycle.UpdateConfirm, r.confirm, r.validateConfirm},
		{lifecycle.UpdatePause, r.pause, r.validatePause},
		{lifecycle.UpdateResume, r.resume, r.validateResume},
		{lifecycle.UpdateCancel, r.cancel, r.validateCancel},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *reassignment) run(ctx workflow.Context) (lifecycle.ReassignmentReport, error) {
	r.work, _ = workflow.NewDisconnectedContext(ctx)
	workflow.Go(ctx, func(g workflow.Context) {
		g.Done().Receive(g, nil) // the workflow was cancelled (UI, CLI): stop cleanly
		r.requestCancel("the workflow was cancelled")
	})
	if r.st.Runs == 1 {
		done, err := r.plan(ctx)
		if err != nil || done != nil {
			return r.finishReport(done), err
		}
	}
	r.setStage(r.work, r.wantedStage())
	for {
		if err := r.process(); err != nil {
			return lifecycle.ReassignmentReport{}, err
		}
		if !r.verifies || r.cancelled || !r.finished() || r.capReached() {
			break
		}
		again, err := r.verify()
		if err != nil {
			return lifecycle.ReassignmentReport{}, err
		}
		if !again {
			break
		}
	}
	r.pauseClock()
	if r.cancelled {
		r.setStage(r.work, lifecycle.StageReassignCancelled)
		return r.report(lifecycle.OutcomeCancelled), nil
	}
	if r.incomplete {
		r.setStage(r.work, lifecycle.StageReassignIncomplete)
		r.logger.Warn("Reassignment incomplete", "Unfinished", r.st.Unfinished, "Verifications", r.st.Verifications, "Done", r.st.Done)
		return r.report(lifecycle.OutcomeIncomplete), nil
	}
	if !r.finished() {
		return lifecycle.ReassignmentReport{}, r.continueAsNew()
	}
	r.st.Total = r.processed()
	r.setStage(r.work, lifecycle.StageReassignCompleted)
	r.logger.Info("Reassignment completed", "Done", r.st.Done, "Skipped", r.skipped(), "Failed", r.st.Failed, "Runs", r.st.Runs)
	return r.report(lifecycle.OutcomeCompleted), nil
}

// plan resolves the request, counts and samples it, and waits for a confirmation when needed.
// It returns a report when the batch ends here (dry run, nothing to do, cancelled).
func (r *reassignment) plan(ctx workflow.Context) (*lifecycle.ReassignmentReport, error) {
	r.setStage(r.work, lifecycle.StageReassignPlanning)
	if err := read(planCall(r.work, "resolve emails and asset type"), r.rangesV2, acts.ResolveReassignment,
		activities.ResolveReassignmentRequest{WorkspaceID: r.in.WorkspaceID, AssigneeEmail: r.in.Selector.AssigneeEmail,
			AssetType: r.in.Selector.AssetType, TargetEmail: r.in.Target.AssigneeEmail}).Get(r.work, &r.st.Resolved); err != nil {
		return nil, err
	}
	if r.in.Target.AssigneeEmail != "" && r.st.Resolved.TargetUserID == r.st.Resolved.AssigneeID {
		return nil, temporal.NewNonRetryableApplicationError(
			"the target user is the current assignee: there is nothing to move", activities.ErrInvalidInput, nil)
	}
	if err := read(planCall(r.work, "count and sample the assets"), r.rangesV2, acts.PlanReassignment,
		activities.PlanReassignmentRequest{WorkspaceID: r.in.WorkspaceID, Filter: r.filter(), AssetIDs: r.in.Selector.AssetIDs,
			SampleSize: ReassignSampleSize}).Get(r.work, &r.st.Plan); err != nil {
		return nil, err
	}
	r.st.Total = r.st.Plan.Matched
	if r.in.MaxAssets > 0 {
		r.st.Total = min(r.st.Total, r.in.MaxAssets)
	}
	r.logger.Info("Reassignment planned", "Matched", r.st.Plan.Matched, "Total", r.st.Total)
	switch {
	case r.in.DryRun:
		r.setStage(r.work, lifecycle.StageReassignDryRun)
		rep := r.report(lifecycle.OutcomeDryRun)
		return &rep, nil
	case r.cancelled:
		return r.cancelledReport(), nil
	case r.st.Total > r.confirmAbove() && !r.st.Confirmed:
		r.setStage(r.work, lifecycle.StageReassignConfirming)
		if err := workflow.Await(r.work, func() bool { return r.st.Confirmed || r.cancelled }); err != nil {
			return nil, err
		}
		if r.cancelled {
			return r.cancelledReport(), nil
		}
	}
	return nil, nil
}

func (r *reassignment) cancelledReport() *lifecycle.ReassignmentReport {
	r.setStage(r.work, lifecycle.StageReassignCancelled)
	rep := r.report(lifecycle.OutcomeCancelled)
	return &rep
}

// finishReport waits for handlers before a report closes the run.
func (r *reassignment) finishReport(rep *lifecycle.ReassignmentReport) lifecycle.ReassignmentReport {
	if rep == nil {
		return lifecycle.ReassignmentReport{}
	}
	_ = workflow.Await(r.work, func() bool { return workflow.AllHandlersFinished(r.work) })
	return *rep
}

// process is the sliding window: it keeps the buffer filled and Concurrency assets in flight,
// and returns when the batch is done, cancelled, or this run is full (all drained in each case).
func (r *reassignment) process() error {
	for {
		r.refill()
		if r.mode == ReassignInRanges {
			r.startRange()
		} else {
			r.dispatch()
		}
		r.setStage(r.work, r.wantedStage())
		if r.inFlight == 0 && !r.fetching {
			if r.cancelled || r.finished() || r.runFull() {
				return workflow.Await(r.work, func() bool { return workflow.AllHandlersFinished(r.work) })
			}
		}
		seen := r.changed
		if err := workflow.Await(r.work, func() bool { return r.changed != seen }); err != nil {
			return err
		}
	}
}

// blocked reports what stops new assets from starting.
func (r *reassignment) blocked() bool {
	return r.cancelled || r.st.Paused || r.runFull() || r.capReached()
}

// refill starts the next page when the buffer runs low.
func (r *reassignment) refill() {
	if r.fetching || r.exhausted || r.blocked() || len(r.buffer) >= r.bufferSize() {
		return
	}
	if ids, ok := r.explicitIDs(); ok {
		// An explicit list needs no listing: the next ids above the cursor (the list is sorted).
		i, _ := slices.BinarySearch(ids, r.fetchAfter+1)
		next := ids[i:min(i+max(ReassignPageSize, r.bufferSize()-len(r.buffer)), len(ids))]
		r.buffer = append(r.buffer, next...)
		if len(next) == 0 || i+len(next) == len(ids) {
			r.exhausted = true
		}
		if len(next) > 0 {
			r.fetchAfter = next[len(next)-1]
		}
		return
	}
	r.fetching = true
	req := r.pageRequest()
	f := read(pageCall(r.work, fmt.Sprintf("list assets after %d", req.After)), r.rangesV2, acts.NextAssetPage, req)
	workflow.Go(r.work, func(g workflow.Context) {
		var page activities.AssetPage
		err := f.Get(g, &page)
		r.fetching = false
		r.changed++
		var appErr *temporal.ApplicationError
		switch {
		case err == nil:
		case r.verifies && errors.As(err, &appErr) && appErr.Type() == activities.ErrAssetOrder:
			r.unordered(appErr.Message())
			return
		default:
			r.autoPause(fmt.Sprintf("listing the assets after %d failed: %s", req.After, failureText(err)))
			return
		}
		r.takePage(page)
		r.details()
	})
}

// pageRequest asks for the next listed ids after the buffer's.
func (r *reassignment) pageRequest() activities.AssetPageRequest {
	req := activities.AssetPageRequest{WorkspaceID: r.in.WorkspaceID, Filter: r.filter(), After: r.fetchAfter,
		Page: r.fetchPage, PageSize: ReassignPageSize}
	switch {
	case r.rangesV2:
		req.Max = ReassignRangeSize + ReassignRangeTail // a range's worth of ids, and a tail
		if r.writesLeaveSelection() {
			// The listed ids not started yet are still in the selection, before the cursor.
			req.Page += len(r.buffer) / ReassignPageSize
		}
	case r.mode == ReassignInRanges:
		req.Max = ReassignRangeSize
	}
	return req
}

// takePage adds a listing's ids to the buffer and moves the listing cursor past them.
func (r *reassignment) takePage(page activities.AssetPage) {
	r.buffer = append(r.buffer, page.AssetIDs...)
	if n := len(page.AssetIDs); n > 0 {
		r.fetchAfter = page.AssetIDs[n-1]
	}
	r.exhausted = page.Done
	r.fetchPage = activities.NextPageHint(page, len(page.AssetIDs), ReassignPageSize, r.writesLeaveSelection())
	r.st.Page = page.Page
}

// explicitIDs is the ascending id list the cursor runs over instead of a listing: the
// selector's ids, or in a round after a verification the ids it found (none left to list once
// the list cannot be had in id order).
func (r *reassignment) explicitIDs() ([]int64, bool) {
	switch {
	case len(r.st.Recheck) > 0 || r.st.Unordered:
		return r.st.Recheck, true
	case len(r.in.Selector.AssetIDs) > 0:
		return r.in.Selector.AssetIDs, true
	}
	return nil, false
}

// unordered stops listing with the cursor, which needs ascending ids: the ids listed so far
// are moved, and the rest in verification rounds (each reads the whole selection).
func (r *reassignment) unordered(why string) {
	r.st.Unordered, r.exhausted = true, true
	r.note("the assets list cannot be had in id order (" + why + "): the batch goes on in rounds, each reading the whole selection, moving what is left and checking again (slower, no pause needed)")
	r.logger.Warn("Reassignment goes on without the cursor", "Reason", why)
}

func (r *reassignment) note(n string) {
	r.st.Notes = append(r.st.Notes, n)
	if len(r.st.Notes) > MaxReassignNotes {
		r.st.Notes = r.st.Notes[len(r.st.Notes)-MaxReassignNotes:]
	}
	r.details()
}

// verify counts what the selector still holds that is not at the target, once every listed
// asset is handled. It reports whether another round is to run: then the cursor runs from the
// start over the ids found. A batch whose verifications stop finding fewer ends incomplete.
// A verification that fails after its retries pauses the batch; resuming verifies again.
func (r *reassignment) verify() (bool, error) {
	r.setStage(r.work, lifecycle.StageReassignVerifying)
	var res activities.VerifyReassignmentResult
	for {
		req := activities.VerifyReassignmentRequest{WorkspaceID: r.in.WorkspaceID, Filter: r.filter(), AssetIDs: r.in.Selector.AssetIDs,
			TargetUserID: r.st.Resolved.TargetUserID, Status: r.targetStatus(), Exclude: r.failedIDs(), Max: ReassignVerifyBatch}
		err := workflow.ExecuteActivity(verifyCall(r.work), acts.VerifyReassignment, req).Get(r.work, &res)
		if err == nil {
			break
		}
		r.autoPause("verifying what the selector still holds failed: " + failureText(err))
		r.setStage(r.work, r.wantedStage())
		if err := workflow.Await(r.work, func() bool { return !r.st.Paused || r.cancelled }); err != nil {
			return false, err
		}
		if r.cancelled {
			return false, nil
		}
		r.setStage(r.work, lifecycle.StageReassignVerifying)
	}
	r.st.Verifications++
	if r.st.Verifications > 1 && res.Remaining >= r.st.Unfinished {
		r.st.Stalls++
	} else {
		r.st.Stalls = 0
	}
	r.st.Unfinished = res.Remaining
	r.logger.Info("Reassignment verified", "Unfinished", res.Remaining, "Failed", res.Failed, "Verification", r.st.Verifications)
	switch {
	case res.Remaining == 0:
		r.st.Recheck = nil
		r.details()
		return false, nil
	case r.st.Stalls >= VerifyStallRounds || r.st.Verifications >= MaxVerifyRounds:
		r.incomplete = true
		r.note(fmt.Sprintf("verification %d still found %d assets matching the selector and not at the target: the batch ends incomplete", r.st.Verifications, res.Remaining))
		return false, nil
	}
	r.note(fmt.Sprintf("verification %d found %d assets still matching the selector and not at the target: moving them",
		r.st.Verifications, res.Remaining))
	r.st.Recheck, r.st.After, r.st.Page = res.AssetIDs, 0, 1
	r.fetchAfter, r.fetchPage, r.exhausted, r.buffer = 0, 1, false, nil
	r.st.Total = max(r.st.Total, r.processed()+res.Remaining)
	return true, nil
}

// failedIDs are the assets that failed for good (those listed in the report): not retried.
func (r *reassignment) failedIDs() []int64 {
	ids := make([]int64, len(r.st.Failures))
	for i, f := range r.st.Failures {
		ids[i] = f.AssetID
	}
	return ids
}

// dispatch starts assets while the window has room: queued-again ones first, then the buffer.
func (r *reassignment) dispatch() {
	for r.inFlight < r.concurrency() && !r.blocked() {
		var id int64
		again := false
		switch {
		case len(r.st.Requeue) > 0:
			id, r.st.Requeue, again = r.st.Requeue[0], r.st.Requeue[1:], true
		case len(r.buffer) > 0:
			id, r.buffer = r.buffer[0], r.buffer[1:]
			r.st.After = id
		default:
			return
		}
		r.start(id, again)
	}
}

func (r *reassignment) start(id int64, again bool) {
	r.inFlight++
	r.dispatched++
	req := activities.ReassignAssetRequest{WorkspaceID: r.in.WorkspaceID, AssetID: id, Filter: r.filter(),
		TargetUserID: r.st.Resolved.TargetUserID, Status: r.targetStatus(), Since: r.st.StartedAt, Again: again}
	f := workflow.ExecuteActivity(assetCall(r.work, id), acts.ReassignAsset, req)
	workflow.Go(r.work, func(g workflow.Context) {
		var res activities.ReassignAssetResult
		err := f.Get(g, &res)
		r.inFlight--
		r.record(id, res, err)
		r.changed++
	})
}

// bufferSize is how many listed ids the buffer keeps ahead: a window's worth, or the next range.
func (r *reassignment) bufferSize() int {
	if r.mode == ReassignInRanges {
		return ReassignRangeSize
	}
	return r.concurrency()
}

// startRange starts the next ReassignRange unless one is pending or the batch is blocked: the
// assets queued again first, then the buffer; never past MaxAssets or the run's share.
func (r *reassignment) startRange() {
	if r.ranging || r.blocked() {
		return
	}
	room := min(ReassignRangeSize, r.assetsPerRun()-r.dispatched)
	if r.in.MaxAssets > 0 && len(r.st.Requeue) == 0 {
		room = min(room, r.in.MaxAssets-r.processed())
	}
	req := activities.ReassignRangeRequest{WorkspaceID: r.in.WorkspaceID, Filter: r.filter(), TargetUserID: r.st.Resolved.TargetUserID,
		Status: r.targetStatus(), Since: r.st.StartedAt, Concurrency: r.concurrency(), Budget: ReassignRangeBudget}
	switch {
	case len(r.st.Requeue) > 0:
		n := min(len(r.st.Requeue), ReassignRangeSize)
		req.AssetIDs, r.st.Requeue, req.Again = slices.Clone(r.st.Requeue[:n]), r.st.Requeue[n:], true
	case room > 0 && len(r.buffer) > 0:
		n := min(len(r.buffer), room)
		if r.takesTail(n) {
			n = len(r.buffer)
		}
		req.AssetIDs, r.buffer = slices.Clone(r.buffer[:n]), r.buffer[n:]
		r.st.After = req.AssetIDs[n-1]
	default:
		return
	}
	r.ranging = true
	r.inFlight += len(req.AssetIDs)
	r.dispatched += len(req.AssetIDs)
	if _, explicit := r.explicitIDs(); r.rangesV2 && len(r.buffer) < r.bufferSize() && !r.exhausted && !r.fetching && !r.blocked() && !explicit {
		next := r.pageRequest()
		req.Next, r.fetching = &next, true
	}
	f := workflow.ExecuteActivity(rangeCall(r.work, req), acts.ReassignRange, req)
	workflow.Go(r.work, func(g workflow.Context) {
		var res activities.ReassignRangeResult
		err := f.Get(g, &res)
		r.ranging = false
		r.inFlight -= len(req.AssetIDs)
		r.endRange(req, res, err)
		if req.Next != nil {
			r.fetching = false
			if err == nil && res.Next != nil {
				r.takePage(*res.Next)
			}
		}
		r.changed++
	})
}

// takesTail reports whether a range of n ids from the buffer takes the rest of it too: the
// batch's last few ids, rather than in a range of their own (never past MaxAssets or the run's share).
func (r *reassignment) takesTail(n int) bool {
	return r.rangesV2 && r.exhausted && len(r.buffer)-n <= ReassignRangeTail &&
		r.in.MaxAssets == 0 && r.assetsPerRun()-r.dispatched >= len(r.buffer)
}

// endRange records a range's assets. A failed range's progress comes from its error's details
// (or, after a timeout, its last heartbeat); its other assets are queued again, and the batch
// pauses for an operator when the range could not go on by itself.
func (r *reassignment) endRange(req activities.ReassignRangeRequest, res activities.ReassignRangeResult, err error) {
	if err != nil {
		res = rangeProgress(err)
	}
	ended := make(map[int64]bool, len(res.Assets))
	for _, a := range res.Assets {
		ended[a.AssetID] = true
		if a.ErrorType != "" {
			r.record(a.AssetID, activities.ReassignAssetResult{}, temporal.NewNonRetryableApplicationError(a.Error, a.ErrorType, nil))
		} else {
			r.record(a.AssetID, activities.ReassignAssetResult{AssetID: a.AssetID, Outcome: a.Outcome}, nil)
		}
	}
	for _, id := range req.AssetIDs {
		if !ended[id] {
			r.st.Requeue = append(r.st.Requeue, id)
		}
	}
	var appErr *temporal.ApplicationError
	switch {
	case err == nil, temporal.IsCanceledError(err):
	case errors.As(err, &appErr) && activities.AboutTheKey(appErr.Type()):
		r.autoPause(fmt.Sprintf("the worker cannot use the API (%s): %s", appErr.Type(), appErr.Message()))
	default:
		r.autoPause(fmt.Sprintf("assets %d to %d still failed after their retries: %s", req.AssetIDs[0], req.AssetIDs[len(req.AssetIDs)-1], failureText(err)))
	}
	r.details()
}

// rangeProgress is what a failed range did: its error's details, its last heartbeat after a
// timeout, or else nothing known (all its assets are queued again).
func rangeProgress(err error) activities.ReassignRangeResult {
	var res activities.ReassignRangeResult
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	switch {
	case errors.As(err, &appErr) && appErr.HasDetails() && appErr.Details(&res) == nil:
	case errors.As(err, &timeoutErr) && timeoutErr.HasLastHeartbeatDetails() && timeoutErr.LastHeartbeatDetails(&res) == nil:
	default:
		res = activities.ReassignRangeResult{}
	}
	return res
}

// record counts one asset's outcome. Permanent per-asset failures are recorded and the batch goes
// on; errors about the batch itself (the key, the workspace) and assets whose transient errors
// outlasted their retry budget pause the batch with the asset queued again, for an operator to
// fix and resume.
func (r *reassignment) record(id int64, res activities.ReassignAssetResult, err error) {
	if err == nil {
		switch res.Outcome {
		case activities.AssetMoved:
			r.st.Done++
		case activities.AssetNotMatching:
			r.st.NoLongerMatching++
		default:
			r.st.AlreadyAtTarget++
		}
		r.st.FailureStreak = 0
		return
	}
	var appErr *temporal.ApplicationError
	var timeoutErr *temporal.TimeoutError
	errors.As(err, &appErr) // set whenever the error is permanent
	permanent := isPermanent(err)
	switch {
	case temporal.IsCanceledError(err):
		r.st.Requeue = append(r.st.Requeue, id)
	case errors.As(err, &timeoutErr), !permanent:
		// Transient errors outlasted the asset's retry budget (an API outage): pause, keep the asset.
		r.st.Requeue = append(r.st.Requeue, id)
		r.autoPause(fmt.Sprintf("asset %d still failed after its retries: %s", id, failureText(err)))
	case activities.AboutTheKey(appErr.Type()):
		r.st.Requeue = append(r.st.Requeue, id)
		r.autoPause(fmt.Sprintf("the worker cannot use the API (%s): %s", appErr.Type(), appErr.Message()))
	default:
		r.fail(id, appErr.Type(), appErr.Message())
	}
}

// fail records a permanent failure of one asset.
func (r *reassignment) fail(id int64, errType, reason string) {
	r.st.Failed++
	if len(r.st.Failures) < lifecycle.MaxReportedFailures {
		if len(reason) > 300 {
			reason = reason[:300] + "…"
		}
		r.st.Failures = append(r.st.Failures, lifecycle.AssetFailure{AssetID: id, Type: errType, Reason: reason})
	} else {
		r.st.FailuresOmitted++
	}
	r.st.FailureTypes = countFailure(r.st.FailureTypes, errType)
	r.st.FailureStreak++
	if r.st.FailureStreak >= FailureStreakLimit {
		r.autoPause(fmt.Sprintf("the last %d assets all failed (last: asset %d, %s): check the failures, then resume or cancel",
			r.st.FailureStreak, id, errType))
	}
}

func countFailure(counts []lifecycle.FailureCount, errType string) []lifecycle.FailureCount {
	for i := range counts {
		if counts[i].Type == errType {
			counts[i].Count++
			return counts
		}
	}
	return append(counts, lifecycle.FailureCount{Type: errType, Count: 1})
}

// autoPause pauses the batch by itself; an operator's resume continues it.
func (r *reassignment) autoPause(reason string) {
	if !r.st.Paused {
		r.logger.Warn("Reassignment paused itself", "Reason", reason)
	}
	r.st.Paused, r.st.PauseReason = true, "paused by the batch: "+reason
	r.changed++
}

func failureText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

// continueAsNew hands the cursor, counters and failures to a fresh run.
func (r *reassignment) continueAsNew() error {
	log := lifecycle.ReassignmentRunLog{Run: r.st.Runs, Assets: r.dispatched, After: r.st.After,
		Events: workflow.GetInfo(r.work).GetCurrentHistoryLength()}
	r.st.History = append(r.st.History, log)
	if n := len(r.st.History); n > 100 {
		r.st.History = r.st.History[n-100:]
	}
	r.logger.Info("Reassignment continues as new", "Run", r.st.Runs, "Assets", r.dispatched, "After", r.st.After, "Events", log.Events)
	next := r.in
	st := r.st
	next.Continued = &st
	return workflow.NewContinueAsNewError(r.work, lifecycle.ReassignmentWorkflowName, next)
}

// finished: nothing left to start or in flight.
func (r *reassignment) finished() bool {
	if r.inFlight > 0 || r.fetching {
		return false
	}
	if r.capReached() {
		return true
	}
	return r.exhausted && len(r.buffer) == 0 && len(r.st.Requeue) == 0
}

// runFull: this run handled its share, or the server suggests a new run (history size).
func (r *reassignment) runFull() bool {
	return r.dispatched >= r.assetsPerRun() || workflow.GetInfo(r.work).GetContinueAsNewSuggested()
}

func (r *reassignment) capReached() bool {
	return r.in.MaxAssets > 0 && r.processed()+r.inFlight >= r.in.MaxAssets && len(r.st.Requeue) == 0
}

func (r *reassignment) processed() int {
	return r.st.Done + r.st.AlreadyAtTarget + r.st.NoLongerMatching + r.st.Failed
}

func (r *reassignment) skipped() int { return r.st.AlreadyAtTarget + r.st.NoLongerMatching }

func (r *reassignment) concurrency() int {
	if r.in.Concurrency > 0 {
		return r.in.Concurrency
	}
	return lifecycle.DefaultReassignConcurrency
}

func (r *reassignment) assetsPerRun() int {
	switch {
	case r.in.AssetsPerRun > 0:
		return r.in.AssetsPerRun
	case r.mode == ReassignInRanges:
		return DefaultAssetsPerRunInRanges
	}
	return lifecycle.DefaultAssetsPerRun
}

func (r *reassignment) confirmAbove() int {
	if r.in.ConfirmAbove > 0 {
		return r.in.ConfirmAbove
	}
	return lifecycle.DefaultConfirmAbove
}

func (r *reassignment) filter() activities.AssetFilter {
	return activities.AssetFilter{AssigneeID: r.st.Resolved.AssigneeID, AssetTypeID: r.st.Resolved.AssetTypeID, Status: r.in.Selector.Status}
}

// targetStatus is the status written: AVAILABLE for stock, else SetStatus (empty keeps it).
func (r *reassignment) targetStatus() string {
	if r.in.Target.Stock {
		return "AVAILABLE"
	}
	return r.in.SetStatus
}

// writesLeaveSelection: a moved asset no longer matches the selector (its assignee or status changed).
func (r *reassignment) writesLeaveSelection() bool {
	return r.filter().LeftByWrites(r.targetStatus())
}

// wantedStage is the stage the batch is in while processing.
func (r *reassignment) wantedStage() string {
	switch {
	case r.cancelled:
		return lifecycle.StageReassignCancelling
	case r.st.Paused:
		return lifecycle.StageReassignPaused
	}
	return lifecycle.StageReassignRunning
}

// setStage records a stage in the search attributes and the UI's details, and keeps the clock of
// running time (rate and ETA exclude pauses and the wait for confirmation).
func (r *reassignment) setStage(ctx workflow.Context, stage string) {
	if stage == lifecycle.StageReassignRunning && r.activeSince.IsZero() {
		r.activeSince = workflow.Now(ctx)
	}
	if stage != lifecycle.StageReassignRunning {
		r.pauseClock()
	}
	if stage == r.stage && r.upserted {
		return
	}
	r.stage, r.upserted = stage, true
	if err := workflow.UpsertTypedSearchAttributes(ctx, lifecycle.LifecycleStageKey.ValueSet(stage)); err != nil {
		r.logger.Warn("Search attributes not updated", "Error", err)
	}
	r.details()
}

func (r *reassignment) pauseClock() {
	if !r.activeSince.IsZero() {
		r.st.ActiveTime += workflow.Now(r.work).Sub(r.activeSince)
		r.activeSince = time.Time{}
	}
}

// details is the UI's live view: ids and counts only, no emails.
func (r *reassignment) details() {
	p := r.progress(r.work)
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**Batch:** %s  \n**Stage:** %s  \n**Run:** %d  \n**Progress:** %d of %d (done %d, skipped %d, failed %d)",
		r.in.BatchID, p.Stage, p.Run, p.Total-p.Remaining, p.Total, p.Done, p.Skipped, p.Failed))
	if p.Rate > 0 {
		b.WriteString(fmt.Sprintf("  \n**Rate:** %.1f assets/s, ETA %s", p.Rate, (time.Duration(p.ETASeconds) * time.Second).String()))
	}
	if p.PauseReason != "" {
		b.WriteString("  \n**Paused:** " + p.PauseReason)
	}
	if p.Verifications > 0 {
		b.WriteString(fmt.Sprintf("  \n**Verified:** %d time(s), %d still to do", p.Verifications, p.Unfinished))
	}
	if n := len(p.Notes); n > 0 {
		b.WriteString("  \n**Note:** " + p.Notes[n-1])
	}
	workflow.SetCurrentDetails(r.work, b.String())
}

func (r *reassignment) progress(ctx workflow.Context) lifecycle.ReassignmentProgress {
	now := workflow.Now(ctx)
	p := lifecycle.ReassignmentProgress{
		BatchID: r.in.BatchID, Stage: r.stage, DryRun: r.in.DryRun, Total: r.st.Total,
		Done: r.st.Done, Skipped: r.skipped(), AlreadyAtTarget: r.st.AlreadyAtTarget, NoLongerMatching: r.st.NoLongerMatching,
		Failed: r.st.Failed, InFlight: r.inFlight, Confirmed: r.st.Confirmed, ConfirmAbove: r.confirmAbove(),
		Paused: r.st.Paused, PauseReason: r.st.PauseReason, Run: r.st.Runs, StartedAt: r.st.StartedAt, AsOf: now,
		Verifications: r.st.Verifications, Unfinished: r.st.Unfinished, Notes: r.st.Notes,
	}
	if r.stage != lifecycle.StageReassignPlanning {
		plan := r.st.Plan
		p.Plan = &plan
	}
	processed := r.processed()
	p.Total = max(p.Total, processed)
	p.Remaining = p.Total - processed
	active := r.st.ActiveTime
	if !r.activeSince.IsZero() {
		active += now.Sub(r.activeSince)
	}
	if active > 0 && processed > 0 {
		p.Rate = float64(processed) / active.Seconds()
		p.ETASeconds = float64(p.Remaining) / p.Rate
	}
	return p
}

func (r *reassignment) report(outcome string) lifecycle.ReassignmentReport {
	p := r.progress(r.work)
	rep := lifecycle.ReassignmentReport{
		BatchID: r.in.BatchID, Outcome: outcome, Reason: r.reason, Plan: r.st.Plan, Total: p.Total,
		Done: r.st.Done, Skipped: p.Skipped, AlreadyAtTarget: r.st.AlreadyAtTarget, NoLongerMatching: r.st.NoLongerMatching,
		Failed: r.st.Failed, NotProcessed: p.Remaining, Failures: r.st.Failures, FailuresOmitted: r.st.FailuresOmitted,
		FailureTypes: r.st.FailureTypes, Runs: r.st.Runs, RunLog: r.st.History, StartedAt: r.st.StartedAt,
		FinishedAt: workflow.Now(r.work), ActiveSeconds: r.st.ActiveTime.Seconds(), Rate: p.Rate,
		Unfinished: r.st.Unfinished, Verifications: r.st.Verifications, Notes: r.st.Notes,
	}
	if outcome == lifecycle.OutcomeIncomplete {
		rep.NotProcessed = max(rep.NotProcessed, r.st.Unfinished)
	}
	if rep.Failures == nil {
		rep.Failures = []lifecycle.AssetFailure{}
	}
	return rep
}

// Messages.

func (r *reassignment) closed() error {
	switch r.stage {
	case lifecycle.StageReassignCompleted, lifecycle.StageReassignCancelled, lifecycle.StageReassignDryRun, lifecycle.StageReassignIncomplete:
		return fmt.Errorf("the batch is %s", strings.TrimPrefix(r.stage, "reassignment."))
	case lifecycle.StageReassignCancelling:
		return errors.New("the batch is being cancelled")
	}
	return nil
}

func (r *reassignment) validateConfirm(req lifecycle.ConfirmRequest) error {
	if err := r.closed(); err != nil {
		return err
	}
	switch {
	case r.stage == lifecycle.StageReassignPlanning:
		return errors.New("the plan is not ready yet: confirm once the progress shows it")
	case r.st.Confirmed:
		return errors.New("the batch is already confirmed")
	case req.Total != 0 && req.Total != r.st.Total:
		return fmt.Errorf("the plan now matches %d assets, not %d: check it again and confirm %d", r.st.Total, req.Total, r.st.Total)
	}
	return nil
}

func (r *reassignment) confirm(ctx workflow.Context, req lifecycle.ConfirmRequest) (lifecycle.ReassignmentProgress, error) {
	r.st.Confirmed = true
	r.changed++
	r.logger.Info("Reassignment confirmed", "Total", r.st.Total)
	return r.progress(ctx), nil
}

func (r *reassignment) validatePause(req lifecycle.PauseRequest) error { return r.closed() }

func (r *reassignment) pause(ctx workflow.Context, req lifecycle.PauseRequest) (lifecycle.ReassignmentProgress, error) {
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		reason = "paused by an operator"
	}
	r.st.Paused, r.st.PauseReason = true, reason
	r.changed++
	r.logger.Info("Reassignment paused", "Reason", reason)
	p := r.progress(ctx)
	p.Stage = lifecycle.StageReassignPaused
	return p, nil
}

func (r *reassignment) validateResume(req lifecycle.ResumeRequest) error {
	if err := r.closed(); err != nil {
		return err
	}
	if !r.st.Paused {
		return errors.New("the batch is not paused")
	}
	return nil
}

func (r *reassignment) resume(ctx workflow.Context, req lifecycle.ResumeRequest) (lifecycle.ReassignmentProgress, error) {
	r.st.Paused, r.st.PauseReason, r.st.FailureStreak = false, "", 0
	r.changed++
	r.logger.Info("Reassignment resumed")
	p := r.progress(ctx)
	if p.Stage == lifecycle.StageReassignPaused {
		p.Stage = lifecycle.StageReassignRunning
	}
	return p, nil
}

func (r *reassignment) validateCancel(req lifecycle.CancelRequest) error { return r.closed() }

func (r *reassignment) cancel(ctx workflow.Context, req lifecycle.CancelRequest) (lifecycle.ReassignmentProgress, error) {
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		reason = "cancelled by an operator"
	}
	r.requestCancel(reason)
	p := r.progress(ctx)
	p.Stage = lifecycle.StageReassignCancelling
	return p, nil
}

// requestCancel stops starting assets; those in flight finish and the report is returned.
func (r *reassignment) requestCancel(reason string) {
	if r.cancelled {
		return
	}
	r.cancelled, r.reason = true, reason
	r.changed++
	r.logger.Info("Reassignment cancelling", "Reason", reason)
}

// Activity options. Reading and writing one asset is two short calls: an attempt gets 30 s (a
// stuck call is cut and retried), and retries go on for an hour (429s wait for Retry-After) before
// the batch pauses itself with the asset queued again.

func assetCall(ctx workflow.Context, assetID int64) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		HeartbeatTimeout:       apiHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: nonRetryableTypes,
		},
		Summary: "asset " + strconv.FormatInt(assetID, 10),
	})
}

// rangeCall: a range's attempt stops starting assets after its budget, and those in flight
// then end within assetCall's 30 s; it heartbeats every second, so a lost worker is noticed in
// 10 s. Retries (only for what is left, after Retry-After) share the same hour.
func rangeCall(ctx workflow.Context, req activities.ReassignRangeRequest) workflow.Context {
	ctx = assetCall(ctx, 0)
	opts := workflow.GetActivityOptions(ctx)
	opts.StartToCloseTimeout = req.Budget + 30*time.Second
	opts.HeartbeatTimeout = 10 * time.Second
	opts.Summary = fmt.Sprintf("%d assets from %d", len(req.AssetIDs), req.AssetIDs[0])
	return workflow.WithActivityOptions(ctx, opts)
}

// read runs a read-only activity with ctx's activity options: as a local activity, within the
// workflow task, when local (see rangesV2Change), else as an activity of its own.
func read(ctx workflow.Context, local bool, activity, arg any) workflow.Future {
	if !local {
		return workflow.ExecuteActivity(ctx, activity, arg)
	}
	o := workflow.GetActivityOptions(ctx)
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: o.StartToCloseTimeout, ScheduleToCloseTimeout: o.ScheduleToCloseTimeout,
		RetryPolicy: o.RetryPolicy, Summary: o.Summary}), activity, arg)
}

func pageCall(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		HeartbeatTimeout:       apiHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: append(slices.Clone(nonRetryableTypes), activities.ErrAssetOrder),
		},
		Summary: summary,
	})
}

func planCall(ctx workflow.Context, summary string) workflow.Context { return apiCall(ctx, summary) }

// verifyCall reads a whole selection (a call per 100 assets), heartbeating (the worker's
// keep-alive) so that a lost worker is noticed soon.
func verifyCall(ctx workflow.Context) workflow.Context {
	ctx = pageCall(ctx, "verify what the selector still holds")
	opts := workflow.GetActivityOptions(ctx)
	opts.StartToCloseTimeout = 15 * time.Minute
	opts.RetryPolicy.NonRetryableErrorTypes = nonRetryableTypes
	return workflow.WithActivityOptions(ctx, opts)
}
