package lifecycle

// States of a leaver's grants and assets in OffboardingStatus and OffboardingResult.
const (
	GrantStateActive   = "active"
	GrantStateRevoking = "revoking"
	GrantStateRevoked  = "revoked"
	GrantStateFailed   = "failed"

	AssetStateAssigned   = "assigned"
	AssetStateReturned   = "returned"
	AssetStateReassigned = "reassigned"
	AssetStateGone       = "left the leaver"
)

// Atomicwork's grant statuses and revocation statuses (API-NOTES §5.6), as activities report them
// to workflows.
const (
	GrantStatusGranted = "GRANTED"
	GrantStatusRevoked = "REVOKED"
	GrantStatusExpired = "EXPIRED"

	RevocationInProgress = "IN_PROGRESS"
	RevocationCompleted  = "COMPLETED"
	RevocationFailed     = "FAILED"
)
