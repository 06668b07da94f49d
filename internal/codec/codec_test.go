package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// key returns a distinctive 32-byte key and its base64 form.
func key(fill byte) ([]byte, string) {
	k := bytes.Repeat([]byte{fill}, KeySize)
	return k, base64.StdEncoding.EncodeToString(k)
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

type person struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

var ada = person{Name: "Ada Lovelace", Email: "ada.lovelace@example.com"}

func TestRoundTrip(t *testing.T) {
	_, a := key('a')
	ring, err := ParseKeys("k1:"+a, "")
	require.NoError(t, err)
	dc := DataConverter(ring)

	p, err := dc.ToPayload(ada)
	require.NoError(t, err)
	assert.Equal(t, MetadataEncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
	assert.Equal(t, "k1", string(p.Metadata[MetadataKeyID]))
	assert.NotContains(t, string(p.Data), "Lovelace")
	assert.NotContains(t, string(p.Data), "json/plain", "the inner metadata is encrypted too")

	var got person
	require.NoError(t, dc.FromPayload(p, &got))
	assert.Equal(t, ada, got)

	// Two encryptions of the same value differ (random nonce).
	p2, err := dc.ToPayload(ada)
	require.NoError(t, err)
	assert.NotEqual(t, p.Data, p2.Data)
}

func TestDecodePassesPlainPayloadsThrough(t *testing.T) {
	_, a := key('a')
	ring, err := ParseKeys("k1:"+a, "")
	require.NoError(t, err)
	plain, err := converter.GetDefaultDataConverter().ToPayload(ada)
	require.NoError(t, err)
	out, err := New(ring).Decode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	assert.Same(t, plain, out[0], "payloads written before encryption was on still read")
}

func TestRotation(t *testing.T) {
	_, a := key('a')
	_, b := key('b')
	ringA, err := ParseKeys("A:"+a, "")
	require.NoError(t, err)
	old, err := DataConverter(ringA).ToPayload(ada)
	require.NoError(t, err)
	assert.Equal(t, "A", string(old.Metadata[MetadataKeyID]))

	// B becomes primary; A stays to decrypt what it encrypted.
	ringB, err := ParseKeys("B:"+b+",A:"+a, "")
	require.NoError(t, err)
	assert.Equal(t, "B", ringB.Primary())
	dcB := DataConverter(ringB)
	var got person
	require.NoError(t, dcB.FromPayload(old, &got), "old payloads decode after rotation")
	assert.Equal(t, ada, got)

	fresh, err := dcB.ToPayload(ada)
	require.NoError(t, err)
	assert.Equal(t, "B", string(fresh.Metadata[MetadataKeyID]), "new payloads use the new primary key")

	// The same keyring with the primary named explicitly, whatever the order.
	ringB2, err := ParseKeys("A:"+a+"\nB:"+b, "B")
	require.NoError(t, err)
	assert.Equal(t, "B", ringB2.Primary())
	require.NoError(t, DataConverter(ringB2).FromPayload(fresh, &got))

	// Once A is retired, its payloads no longer decode, and the error says which key is missing.
	ringOnlyB, err := ParseKeys("B:"+b, "")
	require.NoError(t, err)
	err = DataConverter(ringOnlyB).FromPayload(old, &got)
	require.Error(t, err)
	var uk *UnknownKeyError
	require.ErrorAs(t, err, &uk)
	assert.Equal(t, "A", uk.KeyID)
	assert.Contains(t, err.Error(), `key id "A"`)
	assert.Contains(t, err.Error(), `"B"`)
	assert.Contains(t, err.Error(), EnvKeys)
	assert.NotContains(t, err.Error(), b)
	assert.NotContains(t, err.Error(), a)
}

func TestTamperedPayloadFails(t *testing.T) {
	_, a := key('a')
	_, b := key('b')
	ring, err := ParseKeys("A:"+a+",B:"+b, "")
	require.NoError(t, err)
	c := New(ring)
	enc, err := c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)

	flipped := &commonpb.Payload{Metadata: enc[0].Metadata, Data: bytes.Clone(enc[0].Data)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	_, err = c.Decode([]*commonpb.Payload{flipped})
	require.ErrorContains(t, err, "does not decrypt")

	// The key id is bound to the ciphertext: relabelling it fails too.
	relabelled := &commonpb.Payload{Data: enc[0].Data, Metadata: map[string][]byte{
		converter.MetadataEncoding: []byte(MetadataEncodingEncrypted), MetadataKeyID: []byte("B")}}
	_, err = c.Decode([]*commonpb.Payload{relabelled})
	require.ErrorContains(t, err, "does not decrypt")

	noID := &commonpb.Payload{Data: enc[0].Data, Metadata: map[string][]byte{converter.MetadataEncoding: []byte(MetadataEncodingEncrypted)}}
	_, err = c.Decode([]*commonpb.Payload{noID})
	require.ErrorContains(t, err, MetadataKeyID)
}

func TestBadKeys(t *testing.T) {
	short := base64.StdEncoding.EncodeToString([]byte("sixteen-byte-key"))
	_, a := key('a')
	for _, tc := range []struct {
		name, spec, primary, want string
	}{
		{"short key", "k1:" + short, "", "16 bytes long; AES-256 needs exactly 32"},
		{"not base64", "k1:not*base64!", "", `key "k1" is not base64`},
		{"no colon", a, "", "entry 1 is not id:base64key"},
		{"empty", " , ", "", "no key given"},
		{"bad id", "k 1:" + a, "", `key id "k 1" is not valid`},
		{"duplicate id", "k1:" + a + ",k1:" + a, "", "listed twice"},
		{"unknown primary", "k1:" + a, "k2", `primary key id "k2" is not among the keys ("k1")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKeys(tc.spec, tc.primary)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), a)
			assert.NotContains(t, err.Error(), short)
		})
	}

	_, err := NewKeyring("k", map[string][]byte{"k": make([]byte, 24)})
	require.ErrorContains(t, err, "24 bytes long")
	r, err := NewKeyring("k", map[string][]byte{"k": make([]byte, 32)})
	require.NoError(t, err)
	assert.Equal(t, []string{"k"}, r.IDs())
}

func TestFromEnv(t *testing.T) {
	_, a := key('a')
	_, b := key('b')

	ring, err := FromEnv(lookup(nil))
	require.NoError(t, err)
	assert.Nil(t, ring, "no key: encryption off")
	ring, err = FromEnv(lookup(map[string]string{EnvKeys: "  "}))
	require.NoError(t, err)
	assert.Nil(t, ring, "empty counts as unset")

	ring, err = FromEnv(lookup(map[string]string{EnvKeys: "one:" + a + ",two:" + b}))
	require.NoError(t, err)
	assert.Equal(t, "one", ring.Primary(), "the first key is primary by default")
	assert.Equal(t, []string{"one", "two"}, ring.IDs())

	ring, err = FromEnv(lookup(map[string]string{EnvKeys: "one:" + a + ",two:" + b, EnvPrimary: "two"}))
	require.NoError(t, err)
	assert.Equal(t, "two", ring.Primary())

	file := filepath.Join(t.TempDir(), "codec-keys")
	require.NoError(t, os.WriteFile(file, []byte("# rotated 2026-11\n2026-11:"+b+"\n2026-01:"+a+"\n"), 0o600))
	ring, err = FromEnv(lookup(map[string]string{EnvKeysFile: file}))
	require.NoError(t, err)
	assert.Equal(t, "2026-11", ring.Primary())
	assert.Equal(t, []string{"2026-11", "2026-01"}, ring.IDs())

	for _, tc := range []struct {
		name     string
		env      map[string]string
		variable string
		want     string
	}{
		{"both", map[string]string{EnvKeys: "one:" + a, EnvKeysFile: file}, EnvKeys, "keep one"},
		{"missing file", map[string]string{EnvKeysFile: "/nonexistent/keys"}, EnvKeysFile, "/nonexistent/keys: no such file"},
		{"primary alone", map[string]string{EnvPrimary: "one"}, EnvPrimary, "no key is"},
		{"unknown primary", map[string]string{EnvKeys: "one:" + a, EnvPrimary: "two"}, EnvPrimary, `"two" is not among the keys`},
		{"short key", map[string]string{EnvKeys: "one:" + base64.StdEncoding.EncodeToString([]byte("short"))}, EnvKeys, "5 bytes long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromEnv(lookup(tc.env))
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.variable, ce.Variable)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), tc.variable+": "), err.Error())
			assert.NotContains(t, err.Error(), a)
		})
	}
}

// TestNothingPrintsKeys formats a keyring and a codec with every verb and looks for the key bytes.
func TestNothingPrintsKeys(t *testing.T) {
	raw, a := key(0xA7)
	ring, err := ParseKeys("k1:"+a, "")
	require.NoError(t, err)
	c := New(ring)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		for _, v := range []any{ring, c, *c, struct{ R *Keyring }{ring}} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, a, verb)
			assert.NotContains(t, out, string(raw), verb)
			assert.NotContains(t, strings.ToLower(out), strings.Repeat("a7", 4), "%s of %T: %s", verb, v, out)
		}
	}
	assert.Contains(t, ring.String(), `primary key id "k1"`)
	assert.Equal(t, "encryption off", (*Keyring)(nil).String())
}

func TestApplyAndFailureConverter(t *testing.T) {
	var opts client.Options
	Apply(&opts, nil)
	assert.Nil(t, opts.DataConverter, "no keyring: the SDK's plain converters")
	assert.Nil(t, opts.FailureConverter)
	assert.Same(t, converter.GetDefaultDataConverter(), DataConverter(nil))

	_, a := key('a')
	ring, err := ParseKeys("k1:"+a, "")
	require.NoError(t, err)
	Apply(&opts, ring)
	require.NotNil(t, opts.DataConverter)
	require.NotNil(t, opts.FailureConverter)

	// A failure's message (which may name an employee) is encrypted, not only JSON-wrapped.
	f := opts.FailureConverter.ErrorToFailure(temporal.NewApplicationError("no laptop for Ada Lovelace", "NO_STOCK"))
	assert.NotContains(t, f.GetMessage(), "Lovelace")
	attrs := f.GetEncodedAttributes()
	require.NotNil(t, attrs)
	assert.Equal(t, MetadataEncodingEncrypted, string(attrs.Metadata[converter.MetadataEncoding]))
	assert.NotContains(t, string(attrs.Data), "Lovelace")
	back := opts.FailureConverter.FailureToError(f)
	assert.Contains(t, back.Error(), "no laptop for Ada Lovelace")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(back, &appErr))
	assert.Equal(t, "NO_STOCK", appErr.Type(), "the error type stays readable (it is not PII)")
}

// TestFailureToErrorLeavesItsFailureEncoded: the worker records a local activity's failure in its
// marker after decoding it to an error; decoding must not write the clear message back into it.
func TestFailureToErrorLeavesItsFailureEncoded(t *testing.T) {
	_, a := key('a')
	ring, err := ParseKeys("k1:"+a, "")
	require.NoError(t, err)
	fc := FailureConverter(DataConverter(ring))
	f := fc.ErrorToFailure(temporal.NewApplicationErrorWithCause("no asset type named Zeppelin for Ada Lovelace", "UNKNOWN_NAME",
		temporal.NewApplicationError("cause for Ada Lovelace", "CAUSE")))

	back := fc.FailureToError(f)
	assert.Contains(t, back.Error(), "no asset type named Zeppelin for Ada Lovelace")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, back, &appErr)
	assert.Equal(t, "UNKNOWN_NAME", appErr.Type())
	require.ErrorContains(t, errors.Unwrap(back), "cause for Ada Lovelace")
	for c := f; c != nil; c = c.GetCause() {
		assert.Equal(t, "Encoded failure", c.GetMessage(), "the failure (or its cause) was decoded in place")
		assert.Empty(t, c.GetStackTrace())
		assert.NotNil(t, c.GetEncodedAttributes())
	}
	assert.Nil(t, fc.FailureToError(nil))
}
