package main

import (
	"context"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Reading a run's settings from its history, so a command knows them without a worker: the
// input the latest run started with, and the start date accepted updates moved it to.

// decode reads payloads with the connection's converter (the workers' encryption keys).
func (c *connection) decode(what string, p *commonpb.Payloads, v any) error {
	dc := c.dataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	if err := dc.FromPayloads(p, v); err != nil {
		return fmt.Errorf("cannot read %s: %w (if its payloads are encrypted, set ATOMICFLOW_CODEC_KEYS or ATOMICFLOW_CODEC_KEYS_FILE as the worker does)", what, err)
	}
	return nil
}

// runInput decodes the input the latest run of workflowID started with (its first event).
func runInput(ctx context.Context, conn *connection, workflowID string, in any) error {
	it := conn.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return fmt.Errorf("%s has no history", workflowID)
	}
	ev, err := it.Next()
	if err != nil {
		return err
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil {
		return fmt.Errorf("the first event of %s is not its start", workflowID)
	}
	return conn.decode("the input of "+workflowID, attrs.GetInput(), in)
}

// currentStartDate is the start date of the latest onboarding run of workflowID: its input's,
// moved by each set_start_date update it accepted (its validator refuses the stale ones).
func currentStartDate(ctx context.Context, conn *connection, workflowID string) (string, error) {
	return currentDate(ctx, conn, workflowID, lifecycle.UpdateSetStartDate,
		func(in lifecycle.OnboardingInput) string { return in.StartDate },
		func(r lifecycle.SetStartDateRequest) (string, time.Time) { return r.StartDate, r.AsOf })
}

// currentLastDay is the last day of the latest offboarding run: its input's, moved by each
// reschedule it accepted.
func currentLastDay(ctx context.Context, conn *connection, workflowID string) (string, error) {
	return currentDate(ctx, conn, workflowID, lifecycle.UpdateReschedule,
		func(in lifecycle.OffboardingInput) string { return in.LastDay },
		func(r lifecycle.RescheduleRequest) (string, time.Time) { return r.LastDay, r.AsOf })
}

// currentDate scans the latest run's history: the date of its input, then of each accepted
// update named update, skipping those HR decided before the newest applied (as the workflow's
// newestIntent does: a zero AsOf always applies).
func currentDate[In, Req any](ctx context.Context, conn *connection, workflowID, update string, ofInput func(In) string, ofReq func(Req) (string, time.Time)) (string, error) {
	it := conn.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	date, newest := "", time.Time{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return "", err
		}
		if attrs := ev.GetWorkflowExecutionStartedEventAttributes(); attrs != nil {
			var in In
			if err := conn.decode("the input of "+workflowID, attrs.GetInput(), &in); err != nil {
				return "", err
			}
			date = ofInput(in)
		}
		upd := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput()
		if upd.GetName() != update {
			continue
		}
		var req Req
		if err := conn.decode("an update of "+workflowID, upd.GetArgs(), &req); err != nil {
			return "", err
		}
		d, asOf := ofReq(req)
		if !asOf.IsZero() {
			if asOf.Before(newest) {
				continue
			}
			newest = asOf
		}
		date = d
	}
	if date == "" {
		return "", fmt.Errorf("%s has no start event", workflowID)
	}
	return date, nil
}
