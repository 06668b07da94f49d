package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	updatepb "go.temporal.io/api/update/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// runStarterAt is runStarter with the clock fixed at now.
func runStarterAt(t *testing.T, now time.Time, env map[string]string, dial dialFunc, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env["TEMPORAL_CONFIG_FILE"] = t.TempDir() + "/absent.toml"
	a := &app{stdout: &stdout, stderr: &stderr, dial: dial, now: func() time.Time { return now },
		lookup: func(name string) (string, bool) { v, ok := env[name]; return v, ok }}
	code := execute(context.Background(), args, a)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// steerable makes c describe workflowID as a running workflow on queue "atomicflow", polled by
// pollers workers.
func steerable(c *mocks.Client, pollers int) {
	c.On("DescribeWorkflowExecution", mock.Anything, mock.Anything, "").Return(&workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, TaskQueue: "atomicflow"},
	}, nil)
	resp := &workflowservice.DescribeTaskQueueResponse{}
	for range pollers {
		resp.Pollers = append(resp.Pollers, &taskqueuepb.PollerInfo{Identity: "worker@host", LastAccessTime: timestamppb.Now()})
	}
	c.On("DescribeTaskQueue", mock.Anything, "atomicflow", enumspb.TASK_QUEUE_TYPE_WORKFLOW).Return(resp, nil)
}

// withHistory makes c return a history whose start event carries input, then events.
func withHistory(t *testing.T, c *mocks.Client, input any, events ...*historypb.HistoryEvent) {
	p, err := converter.GetDefaultDataConverter().ToPayloads(input)
	require.NoError(t, err)
	all := append([]*historypb.HistoryEvent{{
		EventType:  enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{Input: p}},
	}}, events...)
	c.On("GetWorkflowHistory", mock.Anything, mock.Anything, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT).Return(func(context.Context, string, string, bool, enumspb.HistoryEventFilterType) client.HistoryEventIterator {
		it := &sliceIterator{events: all}
		return it
	})
}

type sliceIterator struct{ events []*historypb.HistoryEvent }

func (s *sliceIterator) HasNext() bool { return len(s.events) > 0 }
func (s *sliceIterator) Next() (*historypb.HistoryEvent, error) {
	ev := s.events[0]
	s.events = s.events[1:]
	return ev, nil
}

// acceptedUpdate is the history event of an accepted update name(arg).
func acceptedUpdate(t *testing.T, name string, arg any) *historypb.HistoryEvent {
	p, err := converter.GetDefaultDataConverter().ToPayloads(arg)
	require.NoError(t, err)
	return &historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionUpdateAcceptedEventAttributes{WorkflowExecutionUpdateAcceptedEventAttributes: &historypb.WorkflowExecutionUpdateAcceptedEventAttributes{
			AcceptedRequest: &updatepb.Request{Input: &updatepb.Input{Name: name, Args: p}}}},
	}
}

func TestSteeringWithoutAWorkerSendsNothingAndSaysSo(t *testing.T) {
	for _, args := range [][]string{
		{"offboard", "cancel", "--employee-id", "E-01", "--reason", "withdrawn"},
		{"offboard", "now", "--employee-id", "E-01"},
		{"offboard", "rehire", "--employee-id", "E-01"},
		{"onboard", "cancel", "--employee-id", "E-01", "--reason", "offer withdrawn"},
		{"onboard", "reschedule", "--employee-id", "E-01", "--start-date", "2099-01-05"},
		{"reassign", "pause", "--batch-id", "b1"},
		{"reassign", "resume", "--batch-id", "b1"},
		{"reassign", "cancel", "--batch-id", "b1"},
		{"reassign", "confirm", "--batch-id", "b1"},
	} {
		t.Run(joinArgs(args), func(t *testing.T) {
			c := mocks.NewClient(t) // UpdateWorkflow is not expected: it fails the test if called
			steerable(c, 0)
			c.On("Close").Return()
			r := runStarter(t, map[string]string{}, mockDial(c), args...)
			assert.Equal(t, 1, r.code, r.stderr)
			assert.Contains(t, r.stderr, "no worker polls task queue atomicflow: nothing was sent; start a worker and retry")
			assert.NotContains(t, r.stderr, "failed")
		})
	}
}

func TestSteeringTimeoutSaysTheRequestMayStillApply(t *testing.T) {
	c := mocks.NewClient(t)
	steerable(c, 1)
	c.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(func(ctx context.Context, _ client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
		<-ctx.Done() // the worker never accepts
		return nil, ctx.Err()
	})
	c.On("Close").Return()
	r := runStarter(t, map[string]string{}, mockDial(c), "offboard", "cancel", "--employee-id", "E-01", "--timeout", "50ms")
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Contains(t, r.stderr, "cancel was sent to offboarding-E-01, which did not accept it within 50ms")
	assert.Contains(t, r.stderr, "it may still apply when a worker gets to it; check with: starter status offboarding-E-01")
	assert.NotContains(t, r.stderr, "failed")
}

func TestSteeringSendsWithoutAWorkerWhenAsked(t *testing.T) {
	c := mocks.NewClient(t)
	steerable(c, 0)
	var opts client.UpdateWorkflowOptions
	c.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(func(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
		opts = o
		<-ctx.Done()
		return nil, ctx.Err()
	})
	c.On("Close").Return()
	r := runStarter(t, map[string]string{}, mockDial(c), "reassign", "pause", "--batch-id", "b1", "--timeout", "50ms", "--send-without-worker")
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Equal(t, lifecycle.UpdatePause, opts.UpdateName)
	assert.Equal(t, client.WorkflowUpdateStageAccepted, opts.WaitForStage)
	assert.Contains(t, r.stderr, "No worker polls task queue atomicflow: sending pause anyway; it applies when a worker returns.")
	assert.Contains(t, r.stderr, "it may still apply")
}

func TestSteeringAClosedWorkflowSendsNothing(t *testing.T) {
	c := mocks.NewClient(t)
	c.On("DescribeWorkflowExecution", mock.Anything, "offboarding-E-01", "").Return(&workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, TaskQueue: "atomicflow"},
	}, nil)
	c.On("Close").Return()
	r := runStarter(t, map[string]string{}, mockDial(c), "offboard", "now", "--employee-id", "E-01")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "offboarding-E-01 is completed, not running: nothing to revoke_now; nothing was sent")
}

func TestOffboardWithoutAnAnswerSaysItWasSent(t *testing.T) {
	c := mocks.NewClient(t)
	c.On("NewWithStartWorkflowOperation", mock.Anything, lifecycle.OffboardingWorkflowName, mock.Anything).Return(withStartOp{})
	c.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(func(ctx context.Context, _ client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
		<-ctx.Done() // no worker answers
		return nil, ctx.Err()
	})
	c.On("Close").Return()
	r := runStarter(t, map[string]string{}, mockDial(c), offboardWith("--timeout", "50ms")...)
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Contains(t, r.stderr, "the offboarding offboarding-E-01 (with reschedule) was sent, but no worker answered within 50ms: it applies when a worker gets to it")
	assert.NotContains(t, r.stderr, "failed")
}

func TestSteeringTreatsAWorkerGoneForMinutesAsNone(t *testing.T) {
	c := mocks.NewClient(t) // no UpdateWorkflow: nothing may be sent
	c.On("DescribeWorkflowExecution", mock.Anything, "offboarding-E-01", "").Return(&workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, TaskQueue: "atomicflow"},
	}, nil)
	c.On("DescribeTaskQueue", mock.Anything, "atomicflow", enumspb.TASK_QUEUE_TYPE_WORKFLOW).Return(&workflowservice.DescribeTaskQueueResponse{
		Pollers: []*taskqueuepb.PollerInfo{{Identity: "worker@host", LastAccessTime: timestamppb.New(time.Now().Add(-3 * time.Minute))}},
	}, nil)
	c.On("Close").Return()
	r := runStarter(t, map[string]string{}, mockDial(c), "offboard", "cancel", "--employee-id", "E-01")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Regexp(t, `no worker polls task queue atomicflow \(the last one polled 3m\d+s ago\): nothing was sent`, r.stderr)
}
