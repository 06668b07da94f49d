package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Every kind is found by its --type name and by its workflow type, and answers a query the
// workflows define; a type the CLI does not know is shown through the status query, field by field.
func TestWorkflowKindsAreFoundByNameAndType(t *testing.T) {
	names, types := map[string]bool{}, map[string]bool{}
	for _, k := range workflowKinds {
		assert.False(t, names[k.name], "two kinds named %s", k.name)
		assert.False(t, types[k.typeName], "two kinds of type %s", k.typeName)
		names[k.name], types[k.typeName] = true, true
		assert.Contains(t, []string{lifecycle.QueryStatus, lifecycle.QueryProgress}, k.query, k.name)

		byName, ok := kindNamed(k.name)
		assert.True(t, ok, k.name)
		assert.Equal(t, k.typeName, byName.typeName)
		assert.Equal(t, k.name, kindOfType(k.typeName).name)
	}
	assert.Equal(t, map[string]bool{lifecycle.OnboardingWorkflowName: true, lifecycle.OffboardingWorkflowName: true,
		lifecycle.ReassignmentWorkflowName: true, lifecycle.ReconciliationWorkflowName: true}, types)

	unknown := kindOfType("Mystery")
	assert.Equal(t, "", unknown.name)
	assert.Equal(t, lifecycle.QueryStatus, unknown.query)
	_, ok := kindNamed("")
	assert.False(t, ok, "the unknown kind is no --type")
	assert.Equal(t, []line{{"count", "2"}}, unknown.stateLines([]byte(`{"count":2}`)))
	assert.Equal(t, []line{{"  count", "2"}}, unknown.resultLines([]byte(`{"count":2}`)))
	assert.Equal(t, []fact{{"field:count", "count", "2"}}, unknown.factsOf([]byte(`{"count":2,"as_of":"now"}`)))
}
