package atomicworktest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// record is a test subject for the filter engine.
type record struct {
	name   string
	id     int64
	at     *time.Time
	status string
}

var testAttrs = attrs[record]{
	"name": {kind: textAttr, value: func(r record) any { return r.name }},
	"id": {kind: numberAttr, value: func(r record) any {
		if r.id == 0 {
			return nil
		}
		return r.id
	}},
	"at":     {kind: timeAttr, value: func(r record) any { return timeValue(r.at) }},
	"status": {kind: enumAttr, value: func(r record) any { return r.status }, enum: enumOf(aliasesOf(requestStatuses))},
}

func TestFilterOperators(t *testing.T) {
	day := func(d int) *time.Time { v := time.Date(2025, 1, d, 12, 0, 0, 0, time.UTC); return &v }
	records := []record{
		{name: "Alpha", id: 1, at: day(1), status: "OPEN"},
		{name: "Beta", id: 2, at: day(2), status: "RESOLVED"},
		{name: "alphabet", id: 12, at: nil, status: "OPEN"},
		{name: "", id: 0, at: day(3), status: "CLOSED"},
	}
	cases := []struct {
		body string
		want []string
	}{
		{`[]`, []string{"Alpha", "Beta", "alphabet", ""}},
		{``, []string{"Alpha", "Beta", "alphabet", ""}},
		{`{}`, []string{"Alpha", "Beta", "alphabet", ""}},
		{`{"filters":[{"attribute":"id","operator":"EQUALS","values":[{"value":12}]}]}`, []string{"alphabet"}},
		{`[{"attribute":"id","operator":"EQUALS","values":[{"value":"12"}]}]`, []string{"alphabet"}},
		{`[{"attribute":"id","operator":"IN","values":[{"value":1},{"value":"2"}]}]`, []string{"Alpha", "Beta"}},
		{`[{"attribute":"id","operator":"NOT_IN","values":[{"value":1},{"value":2}]}]`, []string{"alphabet", ""}},
		{`[{"attribute":"id","operator":"IS_NOT_ANY_OF","values":[{"value":1}]}]`, []string{"Beta", "alphabet", ""}},
		{`[{"attribute":"id","operator":"NOT_EQUALS","values":[{"value":1}]}]`, []string{"Beta", "alphabet", ""}},
		{`[{"attribute":"id","operator":"IS_BETWEEN","values":[{"value":2},{"value":"12"}]}]`, []string{"Beta", "alphabet"}},
		{`[{"attribute":"id","operator":"GREATER_THAN","values":[{"value":1}]}]`, []string{"Beta", "alphabet"}},
		{`[{"attribute":"id","operator":"LESS_THAN_EQUALS","values":[{"value":2}]}]`, []string{"Alpha", "Beta"}},
		{`[{"attribute":"id","operator":"IS_NULL"}]`, []string{""}},
		{`[{"attribute":"name","operator":"IS_NULL","values":[]}]`, []string{""}},
		{`[{"attribute":"name","operator":"IS_NOT_NULL"}]`, []string{"Alpha", "Beta", "alphabet"}},
		{`[{"attribute":"name","operator":"EQUALS","values":[{"value":"Alpha"}]}]`, []string{"Alpha"}},
		{`[{"attribute":"name","operator":"CONTAINS","values":[{"value":"ALPHA"}]}]`, []string{"Alpha", "alphabet"}},
		{`[{"attribute":"name","operator":"TEXT_CONTAINS","values":[{"value":"zzz"},{"value":"et"}]}]`, []string{"Beta", "alphabet"}},
		{`[{"attribute":"name","operator":"NOT_CONTAINS","values":[{"value":"alpha"}]}]`, []string{"Beta", ""}},
		{`[{"attribute":"name","operator":"STARTS_WITH","values":[{"value":"b"}]}]`, []string{"Beta"}},
		{`[{"attribute":"name","operator":"ENDS_WITH","values":[{"value":"BET"}]}]`, []string{"alphabet"}},
		{`[{"attribute":"status","operator":"IS_ANY_OF","values":[{"value":"open"},{"value":"Resolved"}]}]`, []string{"Alpha", "Beta", "alphabet"}},
		{`[{"attribute":"status","operator":"equals","values":[{"value":"OPEN"}]},{"attribute":"name","operator":"STARTS_WITH","values":[{"value":"alphab"}]}]`, []string{"alphabet"}},
		{`[{"attribute":"at","operator":"IS_BETWEEN","values":[{"value":"2025-01-01"},{"value":"2025-01-02"}]}]`, []string{"Alpha", "Beta"}},
		{`[{"attribute":"at","operator":"IS_BETWEEN","values":[{"value":"2025-01-01T12:00:00Z"},{"value":"2025-01-02T11:59:59Z"}]}]`, []string{"Alpha"}},
		{`[{"attribute":"at","operator":"IS_ON_OR_AFTER","values":[{"value":"2025-01-02"}]}]`, []string{"Beta", ""}},
		{`[{"attribute":"at","operator":"IS_ON_OR_BEFORE","values":[{"value":"2025-01-02"}]}]`, []string{"Alpha", "Beta"}},
		{`[{"attribute":"at","operator":"EQUALS","values":[{"value":"2025-01-03"}]}]`, []string{""}},
		{`[{"attribute":"at","operator":"IS_NULL"}]`, []string{"alphabet"}},
	}
	for _, tc := range cases {
		match, err := compileFilters([]byte(tc.body), testAttrs)
		require.NoError(t, err, tc.body)
		got := []string{}
		for _, r := range records {
			if match(r) {
				got = append(got, r.name)
			}
		}
		assert.Equal(t, tc.want, got, tc.body)
	}
}

func TestFilterErrors(t *testing.T) {
	cases := map[string]string{
		`[{"attribute":"colour","operator":"EQUALS","values":[{"value":1}]}]`:                         "unknown filter attribute",
		`[{"attribute":"id","operator":"LIKE","values":[{"value":1}]}]`:                               "unknown filter operator",
		`[{"attribute":"at","operator":"IS_WITHIN","values":[{"value":"P1D"}]}]`:                      "IS_WITHIN",
		`[{"attribute":"id","operator":"EQUALS","values":[]}]`:                                        "at least one value",
		`[{"attribute":"id","operator":"IS_BETWEEN","values":[{"value":1}]}]`:                         "exactly 2 values",
		`[{"attribute":"id","operator":"IS_BETWEEN","values":[{"value":1},{"value":2},{"value":3}]}]`: "exactly 2 values",
		`[{"attribute":"id","operator":"EQUALS","values":[{"value":"twelve"}]}]`:                      "not a number",
		`[{"attribute":"id","operator":"CONTAINS","values":[{"value":1}]}]`:                           "does not apply",
		`[{"attribute":"name","operator":"GREATER_THAN","values":[{"value":"a"}]}]`:                   "does not apply",
		`[{"attribute":"at","operator":"EQUALS","values":[{"value":"yesterday"}]}]`:                   "RFC 3339",
		`[{"attribute":"status","operator":"EQUALS","values":[{"value":"DONE"}]}]`:                    "unknown value",
		`[{"attribute":"name","operator":"EQUALS","values":[{"value":["a"]}]}]`:                       "string or a number",
		`{"filters":{"attribute":"id"}}`:                                                              "array of filters",
		`"id"`:                                                                                        "array of filters",
		`[] []`:                                                                                       "unexpected data",
	}
	for body, want := range cases {
		_, err := compileFilters([]byte(body), testAttrs)
		var ae *apiError
		require.ErrorAs(t, err, &ae, body)
		assert.Equal(t, 400, ae.status, body)
		assert.Contains(t, ae.msg, want, body)
	}
}

// TestFiltersFromTheClientBuilder checks the body atomicwork.Filters encodes is understood.
func TestFiltersFromTheClientBuilder(t *testing.T) {
	body, err := json.Marshal(atomicwork.Filters{}.IsAnyOf("id", 1, 12).IsNotNull("name"))
	require.NoError(t, err)
	match, err := compileFilters(body, testAttrs)
	require.NoError(t, err)
	assert.True(t, match(record{name: "a", id: 12}))
	assert.False(t, match(record{name: "", id: 12}))
	assert.False(t, match(record{name: "a", id: 2}))
}
