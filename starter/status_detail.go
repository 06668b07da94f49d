package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/converter"
)

// What status adds to a workflow's describe and query: the activities that keep failing, and
// plain words for encrypted payloads and slow workers.

// codecKeysHint is what to do when a payload or failure is encrypted and the keys are missing.
const codecKeysHint = "set ATOMICFLOW_CODEC_KEYS or ATOMICFLOW_CODEC_KEYS_FILE to the workers' keys (see .env.example) to read it"

// encodedFailure is the message the encrypting failure converter leaves in a failure's clear text.
const encodedFailure = "Encoded failure"

// isDeadline reports whether err is a deadline that expired, locally or on the server.
func isDeadline(err error) bool {
	var de *serviceerror.DeadlineExceeded
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &de)
}

// isEncrypted reports whether err is a payload this process has no codec for.
func isEncrypted(err error) bool { return errors.Is(err, converter.ErrEncodingIsNotSupported) }

// retryingActivity is a pending activity that has failed at least once: what it last said and
// when it tries again.
type retryingActivity struct {
	Activity    string     `json:"activity"`
	Attempt     int32      `json:"attempt"`
	LastFailure string     `json:"last_failure,omitempty"`
	NextRetry   *time.Time `json:"next_retry,omitempty"`
}

// retryingActivities reads the run's pending activities that are retrying, failure messages
// decrypted with the connection's keys when it has them.
func retryingActivities(ctx context.Context, conn *connection, id, runID string) []retryingActivity {
	desc, err := conn.DescribeWorkflowExecution(ctx, id, runID)
	if err != nil {
		return nil // informative only: the describe above already answered
	}
	dc := conn.dataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	var out []retryingActivity
	for _, pa := range desc.GetPendingActivities() {
		if pa.GetAttempt() <= 1 && pa.GetLastFailure() == nil {
			continue
		}
		r := retryingActivity{Activity: pa.GetActivityType().GetName(), Attempt: pa.GetAttempt()}
		if f := pa.GetLastFailure(); f != nil {
			converter.DecodeCommonFailureAttributes(dc, f)
			r.LastFailure = f.GetMessage()
			if r.LastFailure == encodedFailure {
				r.LastFailure = "encrypted: " + codecKeysHint
			}
		}
		if t := pa.GetNextAttemptScheduleTime(); t != nil {
			next := t.AsTime()
			r.NextRetry = &next
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Activity < out[j].Activity })
	return out
}

func retryLines(acts []retryingActivity) []line {
	out := make([]line, 0, len(acts))
	for _, r := range acts {
		v := fmt.Sprintf("%s, attempt %d", r.Activity, r.Attempt)
		if r.LastFailure != "" {
			v += ", last error: " + r.LastFailure
		}
		if r.NextRetry != nil {
			v += ", next try " + r.NextRetry.UTC().Format(time.RFC3339)
		}
		out = append(out, line{"Retrying", v})
	}
	return out
}

// slowQuery says why a query timed out although a worker polls: the worker is busy.
func slowQuery(query, queue string) string {
	return fmt.Sprintf("the %s query got no answer within %s although a worker polls task queue %s: the worker is busy "+
		"(or failing this workflow's tasks, or stopped a moment ago); retry in a moment, or look at the worker's logs", query, queryTimeout, queue)
}
