package workflows

import (
	"fmt"
	"html"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// Reconciliation is the nightly job: it finds what drifted in Atomicwork (assets and grants still
// with leavers, onboarding requests forgotten open) and fixes it through the same idempotent
// paths the lifecycle workflows use. A dry run only reports.
func Reconciliation(ctx workflow.Context, in lifecycle.ReconciliationInput) (lifecycle.ReconciliationReport, error) {
	r, err := newReconciliation(ctx, in)
	if err != nil {
		return lifecycle.ReconciliationReport{}, err
	}
	return r.run(ctx)
}

type reconciliation struct {
	in     lifecycle.ReconciliationInput
	id     string
	logger log.Logger
	stage  string
	report lifecycle.ReconciliationReport
}

// ReconciliationStatus is the answer of the reconciliation's status query.
type ReconciliationStatus struct {
	Stage  string                         `json:"stage"`
	Report lifecycle.ReconciliationReport `json:"report"`
}

func newReconciliation(ctx workflow.Context, in lifecycle.ReconciliationInput) (*reconciliation, error) {
	if err := in.Validate(); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrInvalidInput, nil)
	}
	r := &reconciliation{
		in:     in,
		id:     workflow.GetInfo(ctx).WorkflowExecution.ID,
		logger: workflow.GetLogger(ctx),
		report: lifecycle.ReconciliationReport{DryRun: in.DryRun, Drift: []lifecycle.Drift{}},
	}
	if err := workflow.SetQueryHandler(ctx, lifecycle.QueryStatus, func() (ReconciliationStatus, error) {
		return ReconciliationStatus{Stage: r.stage, Report: r.report}, nil
	}); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reconciliation) run(ctx workflow.Context) (lifecycle.ReconciliationReport, error) {
	r.setStage(ctx, lifecycle.StageReconScanning)
	staleDays := r.in.StaleOnboardingDays
	if staleDays <= 0 {
		staleDays = lifecycle.DefaultStaleOnboardingDays
	}
	var scan activities.DriftScan
	if err := workflow.ExecuteActivity(apiCall(ctx, "scan for drift"), acts.ScanDrift, activities.DriftScanRequest{
		WorkspaceID: r.in.WorkspaceID, Now: workflow.Now(ctx), StaleAfter: time.Duration(staleDays) * 24 * time.Hour,
	}).Get(ctx, &scan); err != nil {
		return r.report, err
	}
	for _, a := range scan.Assets {
		r.add(lifecycle.Drift{Kind: lifecycle.DriftAssetOfLeaver, UserID: a.UserID, ID: a.AssetID})
	}
	for _, g := range scan.Grants {
		r.add(lifecycle.Drift{Kind: lifecycle.DriftGrantOfLeaver, UserID: g.UserID, ID: g.GrantID})
	}
	for _, g := range scan.Handling {
		r.add(lifecycle.Drift{Kind: lifecycle.DriftGrantOfLeaver, UserID: g.UserID, ID: g.GrantID,
			Detail: "revocation " + strings.ToLower(g.Revocation) + ": already being handled, left alone"})
	}
	for _, n := range scan.NewSinceLeft {
		kind := lifecycle.DriftGrantOfLeaver
		if n.Kind == "asset" {
			kind = lifecycle.DriftAssetOfLeaver
		}
		r.add(lifecycle.Drift{Kind: kind, UserID: n.UserID, ID: n.ID,
			Detail: n.Kind + " given or changed after the user's terminated_on (a rehire's?): left alone, check the user's status"})
	}
	for _, s := range scan.StaleOnboardings {
		r.add(lifecycle.Drift{Kind: lifecycle.DriftStaleOnboarding, UserID: s.UserID, Request: s.DisplayID,
			Detail: fmt.Sprintf("open %d days after the start date %s", s.DaysLate, s.StartDate)})
	}
	if r.in.DryRun || len(r.report.Drift) == 0 {
		r.setStage(ctx, lifecycle.StageReconCompleted)
		return r.report, nil
	}

	r.setStage(ctx, lifecycle.StageReconFixing)
	if err := r.revokeGrants(ctx, scan.Grants); err != nil {
		return r.report, err
	}
	if err := r.returnAssets(ctx, scan.Assets); err != nil {
		return r.report, err
	}
	if err := r.noteStale(ctx, scan.StaleOnboardings); err != nil {
		return r.report, err
	}
	if err := r.summarise(ctx); err != nil {
		return r.report, err
	}
	r.setStage(ctx, lifecycle.StageReconCompleted)
	return r.report, nil
}

// revokeGrants revokes leavers' grants with deprovisioning; a permanent failure is reported, not fatal.
func (r *reconciliation) revokeGrants(ctx workflow.Context, grants []activities.LeaverGrant) error {
	for _, g := range grants {
		err := workflow.ExecuteActivity(apiCall(ctx, fmt.Sprintf("revoke grant %d", g.GrantID)), acts.RevokeGrant, activities.RevokeRequest{
			WorkspaceID: r.in.WorkspaceID, GrantID: g.GrantID, Reason: "reconciliation: the user has left",
		}).Get(ctx, nil)
		if err != nil && !isPermanent(err) {
			return err
		}
		r.settle(lifecycle.DriftGrantOfLeaver, g.GrantID, failure(err), "revoked with deprovisioning")
	}
	return nil
}

// returnAssets returns leavers' assets to stock through bulk reassignment child workflows, one per
// chunk of explicit asset ids.
func (r *reconciliation) returnAssets(ctx workflow.Context, assets []activities.LeaverAsset) error {
	for start := 0; start < len(assets); start += lifecycle.MaxExplicitAssetIDs {
		chunk := assets[start:min(start+lifecycle.MaxExplicitAssetIDs, len(assets))]
		ids := make([]int64, len(chunk))
		for i, a := range chunk {
			ids[i] = a.AssetID
		}
		batch := batchIDFrom(fmt.Sprintf("%s-%d", r.id, start/lifecycle.MaxExplicitAssetIDs))
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:    lifecycle.ReassignmentID(batch),
			StaticSummary: "Reconciliation: return leavers' assets to stock",
		})
		var rep lifecycle.ReassignmentReport
		err := workflow.ExecuteChildWorkflow(cctx, lifecycle.ReassignmentWorkflowName, lifecycle.ReassignmentInput{
			WorkspaceID: r.in.WorkspaceID, BatchID: batch, Selector: lifecycle.AssetSelector{AssetIDs: ids},
			Target: lifecycle.AssetTarget{Stock: true}, Confirmed: true,
		}).Get(ctx, &rep)
		if err != nil {
			return err
		}
		failed := map[int64]string{}
		for _, f := range rep.Failures {
			failed[f.AssetID] = f.Reason
		}
		for _, id := range ids {
			r.settle(lifecycle.DriftAssetOfLeaver, id, failed[id], "returned to stock by "+lifecycle.ReassignmentID(batch))
		}
	}
	return nil
}

// noteStale notes on each forgotten onboarding request that it is still open; the owner decides.
func (r *reconciliation) noteStale(ctx workflow.Context, stale []activities.StaleRequest) error {
	for _, s := range stale {
		err := workflow.ExecuteActivity(apiCall(ctx, "note the open onboarding "+s.DisplayID), acts.AddNote, activities.NoteRequest{
			WorkspaceID: r.in.WorkspaceID, DisplayID: s.DisplayID, Marker: activities.Marker(r.id, "stale"), Private: true,
			Description: fmt.Sprintf("<p>This onboarding request is still open %d days after the start date %s. Resolve it if the hire is set up, or say what is missing.</p>", s.DaysLate, s.StartDate),
		}).Get(ctx, nil)
		if err != nil && !isPermanent(err) {
			return err
		}
		r.detail(lifecycle.DriftStaleOnboarding, s.DisplayID, err)
	}
	return nil
}

// summarise puts the report on a request for the IT owner, when anything was fixed.
func (r *reconciliation) summarise(ctx workflow.Context) error {
	if r.report.Fixed == 0 || r.in.ReportTo == "" {
		return nil
	}
	var owner int64
	if err := workflow.ExecuteActivity(apiCall(ctx, "find the report owner"), acts.UserID, activities.UserIDRequest{
		WorkspaceID: r.in.WorkspaceID, Email: r.in.ReportTo,
	}).Get(ctx, &owner); err != nil {
		return err
	}
	var ref activities.RequestRef
	if err := workflow.ExecuteActivity(apiCall(ctx, "open the reconciliation request"), acts.EnsureRequest, activities.RequestToOpen{
		WorkspaceID: r.in.WorkspaceID, Marker: activities.Marker(r.id, "report"), RequesterID: owner,
		Subject:     fmt.Sprintf("Reconciliation: %d fixed, %d failed", r.report.Fixed, r.report.Failed),
		Description: "<p>atomicflow's reconciliation found drift in Atomicwork and fixed it; the summary is in the notes.</p>",
	}).Get(ctx, &ref); err != nil {
		return err
	}
	r.report.RequestID = ref.DisplayID
	if err := workflow.ExecuteActivity(apiCall(ctx, "note the summary"), acts.AddNote, activities.NoteRequest{
		WorkspaceID: r.in.WorkspaceID, DisplayID: ref.DisplayID, Marker: activities.Marker(r.id, "summary"), Private: true,
		Description: r.summaryHTML(),
	}).Get(ctx, nil); err != nil {
		return err
	}
	return workflow.ExecuteActivity(apiCall(ctx, "resolve the reconciliation request"), acts.ResolveRequest,
		activities.RequestToResolve{WorkspaceID: r.in.WorkspaceID, DisplayID: ref.DisplayID}).Get(ctx, nil)
}

func (r *reconciliation) add(d lifecycle.Drift) { r.report.Drift = append(r.report.Drift, d) }

// settle records a fix attempt's outcome: failed says why it was not fixed ("" = fixed, how).
func (r *reconciliation) settle(kind string, id int64, failed, how string) {
	for i := range r.report.Drift {
		d := &r.report.Drift[i]
		if d.Kind != kind || d.ID != id || d.Detail != "" {
			continue
		}
		if failed != "" {
			d.Detail = "not fixed: " + failed
			r.report.Failed++
		} else {
			d.Fixed, d.Detail = true, how
			r.report.Fixed++
		}
		return
	}
}

// failure is an error's message, "" for none.
func failure(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// detail records what was done about a reported (not fixable) drift.
func (r *reconciliation) detail(kind, request string, err error) {
	for i := range r.report.Drift {
		d := &r.report.Drift[i]
		if d.Kind == kind && d.Request == request {
			if err != nil {
				d.Detail += "; note failed: " + err.Error()
				r.report.Failed++
			} else {
				d.Detail += "; noted on the request"
			}
		}
	}
}

func (r *reconciliation) setStage(ctx workflow.Context, stage string) {
	r.stage = stage
	if err := workflow.UpsertTypedSearchAttributes(ctx, lifecycle.LifecycleStageKey.ValueSet(stage)); err != nil {
		r.logger.Warn("Search attributes not updated", "Error", err)
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**Stage:** %s  \n**Dry run:** %t  \n**lifecycle.Drift found:** %d  \n**Fixed:** %d  \n**Failed:** %d",
		stage, r.in.DryRun, len(r.report.Drift), r.report.Fixed, r.report.Failed))
}

func (r *reconciliation) summaryHTML() string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("<p>Reconciliation %s: %d drift found, %d fixed, %d failed.</p><ul>",
		html.EscapeString(r.id), len(r.report.Drift), r.report.Fixed, r.report.Failed))
	for _, d := range r.report.Drift {
		what := fmt.Sprintf("%d", d.ID)
		if d.Request != "" {
			what = d.Request
		}
		b.WriteString(fmt.Sprintf("<li>%s %s (user %d): %s</li>", d.Kind, what, d.UserID, html.EscapeString(d.Detail)))
	}
	b.WriteString("</ul>")
	return b.String()
}

// batchIDFrom turns a workflow id into a batch id: letters, digits, '.', '_' and '-' only, at
// most 64 characters (the end, with the run's time and chunk, is what tells batches apart).
func batchIDFrom(s string) string {
	if len(s) > 64 {
		s = s[len(s)-64:]
	}
	return strings.TrimLeft(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, s), "-._")
}
