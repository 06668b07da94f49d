package codec

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

const (
	testToken = "codec-token-0123456789"
	uiOrigin  = "http://localhost:8233"
)

func testServer(t *testing.T) (*httptest.Server, *Codec) {
	t.Helper()
	_, a := key('a')
	ring, err := ParseKeys("k1:"+a, "")
	require.NoError(t, err)
	c := New(ring)
	h, err := NewHTTPHandler(c, ServerOptions{Token: testToken, AllowedOrigins: []string{uiOrigin}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, c
}

// encrypted returns the protojson body of a /decode request for v.
func encrypted(t *testing.T, c *Codec, v any) string {
	t.Helper()
	p, err := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c).ToPayload(v)
	require.NoError(t, err)
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)
	return string(b)
}

func post(t *testing.T, client *http.Client, u, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestServerDecodesWithTheToken(t *testing.T) {
	srv, c := testServer(t)
	body := encrypted(t, c, ada)

	resp, out := post(t, srv.Client(), srv.URL+"/default/decode", body, map[string]string{"Authorization": "Bearer " + testToken, "Origin": uiOrigin})
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	var payloads commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(out), &payloads))
	require.Len(t, payloads.Payloads, 1)
	var got person
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(payloads.Payloads[0], &got))
	assert.Equal(t, ada, got)
	assert.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))

	// Encode works too, and without a namespace prefix.
	plain, err := protojson.Marshal(&payloads)
	require.NoError(t, err)
	resp, out = post(t, srv.Client(), srv.URL+"/encode", string(plain), map[string]string{"Authorization": "bearer " + testToken})
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.Contains(t, out, base64.StdEncoding.EncodeToString([]byte(MetadataEncodingEncrypted)))
	assert.NotContains(t, out, "Lovelace")
}

func TestServerRejectsAWrongOrMissingToken(t *testing.T) {
	srv, c := testServer(t)
	body := encrypted(t, c, ada)
	for name, header := range map[string]map[string]string{
		"missing":      {},
		"wrong":        {"Authorization": "Bearer not-the-token"},
		"prefix":       {"Authorization": "Bearer " + testToken[:10]},
		"longer":       {"Authorization": "Bearer " + testToken + "x"},
		"not bearer":   {"Authorization": "Basic " + testToken},
		"token alone":  {"Authorization": testToken},
		"wrong cookie": {"Cookie": SessionCookie + "=" + strings.Repeat("0", 64)},
	} {
		t.Run(name, func(t *testing.T) {
			resp, out := post(t, srv.Client(), srv.URL+"/default/decode", body, header)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.NotContains(t, out, "Lovelace")
			assert.NotContains(t, out, testToken)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
		})
	}
}

func TestServerCORS(t *testing.T) {
	srv, _ := testServer(t)
	preflight := func(origin string) *http.Response {
		req, err := http.NewRequest(http.MethodOptions, srv.URL+"/default/decode", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := preflight(uiOrigin)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "a preflight needs no token")
	assert.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"), "the exact origin, never *")
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "Authorization,Content-Type,X-Namespace", resp.Header.Get("Access-Control-Allow-Headers"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "POST")

	resp = preflight("https://evil.example")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	// A denied request from the UI still carries CORS headers, so the UI can show the 401.
	resp2, _ := post(t, srv.Client(), srv.URL+"/default/decode", "{}", map[string]string{"Origin": uiOrigin})
	assert.Equal(t, http.StatusUnauthorized, resp2.StatusCode)
	assert.Equal(t, uiOrigin, resp2.Header.Get("Access-Control-Allow-Origin"))
}

func TestServerBrowserLogin(t *testing.T) {
	srv, c := testServer(t)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	body := encrypted(t, c, ada)

	resp, err := browser.Get(srv.URL + "/login")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), `name="token"`)

	resp, err = browser.PostForm(srv.URL+"/login", url.Values{"token": {"wrong"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	r, _ := post(t, browser, srv.URL+"/default/decode", body, nil)
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode, "a failed sign-in sets no cookie")

	resp, err = browser.PostForm(srv.URL+"/login", url.Values{"token": {testToken}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			session = ck
		}
	}
	require.NotNil(t, session)
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
	assert.NotContains(t, session.Value, testToken, "the cookie is derived from the token, not the token")

	r, out := post(t, browser, srv.URL+"/default/decode", body, map[string]string{"Origin": uiOrigin})
	assert.Equal(t, http.StatusOK, r.StatusCode, out)
	assert.Contains(t, out, "payloads")
}

func TestServerHealthAndUnknownPaths(t *testing.T) {
	srv, _ := testServer(t)
	resp, err := srv.Client().Get(srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = srv.Client().Get(srv.URL + "/default/decode")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "only POST decodes")
}

func TestNewHTTPHandlerValidates(t *testing.T) {
	_, a := key('a')
	ring, err := ParseKeys("k1:"+a, "")
	require.NoError(t, err)
	_, err = NewHTTPHandler(New(ring), ServerOptions{})
	require.ErrorContains(t, err, EnvAuthToken)
	_, err = NewHTTPHandler(New(ring), ServerOptions{Token: "t", AllowedOrigins: []string{"http://localhost:8233/"}})
	require.ErrorContains(t, err, "scheme://host[:port]")
	_, err = NewHTTPHandler(nil, ServerOptions{Token: "t"})
	require.Error(t, err)
}
