// Package hrevents receives HR webhooks in atomicflow's generic format (HR-EVENTS.md): it
// verifies their signatures, parses and validates each into one Event type, and routes it to
// workflow starts and updates on the deterministic workflow ids. It knows Temporal only through
// the Temporal interface, which the starter implements.
package hrevents

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	_ "time/tzdata" // time zones are validated whatever the host has installed
	"unicode"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Event types of the generic source.
const (
	TypeHired                = "employee.hired"
	TypeUpdated              = "employee.updated"
	TypeHireCancelled        = "employee.hire_cancelled"
	TypeTerminated           = "employee.terminated"
	TypeTerminationChanged   = "employee.termination_changed"
	TypeTerminationCancelled = "employee.termination_cancelled"
	TypeAccessRevoked        = "employee.access_revoked_immediately"
	TypeRehired              = "employee.rehired"
)

// Types lists every event type, for metrics and documentation.
var Types = []string{TypeHired, TypeUpdated, TypeHireCancelled, TypeTerminated, TypeTerminationChanged,
	TypeTerminationCancelled, TypeAccessRevoked, TypeRehired}

// maxIDLength bounds event ids: they become update ids.
const maxIDLength = 200

// Event is one validated HR event.
type Event struct {
	ID         string    `json:"event_id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	Employee   Employee  `json:"employee"`
}

// Employee is the event's employee record. EmployeeID is the HR system's opaque id; the rest may
// be personal and is never logged.
type Employee struct {
	EmployeeID   string `json:"employee_id"`
	Email        string `json:"email"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Title        string `json:"title"`
	Department   string `json:"department"`
	ManagerEmail string `json:"manager_email"`
	TimeZone     string `json:"timezone"`
	StartDate    string `json:"start_date"`
	// LastWorkingDay is null in the JSON of most events.
	LastWorkingDay string `json:"last_working_day"`
}

// Parse reads and validates one event from the raw body. Its errors are *Problem (400) naming
// the field at fault; the event then carries only its type, when that is a known one (metrics).
func Parse(body []byte) (Event, error) {
	var raw struct {
		ID         string    `json:"event_id"`
		Type       string    `json:"type"`
		OccurredAt string    `json:"occurred_at"`
		Employee   *Employee `json:"employee"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Event{}, decodeProblem(err)
	}
	ev := Event{ID: raw.ID, Type: raw.Type}
	if err := checkID("event_id", raw.ID); err != nil {
		return Event{}, err
	}
	if raw.Type == "" {
		return Event{}, badRequest(CodeMissingField, "type is required")
	}
	if !known(raw.Type) {
		return Event{}, badRequest(CodeUnknownType, fmt.Sprintf("type %.60q is not one of %s", raw.Type, strings.Join(Types, ", ")))
	}
	typed := Event{Type: raw.Type}
	if raw.OccurredAt == "" {
		return typed, badRequest(CodeMissingField, "occurred_at is required: out-of-order events are ordered by it")
	}
	at, err := time.Parse(time.RFC3339, raw.OccurredAt)
	if err != nil {
		return typed, badRequest(CodeInvalidField, "occurred_at must be an RFC 3339 time such as 2026-11-20T09:30:00Z")
	}
	ev.OccurredAt = at.UTC()
	if raw.Employee == nil {
		return typed, badRequest(CodeMissingField, "employee is required")
	}
	ev.Employee = *raw.Employee
	if err := ev.validate(); err != nil {
		return typed, err
	}
	return ev, nil
}

// validate checks the employee record for the event's type. Each problem names its JSON field
// and never repeats the value (it may be personal, and the answer is logged). Fields a type does
// not use are not checked: a termination is not refused for a title it ignores.
func (ev Event) validate() error {
	e := ev.Employee
	if err := checkEmployeeID(e.EmployeeID); err != nil {
		return err
	}
	if p := lifecycle.TimeZoneProblem(e.TimeZone); p != "" {
		return badRequest(CodeInvalidField, "employee.timezone: "+p)
	}
	for _, d := range []struct{ field, value string }{{"employee.start_date", e.StartDate}, {"employee.last_working_day", e.LastWorkingDay}} {
		if _, err := time.Parse(time.DateOnly, d.value); d.value != "" && err != nil {
			return badRequest(CodeInvalidField, d.field+" must be a date in the form YYYY-MM-DD")
		}
	}
	var required []string
	switch ev.Type {
	case TypeHired, TypeRehired:
		required = []string{"email", "first_name", "start_date"}
	case TypeTerminated, TypeTerminationChanged:
		required = []string{"email", "last_working_day"}
	case TypeAccessRevoked:
		required = []string{"email"}
	}
	for _, name := range required {
		if strings.TrimSpace(e.field(name)) == "" {
			return badRequest(CodeMissingField, fmt.Sprintf("employee.%s is required for %s", name, ev.Type))
		}
	}
	if err := ev.checkUsedFields(); err != nil {
		return err
	}
	// The workflow inputs' own checks are the last word.
	var err error
	switch ev.Type {
	case TypeHired, TypeRehired:
		err = ev.OnboardingInput().Validate()
	case TypeTerminated, TypeTerminationChanged, TypeAccessRevoked:
		err = ev.OffboardingInput(ev.OccurredAt).Validate()
	}
	if err != nil {
		return badRequest(CodeInvalidField, "employee: "+err.Error())
	}
	return nil
}

// checkUsedFields checks the emails and texts the event's type carries into a workflow, with the
// workflow inputs' rules (lifecycle.IsEmail, lifecycle.TextProblem).
func (ev Event) checkUsedFields() error {
	e := ev.Employee
	var emails, texts [][2]string
	switch ev.Type {
	case TypeHired, TypeRehired:
		emails = [][2]string{{"employee.email", e.Email}, {"employee.manager_email", e.ManagerEmail}}
		texts = [][2]string{{"employee.first_name", e.FirstName}, {"employee.last_name", e.LastName},
			{"employee.title", e.Title}, {"employee.department", e.Department}}
	case TypeTerminated, TypeTerminationChanged, TypeAccessRevoked:
		emails = [][2]string{{"employee.email", e.Email}}
	}
	for _, f := range emails {
		if f[1] != "" && !lifecycle.IsEmail(f[1]) {
			return badRequest(CodeInvalidField, fmt.Sprintf("%s is not an email address (local@domain, without spaces, at most %d characters)", f[0], lifecycle.MaxTextLen))
		}
	}
	for _, f := range texts {
		if p := lifecycle.TextProblem(f[0], f[1]); p != "" {
			return badRequest(CodeInvalidField, p)
		}
	}
	return nil
}

func (e Employee) field(name string) string {
	switch name {
	case "email":
		return e.Email
	case "first_name":
		return e.FirstName
	case "start_date":
		return e.StartDate
	case "last_working_day":
		return e.LastWorkingDay
	}
	return ""
}

// OnboardingInput is the onboarding a hire (or a rehire) starts.
func (ev Event) OnboardingInput() lifecycle.OnboardingInput {
	e := ev.Employee
	return lifecycle.OnboardingInput{
		EmployeeID: e.EmployeeID, Email: e.Email, FirstName: e.FirstName, LastName: e.LastName,
		Title: e.Title, Department: e.Department, ManagerEmail: e.ManagerEmail,
		TimeZone: e.TimeZone, StartDate: e.StartDate,
	}
}

// OffboardingInput is the offboarding a termination starts. An immediate revocation without a
// last working day gets today's date in the employee's zone at now.
func (ev Event) OffboardingInput(now time.Time) lifecycle.OffboardingInput {
	e := ev.Employee
	in := lifecycle.OffboardingInput{EmployeeID: e.EmployeeID, Email: e.Email, LastDay: e.LastWorkingDay,
		TimeZone: e.TimeZone, Immediate: ev.Type == TypeAccessRevoked}
	if in.LastDay == "" {
		loc, _ := time.LoadLocation(e.TimeZone) // validated; "" is UTC
		in.LastDay = now.In(loc).Format(time.DateOnly)
	}
	return in
}

// checkID requires an opaque event id: it becomes an update id, and is logged.
func checkID(field, id string) error {
	switch {
	case id == "":
		return badRequest(CodeMissingField, field+" is required")
	case len(id) > maxIDLength:
		return badRequest(CodeInvalidField, fmt.Sprintf("%s is longer than %d bytes", field, maxIDLength))
	case strings.ContainsAny(id, "/@") || strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0:
		return badRequest(CodeInvalidField, field+" must be an opaque id: no spaces, control characters, '/' or '@'")
	}
	return nil
}

// checkEmployeeID applies lifecycle.EmployeeIDProblem, the rule of workflow ids, without
// repeating the id: one that breaks the rule may be an email.
func checkEmployeeID(id string) error {
	const field = "employee.employee_id"
	switch {
	case id == "":
		return badRequest(CodeMissingField, field+" is required")
	case lifecycle.EmployeeIDProblem(id) == "":
		return nil
	case len(id) > lifecycle.MaxEmployeeIDLen:
		return badRequest(CodeInvalidField, fmt.Sprintf("%s is %d characters long: at most %d", field, len(id), lifecycle.MaxEmployeeIDLen))
	}
	return badRequest(CodeInvalidField, field+" must be the HR system's opaque id, such as E-1042: printable ASCII without spaces, '/' or '@'")
}

func known(t string) bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

// decodeProblem describes a body that does not decode, by field or position only: the body may
// hold personal data, and the message is logged.
func decodeProblem(err error) *Problem {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		want := "JSON object"
		if typeErr.Type.Kind() == reflect.String {
			want = "string"
		}
		return badRequest(CodeInvalidField, fmt.Sprintf("%s must be a %s", typeErr.Field, want))
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return badRequest(CodeMalformedJSON, fmt.Sprintf("the body is not valid JSON (syntax error at byte %d)", syntax.Offset))
	}
	return badRequest(CodeMalformedJSON, "the body must be a JSON object")
}
