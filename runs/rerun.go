package runs

import "github.com/atomicflow/atomicflow/lifecycle"

// The rerun rules: when a completed run may be followed by a new run of its id (Start.Again).
// Temporal's reuse policy already lets a failed, terminated or timed-out run be followed; a
// completed one is, by the outcome its result carries, only when a new run does not repeat what
// it did. Who asks (an operator, an HR event delivered late) may add conditions of its own.

// OnboardingMayRunAgain says whether a new hire's onboarding may follow a completed onboarding
// with outcome: only a cancelled hire provisioned nothing for good. (A rehire onboards again
// whatever the outcome: the employee left in between.)
func OnboardingMayRunAgain(outcome string) bool {
	return outcome == lifecycle.OutcomeCancelled
}

// OffboardingMayRunAgain says whether a new departure's offboarding may follow a completed
// offboarding with outcome: its employee stayed (the termination was cancelled) or came back
// during the grace period (rehired). After a completed offboarding only a Boomerang is offboarded
// again.
func OffboardingMayRunAgain(outcome string) bool {
	return outcome == lifecycle.OutcomeCancelled || outcome == lifecycle.OutcomeRehired
}

// Boomerang says whether the employee of the closed offboarding off was rehired since: the latest
// onboarding run on (zero when none ran) started after off closed. A boomerang who leaves again
// is offboarded again.
func Boomerang(off, on RunInfo) bool {
	return on.StartedAt.After(off.ClosedAt)
}
