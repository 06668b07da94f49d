package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReassignmentModeIsNormalizedAndValidated(t *testing.T) {
	in := ReassignmentInput{BatchID: "b-1", Selector: AssetSelector{AssigneeEmail: "bo.li@example.com"}, Target: AssetTarget{Stock: true}}
	for given, want := range map[ReassignMode]ReassignMode{"": ReassignInRanges, " Per-Asset ": ReassignPerAsset, "ranges": ReassignInRanges} {
		in.Mode = given
		n := in.Normalized()
		assert.Equal(t, want, n.Mode, "%q", given)
		require.NoError(t, n.Validate())
	}

	in.Mode = "fast"
	err := in.Normalized().Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `mode "fast" is not one of "ranges" and "per-asset"`)
}

func TestTheModeDoesNotNameTheBatch(t *testing.T) {
	in := ReassignmentInput{Selector: AssetSelector{AssigneeEmail: "bo.li@example.com"}, Target: AssetTarget{Stock: true}}
	perAsset := in
	perAsset.Mode = ReassignPerAsset
	assert.Equal(t, DeriveBatchID(in), DeriveBatchID(perAsset), "repeating a request in another mode reaches the running batch")
}
