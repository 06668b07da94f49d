package main

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// startCodecWorker runs stubOnboarding on queue with a client that encrypts with codecKey.
func startCodecWorker(t *testing.T, srv *testsuite.DevServer, queue string) {
	t.Helper()
	ring, err := codec.ParseKeys("k1:"+codecKey, "")
	require.NoError(t, err)
	opts := client.Options{HostPort: srv.FrontendHostPort(), Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	codec.Apply(&opts, ring)
	wc, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(wc.Close)
	w := worker.New(wc, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(stubOnboarding, workflow.RegisterOptions{Name: lifecycle.OnboardingWorkflowName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
}

// TestOnboardWithCodec: with ATOMICFLOW_CODEC_KEYS set, the starter encrypts the onboarding's
// input and summary, and decrypts the result and the failure a worker with the same key wrote.
func TestOnboardWithCodec(t *testing.T) {
	srv := devserver.ForTest(t)
	queue := "starter-codec"
	startCodecWorker(t, srv, queue)

	env := devEnv(srv, queue)
	env[codec.EnvKeys] = "k1:" + codecKey
	r := runStarter(t, env, dialTemporal, with("--wait", "--json")...)
	require.Equal(t, 0, r.code, r.stderr)
	out := decode(t, r)
	require.NotNil(t, out.Result, "the starter decrypted the result")
	assert.Equal(t, "REQ-7", out.Result.RequestID)

	// Temporal holds ciphertext only: the input and the summary are encrypted with key k1.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := srv.Client().GetWorkflowHistory(ctx, out.WorkflowID, out.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	require.True(t, iter.HasNext())
	first, err := iter.Next()
	require.NoError(t, err)
	started := first.GetWorkflowExecutionStartedEventAttributes()
	require.NotNil(t, started)
	input := started.GetInput().GetPayloads()
	require.Len(t, input, 1)
	assert.Equal(t, codec.MetadataEncodingEncrypted, string(input[0].Metadata["encoding"]))
	assert.Equal(t, "k1", string(input[0].Metadata[codec.MetadataKeyID]))
	assert.Equal(t, codec.MetadataEncodingEncrypted, string(first.GetUserMetadata().GetSummary().GetMetadata()["encoding"]))
	raw, err := protojson.Marshal(first)
	require.NoError(t, err)
	for _, s := range []string{string(raw), string(input[0].Data)} {
		assert.NotContains(t, s, "ada@example.com")
		assert.NotContains(t, s, "Lovelace")
		assert.NotContains(t, s, base64.StdEncoding.EncodeToString([]byte("ada@example.com")))
	}

	// A failure's message crosses Temporal encrypted and reads back through the starter.
	failArgs := with("--employee-id", "E-2002", "--department", "Fail", "--wait", "--json")
	f := runStarter(t, env, dialTemporal, failArgs...)
	assert.Equal(t, 1, f.code)
	assert.Equal(t, "no laptop will ever be in stock [TEST_NO_STOCK]", decode(t, f).Failure)

	// A starter without the key cannot read the result, and says which key it lacks.
	other := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("z", codec.KeySize)))
	env[codec.EnvKeys] = "k2:" + other
	r = runStarter(t, env, dialTemporal, with("--wait")...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `key id "k1"`)
	assert.NotContains(t, r.stderr, codecKey)
	assert.NotContains(t, r.stderr, other)

	// A malformed key is a configuration error (exit 2) before anything is started.
	env[codec.EnvKeys] = "k1"
	r = runStarter(t, env, dialTemporal, with("--employee-id", "E-3003")...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "ATOMICFLOW_CODEC_KEYS:")
}

// TestRegisterSearchAttributes runs the command docker-compose.yml's one-shot job runs, against a
// server that has none of our attributes, twice.
func TestRegisterSearchAttributes(t *testing.T) {
	cli := devserver.RequireCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  cli,
		LogLevel:      "error",
		ClientOptions: &client.Options{Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	env := devEnv(srv, "unused")

	r := runStarter(t, env, dialTemporal, "register-search-attributes")
	require.Equal(t, 0, r.code, r.stderr)
	for _, k := range lifecycle.SearchAttributes() {
		assert.Contains(t, r.stdout, k.GetName()+" ("+k.GetValueType().String()+"): registered")
	}
	list, err := srv.Client().OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	require.NoError(t, err)
	for _, k := range lifecycle.SearchAttributes() {
		assert.Equal(t, k.GetValueType(), list.GetCustomAttributes()[k.GetName()], k.GetName())
	}

	again := runStarter(t, env, dialTemporal, "register-search-attributes")
	require.Equal(t, 0, again.code, again.stderr)
	assert.Equal(t, len(lifecycle.SearchAttributes()), strings.Count(again.stdout, "already registered"))
}
