package workerapp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/atomicflow/atomicflow/internal/codec"
)

func TestLoadConfigCodec(t *testing.T) {
	cfg, err := LoadConfig(testEnv(t, nil))
	require.NoError(t, err)
	assert.Nil(t, cfg.Codec, "no key: encryption off")
	assert.Contains(t, cfg.String(), "Codec:encryption off")
	opts := ClientOptions(cfg, slog.New(slog.DiscardHandler))
	assert.Nil(t, opts.DataConverter, "off: the SDK's plain converters")
	assert.NotNil(t, opts.Logger)

	k := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5c}, 32))
	cfg, err = LoadConfig(testEnv(t, map[string]string{"ATOMICFLOW_CODEC_KEYS": "2026-11:" + k}))
	require.NoError(t, err)
	require.NotNil(t, cfg.Codec)
	assert.Equal(t, "2026-11", cfg.Codec.Primary())
	for _, s := range []string{cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		assert.NotContains(t, s, k)
		assert.Contains(t, s, `primary key id "2026-11"`)
	}

	opts = ClientOptions(cfg, nil)
	require.NotNil(t, opts.DataConverter)
	require.NotNil(t, opts.FailureConverter)
	p, err := opts.DataConverter.ToPayload("Ada Lovelace")
	require.NoError(t, err)
	assert.Equal(t, codec.MetadataEncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
	assert.Nil(t, cfg.Temporal.DataConverter, "ClientOptions leaves cfg.Temporal alone")

	// A bad key is one more problem, named by its variable, and its value is never quoted.
	short := base64.StdEncoding.EncodeToString([]byte("too-short"))
	_, err = LoadConfig(testEnv(t, map[string]string{"ATOMICFLOW_CODEC_KEYS": "k1:" + short, "ATOMICWORK_WORKSPACE_ID": "x"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ATOMICFLOW_CODEC_KEYS: key \"k1\" is 9 bytes long")
	assert.Contains(t, err.Error(), "ATOMICWORK_WORKSPACE_ID:", "every problem is reported")
	assert.NotContains(t, err.Error(), short)

	_, err = LoadConfig(testEnv(t, map[string]string{"ATOMICFLOW_CODEC_KEYS": "k1:" + k, "ATOMICFLOW_CODEC_PRIMARY": "k2"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ATOMICFLOW_CODEC_PRIMARY:")
}
