package hrevents

import "net/http"

// Problem is a delivery the receiver refuses, answered with Status and the JSON envelope
// {"error": Message, "code": Code}. Messages name the field at fault and never repeat a value
// that could be personal (an email, a name), since they are logged too.
type Problem struct {
	Status  int
	Code    string
	Message string
}

func (p *Problem) Error() string { return p.Message }

// Error codes of the envelope.
const (
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBodyTooLarge     = "body_too_large"
	CodeUnreadableBody   = "unreadable_body"
	CodeMissingSignature = "missing_signature"
	CodeInvalidTimestamp = "invalid_timestamp"
	CodeStaleTimestamp   = "stale_timestamp"
	CodeInvalidSignature = "invalid_signature"
	CodeMalformedJSON    = "malformed_json"
	CodeUnknownType      = "unknown_type"
	CodeMissingField     = "missing_field"
	CodeInvalidField     = "invalid_field"
	CodeNotStartedYet    = "not_started_yet"
	// CodeEventIDReused (409): the event id was answered before for another event. Upper case,
	// as the issue and HR integrators name it.
	CodeEventIDReused        = "EVENT_ID_REUSED"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeTemporalDown         = "temporal_unavailable"
	CodeTemporalError        = "temporal_error"
)

func badRequest(code, msg string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: code, Message: msg}
}

func unauthorized(code, msg string) *Problem {
	return &Problem{Status: http.StatusUnauthorized, Code: code, Message: msg}
}
