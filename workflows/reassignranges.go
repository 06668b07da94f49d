package workflows

import (
	"errors"
	"fmt"
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
)

// Ranges (lifecycle.ReassignInRanges): up to ReassignRangeSize assets in one ReassignRange activity.

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
		if r.lastRangeTakesRest(n) {
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
	if _, explicit := r.explicitIDs(); r.leanRanges && len(r.buffer) < r.bufferSize() && !r.exhausted && !r.fetching && !r.blocked() && !explicit {
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

// lastRangeTakesRest reports whether a range of n ids from the buffer takes the rest of it too: the
// batch's last few ids, rather than in a range of their own (never past MaxAssets or the run's share).
func (r *reassignment) lastRangeTakesRest(n int) bool {
	return r.leanRanges && r.exhausted && len(r.buffer)-n <= ReassignRangeTail &&
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
	case errors.As(err, &appErr) && activities.IsKeyOrWorkspaceError(appErr.Type()):
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
