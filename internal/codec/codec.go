// Package codec encrypts Temporal payloads with AES-256-GCM so that employees' names and emails
// never reach Temporal's database in clear text. Each encrypted payload names the key that
// encrypted it (metadata "encryption-key-id"); a Keyring encrypts with its primary key and
// decrypts with any key it holds, so keys can be rotated without losing old histories.
//
// Worker, starter and codec server build their converters here (Apply, DataConverter,
// FailureConverter); without a configured key (development) the converters stay Temporal's plain
// ones. Key material is never printed: not by %v, not in errors, not in logs.
package codec

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// MetadataEncodingEncrypted is the "encoding" metadata of an encrypted payload.
	MetadataEncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted a payload.
	MetadataKeyID = "encryption-key-id"
)

// Codec is a converter.PayloadCodec that encrypts every payload with the keyring's primary key
// and decrypts encrypted payloads with the key they name. Payloads that are not encrypted (written
// before encryption was turned on) pass through Decode unchanged.
type Codec struct {
	ring *Keyring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns the codec of ring, which must not be nil.
func New(ring *Keyring) *Codec {
	if ring == nil {
		panic("codec.New: nil keyring")
	}
	return &Codec{ring: ring}
}

// Keyring returns the codec's keyring.
func (c *Codec) Keyring() *Keyring { return c.ring }

// String describes the codec by key ids only.
func (c *Codec) String() string { return "codec.Codec{" + c.ring.String() + "}" }

// GoString keeps %#v from printing anything else.
func (c *Codec) GoString() string { return c.String() }

// Format prints the description for every verb, so no verb can reach the keys.
func (c *Codec) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// Encode encrypts each payload (its data and metadata, marshalled) with the primary key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.ring.primary
	aead := c.ring.aeads[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("codec: cannot marshal payload %d: %w", i, err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("codec: cannot draw a nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
				MetadataKeyID:              []byte(id),
			},
			Data: aead.Seal(nonce, nonce, plain, additionalData(id)),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads with the key each names; other payloads pass through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		if id == "" {
			return payloads, fmt.Errorf("codec: payload %d is %s but has no %s metadata: it was not written by this codec", i, MetadataEncodingEncrypted, MetadataKeyID)
		}
		aead, ok := c.ring.aeads[id]
		if !ok {
			return payloads, &UnknownKeyError{KeyID: id, Known: c.ring.IDs()}
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return payloads, fmt.Errorf("codec: payload %d (key id %q) is too short to be encrypted data", i, id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], additionalData(id))
		if err != nil {
			return payloads, fmt.Errorf("codec: payload %d does not decrypt with key id %q: the data was altered or the key under that id was replaced", i, id)
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(plain, &decoded); err != nil {
			return payloads, fmt.Errorf("codec: payload %d (key id %q) decrypts to something that is not a payload: %w", i, id, err)
		}
		out[i] = &decoded
	}
	return out, nil
}

// additionalData binds the ciphertext to its key id, so a payload's key id cannot be swapped.
func additionalData(keyID string) []byte { return []byte("atomicflow/codec/v1 " + keyID) }

// UnknownKeyError is a payload encrypted with a key the keyring does not hold.
type UnknownKeyError struct {
	KeyID string
	Known []string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("codec: payload encrypted with key id %q, which this process does not hold (it holds %s): add that key to %s (keep retired keys until no history needs them)",
		e.KeyID, strings.Join(quoteAll(e.Known), ", "), EnvKeys)
}

// ErrNoKeyring is returned by helpers that need encryption when none is configured.
var ErrNoKeyring = errors.New("codec: no encryption key configured: set " + EnvKeys + " or " + EnvKeysFile)

// DataConverter returns Temporal's default data converter wrapped with ring's codec, or the plain
// default converter when ring is nil (encryption off).
func DataConverter(ring *Keyring) converter.DataConverter {
	if ring == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(ring))
}

// FailureConverter returns a failure converter that moves failure messages and stack traces into
// an attributes payload encoded with dc, so they are encrypted too when dc encrypts.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return copyingFailureConverter{temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})}
}

// copyingFailureConverter decodes a copy of each failure. The SDK's default converter decodes the
// failure it is given in place, and a local activity's failure is the very one the worker then
// records in its MarkerRecorded command: decoded in place, the marker reached Temporal with the
// clear message beside its encrypted attributes.
type copyingFailureConverter struct{ converter.FailureConverter }

func (c copyingFailureConverter) FailureToError(f *failurepb.Failure) error {
	if f == nil {
		return nil
	}
	return c.FailureConverter.FailureToError(proto.Clone(f).(*failurepb.Failure))
}

// Apply sets opts' data and failure converters to encrypt with ring. A nil ring leaves opts as
// they are: Temporal's plain converters.
func Apply(opts *client.Options, ring *Keyring) {
	if ring == nil {
		return
	}
	dc := DataConverter(ring)
	opts.DataConverter = dc
	opts.FailureConverter = FailureConverter(dc)
}

func quoteAll(ids []string) []string {
	out := slices.Clone(ids)
	for i, id := range out {
		out[i] = fmt.Sprintf("%q", id)
	}
	return out
}
