package hrevents

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specExample is the example of HR-EVENTS.md.
const specExample = `{
  "event_id": "evt_01J9Z3",
  "type": "employee.hired",
  "occurred_at": "2026-11-20T09:30:00Z",
  "employee": {
    "employee_id": "E-1042",
    "email": "ana.diaz@example.com",
    "first_name": "Ana",
    "last_name": "Diaz",
    "title": "Backend Engineer",
    "department": "Engineering",
    "manager_email": "bo.li@example.com",
    "timezone": "Europe/Berlin",
    "start_date": "2026-12-01",
    "last_working_day": null
  }
}`

func TestParseTheSpecExample(t *testing.T) {
	ev, err := Parse([]byte(specExample))
	require.NoError(t, err)
	assert.Equal(t, Event{
		ID: "evt_01J9Z3", Type: TypeHired, OccurredAt: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
		Employee: Employee{EmployeeID: "E-1042", Email: "ana.diaz@example.com", FirstName: "Ana", LastName: "Diaz",
			Title: "Backend Engineer", Department: "Engineering", ManagerEmail: "bo.li@example.com",
			TimeZone: "Europe/Berlin", StartDate: "2026-12-01"},
	}, ev)
	require.NoError(t, ev.OnboardingInput().Validate())
}

func TestParseNormalisesOccurredAtToUTC(t *testing.T) {
	ev, err := Parse([]byte(`{"event_id":"e","type":"employee.hire_cancelled","occurred_at":"2026-11-20T10:30:00+01:00","employee":{"employee_id":"E-1"}}`))
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC), ev.OccurredAt)
	assert.Equal(t, time.UTC, ev.OccurredAt.Location())
}

func TestOffboardingInputOfAnImmediateRevocation(t *testing.T) {
	ev := Event{Type: TypeAccessRevoked, Employee: Employee{EmployeeID: "E-1", Email: "a@example.com", TimeZone: "Pacific/Auckland"}}
	in := ev.OffboardingInput(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	assert.Equal(t, "2026-11-21", in.LastDay, "today where the employee is")
	assert.True(t, in.Immediate)
	ev.Type, ev.Employee.LastWorkingDay = TypeTerminated, "2026-12-18"
	in = ev.OffboardingInput(time.Now())
	assert.Equal(t, "2026-12-18", in.LastDay)
	assert.False(t, in.Immediate)
}
