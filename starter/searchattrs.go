package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// newRegisterSearchAttributesCmd registers the contract's search attributes on the namespace, so a
// self-hosted cluster (docker-compose.yml's one-shot job) has exactly the list the workflows
// upsert (lifecycle.SearchAttributes, the same list dev-server-flags prints for the dev server).
func newRegisterSearchAttributesCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "register-search-attributes",
		Short: "Register atomicflow's search attributes on the Temporal namespace (idempotent)",
		Long: `register-search-attributes adds the custom search attributes atomicflow's workflows upsert
(EmployeeId, LifecycleStage, ...) to the namespace of TEMPORAL_NAMESPACE, skipping those already
registered with the right type. Run it once per namespace before the first worker starts: a
workflow that upserts an unregistered attribute fails its workflow tasks until it is added.

It needs operator rights on the cluster. On Temporal Cloud, add the attributes with tcld or the
Cloud UI instead (the same names and types: starter dev-server-flags prints them).`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			conn, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			ops := conn.OperatorService()
			existing, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: conn.Namespace})
			if err != nil {
				return fmt.Errorf("cannot list the search attributes of namespace %s: %w", conn.Namespace, err)
			}
			req := &operatorservice.AddSearchAttributesRequest{Namespace: conn.Namespace, SearchAttributes: map[string]enumspb.IndexedValueType{}}
			var added []string
			for _, k := range lifecycle.SearchAttributes() {
				name, want := k.GetName(), k.GetValueType()
				if got, ok := existing.GetCustomAttributes()[name]; ok {
					if got != want {
						return fmt.Errorf("search attribute %s is registered as %s on namespace %s, but atomicflow needs %s: remove it (temporal operator search-attribute remove --name %s) and run this again",
							name, got, conn.Namespace, want, name)
					}
					fmt.Fprintf(a.stdout, "%s (%s): already registered\n", name, want)
					continue
				}
				req.SearchAttributes[name] = want
				added = append(added, name)
			}
			if len(added) == 0 {
				return nil
			}
			if _, err := ops.AddSearchAttributes(ctx, req); err != nil {
				return fmt.Errorf("cannot register search attributes on namespace %s: %w", conn.Namespace, err)
			}
			slices.Sort(added)
			for _, name := range added {
				fmt.Fprintf(a.stdout, "%s (%s): registered\n", name, req.SearchAttributes[name])
			}
			return nil
		}),
	}
}
