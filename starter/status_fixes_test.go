package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/mocks"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/atomicflow/atomicflow/lifecycle"
)

func printed(t *testing.T, s *workflowSnapshot) string {
	var b bytes.Buffer
	printSnapshot(&b, s)
	return b.String()
}

func snapshotOf(t *testing.T, kind string, state any) *workflowSnapshot {
	raw, err := json.Marshal(state)
	require.NoError(t, err)
	return &workflowSnapshot{WorkflowID: "w", Kind: kind, Status: "running", State: raw, Summary: "Offboarding E-01 · last day 2026-12-18 UTC"}
}

func TestStatusOfARescheduledOffboardingShowsTheNewDateOnly(t *testing.T) {
	at := time.Date(2026, 12, 23, 18, 0, 0, 0, time.UTC)
	out := printed(t, snapshotOf(t, "offboarding", lifecycle.OffboardingStatus{Stage: lifecycle.StageOffScheduled,
		ScheduledAt: at, ScheduledLocal: "2026-12-23 18:00 UTC"}))
	assert.Regexp(t, `Access ends:\s+2026-12-23 18:00 UTC \(UTC\) = 2026-12-23T18:00:00Z`, out)
	assert.NotContains(t, out, "2026-12-18", "the static summary's date, from before the reschedule")
}

func TestStatusWhileTheOffboardingPlans(t *testing.T) {
	out := printed(t, snapshotOf(t, "offboarding", lifecycle.OffboardingStatus{Stage: lifecycle.StageOffPlanning}))
	assert.Regexp(t, `Access:\s+planning \(not known yet\)`, out)
	assert.Regexp(t, `Assets:\s+planning \(not known yet\)`, out)
	assert.NotContains(t, out, "Access:       none")

	out = printed(t, snapshotOf(t, "offboarding", lifecycle.OffboardingStatus{Stage: lifecycle.StageOffScheduled}))
	assert.Regexp(t, `Access:\s+none\n`, out, "planned: nothing to revoke is none")

	out = printed(t, snapshotOf(t, "reassignment", lifecycle.ReassignmentProgress{Stage: lifecycle.StageReassignPlanning}))
	assert.Regexp(t, `Progress:\s+planning \(not known yet\)`, out)
}

func TestStatusOfAPausedBatchShowsNoETA(t *testing.T) {
	p := lifecycle.ReassignmentProgress{Stage: lifecycle.StageReassignPaused, Total: 100, Done: 40, Remaining: 60, Rate: 5,
		ETASeconds: 12, Paused: true, PauseReason: "lunch"}
	out := printed(t, snapshotOf(t, "reassignment", p))
	assert.Regexp(t, `Rate:\s+5.0 assets/s\n`, out)
	assert.NotContains(t, out, "left")
	assert.NotContains(t, describe(p), "ETA")
	assert.Contains(t, describe(p), "PAUSED: lunch")

	p.Paused, p.Stage = false, lifecycle.StageReassignRunning
	assert.Contains(t, printed(t, snapshotOf(t, "reassignment", p)), "about 12s left")
	assert.Contains(t, describe(p), "ETA 12s")
}

func TestStatusShowsHeldAndBlocked(t *testing.T) {
	out := printed(t, snapshotOf(t, "offboarding", lifecycle.OffboardingStatus{Stage: lifecycle.StageOffHeld,
		Hold: "HR last day 2025-10-01 is 62 days in the past"}))
	assert.Regexp(t, `Stage:\s+offboarding.held\n`, out)
	assert.Regexp(t, `Held:\s+HR last day 2025-10-01 is 62 days in the past \(nothing is revoked until starter offboard now, or cancel\)`, out)

	out = printed(t, snapshotOf(t, "offboarding", lifecycle.OffboardingStatus{Stage: lifecycle.StageOffBlocked, Blocked: "ATOMICWORK_AUTH: 401 for workspace 1"}))
	assert.Regexp(t, `Blocked:\s+ATOMICWORK_AUTH: 401 for workspace 1\n`, out)

	out = printed(t, snapshotOf(t, "onboarding", lifecycle.OnboardingStatus{Stage: lifecycle.StageBlocked, Blocked: "ATOMICWORK_AUTH: 403"}))
	assert.Regexp(t, `Stage:\s+onboarding.blocked\n`, out)
	assert.Regexp(t, `Blocked:\s+ATOMICWORK_AUTH: 403\n`, out)
}

func TestStatusOfASlowQueryOnABusyWorker(t *testing.T) {
	c := mocks.NewClient(t)
	c.On("DescribeTaskQueue", mock.Anything, "atomicflow", enumspb.TASK_QUEUE_TYPE_WORKFLOW).Return(
		&workflowservice.DescribeTaskQueueResponse{Pollers: []*taskqueuepb.PollerInfo{{Identity: "worker@host", LastAccessTime: timestamppb.Now()}}}, nil)
	c.On("QueryWorkflow", mock.Anything, "w", "r", lifecycle.QueryStatus).Return(nil, context.DeadlineExceeded)
	_, why := queryState(context.Background(), &connection{Client: c}, &workflowSnapshot{WorkflowID: "w", RunID: "r", TaskQueue: "atomicflow", Query: lifecycle.QueryStatus})
	assert.Contains(t, why, "the status query got no answer within 10s although a worker polls task queue atomicflow: the worker is busy")
	assert.NotContains(t, why, "worker running?")
}

func TestStatusOfAWorkerGoneForMinutesDoesNotQuery(t *testing.T) {
	c := mocks.NewClient(t) // no QueryWorkflow: it would wait for the gone worker
	c.On("DescribeTaskQueue", mock.Anything, "atomicflow", enumspb.TASK_QUEUE_TYPE_WORKFLOW).Return(
		&workflowservice.DescribeTaskQueueResponse{Pollers: []*taskqueuepb.PollerInfo{{Identity: "worker@host", LastAccessTime: timestamppb.New(time.Now().Add(-5 * time.Minute))}}}, nil)
	_, why := queryState(context.Background(), &connection{Client: c}, &workflowSnapshot{WorkflowID: "w", RunID: "r", TaskQueue: "atomicflow", Query: lifecycle.QueryStatus})
	assert.Regexp(t, `no worker polls task queue atomicflow \(the last one polled 5m\d+s ago\), so the status query cannot be answered`, why)
}

func TestStatusWithoutAWorkerReadsTheCurrentDateFromHistory(t *testing.T) {
	c := mocks.NewClient(t)
	hr := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	withHistory(t, c, lifecycle.OffboardingInput{EmployeeID: "E-01", LastDay: "2026-12-18"},
		acceptedUpdate(t, lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-12-23", AsOf: hr}),
		acceptedUpdate(t, lifecycle.UpdateRevokeNow, lifecycle.RevokeNowRequest{}),
		// decided by HR before the one applied: the workflow ignores it, so does status
		acceptedUpdate(t, lifecycle.UpdateReschedule, lifecycle.RescheduleRequest{LastDay: "2026-12-01", AsOf: hr.Add(-time.Hour)}))
	label, date := offboardingKind.historyDate(context.Background(), &connection{Client: c}, "offboarding-E-01")
	assert.Equal(t, "Last day", label)
	assert.Equal(t, "2026-12-23", date)

	s := &workflowSnapshot{WorkflowID: "offboarding-E-01", Kind: "offboarding", Status: "running", Stage: lifecycle.StageOffScheduled,
		Summary: "Offboarding E-01 · last day 2026-12-18 UTC", DateLabel: label, Date: date, StateError: "no worker polls task queue q"}
	out := printed(t, s)
	assert.Regexp(t, `Last day:\s+2026-12-23 \(from its history\)`, out)
	assert.NotContains(t, out, "2026-12-18")
}
