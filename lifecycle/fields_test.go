package lifecycle

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFieldRules(t *testing.T) {
	long := strings.Repeat("a", MaxTextLen+1)
	cases := []struct {
		name    string
		problem string
		want    string // "" means fine; otherwise a part of the problem
	}{
		{"opaque id", EmployeeIDProblem("E-1042"), ""},
		{"64-character id", EmployeeIDProblem(strings.Repeat("x", MaxEmployeeIDLen)), ""},
		{"empty id", EmployeeIDProblem(""), "employee id is empty"},
		{"65-character id", EmployeeIDProblem(strings.Repeat("x", MaxEmployeeIDLen+1)), "at most 64"},
		{"id with a slash", EmployeeIDProblem("E/1"), "no '/'"},
		{"id that is an email", EmployeeIDProblem("ada@example.com"), "no '/' or '@'"},
		{"id with a space", EmployeeIDProblem("E 1"), "printable ASCII"},
		{"id with a newline", EmployeeIDProblem("E-1\n"), "printable ASCII"},
		{"id with non-ASCII", EmployeeIDProblem("É-1"), "printable ASCII"},
		{"name", TextProblem("first name", "Zoë"), ""},
		{"256 characters", TextProblem("title", strings.Repeat("é", MaxTextLen)), ""},
		{"257 characters", TextProblem("title", long), "title is 257 characters long: at most 256"},
		{"control character", TextProblem("department", "IT\x00"), "department contains a control character"},
		{"newline", TextProblem("last name", "Lovelace\nInjected"), "control character"},
		{"invalid UTF-8", TextProblem("first name", "\xff"), "not valid UTF-8"},
		{"IANA zone", TimeZoneProblem("Europe/Paris"), ""},
		{"no zone (UTC)", TimeZoneProblem(""), ""},
		{"Local", TimeZoneProblem("Local"), `"Local" is not an IANA zone`},
		{"made-up zone", TimeZoneProblem("Mars/Olympus"), "not an IANA zone"},
		{"zone with spaces", TimeZoneProblem(" UTC"), "not an IANA zone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.want == "" {
				assert.Empty(t, c.problem)
				return
			}
			assert.Contains(t, c.problem, c.want)
		})
	}
}

func TestInputsRefuseWhatCanNeverSucceed(t *testing.T) {
	on := OnboardingInput{EmployeeID: "E-1", Email: "ada@example.com", FirstName: "Ada", StartDate: "2026-12-01"}
	assert.NoError(t, on.Validate())
	bad := on
	bad.Title, bad.TimeZone = strings.Repeat("t", MaxTextLen+1), "Local"
	err := bad.Validate()
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "title is 257 characters long")
		assert.Contains(t, err.Error(), `time zone "Local"`)
	}
	off := OffboardingInput{EmployeeID: "E-1", Email: "ada@example.com", LastDay: "2026-12-01", TimeZone: "Local"}
	if err := off.Validate(); assert.Error(t, err) {
		assert.Contains(t, err.Error(), `time zone "Local"`)
	}
}
