package hrevents

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Signature headers of the generic source (HR-EVENTS.md).
const (
	HeaderTimestamp = "X-Atomicflow-Timestamp"
	HeaderSignature = "X-Atomicflow-Signature"
)

// SignatureWindow is how far a delivery's timestamp may be from the receiver's clock, either way:
// an older one may be a replay, a newer one comes from a sender whose clock is off.
const SignatureWindow = 5 * time.Minute

// MinSecretLength keeps guessable secrets out.
const MinSecretLength = 16

// Verifier checks deliveries against the webhook secrets: one, or two while they are rotated.
type Verifier struct {
	secrets [][]byte
	now     func() time.Time
}

// NewVerifier returns a verifier for secrets; now is the clock (time.Now in production).
func NewVerifier(secrets []string, now func() time.Time) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("no webhook secret: set at least one")
	}
	v := &Verifier{now: now}
	for i, s := range secrets {
		if len(s) < MinSecretLength {
			return nil, fmt.Errorf("webhook secret #%d is shorter than %d characters: use a long random value, e.g. `openssl rand -hex 32`", i+1, MinSecretLength)
		}
		v.secrets = append(v.secrets, []byte(s))
	}
	return v, nil
}

// Sign returns the X-Atomicflow-Signature value of body sent at ts, for senders and tests.
func Sign(secret string, ts time.Time, body []byte) string {
	return "v1=" + hex.EncodeToString(mac([]byte(secret), strconv.FormatInt(ts.Unix(), 10), body))
}

// mac is HMAC-SHA256(secret, timestamp + "." + body).
func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks the two signature headers against the raw body: the timestamp is within
// SignatureWindow and one of the v1 signatures is the HMAC of one of the secrets.
func (v *Verifier) Verify(timestamp, signature string, body []byte) error {
	s, err := v.Begin(timestamp, signature)
	if err != nil {
		return err
	}
	_, _ = s.Write(body)
	return s.Check()
}

// Begin checks what the headers alone can tell (both present, the timestamp fresh, at least one
// v1 signature), so an unsigned delivery is refused before its body is read; the body is then
// written to the Signed as it arrives and Check gives the verdict.
func (v *Verifier) Begin(timestamp, signature string) (*Signed, error) {
	if timestamp == "" || signature == "" {
		return nil, unauthorized(CodeMissingSignature, "the "+HeaderTimestamp+" and "+HeaderSignature+" headers are required: sign every delivery")
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return nil, unauthorized(CodeInvalidTimestamp, HeaderTimestamp+" must be Unix seconds")
	}
	if skew := v.now().Sub(time.Unix(secs, 0)); skew > SignatureWindow || skew < -SignatureWindow {
		return nil, unauthorized(CodeStaleTimestamp, fmt.Sprintf("%s is %s away from the receiver's clock, more than %s: sign each delivery when it is sent, and check the sender's clock",
			HeaderTimestamp, skew.Abs().Round(time.Second), SignatureWindow))
	}
	s := &Signed{}
	for _, part := range strings.Split(signature, ",") {
		sig, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue // another scheme: not ours
		}
		if got, err := hex.DecodeString(sig); err == nil && len(got) == sha256.Size {
			s.want = append(s.want, got)
		}
	}
	if len(s.want) == 0 {
		return nil, errNoSecretMatches
	}
	for _, secret := range v.secrets {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(timestamp))
		m.Write([]byte{'.'})
		s.macs = append(s.macs, m)
	}
	return s, nil
}

var errNoSecretMatches = unauthorized(CodeInvalidSignature, HeaderSignature+" matches no webhook secret: sign timestamp + \".\" + the raw body with HMAC-SHA256")

// Signed is the HMAC of each secret over a body being read (an io.Writer).
type Signed struct {
	want [][]byte
	macs []hash.Hash
}

func (s *Signed) Write(p []byte) (int, error) {
	for _, m := range s.macs {
		m.Write(p)
	}
	return len(p), nil
}

// Check says whether one of the signatures is the HMAC of one of the secrets over what was written.
func (s *Signed) Check() error {
	for _, m := range s.macs {
		sum := m.Sum(nil)
		for _, got := range s.want {
			if hmac.Equal(got, sum) {
				return nil
			}
		}
	}
	return errNoSecretMatches
}
