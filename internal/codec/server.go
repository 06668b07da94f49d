package codec

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
)

// EnvAuthToken is the bearer token the codec server requires.
const EnvAuthToken = "ATOMICFLOW_CODEC_AUTH_TOKEN"

// SessionCookie carries a browser's proof of the token (see ServerOptions).
const SessionCookie = "atomicflow_codec_session"

// DefaultMaxBodyBytes bounds one /encode or /decode request.
const DefaultMaxBodyBytes = 32 << 20

// ServerOptions configure the codec server's HTTP handler.
type ServerOptions struct {
	// Token is the bearer token every /encode and /decode request must carry (required). The
	// Temporal CLI sends it with --codec-auth "Bearer <token>".
	Token string
	// AllowedOrigins are the exact browser origins (Temporal UI) that may call the server
	// cross-origin, e.g. http://localhost:8233. No other origin gets CORS headers.
	AllowedOrigins []string
	// MaxBodyBytes bounds a request body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
}

// NewHTTPHandler serves Temporal's codec-server protocol for c: POST /encode and /decode (also
// under a namespace prefix, /{namespace}/decode), with CORS for the allowed origins and a bearer
// token. GET /healthz answers without a token.
//
// Temporal UI cannot attach a fixed token to its codec calls (it passes only an OIDC user's
// access token), so a browser proves the token once instead: GET /login shows a form, and a POST
// with the right token sets an HttpOnly, SameSite=Strict cookie derived from it (not the token
// itself). Temporal UI then calls with credentials (TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true).
// Changing the token invalidates every cookie.
func NewHTTPHandler(c *Codec, opts ServerOptions) (http.Handler, error) {
	if c == nil {
		return nil, errors.New("codec server: no codec")
	}
	if strings.TrimSpace(opts.Token) == "" {
		return nil, errors.New("codec server: " + EnvAuthToken + " is not set: set it to a long random string (e.g. `openssl rand -hex 32`)")
	}
	for _, o := range opts.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	tokenDigest := sha256.Sum256([]byte(opts.Token))
	mac := hmac.New(sha256.New, []byte(opts.Token))
	mac.Write([]byte("atomicflow codec session v1"))
	return &server{
		codec:       converter.NewPayloadCodecHTTPHandler(c),
		tokenDigest: tokenDigest,
		session:     hex.EncodeToString(mac.Sum(nil)),
		origins:     slices.Clone(opts.AllowedOrigins),
		maxBody:     opts.MaxBodyBytes,
	}, nil
}

// checkOrigin accepts scheme://host[:port] with nothing after it: browsers send exactly that.
func checkOrigin(o string) error {
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || (scheme != "http" && scheme != "https") || rest == "" || strings.ContainsAny(rest, "/?#") {
		return errors.New("codec server: UI origin " + o + " is not scheme://host[:port]: use e.g. http://localhost:8233 (no path, no trailing slash)")
	}
	return nil
}

type server struct {
	codec       http.Handler
	tokenDigest [sha256.Size]byte
	session     string
	origins     []string
	maxBody     int64
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && slices.Contains(s.origins, origin)
	w.Header().Add("Vary", "Origin")
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	switch {
	case r.Method == http.MethodOptions:
		s.preflight(w, origin, allowed)
	case r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	case r.URL.Path == "/login":
		s.login(w, r)
	case r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/encode") || strings.HasSuffix(r.URL.Path, "/decode")):
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="atomicflow codec server"`)
			http.Error(w, "missing or wrong token: send Authorization: Bearer <"+EnvAuthToken+"> (Temporal CLI: --codec-auth \"Bearer <token>\"), or sign in at /login from the browser", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		s.codec.ServeHTTP(w, r)
	default:
		http.Error(w, "not found: the codec server answers POST /{namespace}/encode and /{namespace}/decode", http.StatusNotFound)
	}
}

// preflight answers a browser's CORS preflight; it carries no credentials, so it needs no token.
func (s *server) preflight(w http.ResponseWriter, origin string, allowed bool) {
	if !allowed {
		http.Error(w, "origin "+origin+" is not allowed: start the codec server with --ui-origin "+orNone(origin), http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization,Content-Type,X-Namespace")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func orNone(s string) string {
	if s == "" {
		return "<the UI's origin> (the request sent no Origin header)"
	}
	return s
}

// authorized accepts "Authorization: Bearer <token>" or the session cookie, both compared in
// constant time.
func (s *server) authorized(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		return subtle.ConstantTimeCompare(got[:], s.tokenDigest[:]) == 1
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.session)) == 1
	}
	return false
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>atomicflow codec server</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>atomicflow codec server</h1>
{{if .OK}}<p>Signed in. Temporal UI in this browser now shows decoded payloads; reload its page.</p>
{{else}}{{if .Failed}}<p style="color: #b00">Wrong token.</p>{{end}}
<p>Enter the codec server's token (ATOMICFLOW_CODEC_AUTH_TOKEN) so that Temporal UI, in this browser, can decode payloads.</p>
<form method="post" action="/login"><input type="password" name="token" autocomplete="off" size="48" autofocus> <button>Sign in</button></form>
{{end}}</body></html>
`))

// sessionTTL is how long a browser stays signed in.
const sessionTTL = 12 * time.Hour

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	switch r.Method {
	case http.MethodGet:
		_ = loginPage.Execute(w, struct{ OK, Failed bool }{})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		token := ""
		if err := r.ParseForm(); err == nil {
			token = r.PostForm.Get("token")
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if subtle.ConstantTimeCompare(got[:], s.tokenDigest[:]) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			_ = loginPage.Execute(w, struct{ OK, Failed bool }{Failed: true})
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: SessionCookie, Value: s.session, Path: "/", MaxAge: int(sessionTTL / time.Second),
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
			Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
		})
		_ = loginPage.Execute(w, struct{ OK, Failed bool }{OK: true})
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
	}
}
