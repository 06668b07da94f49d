package workflows

import (
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// completedResult asserts that the test environment's workflow completed without an error and
// returns its result.
func completedResult[T any](r *require.Assertions, env *testsuite.TestWorkflowEnvironment) T {
	r.True(env.IsWorkflowCompleted())
	r.NoError(env.GetWorkflowError())
	var out T
	r.NoError(env.GetWorkflowResult(&out))
	return out
}

// queried is the answer of the test environment's workflow to a query.
func queried[T any](r *require.Assertions, env *testsuite.TestWorkflowEnvironment, query string) T {
	v, err := env.QueryWorkflow(query)
	r.NoError(err)
	var out T
	r.NoError(v.Get(&out))
	return out
}
