// Package serverconfig is the Temporal server tuning atomicflow runs with: one list for the dev
// servers of tests, benchmarks and make dev (as --dynamic-config-value flags) and for the
// production server (deploy/temporal/dynamicconfig.yaml, checked against this list by deploy's tests).
package serverconfig

// Setting is one dynamic-config value and why atomicflow needs it.
type Setting struct {
	Key   string
	Value string
	Why   string
}

// Settings apply to every atomicflow Temporal server.
var Settings = []Setting{
	{
		Key:   "system.enableActivityEagerExecution",
		Value: "true",
		Why: "hand an activity to the worker in the answer to the workflow task that scheduled it " +
			"instead of through matching",
	},
	{
		Key:   "history.transferProcessorMaxPollRPS",
		Value: "1000",
		Why: "the default 20 reads of a history shard's transfer queue per second hold every new " +
			"workflow task for up to 50 ms, which made a 20-step onboarding take 640 ms on the " +
			"one-shard dev server instead of 60 ms (go run ./bench onboarding)",
	},
}

// DevServerFlags are Settings as `temporal server start-dev` flags.
func DevServerFlags() []string {
	flags := make([]string, 0, 2*len(Settings))
	for _, s := range Settings {
		flags = append(flags, "--dynamic-config-value", s.Key+"="+s.Value)
	}
	return flags
}
