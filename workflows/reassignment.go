package workflows

import (
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
