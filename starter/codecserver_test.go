package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/internal/testkit"
)

// codecKey is a distinctive base64 AES-256 key; the tests look for it in every output.
var codecKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x3e}, codec.KeySize))

const codecToken = "starter-codec-token-5f1e-0123456789abcdef"

// shortCodecToken is one character short of codec.MinTokenLen.
const shortCodecToken = "starter-short-token-0123456789a"

func TestCodecServerConfigurationErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no key", map[string]string{codec.EnvAuthToken: codecToken}, nil, "ATOMICFLOW_CODEC_KEYS"},
		{"bad key", map[string]string{codec.EnvKeys: "k1:c2hvcnQ=", codec.EnvAuthToken: codecToken}, nil, "ATOMICFLOW_CODEC_KEYS: key \"k1\" is 5 bytes long"},
		{"no token", map[string]string{codec.EnvKeys: "k1:" + codecKey}, nil, "ATOMICFLOW_CODEC_AUTH_TOKEN is not set"},
		{"bad origin", map[string]string{codec.EnvKeys: "k1:" + codecKey, codec.EnvAuthToken: codecToken}, []string{"--ui-origin", "localhost:8233"}, "scheme://host[:port]"},
		{"bad addr", map[string]string{codec.EnvKeys: "k1:" + codecKey, codec.EnvAuthToken: codecToken}, []string{"--addr", "8081"}, "--addr \"8081\" is not host:port"},
		{"argument", map[string]string{codec.EnvKeys: "k1:" + codecKey, codec.EnvAuthToken: codecToken}, []string{"extra"}, "unknown command"},
		{"short token", map[string]string{codec.EnvKeys: "k1:" + codecKey, codec.EnvAuthToken: shortCodecToken}, nil,
			"ATOMICFLOW_CODEC_AUTH_TOKEN is 31 characters long, too short to resist guessing: use at least 32 random characters, e.g. export ATOMICFLOW_CODEC_AUTH_TOKEN=$(openssl rand -hex 32)"},
		{"bad session ttl", map[string]string{codec.EnvKeys: "k1:" + codecKey, codec.EnvAuthToken: codecToken}, []string{"--session-ttl", "0s"}, "--session-ttl 0s is not positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runStarter(t, tc.env, noDial(t), append([]string{"codec-server"}, tc.args...)...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.NotContains(t, r.stderr, codecKey)
			assert.NotContains(t, r.stderr, codecToken)
			assert.NotContains(t, r.stderr, shortCodecToken)
		})
	}
}

func TestCodecServerHelp(t *testing.T) {
	r := runStarter(t, map[string]string{}, noDial(t), "codec-server", "--help")
	require.Equal(t, 0, r.code, r.stderr)
	for _, want := range []string{"--addr", "127.0.0.1:8081", "--ui-origin", "http://localhost:8233",
		"temporal server start-dev --ui-codec-endpoint", "--codec-endpoint", "--codec-auth \"Bearer", "ATOMICFLOW_CODEC_AUTH_TOKEN", "/login",
		"--session-ttl", "8h0m0s", "/logout", "openssl rand -hex 32", "throttled"} {
		assert.Contains(t, r.stdout, want)
	}
}

func TestCodecServerServesAndStops(t *testing.T) {
	env := map[string]string{codec.EnvKeys: "k1:" + codecKey, codec.EnvAuthToken: codecToken,
		"TEMPORAL_CONFIG_FILE": filepath.Join(t.TempDir(), "absent.toml")}
	var stdout, stderr testkit.SyncBuffer
	a := &app{stdout: &stdout, stderr: &stderr, dial: noDial(t), lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, []string{"codec-server", "--addr", "127.0.0.1:0", "--ui-origin", "http://localhost:8233,http://127.0.0.1:8233"}, a)
	}()

	addr := regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)`)
	var base string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		m := addr.FindStringSubmatch(stdout.String())
		require.Len(c, m, 2, "stdout: %s stderr: %s", stdout.String(), stderr.String())
		base = m[1]
	}, settle, 20*time.Millisecond)
	assert.Contains(t, stdout.String(), `primary key id "k1"`)

	// What a worker with the same key encrypted, the server decrypts for the holder of the token.
	ring, err := codec.ParseKeys("k1:"+codecKey, "")
	require.NoError(t, err)
	p, err := codec.DataConverter(ring).ToPayload(map[string]string{"name": "Ada Lovelace"})
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)
	call := func(auth string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, base+"/default/decode", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, out := call("Bearer " + codecToken)
	require.Equal(t, http.StatusOK, code, out)
	var decoded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(out), &decoded))
	var got map[string]string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(decoded.Payloads[0], &got))
	assert.Equal(t, "Ada Lovelace", got["name"])

	const wrongToken = "Bearer wrong-but-long-enough-0123456789abcdef"
	code, out = call(wrongToken)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.NotContains(t, out, "Lovelace")

	cancel()
	select {
	case c := <-done:
		assert.Equal(t, 0, c, stderr.String())
	case <-time.After(settle):
		t.Fatal("codec-server did not stop after its context ended")
	}
	assert.Contains(t, stdout.String(), "codec-server: stopped")
	logs := stderr.String()
	assert.Contains(t, logs, "Status=200")
	assert.Contains(t, logs, "Status=401")
	assert.Contains(t, logs, `msg="codec authentication failed" Client=127.0.0.1 Path=/default/decode Reason="wrong bearer token"`)
	assert.NotContains(t, logs, strings.TrimPrefix(wrongToken, "Bearer "))
	for _, s := range []string{stdout.String(), logs} {
		assert.NotContains(t, s, codecKey)
		assert.NotContains(t, s, codecToken)
		assert.NotContains(t, s, "Lovelace")
	}
}

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()

	r := runStarter(t, map[string]string{}, noDial(t), "healthcheck", ok.URL)
	assert.Equal(t, 0, r.code, r.stderr)
	r = runStarter(t, map[string]string{}, noDial(t), "healthcheck", down.URL)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "503")
	r = runStarter(t, map[string]string{}, noDial(t), "healthcheck", "http://127.0.0.1:1/none", "--timeout", "500ms")
	assert.Equal(t, 1, r.code)
	r = runStarter(t, map[string]string{}, noDial(t), "healthcheck")
	assert.Equal(t, 2, r.code)
	help := runStarter(t, map[string]string{}, noDial(t), "--help")
	assert.False(t, strings.Contains(help.stdout, "healthcheck"), "hidden from the command list")
}
