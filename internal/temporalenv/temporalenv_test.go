package temporalenv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestClientOptions(t *testing.T) {
	opts, err := ClientOptions(lookup(map[string]string{"TEMPORAL_CONFIG_FILE": "/dev/null"}))
	require.NoError(t, err)
	assert.Equal(t, "localhost:7233", opts.HostPort)
	assert.Equal(t, "default", opts.Namespace)

	opts, err = ClientOptions(lookup(map[string]string{"TEMPORAL_CONFIG_FILE": "/dev/null",
		"TEMPORAL_ADDRESS": "temporal.example:7233", "TEMPORAL_NAMESPACE": "people-ops"}))
	require.NoError(t, err)
	assert.Equal(t, "temporal.example:7233", opts.HostPort)
	assert.Equal(t, "people-ops", opts.Namespace)
}

func TestClientOptionsRejectsMalformedTLSFlag(t *testing.T) {
	_, err := ClientOptions(lookup(map[string]string{"TEMPORAL_CONFIG_FILE": "/dev/null", "TEMPORAL_TLS": "ture"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TEMPORAL_TLS")
	assert.Contains(t, err.Error(), "true or false")

	_, err = ClientOptions(lookup(map[string]string{"TEMPORAL_CONFIG_FILE": "/dev/null", "TEMPORAL_PROFILE": "nope"}))
	require.Error(t, err, "a profile named explicitly but missing is an error")
}
