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
// Concurrency is a sliding window over a buffer of listed asset ids, which the listing refills
// ahead of need. The input's Mode says what the window holds: per asset (lifecycle.ReassignPerAsset),
// at most Concurrency ReassignAsset activities pending at once (lifecycle.MaxReassignConcurrency,
// far under the server's 2,000), refilled as each one completes, each asset retried on its own
// (Retry-After honoured by Temporal); in ranges (lifecycle.ReassignInRanges), one ReassignRange
// activity at a time, which moves up to ReassignRangeSize assets Concurrency at a time within
// ReassignRangeBudget and resumes from its heartbeat when retried, so that the bookkeeping of
// one activity per asset is not the bottleneck.
func Reassignment(ctx workflow.Context, in lifecycle.ReassignmentInput) (lifecycle.ReassignmentReport, error) {
	r, err := newReassignment(ctx, in)
	if err != nil {
		return lifecycle.ReassignmentReport{}, err
	}
	if err := r.setMode(ctx); err != nil {
		return lifecycle.ReassignmentReport{}, err
	}
	if r.mode == lifecycle.ReassignInRanges {
		r.leanRanges = workflow.GetVersion(ctx, leanRangesChange, workflow.DefaultVersion, leanRangesVersion) == leanRangesVersion
	}
	r.verifiesSelection = workflow.GetVersion(ctx, reassignVerifyChange, workflow.DefaultVersion, reassignVerifyVersion) == reassignVerifyVersion
	return r.run(ctx)
}

// Each change below is a workflow.GetVersion change id (the string, recorded in histories, never
// changes) and its versions. Changing what one gates, or adding a step, needs a new version and a
// replay fixture in testdata/ recorded with it.

// How a run's mode is decided, under the change id that introduced ReassignRange (TEMPORAL-NOTES
// §10). DefaultVersion: recorded before ranges, every asset has its own activity.
// modeOfWorkerVersion: the worker's environment chose the mode, recorded in a side effect.
// modeInInputVersion: the input's Mode. (Ranges replaced the ReassignAssets batches of change
// "reassign-batches", which was never deployed: its histories were replaced, not kept replayable.)
const (
	reassignModeChange  = "reassign-ranges"
	modeOfWorkerVersion = workflow.Version(1)
	modeInInputVersion  = workflow.Version(2)
)

// The change that makes ranges lean (lifecycle.ReassignInRanges only): nothing runs between two
// ranges that a range or the workflow task can do, for a fast API where each activity and
// workflow task between ranges showed (about 5 ms each):
//   - a range lists the next range's ids once its own have ended (ReassignRangeRequest.Next),
//     instead of a page activity between two ranges, and the last range takes up to
//     ReassignRangeTail more ids rather than leave them to a range of their own;
//   - the reads (resolve, plan, and the listings still needed) run within the workflow task, as
//     local activities. Writes stay activities.
//
// Runs recorded before it list with page activities and read with activities.
const (
	leanRangesChange  = "reassign-ranges-v2"
	leanRangesVersion = workflow.Version(1)
)

// The change that made a batch verify its selector before it completes (VerifyReassignment,
// rounds over what is left, lifecycle.OutcomeIncomplete), and go on in those rounds instead of pausing
// when the assets list cannot be had in id order (ErrAssetOrder). Runs recorded before it
// complete when their listing ends, and pause on ErrAssetOrder.
const (
	reassignVerifyChange  = "reassign-verify"
	reassignVerifyVersion = workflow.Version(1)
)

// setMode decides how this run moves its assets: as its input says, or as a run recorded before
// that says in its history. The input then carries the mode, so that the runs this one
// continues as keep it.
func (r *reassignment) setMode(ctx workflow.Context) error {
	switch workflow.GetVersion(ctx, reassignModeChange, workflow.DefaultVersion, modeInInputVersion) {
	case workflow.DefaultVersion:
		r.mode = lifecycle.ReassignPerAsset
	case modeOfWorkerVersion:
		mode, err := recordedWorkerMode(ctx, r.in.Mode)
		if err != nil {
			return err
		}
		r.mode = mode
	default:
		r.mode = r.in.Mode
	}
	r.in.Mode = r.mode
	return nil
}

// recordedWorkerMode reads the side effect in which a run of modeOfWorkerVersion recorded its
// worker's mode: 0 per asset, 1 in ranges. Only replays get here (a new run records
// modeInInputVersion), so the value always comes from the history; the function, which would
// record mode in that encoding, never runs.
func recordedWorkerMode(ctx workflow.Context, mode lifecycle.ReassignMode) (lifecycle.ReassignMode, error) {
	var recorded int
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		if mode == lifecycle.ReassignInRanges {
			return 1
		}
		return 0
	}).Get(&recorded)
	if err != nil {
		return "", err
	}
	if recorded == 1 {
		return lifecycle.ReassignInRanges, nil
	}
	return lifecycle.ReassignPerAsset, nil
}

type reassignment struct {
	in     lifecycle.ReassignmentInput // normalised; Continued moved to st
	st     lifecycle.ReassignmentState // what the next run inherits
	id     string
	logger log.Logger
	stage  string
	// work runs the batch: disconnected from workflow cancellation, which is turned into a
	// clean stop (requestCancel) so that assets in flight finish and the report is returned.
	work workflow.Context
	mode lifecycle.ReassignMode
	// leanRanges (leanRangesChange): a range that leaves less than a range's worth of ids in the
	// buffer lists the next ids, the batch's last range takes a tail, and reads are local activities.
	leanRanges bool
	// verifiesSelection (reassignVerifyChange): the batch verifies its selector before it completes.
	verifiesSelection bool

	// This run only.
	inFlight    int     // assets started and not ended (in ranges: the range's most)
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
		if !r.verifiesSelection || r.cancelled || !r.finished() || r.capReached() {
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
	if err := read(planCall(r.work, "resolve emails and asset type"), r.leanRanges, acts.ResolveReassignment,
		activities.ResolveReassignmentRequest{WorkspaceID: r.in.WorkspaceID, AssigneeEmail: r.in.Selector.AssigneeEmail,
			AssetType: r.in.Selector.AssetType, TargetEmail: r.in.Target.AssigneeEmail}).Get(r.work, &r.st.Resolved); err != nil {
		return nil, err
	}
	if r.in.Target.AssigneeEmail != "" && r.st.Resolved.TargetUserID == r.st.Resolved.AssigneeID {
		return nil, temporal.NewNonRetryableApplicationError(
			"the target user is the current assignee: there is nothing to move", activities.ErrInvalidInput, nil)
	}
	if err := read(planCall(r.work, "count and sample the assets"), r.leanRanges, acts.PlanReassignment,
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
	case r.mode == lifecycle.ReassignInRanges:
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
