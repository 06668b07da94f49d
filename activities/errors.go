package activities

import (
	"errors"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// Error types of the ApplicationErrors activities return. They are stable: workflows, retry
// policies and operators match on them.
const (
	ErrBadRequest    = "ATOMICWORK_BAD_REQUEST"   // 400/422: the input was rejected
	ErrUnauthorized  = "ATOMICWORK_UNAUTHORIZED"  // 401: the worker's key is wrong
	ErrForbidden     = "ATOMICWORK_FORBIDDEN"     // 403: the key lacks permission or workspace access
	ErrNotFound      = "ATOMICWORK_NOT_FOUND"     // 404
	ErrConflict      = "ATOMICWORK_CONFLICT"      // 409 that a re-read could not resolve
	ErrRateLimited   = "ATOMICWORK_RATE_LIMITED"  // 429: retried after Retry-After
	ErrUnavailable   = "ATOMICWORK_UNAVAILABLE"   // 5xx, network, timeouts, a write's unparseable answer: retried
	ErrPermanent     = "ATOMICWORK_PERMANENT"     // another permanent API answer
	ErrInvalidInput  = "INVALID_INPUT"            // the activity input itself is unusable
	ErrUnknownName   = "UNKNOWN_NAME"             // an entitlement, asset type or user the API does not know
	ErrNoWorkspace   = "NO_KEY_FOR_WORKSPACE"     // the worker holds no key for the workspace
	ErrUnknownUser   = "UNKNOWN_USER"             // an email with no Atomicwork user
	ErrStateConflict = "ATOMICWORK_STATE_CHANGED" // the API state moved under us; retry re-reads
	// ErrUnparseable: a 2xx answer to a read that did not decode, fetched twice: retrying cannot help.
	ErrUnparseable = "ATOMICWORK_UNPARSEABLE"
	// ErrIncompleteListing: a listing ended with fewer items than it announced: retried, never
	// taken as "there are no more".
	ErrIncompleteListing = "ATOMICWORK_INCOMPLETE_LISTING"
	// ErrEmployeeIDMismatch: the Atomicwork user found by email carries another HR employee id.
	// Nothing is written: adopting someone else's account would grant or revoke the wrong person.
	ErrEmployeeIDMismatch = "EMPLOYEE_ID_MISMATCH"
	// ErrAtomicworkAuth names the blocking condition of a lifecycle run whose API calls are refused
	// for the key (ErrUnauthorized or ErrForbidden): the run waits for the key to work again.
	ErrAtomicworkAuth = "ATOMICWORK_AUTH"
	// ErrNotConverging ends an offboarding whose leaver keeps being given access or devices back
	// faster than it removes them: an operator must find who does it (the request says what is held).
	ErrNotConverging = "OFFBOARDING_NOT_CONVERGING"
	// ErrAssetOrder: a list answer whose assets are not in ascending id order, or an API that
	// refuses to sort them so, which the keyset cursor of NextAssetPage relies on.
	ErrAssetOrder = "ATOMICWORK_ASSET_ORDER"
)

// IsKeyOrWorkspaceError reports error types about the worker's key or workspace, not one asset or user:
// every other call would fail alike, so a batch stops for an operator instead of going on.
func IsKeyOrWorkspaceError(errType string) bool {
	return errType == ErrUnauthorized || errType == ErrNoWorkspace
}

// toTemporal maps a client error to the error Temporal should see: permanent answers (a read's
// unparseable 2xx included) become non-retryable ApplicationErrors, 429s carry Retry-After as
// NextRetryDelay, everything else (an incomplete listing included) is retryable. It must be
// returned as is, never wrapped: wrapping drops NextRetryDelay and NonRetryable.
func toTemporal(err error) error {
	if err == nil {
		return nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr
	}
	msg := err.Error()
	switch atomicwork.Classify(err) {
	case atomicwork.Transient:
		if errors.Is(err, atomicwork.ErrIncompleteListing) {
			return temporal.NewApplicationError(msg, ErrIncompleteListing)
		}
		if atomicwork.IsRateLimited(err) {
			return temporal.NewApplicationErrorWithOptions(msg, ErrRateLimited,
				temporal.ApplicationErrorOptions{NextRetryDelay: atomicwork.RetryAfterOf(err)})
		}
		return temporal.NewApplicationError(msg, ErrUnavailable)
	case atomicwork.Canceled:
		return err
	}
	var nf *atomicwork.NotFoundError
	if errors.As(err, &nf) {
		return temporal.NewNonRetryableApplicationError(msg, ErrUnknownName, nil)
	}
	var decErr *atomicwork.DecodeError
	if errors.As(err, &decErr) {
		return temporal.NewNonRetryableApplicationError(msg, ErrUnparseable, nil)
	}
	return temporal.NewNonRetryableApplicationError(msg, permanentType(atomicwork.StatusOf(err)), nil)
}

func permanentType(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return ErrBadRequest
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case 0:
		return ErrInvalidInput
	}
	return ErrPermanent
}

// Retry delays of transient failures, from the attempts in a row that failed without progress
// (see progress.failed): the first retry after progress waits the base again, however many
// attempts came before, so that a step that gets further on each attempt is not left a minute
// behind by its earlier bad luck. Each further attempt without progress doubles the wait. A
// 429's Retry-After always wins.
const (
	// unavailableBase: a 5xx or a reset is most often one bad answer; the next one is fine. (The
	// keep-alive has already retried it within the attempt, and the server waits about a second
	// at least before any activity retry, measured: this asks for the soonest.)
	unavailableBase = 100 * time.Millisecond
	// unavailableMax caps it as the retry policies' MaximumInterval does (workflows/options.go):
	// an outage still backs off to once a minute.
	unavailableMax = time.Minute
	// A 429 without Retry-After did not say how long: 1 s, 2 s, 4 s, capped at 10 s, since the
	// worker's pacer, not this wait, is what slows the worker down.
	rateLimitedBase = time.Second
	rateLimitedMax  = 10 * time.Second
)

// retryDelay is the wait before the next attempt after stalls attempts in a row (1 or more)
// failed with a transient error of errType (ErrRateLimited or ErrUnavailable) without progress;
// retryAfter is the 429's Retry-After (0: none). Without jitter: the delays stay deterministic,
// and the workers' pacer spreads the load.
func retryDelay(errType string, retryAfter time.Duration, stalls int) time.Duration {
	if errType == ErrRateLimited && retryAfter > 0 {
		return retryAfter
	}
	d, limit := unavailableBase, unavailableMax
	if errType == ErrRateLimited {
		d, limit = rateLimitedBase, rateLimitedMax
	}
	for i := 1; i < stalls && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// transient reports a retryable failure of the API or the network (not a state conflict or a
// permanent answer), whose retry delay retryDelay sets.
func transient(err error) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.NonRetryable() {
		return false
	}
	return appErr.Type() == ErrRateLimited || appErr.Type() == ErrUnavailable
}

// withRetryDelay returns the transient failure err with its NextRetryDelay set by retryDelay.
// The error is rebuilt, not wrapped: Temporal reads the delay from the outermost error only.
func withRetryDelay(err error, stalls int) error {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(appErr.Message(), appErr.Type(), temporal.ApplicationErrorOptions{
		Cause:          errors.Unwrap(appErr),
		NextRetryDelay: retryDelay(appErr.Type(), appErr.NextRetryDelay(), stalls),
		Category:       appErr.Category(),
	})
}

// retryable is a failure of the given type that Temporal retries.
func retryable(errType, msg string) error {
	return temporal.NewApplicationError(msg, errType)
}

// nonRetryable is a permanent failure of the given type.
func nonRetryable(errType, msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, errType, nil)
}
