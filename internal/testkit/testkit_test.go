package testkit

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoShippedBinaryLinksTheTestKit: the kit starts servers and child processes and imports
// "testing"; the worker, the starter and the simulator must not carry it.
func TestNoShippedBinaryLinksTheTestKit(t *testing.T) {
	const kit = "github.com/atomicflow/atomicflow/internal/testkit"
	for _, bin := range []string{"worker", "starter", "awsim"} {
		out, err := exec.Command("go", "list", "-deps", "github.com/atomicflow/atomicflow/"+bin).CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.NotContains(t, strings.Fields(string(out)), kit, "%s links the test kit", bin)
	}
}
