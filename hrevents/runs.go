package hrevents

import (
	"context"

	"github.com/atomicflow/atomicflow/runs"
)

// Runs is how routing reaches Temporal: Deliver starts or updates one workflow, Latest describes
// one's latest run. A new workflow or event type needs nothing more of it. runs.Temporal
// implements it (the starter wires it to its connection); tests use a fake.
type Runs interface {
	// Deliver carries d out, with runs.Temporal's answers: the run it reached, also with an
	// *runs.AlreadyRanError or a *runs.RejectedError; runs.ErrNotRunning for an update alone that
	// found no running run; runs.ErrUnavailable when Temporal could not be reached in time.
	Deliver(ctx context.Context, d runs.Delivery) (runs.Run, error)
	// Latest describes the latest run of workflowID: runs.ErrNotFound when there is none.
	Latest(ctx context.Context, workflowID string) (runs.RunInfo, error)
}
