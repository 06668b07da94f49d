package activities

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// Workflows compare what activities report with the contract's names of Atomicwork's statuses.
func TestContractStatusesAreAtomicworks(t *testing.T) {
	assert.Equal(t, atomicwork.GrantGranted, lifecycle.GrantStatusGranted)
	assert.Equal(t, atomicwork.GrantRevoked, lifecycle.GrantStatusRevoked)
	assert.Equal(t, atomicwork.GrantExpired, lifecycle.GrantStatusExpired)
	assert.Equal(t, atomicwork.RevocationInProgress, lifecycle.RevocationInProgress)
	assert.Equal(t, atomicwork.RevocationCompleted, lifecycle.RevocationCompleted)
	assert.Equal(t, atomicwork.RevocationFailed, lifecycle.RevocationFailed)
}
