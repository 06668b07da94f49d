package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
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
	// SessionTTL is how long a /login session lasts; DefaultSessionTTL when zero.
	SessionTTL time.Duration
	// AuthFailureBurst wrong tokens a client address may send at once, earning one more back
	// every AuthFailureInterval; DefaultAuthFailureBurst and DefaultAuthFailureInterval when zero.
	AuthFailureBurst    int
	AuthFailureInterval time.Duration
	// Logger gets one line per failed authentication (client address, path, reason; never a
	// token or a session id); nil discards them.
	Logger *slog.Logger

	now func() time.Time // tests move the clock
}

// NewHTTPHandler serves Temporal's codec-server protocol for c: POST /encode and /decode (also
// under a namespace prefix, /{namespace}/decode), with CORS for the allowed origins and a bearer
// token. GET /healthz answers without a token.
//
// Temporal UI cannot attach a fixed token to its codec calls (it passes only an OIDC user's
// access token), so a browser proves the token once instead: GET /login shows a form, and a POST
// with the right token starts a server-side session (a random id, expiring after SessionTTL) in
// an HttpOnly, SameSite=Strict cookie, Secure behind TLS. Temporal UI then calls with credentials
// (TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true). POST /logout ends the session; a restart ends all.
// Wrong tokens are throttled per client address (429 with Retry-After) and logged.
func NewHTTPHandler(c *Codec, opts ServerOptions) (http.Handler, error) {
	if c == nil {
		return nil, errors.New("codec server: no codec")
	}
	token := strings.TrimSpace(opts.Token)
	if token == "" {
		return nil, errors.New("codec server: " + EnvAuthToken + " is not set: set it to a long random string, e.g. export " + EnvAuthToken + "=$(openssl rand -hex 32)")
	}
	if len(token) < MinTokenLen {
		return nil, fmt.Errorf("codec server: %s is %d characters long, too short to resist guessing: use at least %d random characters, e.g. export %s=$(openssl rand -hex 32)",
			EnvAuthToken, len(token), MinTokenLen, EnvAuthToken)
	}
	for _, o := range opts.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
	}
	opts = withDefaults(opts)
	return &server{
		codec:       converter.NewPayloadCodecHTTPHandler(c),
		tokenDigest: sha256.Sum256([]byte(token)),
		sessions:    newSessions(opts.SessionTTL),
		throttle:    newThrottle(opts.AuthFailureBurst, opts.AuthFailureInterval),
		logger:      opts.Logger,
		now:         opts.now,
		origins:     slices.Clone(opts.AllowedOrigins),
		maxBody:     opts.MaxBodyBytes,
	}, nil
}

func withDefaults(opts ServerOptions) ServerOptions {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.AuthFailureBurst <= 0 {
		opts.AuthFailureBurst = DefaultAuthFailureBurst
	}
	if opts.AuthFailureInterval <= 0 {
		opts.AuthFailureInterval = DefaultAuthFailureInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	return opts
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
	sessions    *sessions
	throttle    *throttle
	logger      *slog.Logger
	now         func() time.Time
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
	case r.URL.Path == "/logout":
		s.logout(w, r)
	case r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/encode") || strings.HasSuffix(r.URL.Path, "/decode")):
		if s.refuseThrottled(w, r) {
			return
		}
		if problem := s.authenticate(r); problem != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="atomicflow codec server"`)
			http.Error(w, problem+": send Authorization: Bearer <"+EnvAuthToken+"> (Temporal CLI: --codec-auth \"Bearer <token>\"), or sign in at /login from the browser", http.StatusUnauthorized)
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

// authenticate checks "Authorization: Bearer <token>" (compared in constant time) or the session
// cookie, and returns what is wrong, or "" when the request may proceed. A wrong token costs the
// client one attempt; every failure that presented a credential is logged.
func (s *server) authenticate(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && s.tokenMatches(token) {
			return ""
		}
		s.wrongToken(r, "wrong bearer token")
		return "wrong token"
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return "missing token"
	}
	if s.sessions.valid(c.Value, s.now()) {
		return ""
	}
	s.logger.Warn("codec authentication failed", "Client", clientAddr(r), "Path", r.URL.Path, "Reason", "unknown or expired session")
	return "your sign-in expired or was ended"
}

func (s *server) tokenMatches(token string) bool {
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], s.tokenDigest[:]) == 1
}

// wrongToken charges and logs a wrong token.
func (s *server) wrongToken(r *http.Request, reason string) {
	client := clientAddr(r)
	blocked := s.throttle.fail(client, s.now())
	s.logger.Warn("codec authentication failed", "Client", client, "Path", r.URL.Path, "Reason", reason, "Throttled", blocked)
}

// refuseThrottled answers 429 to a client that has used up its attempts, before any token check.
func (s *server) refuseThrottled(w http.ResponseWriter, r *http.Request) bool {
	if !s.throttle.blocked(clientAddr(r), s.now()) {
		return false
	}
	secs := int(s.throttle.interval.Round(time.Second) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	http.Error(w, "too many wrong tokens from your address: wait "+strconv.Itoa(max(secs, 1))+" s and try again with the right "+EnvAuthToken, http.StatusTooManyRequests)
	return true
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>atomicflow codec server</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>atomicflow codec server</h1>
{{if .OK}}<p>Signed in. Temporal UI in this browser now shows decoded payloads; reload its page.</p>
<form method="post" action="/logout"><button>Sign out</button></form>
{{else}}{{if .Failed}}<p style="color: #b00">Wrong token.</p>{{end}}{{if .Out}}<p>Signed out.</p>{{end}}
<p>Enter the codec server's token (ATOMICFLOW_CODEC_AUTH_TOKEN) so that Temporal UI, in this browser, can decode payloads.</p>
<form method="post" action="/login"><input type="password" name="token" autocomplete="off" size="48" autofocus> <button>Sign in</button></form>
{{end}}</body></html>
`))

type loginState struct{ OK, Failed, Out bool }

func pageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w)
	switch r.Method {
	case http.MethodGet:
		c, err := r.Cookie(SessionCookie)
		_ = loginPage.Execute(w, loginState{OK: err == nil && s.sessions.valid(c.Value, s.now())})
	case http.MethodPost:
		if s.refuseThrottled(w, r) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		token := ""
		if err := r.ParseForm(); err == nil {
			token = r.PostForm.Get("token")
		}
		if !s.tokenMatches(token) {
			s.wrongToken(r, "wrong token at sign-in")
			w.WriteHeader(http.StatusUnauthorized)
			_ = loginPage.Execute(w, loginState{Failed: true})
			return
		}
		id, err := s.sessions.create(s.now())
		if err != nil {
			http.Error(w, "cannot start a session: "+err.Error(), http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, s.cookie(r, id, int(s.sessions.ttl/time.Second)))
		_ = loginPage.Execute(w, loginState{OK: true})
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
	}
}

// logout ends the request's session on the server and clears its cookie. It is a POST, and the
// cookie is SameSite=Strict, so another site cannot sign an operator out.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "use POST (the sign-out button at /login)", http.StatusMethodNotAllowed)
		return
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.sessions.end(c.Value)
	}
	http.SetCookie(w, s.cookie(r, "", -1))
	pageHeaders(w)
	_ = loginPage.Execute(w, loginState{Out: true})
}

// cookie is the session cookie: Secure when the request came over TLS (directly or through a
// proxy that says so), so a browser never sends it over plain HTTP there.
func (s *server) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	}
}
