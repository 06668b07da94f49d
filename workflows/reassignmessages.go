package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// A batch's updates (confirm, pause, resume, cancel) with their validators, its progress query,
// and the stage, details and report that show where it is.

func (r *reassignment) note(n string) {
	r.st.Notes = append(r.st.Notes, n)
	if len(r.st.Notes) > MaxReassignNotes {
		r.st.Notes = r.st.Notes[len(r.st.Notes)-MaxReassignNotes:]
	}
	r.details()
}

// autoPause pauses the batch by itself; an operator's resume continues it.
func (r *reassignment) autoPause(reason string) {
	if !r.st.Paused {
		r.logger.Warn("Reassignment paused itself", "Reason", reason)
	}
	r.st.Paused, r.st.PauseReason = true, "paused by the batch: "+reason
	r.changed++
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
