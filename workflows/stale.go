package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// staleChange refuses, in a date update's validator, an HR change decided at asOf before the
// newest one applied (last): newestIntent would ignore it, and refusing it with lifecycle.ErrStaleChange
// lets the webhook answer "ignored" instead of "applied". A zero asOf (an operator's command)
// always passes. It reads state only, as validators must.
func staleChange(last, asOf time.Time) error {
	if asOf.IsZero() || !asOf.Before(last) {
		return nil
	}
	return temporal.NewApplicationError(fmt.Sprintf("HR decided a newer change at %s: this one (%s) changes nothing",
		last.UTC().Format(time.RFC3339), asOf.UTC().Format(time.RFC3339)), lifecycle.ErrStaleChange)
}
