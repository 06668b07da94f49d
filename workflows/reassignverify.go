package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// The verification before a batch completes (reassignVerifyChange).

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
