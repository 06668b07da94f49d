package lifecycle

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStartersLinkNoWorkerCode keeps the CLI and the webhook receiver free of worker code: they
// reach runs through this contract, and an import of workflows, activities or the API client
// (with resty) would put Atomicwork-calling code into binaries that must never hold the key.
func TestStartersLinkNoWorkerCode(t *testing.T) {
	forbidden := []string{
		"github.com/atomicflow/atomicflow/workflows",
		"github.com/atomicflow/atomicflow/activities",
		"github.com/atomicflow/atomicflow/atomicwork",
		"github.com/go-resty/resty/v2",
	}
	for _, pkg := range []string{"../starter", "../hrevents", "../schedule", "."} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		for _, f := range forbidden {
			for _, d := range deps {
				if d == f {
					t.Errorf("%s links %s: reach it through package lifecycle instead", pkg, f)
				}
			}
		}
	}
}
