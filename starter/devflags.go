package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atomicflow/atomicflow/internal/serverconfig"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// newDevServerFlagsCmd prints the dev server's flags, one per line, so scripts/dev.sh starts it
// exactly as the tests do: the contract's search attributes (lifecycle.SearchAttributes) and
// atomicflow's dynamic config (serverconfig.Settings).
func newDevServerFlagsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    "dev-server-flags",
		Short:  "Print the temporal server start-dev flags atomicflow's dev server runs with",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: runE(func(*cobra.Command, []string) error {
			for _, k := range lifecycle.SearchAttributes() {
				fmt.Fprintf(a.stdout, "--search-attribute=%s=%s\n", k.GetName(), k.GetValueType())
			}
			for _, s := range serverconfig.Settings {
				fmt.Fprintf(a.stdout, "--dynamic-config-value=%s=%s\n", s.Key, s.Value)
			}
			return nil
		}),
	}
}
