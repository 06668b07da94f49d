package workerapp

import (
	"errors"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/atomicflow/atomicflow/internal/codec"
)

// ClientOptions are the Temporal client options Run dials with: cfg.Temporal, logging through
// logger, with cfg.Codec's encrypting data and failure converters when a key is configured. A
// worker inherits the converters from its client, so tests that build a worker with NewWorker
// dial with these options (HostPort set to their server) to run it as production does.
func ClientOptions(cfg Config, logger *slog.Logger) client.Options {
	opts := cfg.Temporal
	if logger != nil {
		opts.Logger = log.NewStructuredLogger(logger)
	}
	codec.Apply(&opts, cfg.Codec)
	return opts
}

// codec reads the payload encryption keys (ATOMICFLOW_CODEC_*); nil when none is set.
func (l *loader) codec() *codec.Keyring {
	ring, err := codec.FromEnv(l.lookup)
	var ce *codec.ConfigError
	switch {
	case errors.As(err, &ce):
		l.fail(ce.Variable, "%s", ce.Problem)
	case err != nil:
		l.fail(codec.EnvKeys, "%v", err)
	}
	return ring
}
