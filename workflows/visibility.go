package workflows

import (
	"strconv"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// publishStage upserts the lifecycle stage and the ids known so far as search attributes, so
// Temporal UI and `starter list` can filter runs. Ids only: search attributes are never encrypted.
func publishStage(ctx workflow.Context, logger log.Logger, employeeID, stage string, userID int64, requestID string) {
	updates := []temporal.SearchAttributeUpdate{lifecycle.EmployeeIDKey.ValueSet(employeeID), lifecycle.LifecycleStageKey.ValueSet(stage)}
	if userID != 0 {
		updates = append(updates, lifecycle.AtomicworkUserIDKey.ValueSet(strconv.FormatInt(userID, 10)))
	}
	if requestID != "" {
		updates = append(updates, lifecycle.AtomicworkRequestKey.ValueSet(requestID))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		logger.Warn("Search attributes not updated", "Error", err)
	}
}
