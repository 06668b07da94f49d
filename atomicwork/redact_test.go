package atomicwork

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactURLHidesPasswordsTokensAndQueries(t *testing.T) {
	for raw, want := range map[string]string{
		"https://acme.atomicwork.com":                            "https://acme.atomicwork.com",
		"https://ops:secret@acme.atomicwork.com/?token=secret":   "https://ops:xxxxx@acme.atomicwork.com/",
		"https://secret@acme.atomicwork.com":                     "https://xxxxx@acme.atomicwork.com",
		"http://127.0.0.1:8090/tenant?api_key=secret&x=1#secret": "http://127.0.0.1:8090/tenant",
		"https://acme.atomicwork.com/?":                          "https://acme.atomicwork.com/",
		"http://user:secret@[::1]:bad/?token=secret":             "(an unparsable URL)",
	} {
		assert.Equal(t, want, RedactURL(raw), raw)
	}
}

// TestClientNeverPrintsTheBaseURLsSecrets: a base URL with user:secret@ and ?token=secret is
// printed, and named in errors (a refused URL, a call that got no answer), without "secret".
func TestClientNeverPrintsTheBaseURLsSecrets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing answers there
	base := "http://ops:secret@" + addr + "/?token=secret"
	cfg := Config{BaseURL: base, APIKey: "sk-key", WorkspaceID: 1}
	c, err := New(cfg)
	require.NoError(t, err)
	_, callErr := c.GetWorkspace(context.Background(), 1)
	require.Error(t, callErr)
	_, badErr := New(Config{BaseURL: "ftp://ops:secret@" + addr + "/?token=secret", APIKey: "sk-key"})
	require.Error(t, badErr)
	for name, text := range map[string]string{
		"Config.String": cfg.String(), "Config %#v": fmt.Sprintf("%#v", cfg), "Client.String": c.String(),
		"call error": callErr.Error(), "bad URL error": badErr.Error(),
	} {
		assert.NotContains(t, text, "secret", name)
	}
	assert.Contains(t, c.String(), addr, "the host is still named")
}
