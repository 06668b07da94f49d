package hrevents

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	secretA = "0123456789abcdef-secret-A"
	secretB = "fedcba9876543210-secret-B"
)

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"event_id":"evt-1"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	v, err := NewVerifier([]string{secretA}, func() time.Time { return now })
	require.NoError(t, err)
	rotating, err := NewVerifier([]string{secretB, secretA}, func() time.Time { return now })
	require.NoError(t, err)

	for _, tc := range []struct {
		name      string
		verifier  *Verifier
		timestamp string
		signature string
		body      []byte
		code      string // "" means accepted
	}{
		{"good", v, ts, Sign(secretA, now, body), body, ""},
		{"wrong secret", v, ts, Sign(secretB, now, body), body, CodeInvalidSignature},
		{"tampered body", v, ts, Sign(secretA, now, body), []byte(`{"event_id":"evt-2"}`), CodeInvalidSignature},
		{"signature of another timestamp", v, at(time.Second), Sign(secretA, now, body), body, CodeInvalidSignature},
		{"stale", v, at(-SignatureWindow - time.Second), Sign(secretA, now.Add(-SignatureWindow-time.Second), body), body, CodeStaleTimestamp},
		{"old but in the window", v, at(-SignatureWindow + time.Second), Sign(secretA, now.Add(-SignatureWindow+time.Second), body), body, ""},
		{"future", v, at(SignatureWindow + time.Second), Sign(secretA, now.Add(SignatureWindow+time.Second), body), body, CodeStaleTimestamp},
		{"rotation: the new secret", rotating, ts, Sign(secretB, now, body), body, ""},
		{"rotation: the old secret", rotating, ts, Sign(secretA, now, body), body, ""},
		{"old secret after rotation", verifierFor(t, secretB, now), ts, Sign(secretA, now, body), body, CodeInvalidSignature},
		{"several v1 values, one good", v, ts, "v1=00ff, " + Sign(secretB, now, body) + "," + Sign(secretA, now, body), body, ""},
		{"several v1 values, none good", v, ts, "v1=zz," + Sign(secretB, now, body), body, CodeInvalidSignature},
		{"another scheme only", v, ts, "v0=" + Sign(secretA, now, body)[3:], body, CodeInvalidSignature},
		{"uppercase hex", v, ts, "v1=" + upper(Sign(secretA, now, body)[3:]), body, ""},
		{"missing timestamp", v, "", Sign(secretA, now, body), body, CodeMissingSignature},
		{"missing signature", v, ts, "", body, CodeMissingSignature},
		{"timestamp not a number", v, "2026-11-20T12:00:00Z", Sign(secretA, now, body), body, CodeInvalidTimestamp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.verifier.Verify(tc.timestamp, tc.signature, tc.body)
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			var p *Problem
			require.ErrorAs(t, err, &p)
			assert.Equal(t, http.StatusUnauthorized, p.Status)
			assert.Equal(t, tc.code, p.Code)
		})
	}
}

func verifierFor(t *testing.T, secret string, now time.Time) *Verifier {
	t.Helper()
	v, err := NewVerifier([]string{secret}, func() time.Time { return now })
	require.NoError(t, err)
	return v
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestNewVerifierRefusesWeakOrNoSecrets(t *testing.T) {
	_, err := NewVerifier(nil, time.Now)
	require.Error(t, err)
	_, err = NewVerifier([]string{secretA, "short"}, time.Now)
	require.ErrorContains(t, err, "secret #2 is shorter than 16 characters")
}

func TestSignMatchesTheSpec(t *testing.T) {
	// The README computes it so: printf '1795170600.{}' | openssl dgst -sha256 -hmac 0123456789abcdef-secret-A -r
	assert.Equal(t, "v1=79c06ccb239276ffe0946600f6d5cac1f404919ea46d87b16fe3044cb5590866", Sign(secretA, time.Unix(1795170600, 0), []byte("{}")))
}
