package hrevents

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEveryEventTypeHasAPlanner(t *testing.T) {
	assert.ElementsMatch(t, Types, slices.Collect(maps.Keys(planners)))
}
