package atomicwork

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// An assignee id written as an integral float is that id; a fraction is no id at all, never the
// user whose id it truncates to.
func TestAssigneeOfIntegralAndFractionalNumbers(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want int64
	}{
		{"integral float", 1002.0, 1002},
		{"integral float in an object", map[string]any{"id": 1002.0}, 1002},
		{"integral float in an array", []any{1002.0}, 1002},
		{"integral json.Number", json.Number("1002.0"), 1002},
		{"integral numeric string", "1.002e3", 1002},
		{"fraction", 1002.5, 0},
		{"fraction in an object", map[string]any{"id": 1002.5}, 0},
		{"fraction in an array", []any{1002.5}, 0},
		{"fraction json.Number", json.Number("1002.5"), 0},
		{"fraction numeric string", "1002.5", 0},
		{"beyond int64", 1e19, 0},
		{"not a number", math.NaN(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, AssigneeOf(tc.v))
		})
	}
}

// The same through the decoder: a form field answered as 1002.5 is not user 1002's asset.
func TestAssetAssigneeIDRefusesAFraction(t *testing.T) {
	for body, want := range map[string]int64{
		`{"id":3,"form_fields":{"assigned_to":1002.0}}`:        1002,
		`{"id":3,"form_fields":{"assigned_to":{"id":1002.0}}}`: 1002,
		`{"id":3,"form_fields":{"assigned_to":1002.5}}`:        0,
		`{"id":3,"form_fields":{"assigned_to":{"id":1002.5}}}`: 0,
	} {
		var a Asset
		assert.NoError(t, json.Unmarshal(integralNumbers([]byte(body)), &a), body)
		assert.Equal(t, want, a.AssigneeID(FieldAssignedTo), body)
	}
}
