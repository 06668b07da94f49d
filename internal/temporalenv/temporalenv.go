// Package temporalenv loads Temporal client options the way the Temporal CLI does, for every
// atomicflow binary: temporal.toml (profile TEMPORAL_PROFILE) overridden by TEMPORAL_* variables.
package temporalenv

import (
	"fmt"
	"os"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
)

// ClientOptions loads the options, reading every value through lookup so tests need not touch the
// process environment. HostPort and Namespace get the SDK defaults when unset.
func ClientOptions(lookup func(string) (string, bool)) (client.Options, error) {
	// envconfig ignores a malformed boolean, and a typo must not silently turn TLS off.
	for _, name := range []string{"TEMPORAL_TLS", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"} {
		if v, ok := lookup(name); ok && v != "" {
			switch strings.ToLower(v) {
			case "1", "0", "true", "false":
			default:
				return client.Options{}, fmt.Errorf("%s=%q is not a boolean: use true or false", name, v)
			}
		}
	}
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: lookupEnv(lookup)})
	if err != nil {
		//lint:ignore ST1005 Temporal is a name, and this message is the command's output
		return client.Options{}, fmt.Errorf("Temporal client configuration: %w: check temporal.toml, TEMPORAL_PROFILE and the TEMPORAL_* variables", err)
	}
	if opts.HostPort == "" {
		opts.HostPort = client.DefaultHostPort
	}
	if opts.Namespace == "" {
		opts.Namespace = client.DefaultNamespace
	}
	return opts, nil
}

// lookupEnv adapts lookup to envconfig. envconfig also lists the environment to find
// TEMPORAL_GRPC_META_* variables; the names come from the process, every value from lookup, so a
// test's lookup still decides what is set.
type lookupEnv func(string) (string, bool)

func (e lookupEnv) LookupEnv(name string) (string, bool) { return e(name) }

func (e lookupEnv) Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if v, ok := e(name); ok {
			out = append(out, name+"="+v)
		}
	}
	return out
}

var _ envconfig.EnvLookup = lookupEnv(nil)
