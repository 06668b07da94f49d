package codec

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/atomicflow/atomicflow/internal/testkit"
)

const (
	testToken = "codec-token-0123456789abcdef0123456789"
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
	assert.False(t, session.Secure, "plain HTTP: a Secure cookie would never be sent back")
	assert.Equal(t, int(DefaultSessionTTL/time.Second), session.MaxAge)
	assert.Regexp(t, `^[0-9a-f]{64}$`, session.Value, "a random session id, not the token nor derived from it")

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
	_, err = NewHTTPHandler(New(ring), ServerOptions{Token: testToken, AllowedOrigins: []string{"http://localhost:8233/"}})
	require.ErrorContains(t, err, "scheme://host[:port]")
	_, err = NewHTTPHandler(nil, ServerOptions{Token: testToken})
	require.Error(t, err)

	short := strings.Repeat("s", MinTokenLen-1)
	_, err = NewHTTPHandler(New(ring), ServerOptions{Token: short})
	require.ErrorContains(t, err, EnvAuthToken+" is 31 characters long")
	require.ErrorContains(t, err, "openssl rand -hex 32")
	assert.NotContains(t, err.Error(), short)
	_, err = NewHTTPHandler(New(ring), ServerOptions{Token: "  " + short + "\n"})
	require.ErrorContains(t, err, "is 31 characters long", "surrounding blanks do not count")
	_, err = NewHTTPHandler(New(ring), ServerOptions{Token: strings.Repeat("s", MinTokenLen)})
	require.NoError(t, err)
}

// clock is a test's movable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// clockedHandler is a codec server handler with opts, on a test clock, logging into the returned buffer.
func clockedHandler(t *testing.T, opts ServerOptions) (http.Handler, *Codec, *clock, *testkit.SyncBuffer) {
	t.Helper()
	_, a := key('a')
	ring, err := ParseKeys("k1:"+a, "")
	require.NoError(t, err)
	c := New(ring)
	clk := &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	var logs testkit.SyncBuffer
	opts.Token, opts.now, opts.Logger = testToken, clk.now, slog.New(slog.NewTextHandler(&logs, nil))
	h, err := NewHTTPHandler(c, opts)
	require.NoError(t, err)
	return h, c, clk, &logs
}

// call serves one request from client (an IP address) and returns the response.
func call(h http.Handler, client, method, path, body string, header map[string]string) *http.Response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = client + ":40000"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func signIn(t *testing.T, h http.Handler, header map[string]string) *http.Cookie {
	t.Helper()
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	maps.Copy(hdr, header)
	resp := call(h, "192.0.2.1", http.MethodPost, "/login", url.Values{"token": {testToken}}.Encode(), hdr)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestServerSessionsExpireAndAreRandom(t *testing.T) {
	h, c, clk, logs := clockedHandler(t, ServerOptions{SessionTTL: time.Hour})
	body := encrypted(t, c, ada)
	first, second := signIn(t, h, nil), signIn(t, h, nil)
	assert.NotEqual(t, first.Value, second.Value, "each sign-in gets its own random id")
	assert.Equal(t, 3600, first.MaxAge)
	withCookie := func(ck *http.Cookie) map[string]string { return map[string]string{"Cookie": ck.Name + "=" + ck.Value} }

	assert.Equal(t, http.StatusOK, call(h, "192.0.2.1", http.MethodPost, "/default/decode", body, withCookie(first)).StatusCode)
	clk.add(time.Hour - time.Second)
	assert.Equal(t, http.StatusOK, call(h, "192.0.2.1", http.MethodPost, "/default/decode", body, withCookie(first)).StatusCode)
	clk.add(time.Second)
	resp := call(h, "192.0.2.1", http.MethodPost, "/default/decode", body, withCookie(first))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the server ends the session after its TTL, whatever the browser keeps")
	out, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(out), "sign-in expired")
	assert.Contains(t, logs.String(), "unknown or expired session")
	assert.NotContains(t, logs.String(), first.Value)
}

func TestServerLogoutEndsTheSession(t *testing.T) {
	h, c, _, _ := clockedHandler(t, ServerOptions{})
	body := encrypted(t, c, ada)
	ck := signIn(t, h, nil)
	cookie := map[string]string{"Cookie": ck.Name + "=" + ck.Value}
	require.Equal(t, http.StatusOK, call(h, "192.0.2.1", http.MethodPost, "/default/decode", body, cookie).StatusCode)
	page, _ := io.ReadAll(call(h, "192.0.2.1", http.MethodGet, "/login", "", cookie).Body)
	assert.Contains(t, string(page), `action="/logout"`, "a signed-in browser is offered to sign out")

	assert.Equal(t, http.StatusMethodNotAllowed, call(h, "192.0.2.1", http.MethodGet, "/logout", "", cookie).StatusCode)
	resp := call(h, "192.0.2.1", http.MethodPost, "/logout", "", cookie)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, resp.Cookies(), 1)
	assert.Equal(t, SessionCookie, resp.Cookies()[0].Name)
	assert.Negative(t, resp.Cookies()[0].MaxAge, "the browser drops the cookie")
	assert.Equal(t, http.StatusUnauthorized, call(h, "192.0.2.1", http.MethodPost, "/default/decode", body, cookie).StatusCode,
		"the old cookie no longer works, even if a browser kept it")
}

func TestServerSessionCookieIsSecureBehindTLS(t *testing.T) {
	h, _, _, _ := clockedHandler(t, ServerOptions{})
	ck := signIn(t, h, map[string]string{"X-Forwarded-Proto": "https"})
	assert.True(t, ck.Secure)
	assert.True(t, ck.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, ck.SameSite)

	_, a := key('a')
	ring, err := ParseKeys("k1:"+a, "")
	require.NoError(t, err)
	hh, err := NewHTTPHandler(New(ring), ServerOptions{Token: testToken})
	require.NoError(t, err)
	srv := httptest.NewTLSServer(hh)
	defer srv.Close()
	resp, err := srv.Client().PostForm(srv.URL+"/login", url.Values{"token": {testToken}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, resp.Cookies())
	assert.True(t, resp.Cookies()[0].Secure, "served over TLS")
}

func TestServerThrottlesWrongTokensPerClient(t *testing.T) {
	h, c, clk, logs := clockedHandler(t, ServerOptions{AuthFailureBurst: 3, AuthFailureInterval: time.Minute})
	body := encrypted(t, c, ada)
	right := map[string]string{"Authorization": "Bearer " + testToken}
	wrong := map[string]string{"Authorization": "Bearer " + strings.Repeat("w", 40)}
	const attacker, operator = "203.0.113.7", "198.51.100.2"

	for range 3 {
		assert.Equal(t, http.StatusUnauthorized, call(h, attacker, http.MethodPost, "/default/decode", body, wrong).StatusCode)
	}
	resp := call(h, attacker, http.MethodPost, "/default/decode", body, right)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "once throttled, even the right token waits: guessing goes no faster")
	assert.Equal(t, "60", resp.Header.Get("Retry-After"))
	login := call(h, attacker, http.MethodPost, "/login", url.Values{"token": {testToken}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	assert.Equal(t, http.StatusTooManyRequests, login.StatusCode, "the sign-in form is throttled too")
	assert.Equal(t, http.StatusOK, call(h, operator, http.MethodPost, "/default/decode", body, right).StatusCode, "other clients are not affected")

	clk.add(time.Minute)
	assert.Equal(t, http.StatusOK, call(h, attacker, http.MethodPost, "/default/decode", body, right).StatusCode, "one attempt earned back")

	// A wrong sign-in counts like a wrong bearer token.
	for range 2 {
		call(h, operator, http.MethodPost, "/login", url.Values{"token": {"guess"}}.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	}
	assert.Equal(t, http.StatusUnauthorized, call(h, operator, http.MethodPost, "/default/decode", body, wrong).StatusCode)
	assert.Equal(t, http.StatusTooManyRequests, call(h, operator, http.MethodPost, "/default/decode", body, right).StatusCode)

	out := logs.String()
	assert.Contains(t, out, "codec authentication failed")
	assert.Contains(t, out, "Client="+attacker)
	assert.Contains(t, out, "Reason=\"wrong bearer token\"")
	assert.Contains(t, out, "Reason=\"wrong token at sign-in\"")
	assert.Contains(t, out, "Throttled=true")
	assert.NotContains(t, out, testToken)
	assert.NotContains(t, out, strings.Repeat("w", 40), "not even the wrong token is logged")
	assert.NotContains(t, out, "guess")
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	th := newThrottle(2, time.Minute)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	addr := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	for i := range maxThrottledClients {
		assert.False(t, th.fail(addr(i), now), "one wrong token of two allowed")
	}
	// Past the bound, new clients share one budget, which they soon use up.
	for i := range 3 {
		th.fail(addr(maxThrottledClients+i), now)
	}
	assert.LessOrEqual(t, len(th.clients), maxThrottledClients+1)
	assert.True(t, th.blocked("198.51.100.1", now), "a new client past the bound is throttled by the shared budget")
	assert.False(t, th.blocked(addr(0), now), "known clients keep their own budget")

	// Clients that earned every attempt back are forgotten to make room.
	later := now.Add(2 * time.Minute)
	assert.False(t, th.fail("192.0.2.99", later))
	_, own := th.clients["192.0.2.99"]
	assert.True(t, own)
	assert.Less(t, len(th.clients), maxThrottledClients)
}
