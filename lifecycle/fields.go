package lifecycle

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Field rules shared by every way in: the CLI (exit 2), the webhook (400 naming the field) and the
// workflow inputs (a non-retryable error). Each returns "" when the value is fine, or a sentence
// that names the field and says what to do.

// MaxEmployeeIDLen keeps ids, workflow ids and the UI summary (200 bytes) short.
const MaxEmployeeIDLen = 64

// MaxTextLen bounds names, titles and departments: they travel in every payload of a run.
const MaxTextLen = 256

// EmployeeIDProblem checks an HR employee id. It becomes part of workflow ids and search
// attributes, which are never encrypted: an opaque id of printable ASCII, not an email.
func EmployeeIDProblem(id string) string {
	switch {
	case id == "":
		return "employee id is empty: give the HR system's opaque id, e.g. E-1042"
	case len(id) > MaxEmployeeIDLen:
		return fmt.Sprintf("employee id is %d characters long: at most %d", len(id), MaxEmployeeIDLen)
	case strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
		return fmt.Sprintf("employee id %q must be printable ASCII without spaces", id)
	case strings.ContainsAny(id, "/@"):
		return fmt.Sprintf("employee id %q must be an opaque id (no '/' or '@')", id)
	}
	return ""
}

// TextProblem checks a name, title or department: at most MaxTextLen characters of valid UTF-8,
// no control characters. field names it in the answer ("first name", "title").
func TextProblem(field, value string) string {
	switch {
	case !utf8.ValidString(value):
		return field + " is not valid UTF-8"
	case utf8.RuneCountInString(value) > MaxTextLen:
		return fmt.Sprintf("%s is %d characters long: at most %d", field, utf8.RuneCountInString(value), MaxTextLen)
	case strings.IndexFunc(value, unicode.IsControl) >= 0:
		return field + " contains a control character (a newline, tab or similar): remove it"
	}
	return ""
}

// TimeZoneProblem checks an IANA time zone name; "" (UTC) is allowed. "Local" is refused: it is
// whatever zone the worker's host has, not the employee's.
func TimeZoneProblem(tz string) string {
	if tz == "" {
		return ""
	}
	if tz == "Local" || strings.TrimSpace(tz) != tz {
		return fmt.Sprintf("time zone %q is not an IANA zone such as Europe/Paris", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Sprintf("time zone %q is not an IANA zone such as Europe/Paris", tz)
	}
	return ""
}

// loadZone is the location of a checked zone name; "" is UTC.
func loadZone(tz string) (*time.Location, error) {
	if p := TimeZoneProblem(tz); p != "" {
		return nil, fmt.Errorf("%s", p)
	}
	if tz == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(tz)
}

// textProblems checks each named text field, in order.
func textProblems(fields ...[2]string) []string {
	var problems []string
	for _, f := range fields {
		if p := TextProblem(f[0], f[1]); p != "" {
			problems = append(problems, p)
		}
	}
	return problems
}

// IsEmail reports whether s has the form of an email address (local@domain, no spaces or '/').
func IsEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at >= 1 && at < len(s)-1 && len(s) <= MaxTextLen &&
		strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' }) < 0
}
