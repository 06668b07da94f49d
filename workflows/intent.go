package workflows

import "time"

// newestIntent orders date changes that HR decided at asOf: it reports whether the change applies
// and records asOf in *last when it does. HR events arrive out of order, so a change decided before
// the newest one applied so far is stale and changes nothing. A zero asOf (an operator's command)
// always applies and leaves the record alone.
func newestIntent(last *time.Time, asOf time.Time) bool {
	if asOf.IsZero() {
		return true
	}
	if asOf.Before(*last) {
		return false
	}
	*last = asOf
	return true
}
