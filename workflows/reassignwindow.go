package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// The sliding window, and its per-asset mode: one ReassignAsset activity per asset. How an
// asset ended is counted here for both modes.

// process is the sliding window: it keeps the buffer filled and Concurrency assets in flight,
// and returns when the batch is done, cancelled, or this run is full (all drained in each case).
func (r *reassignment) process() error {
	for {
		r.refill()
		if r.mode == lifecycle.ReassignInRanges {
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
	case activities.IsKeyOrWorkspaceError(appErr.Type()):
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

func failureText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
