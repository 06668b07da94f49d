package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// The golden files under testdata/golden pin, byte for byte, what the CLI prints: every
// command's help, status's and watch's rendering of each workflow kind, and the printers of the
// start and steering commands. A change to any of them shows as a diff of these files.

var update = flag.Bool("update", false, "rewrite testdata/golden with what the starter prints now")

// golden compares got with testdata/golden/name, or writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./starter -run %s -update to write it", t.Name())
	assert.Equal(t, string(want), got, "differs from %s", path)
}

var (
	goldenStart = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	goldenClose = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
)

func rawJSON(t *testing.T, v any) json.RawMessage {
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

// Every state, result and fact a kind shows, with each optional field set.

var (
	goldenOnboardingState = lifecycle.OnboardingStatus{Stage: lifecycle.StageBlocked, StartDate: "2026-12-01", TimeZone: "Europe/London",
		DayOneAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), UserID: 1002, RequestID: "REQ-7",
		Done: []string{lifecycle.StagePlanning, lifecycle.StageAccount}, Pending: []string{"okta-base", "Laptop"},
		Waiting: "no Laptop in stock", Cancelled: true, CancelNote: "offer withdrawn", Blocked: "GRANT_REFUSED: okta-base",
		Failed: &lifecycle.StepFailure{Step: "grant okta-base", Error: "GRANT_REFUSED: no seats"}}
	goldenOnboardingResult = lifecycle.OnboardingResult{Outcome: lifecycle.OutcomeCancelled, UserID: 1002, RequestID: "REQ-7",
		Reason: "offer withdrawn",
		Failed: &lifecycle.StepFailure{Step: "grant okta-base", Error: "GRANT_REFUSED: no seats"},
		Grants: []lifecycle.GrantRef{{GrantID: 31, Entitlement: "okta-base"}, {GrantID: 32, Entitlement: "slack-member", Preexisting: true}},
		Assets: []lifecycle.AssetAssignment{{AssetTypeName: "Laptop", Assigned: true, AssetID: 8001, Label: "MBP-0001"},
			{AssetTypeName: "Phone", Assigned: true, AssetID: 8002, Label: "IPH-0002", Preexisting: true}, {AssetTypeName: "Monitor"}}}
	goldenOffboardingState = lifecycle.OffboardingStatus{Stage: lifecycle.StageOffEscalated,
		ScheduledAt: time.Date(2026, 12, 19, 2, 0, 0, 0, time.UTC), ScheduledLocal: "2026-12-18 18:00", TimeZone: "America/Los_Angeles",
		UserID: 1004, RequestID: "REQ-8",
		Grants:      []lifecycle.GrantState{{GrantID: 41, Entitlement: "okta-base", State: "revoked"}, {GrantID: 42, Entitlement: "github", State: "failed"}},
		Assets:      []lifecycle.AssetState{{AssetID: 8003, Label: "MBP-0003", State: "returned"}, {AssetID: 8004, Label: "IPH-0004", State: "reassigned", ToUserID: 1010}},
		Escalations: []string{"ITREQ-9", "ITREQ-10"}, DeleteAt: time.Date(2027, 1, 18, 2, 0, 0, 0, time.UTC),
		Note: "github deprovisioning failed", Hold: "HR last day 2025-10-01 is 62 days in the past", Blocked: "ATOMICWORK_AUTH: 401"}
	goldenOffboardingResult = lifecycle.OffboardingResult{Outcome: lifecycle.OutcomeCompleted, UserID: 1004, RequestID: "REQ-8",
		Grants:  []lifecycle.GrantState{{GrantID: 41, Entitlement: "okta-base", State: "revoked"}},
		Assets:  []lifecycle.AssetState{{AssetID: 8003, Label: "MBP-0003", State: "returned"}, {AssetID: 8004, Label: "IPH-0004", State: "reassigned", ToUserID: 1010}},
		Deleted: true, Reason: "left early"}
	goldenProgress = lifecycle.ReassignmentProgress{BatchID: "b-1", Stage: lifecycle.StageReassignConfirming, DryRun: true,
		Plan:  &lifecycle.ReassignmentPlan{Matched: 302, Sample: []lifecycle.AssetSample{{AssetID: 1, Label: "MBP-1", AssetType: "Laptop", AssigneeID: 9, Status: "IN_USE"}}},
		Total: 302, Done: 100, Skipped: 2, Failed: 3, Remaining: 197, InFlight: 8, ConfirmAbove: 100, Paused: true, PauseReason: "lunch",
		Rate: 4.25, ETASeconds: 46, Run: 2, Verifications: 1, Unfinished: 5, Notes: []string{"slower mode", "verification round"},
		StartedAt: goldenStart, AsOf: goldenClose}
	goldenReport = lifecycle.ReassignmentReport{BatchID: "b-1", Outcome: lifecycle.OutcomeIncomplete, Reason: "verification stalled",
		Plan:  lifecycle.ReassignmentPlan{Matched: 302, Sample: []lifecycle.AssetSample{{AssetID: 1, Label: "MBP-1", AssetType: "Laptop", AssigneeID: 9, Status: "IN_USE"}, {AssetID: 2, Missing: true}}},
		Total: 302, Done: 280, Skipped: 12, AlreadyAtTarget: 10, NoLongerMatching: 2, Failed: 4, NotProcessed: 6, Unfinished: 6, Verifications: 3,
		Notes:           []string{"verification 3 still found 6 assets"},
		Failures:        []lifecycle.AssetFailure{{AssetID: 11, Type: "NOT_FOUND", Reason: "gone"}, {AssetID: 12, Type: "CONFLICT", Reason: "locked"}},
		FailuresOmitted: 2, FailureTypes: []lifecycle.FailureCount{{Type: "NOT_FOUND", Count: 3}, {Type: "CONFLICT", Count: 1}},
		Runs: 3, StartedAt: goldenStart, FinishedAt: goldenClose, ActiveSeconds: 1800, Rate: 0.16}
	goldenReconciliation = lifecycle.ReconciliationReport{DryRun: false, Fixed: 2, Failed: 1, RequestID: "REQ-99", Drift: []lifecycle.Drift{
		{Kind: lifecycle.DriftAssetOfLeaver, UserID: 5, ID: 8001, Fixed: true, Detail: "returned to stock"},
		{Kind: lifecycle.DriftGrantOfLeaver, UserID: 6, ID: 41},
		{Kind: lifecycle.DriftStaleOnboarding, UserID: 7, Request: "REQ-3", Fixed: true}}}
)

// goldenSnapshots are status views of each kind: running with its live state, closed with its
// result, and what is shown without a worker or when a run ended badly.
func goldenSnapshots(t *testing.T) map[string]*workflowSnapshot {
	closed := goldenClose
	next := goldenClose.Add(time.Minute)
	base := func(id, typeName, kind, status string) *workflowSnapshot {
		s := &workflowSnapshot{WorkflowID: id, RunID: "run-1", Type: typeName, Kind: kind, Status: status, TaskQueue: "atomicflow",
			StartTime: goldenStart, UIURL: "http://localhost:8233/namespaces/default/workflows/" + id, Query: lifecycle.QueryStatus,
			Summary: "a static summary", EmployeeID: "E-01"}
		if status != "running" {
			s.CloseTime = &closed
		}
		return s
	}
	out := map[string]*workflowSnapshot{}

	s := base("onboarding-E-01", lifecycle.OnboardingWorkflowName, "onboarding", "running")
	s.Stage, s.State, s.ScheduledBy = lifecycle.StageBlocked, rawJSON(t, goldenOnboardingState), "nightly"
	s.Retrying = []retryingActivity{{Activity: "GrantEntitlement", Attempt: 3, LastFailure: "503", NextRetry: &next}, {Activity: "AssignAsset", Attempt: 2}}
	out["onboarding-running"] = s

	s = base("onboarding-E-02", lifecycle.OnboardingWorkflowName, "onboarding", "running")
	s.Stage, s.State = lifecycle.StagePlanning, rawJSON(t, lifecycle.OnboardingStatus{Stage: lifecycle.StagePlanning, StartDate: "2026-12-01"})
	out["onboarding-planning"] = s

	s = base("onboarding-E-03", lifecycle.OnboardingWorkflowName, "onboarding", "completed")
	s.Stage, s.Result = lifecycle.StageCompleted, rawJSON(t, goldenOnboardingResult)
	s.State = rawJSON(t, lifecycle.OnboardingStatus{Stage: lifecycle.StageCompleted, StartDate: "2026-12-01", UserID: 1002, RequestID: "REQ-7"})
	out["onboarding-completed"] = s

	s = base("onboarding-E-04", lifecycle.OnboardingWorkflowName, "onboarding", "running")
	s.Stage, s.DateLabel, s.Date = lifecycle.StageAccount, "Day one", "2026-12-03"
	s.StateError = "no worker polls task queue atomicflow, so the status query cannot be answered"
	out["onboarding-no-worker"] = s

	s = base("offboarding-E-01", lifecycle.OffboardingWorkflowName, "offboarding", "running")
	s.Stage, s.State = lifecycle.StageOffEscalated, rawJSON(t, goldenOffboardingState)
	out["offboarding-running"] = s

	s = base("offboarding-E-02", lifecycle.OffboardingWorkflowName, "offboarding", "running")
	s.Stage, s.State = lifecycle.StageOffPlanning, rawJSON(t, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffPlanning})
	out["offboarding-planning"] = s

	s = base("offboarding-E-03", lifecycle.OffboardingWorkflowName, "offboarding", "completed")
	s.Stage, s.Result = lifecycle.StageOffCompleted, rawJSON(t, goldenOffboardingResult)
	out["offboarding-completed"] = s

	s = base("asset-reassignment-b-1", lifecycle.ReassignmentWorkflowName, "reassignment", "running")
	s.Query, s.Summary, s.EmployeeID = lifecycle.QueryProgress, "Asset reassignment b-1 to stock", ""
	s.Stage, s.State = goldenProgress.Stage, rawJSON(t, goldenProgress)
	out["reassignment-running"] = s

	running := goldenProgress
	running.Stage, running.Paused, running.DryRun, running.Confirmed, running.Notes, running.Verifications, running.Unfinished =
		lifecycle.StageReassignRunning, false, false, true, nil, 0, 0
	s = base("asset-reassignment-b-2", lifecycle.ReassignmentWorkflowName, "reassignment", "running")
	s.Query, s.Stage, s.State = lifecycle.QueryProgress, running.Stage, rawJSON(t, running)
	out["reassignment-eta"] = s

	s = base("asset-reassignment-b-3", lifecycle.ReassignmentWorkflowName, "reassignment", "running")
	s.Query, s.Stage = lifecycle.QueryProgress, lifecycle.StageReassignPlanning
	s.State = rawJSON(t, lifecycle.ReassignmentProgress{Stage: lifecycle.StageReassignPlanning})
	out["reassignment-planning"] = s

	s = base("asset-reassignment-b-4", lifecycle.ReassignmentWorkflowName, "reassignment", "completed")
	s.Query, s.Result = lifecycle.QueryProgress, rawJSON(t, goldenReport)
	out["reassignment-completed"] = s

	s = base("nightly-reconciliation-2026-11-26T02:00:00Z", lifecycle.ReconciliationWorkflowName, "reconciliation", "running")
	s.Stage, s.ScheduledBy = lifecycle.StageReconFixing, lifecycle.NightlyReconciliationScheduleID
	s.State = json.RawMessage(`{"stage":"reconciliation.fixing","found":3,"fixed":1,"as_of":"2026-11-26T02:00:05Z","drift":[{"kind":"asset-of-leaver"}]}`)
	out["reconciliation-running"] = s

	s = base("reconciliation-by-hand", lifecycle.ReconciliationWorkflowName, "reconciliation", "completed")
	s.Result = rawJSON(t, goldenReconciliation)
	out["reconciliation-completed"] = s

	s = base("mystery-1", "Mystery", "", "completed")
	s.State = json.RawMessage(`{"stage":"x.y","count":2,"name":"n","nested":{"a":[1,2]},"long":"` + strings.Repeat("z", 250) + `"}`)
	s.Result = json.RawMessage(`{"ok":true,"items":[1,2,3]}`)
	out["unknown-kind"] = s

	s = base("mystery-2", "Mystery", "", "completed")
	s.State, s.Result = json.RawMessage(`"just a string"`), json.RawMessage(`[1,2]`)
	out["unknown-kind-scalars"] = s

	s = base("onboarding-E-05", lifecycle.OnboardingWorkflowName, "onboarding", "completed")
	s.State, s.Result = json.RawMessage(`{"stage":7}`), json.RawMessage(`{"outcome":["not","a","string"]}`)
	out["onboarding-undecodable"] = s

	s = base("offboarding-E-04", lifecycle.OffboardingWorkflowName, "offboarding", "failed")
	s.Stage, s.DateLabel, s.Date, s.Failure = lifecycle.StageOffRevoking, "Last day", "2026-12-23", "boom [ATOMICWORK_DOWN]"
	s.StateError = "the status query failed: context canceled"
	out["offboarding-failed"] = s

	s = base("onboarding-E-06", lifecycle.OnboardingWorkflowName, "onboarding", "completed")
	s.ResultError = "encrypted: " + codecKeysHint
	out["onboarding-encrypted"] = s
	return out
}

func TestGoldenStatus(t *testing.T) {
	for name, s := range goldenSnapshots(t) {
		t.Run(name, func(t *testing.T) {
			var text, js bytes.Buffer
			printSnapshot(&text, s)
			require.NoError(t, writeJSON(&js, s))
			golden(t, "status/"+name+".txt", text.String())
			golden(t, "status/"+name+".json", js.String())
		})
	}
}

func TestGoldenWatchFacts(t *testing.T) {
	for name, s := range goldenSnapshots(t) {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			for _, f := range factsOf(s) {
				fmt.Fprintf(&b, "%s | %s | %s\n", f.key, f.label, f.value)
			}
			golden(t, "facts/"+name+".txt", b.String())
		})
	}
}

// watchEnded prints how the run ended, its result, and exits non-zero unless it completed.
func TestGoldenWatchEnded(t *testing.T) {
	for name, s := range goldenSnapshots(t) {
		if s.running() {
			continue
		}
		t.Run(name, func(t *testing.T) {
			c := mocks.NewClient(t)
			run := mocks.NewWorkflowRun(t)
			var readErr error
			if len(s.Result) == 0 {
				readErr = errors.New("no result in this test")
			}
			run.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
				if readErr == nil {
					*args.Get(1).(*json.RawMessage) = s.Result
				}
			}).Return(readErr)
			c.On("GetWorkflow", mock.Anything, s.WorkflowID, s.RunID).Return(run)
			ended := *s
			ended.Result, ended.Failure, ended.ResultError = nil, "", ""
			var out bytes.Buffer
			err := watchEnded(context.Background(), &out, &connection{Client: c}, &ended)
			got := stripClock(out.String())
			if err != nil {
				got += "error: " + err.Error() + "\n"
			}
			golden(t, "watch-ended/"+name+".txt", got)
		})
	}
}

// stripClock drops printEvent's time of day.
func stripClock(s string) string {
	var b strings.Builder
	for l := range strings.Lines(s) {
		if len(l) > 10 && l[2] == ':' && l[5] == ':' && l[8:10] == "  " {
			l = "hh:mm:ss" + l[8:]
		}
		b.WriteString(l)
	}
	return b.String()
}

func TestGoldenStartAndSteerPrinters(t *testing.T) {
	ui := "http://localhost:8233/namespaces/default/workflows/"
	onState := goldenOnboardingState
	offState := goldenOffboardingState
	unknownLocal := goldenOffboardingState
	unknownLocal.ScheduledLocal = ""
	onResult, offResult := goldenOnboardingResult, goldenOffboardingResult
	cases := map[string]func(*bytes.Buffer){
		"onboard-started": func(b *bytes.Buffer) {
			printStarted(b, onboardResult{WorkflowID: "onboarding-E-01", RunID: "run-1", UIURL: ui + "onboarding-E-01"})
		},
		"onboard-already-running": func(b *bytes.Buffer) {
			printStarted(b, onboardResult{WorkflowID: "onboarding-E-01", RunID: "run-1", AlreadyRunning: true, State: &onState, UIURL: ui})
		},
		"onboard-already-complete": func(b *bytes.Buffer) {
			printStarted(b, onboardResult{WorkflowID: "onboarding-E-01", RunID: "run-1", AlreadyCompleted: true, UIURL: ui})
		},
		"onboard-result":    func(b *bytes.Buffer) { printResult(b, onboardResult{Result: &onResult}) },
		"onboard-no-result": func(b *bytes.Buffer) { printResult(b, onboardResult{}) },
		"onboarding-state":  func(b *bytes.Buffer) { printOnboardingState(b, onState) },
		"onboarding-state-planning": func(b *bytes.Buffer) {
			printOnboardingState(b, lifecycle.OnboardingStatus{Stage: lifecycle.StagePlanning, StartDate: "2026-12-01"})
		},
		"offboard-started": func(b *bytes.Buffer) {
			printOffboardStarted(b, offboardResult{WorkflowID: "offboarding-E-01", RunID: "run-1", State: &offState, UIURL: ui + "offboarding-E-01"})
		},
		"offboard-already-running": func(b *bytes.Buffer) {
			printOffboardStarted(b, offboardResult{WorkflowID: "offboarding-E-01", RunID: "run-1", AlreadyRunning: true, Update: lifecycle.UpdateReschedule, State: &unknownLocal, UIURL: ui})
		},
		"offboard-already-complete": func(b *bytes.Buffer) {
			printOffboardStarted(b, offboardResult{WorkflowID: "offboarding-E-01", RunID: "run-1", AlreadyCompleted: true, Result: &offResult, UIURL: ui})
		},
		"offboard-result":    func(b *bytes.Buffer) { printOffboardResult(b, &offResult) },
		"offboard-no-result": func(b *bytes.Buffer) { printOffboardResult(b, nil) },
		"offboarding-state-planning": func(b *bytes.Buffer) {
			printOffboardingState(b, lifecycle.OffboardingStatus{Stage: lifecycle.StageOffPlanning})
		},
		"reassign-report": func(b *bytes.Buffer) { printReassignReport(b, goldenReport) },
		"reassign-report-dry-run": func(b *bytes.Buffer) {
			r := goldenReport
			r.Outcome = lifecycle.OutcomeDryRun
			printReassignReport(b, r)
		},
		"reassign-report-completed": func(b *bytes.Buffer) {
			r := goldenReport
			r.Outcome, r.Reason, r.Failed, r.Failures, r.FailuresOmitted, r.NotProcessed, r.Notes = lifecycle.OutcomeCompleted, "", 0, nil, 0, 0, nil
			printReassignReport(b, r)
		},
		"reassign-plan": func(b *bytes.Buffer) {
			printPlan(b, lifecycle.ReassignmentProgress{Total: 302, Plan: &goldenReport.Plan})
		},
	}
	for name, print := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			print(&b)
			golden(t, "printers/"+name+".txt", b.String())
		})
	}
}

// The steering subcommands print the update's answer; with --json, the whole result.
func TestGoldenSteeringOutput(t *testing.T) {
	cases := map[string][]string{
		"offboard-reschedule":            {"offboard", "reschedule", "--employee-id", "E-01", "--last-day", "2099-01-02"},
		"offboard-reschedule-allow-past": {"offboard", "reschedule", "--employee-id", "E-01", "--last-day", "2020-01-02", "--allow-past"},
		"offboard-now":                   {"offboard", "now", "--employee-id", "E-01", "--reason", "left early"},
		"offboard-cancel":                {"offboard", "cancel", "--employee-id", "E-01"},
		"offboard-rehire":                {"offboard", "rehire", "--employee-id", "E-01", "--reason", "back"},
		"offboard-now-json":              {"offboard", "now", "--employee-id", "E-01", "--json"},
		"onboard-reschedule":             {"onboard", "reschedule", "--employee-id", "E-01", "--start-date", "2099-01-05"},
		"onboard-cancel":                 {"onboard", "cancel", "--employee-id", "E-01", "--reason", "offer withdrawn"},
		"onboard-retry-json":             {"onboard", "retry", "--employee-id", "E-01", "--json"},
		"reassign-pause":                 {"reassign", "pause", "--batch-id", "b-1", "--reason", "lunch"},
		"reassign-confirm-json":          {"reassign", "confirm", "--batch-id", "b-1", "--json"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			c := mocks.NewClient(t)
			steerable(c, 1)
			if args[1] == "reschedule" && args[0] == "offboard" {
				withHistory(t, c, lifecycle.OffboardingInput{EmployeeID: "E-01", TimeZone: "Europe/Paris"})
			}
			var answer any
			switch args[0] {
			case "offboard":
				answer = goldenOffboardingState
			case "onboard":
				answer = goldenOnboardingState
			default:
				answer = goldenProgress
			}
			expectUpdate(t, c, answer)
			r := runStarterAt(t, goldenStart, map[string]string{}, mockDial(c), args...)
			c.AssertCalled(t, "UpdateWorkflow", mock.Anything, mock.Anything)
			golden(t, "steer/"+name+".txt", fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr))
		})
	}
}

// TestGoldenHelp pins every command's help: usage, flags, texts and examples.
func TestGoldenHelp(t *testing.T) {
	var walk func(cmd *cobra.Command, path []string)
	walk = func(cmd *cobra.Command, path []string) {
		name := "starter"
		if len(path) > 0 {
			name = strings.Join(path, "_")
		}
		t.Run(name, func(t *testing.T) {
			r := runStarter(t, map[string]string{}, noDial(t), append(append([]string{}, path...), "--help")...)
			require.Equal(t, 0, r.code, r.stderr)
			golden(t, "help/"+name+".txt", r.stdout)
		})
		for _, sub := range cmd.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(newRootCmd(&app{lookup: func(string) (string, bool) { return "", false }}), nil)
}
