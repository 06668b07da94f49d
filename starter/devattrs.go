package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atomicflow/atomicflow/workflows"
)

// newDevSearchAttributesCmd prints the dev server's --search-attribute flags, one per line, so
// scripts/dev.sh registers exactly the contract's list (workflows.SearchAttributes).
func newDevSearchAttributesCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    "dev-search-attributes",
		Short:  "Print the temporal server start-dev flags that register atomicflow's search attributes",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: runE(func(*cobra.Command, []string) error {
			for _, k := range workflows.SearchAttributes() {
				fmt.Fprintf(a.stdout, "--search-attribute=%s=%s\n", k.GetName(), k.GetValueType())
			}
			return nil
		}),
	}
}
