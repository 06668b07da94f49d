package runs

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
)

// answering is an invoker that fills the reply as the frontend would.
func answering(fill func(reply any), err error) grpc.UnaryInvoker {
	return func(_ context.Context, _ string, _, reply any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
		fill(reply)
		return err
	}
}

func TestReportStartsTellsAStartedRunFromAReachedOne(t *testing.T) {
	start := func(started bool) func(any) {
		return func(reply any) { reply.(*workflowservice.StartWorkflowExecutionResponse).Started = started }
	}
	multi := func(started ...bool) func(any) {
		return func(reply any) {
			resp := reply.(*workflowservice.ExecuteMultiOperationResponse)
			for _, s := range started {
				resp.Responses = append(resp.Responses, &workflowservice.ExecuteMultiOperationResponse_Response{
					Response: &workflowservice.ExecuteMultiOperationResponse_Response_StartWorkflow{
						StartWorkflow: &workflowservice.StartWorkflowExecutionResponse{Started: s}}})
			}
		}
	}
	for _, tc := range []struct {
		name    string
		reply   any
		fill    func(any)
		reached bool
	}{
		{"start that started", &workflowservice.StartWorkflowExecutionResponse{}, start(true), false},
		{"start that reached a running run", &workflowservice.StartWorkflowExecutionResponse{}, start(false), true},
		{"Update-with-Start that started", &workflowservice.ExecuteMultiOperationResponse{}, multi(true), false},
		{"Update-with-Start repeated after it started", &workflowservice.ExecuteMultiOperationResponse{}, multi(false, true), false},
		{"Update-with-Start that reached a running run", &workflowservice.ExecuteMultiOperationResponse{}, multi(false), true},
		{"another call", &workflowservice.DescribeWorkflowExecutionResponse{}, func(any) {}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, report := withStartReport(context.Background())
			assert.NoError(t, ReportStarts(ctx, "m", nil, tc.reply, nil, answering(tc.fill, nil)))
			assert.Equal(t, tc.reached, report.reached())
		})
	}

	failed := errors.New("unavailable")
	ctx, report := withStartReport(context.Background())
	assert.Equal(t, failed, ReportStarts(ctx, "m", nil, &workflowservice.StartWorkflowExecutionResponse{}, nil, answering(start(false), failed)))
	assert.False(t, report.reached(), "a failed call reached nothing")
	assert.NoError(t, ReportStarts(context.Background(), "m", nil, &workflowservice.StartWorkflowExecutionResponse{}, nil, answering(start(false), nil)),
		"a call without a report passes")
}
