package atomicworktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// core is the API half of the simulator: routing, authentication, workspace scoping, validation
// and the in-memory store. Handler wraps it with rate limits, faults and stats.
type core struct {
	opts  Options
	now   func() time.Time
	keys  map[string]int64 // API key → home workspace
	table []route          // most specific pattern first

	mu sync.Mutex // guards st and revocations
	st *store
	// revocations draws the outcome of each deprovisioning attempt (Options.RevocationFailure).
	revocations *rand.Rand
	// revocationPCG is revocations' source, kept so a state file can record its position.
	revocationPCG *rand.PCG
}

// route is one served operation. pattern is spelled exactly as the path key of openapi.yaml.
type route struct {
	method  string
	pattern string
	segs    []string
	// discovery marks GET /workspaces*, which must work before a client knows any workspace id,
	// so X-Workspace-Id is not read there.
	discovery bool
	serve     func(*call) (any, error)
}

// call is one authenticated request on its way through a route.
type call struct {
	params map[string]string
	query  url.Values
	body   []byte // nil when the request had none
	home   int64  // the key's home workspace
	ws     int64  // workspace in scope: X-Workspace-Id, else the home workspace
	strict bool
	order  listOrder // of lists without an explicit sort (Faults.ListOrder)
}

// maxBody bounds request bodies; real payloads are a few kilobytes.
const maxBody = 1 << 20

// API-NOTES §5.7 names one code per status class: a 4xx it does not list (405, 413, 415) is an
// invalid request, BAD_REQUEST, and every 5xx is INTERNAL_ERROR, so clients see only §5.7's codes.

func newCore(opts Options) *core {
	devKey := DevKey
	if opts.APIKey != "" {
		devKey = opts.APIKey
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	c := &core{
		opts: opts,
		now:  func() time.Time { return now().UTC() },
		keys: map[string]int64{devKey: ITWorkspaceID, HRKey: HRWorkspaceID},
	}
	c.table = c.buildRoutes()
	c.st = seed(opts, c.now())
	c.seedRevocations(opts.Faults.Seed)
	return c
}

func (c *core) buildRoutes() []route {
	rs := []route{
		{method: "GET", pattern: "/api/v1/workspaces", discovery: true, serve: c.listWorkspaces},
		{method: "GET", pattern: "/api/v1/workspaces/{id}", discovery: true, serve: c.getWorkspace},

		{method: "GET", pattern: "/api/v1/users/{email}/email-lookup", serve: c.lookupUserByEmail},
		{method: "GET", pattern: "/api/v1/users/list", serve: c.listUsers},
		{method: "POST", pattern: "/api/v1/users", serve: c.createUser},
		{method: "GET", pattern: "/api/v1/users/{user_id}", serve: c.getUser},
		{method: "PUT", pattern: "/api/v1/users/{user_id}", serve: c.updateUser},
		{method: "PATCH", pattern: "/api/v1/users/{user_id}", serve: c.updateUser},
		{method: "DELETE", pattern: "/api/v1/users/{user_id}", serve: c.deleteUser},
		{method: "PATCH", pattern: "/api/v1/users/{user_id}/restore", serve: c.restoreUser},
		{method: "PATCH", pattern: "/api/v1/users/{email}/restore-by-email", serve: c.restoreUserByEmail},

		{method: "GET", pattern: "/api/v1/workspaces/{workspaceId}/catalogue/items", serve: c.listCatalogItems},
		{method: "GET", pattern: "/api/v1/workspaces/{workspaceId}/catalogue/items/{itemId}", serve: c.getCatalogItem},
		{method: "GET", pattern: "/api/v1/catalogue-items/{item_id}/fields", serve: c.listCatalogFields},
		{method: "GET", pattern: "/api/v1/forms/{entity_type}/{reference_key}/options", serve: c.listFormOptions},

		{method: "POST", pattern: "/api/v1/requests", serve: c.createRequest},
		{method: "POST", pattern: "/api/v1/requests/items/{item_id}", serve: c.createItemRequest},
		{method: "GET", pattern: "/api/v1/requests/{requestId}", serve: c.getRequest},
		{method: "PATCH", pattern: "/api/v1/requests/{requestId}", serve: c.patchRequest},
		{method: "POST", pattern: "/api/v1/requests/list", serve: c.listRequests},
		{method: "POST", pattern: "/api/v1/workspaces/{workspace_id}/requests/list", serve: c.listWorkspaceRequests},
		{method: "POST", pattern: "/api/v1/requests/{requestId}/notes", serve: c.createNote},
		{method: "GET", pattern: "/api/v1/requests/{requestId}/notes", serve: c.listNotes},

		{method: "GET", pattern: "/api/v1/iga/apps", serve: c.listApps},
		{method: "GET", pattern: "/api/v1/iga/entitlements", serve: c.listEntitlements},
		{method: "POST", pattern: "/api/v1/iga/grants", serve: c.createGrant},
		{method: "POST", pattern: "/api/v1/iga/grants/list", serve: c.listGrants},
		{method: "POST", pattern: "/api/v1/iga/grants/{grant_id}/revoke", serve: c.revokeGrant},
		{method: "GET", pattern: "/api/v1/iga/grants/{grant_id}/history", serve: c.grantHistory},

		{method: "GET", pattern: "/api/v1/assets/attributes", serve: c.listAssetAttributes},
		{method: "GET", pattern: "/api/v1/assets/types/{asset_type_id}/form-fields", serve: c.listAssetTypeFields},
		{method: "POST", pattern: "/api/v1/assets/list", serve: c.listAssets},
		{method: "GET", pattern: "/api/v1/assets/users/{user_id}/list", serve: c.listUserAssets},
		{method: "POST", pattern: "/api/v1/assets", serve: c.createAsset},
		{method: "GET", pattern: "/api/v1/assets/{asset_id}", serve: c.getAsset},
		{method: "PUT", pattern: "/api/v1/assets/{asset_id}", serve: c.updateAsset},
	}
	for i := range rs {
		rs[i].segs = strings.Split(strings.TrimPrefix(rs[i].pattern, "/"), "/")
	}
	// A literal segment beats a wildcard at the first position where two patterns differ, so
	// /requests/items/{item_id} wins over /requests/{requestId}/notes for /requests/items/notes.
	slices.SortStableFunc(rs, func(a, b route) int {
		return slices.CompareFunc(a.segs, b.segs, func(x, y string) int {
			return boolInt(isWildcard(x)) - boolInt(isWildcard(y))
		})
	})
	return rs
}

func isWildcard(seg string) bool { return strings.HasPrefix(seg, "{") }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// match finds the route for a request. When none serves its method, allowed lists the methods
// served on its path, which makes the answer 405 rather than 404.
func (c *core) match(r *http.Request) (rt *route, params map[string]string, allowed []string) {
	segs, ok := splitPath(r.URL)
	if !ok {
		return nil, nil, nil
	}
	for i := range c.table {
		p, ok := c.table[i].bind(segs)
		if !ok {
			continue
		}
		if c.table[i].method == r.Method {
			return &c.table[i], p, nil
		}
		if !slices.Contains(allowed, c.table[i].method) {
			allowed = append(allowed, c.table[i].method)
		}
	}
	return nil, nil, allowed
}

// splitPath returns the unescaped segments of the request path; an email segment may hold %40.
func splitPath(u *url.URL) ([]string, bool) {
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for i, s := range segs {
		v, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		segs[i] = v
	}
	return segs, true
}

func (rt *route) bind(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, s := range rt.segs {
		switch {
		case isWildcard(s):
			if segs[i] == "" {
				return nil, false
			}
			params[strings.Trim(s, "{}")] = segs[i]
		case s != segs[i]:
			return nil, false
		}
	}
	return params, true
}

func (c *core) operation(r *http.Request) string {
	if rt, _, _ := c.match(r); rt != nil {
		return rt.method + " " + rt.pattern
	}
	return ""
}

func (c *core) routes() []string {
	ops := make([]string, 0, len(c.table))
	for _, rt := range c.table {
		ops = append(ops, rt.method+" "+rt.pattern)
	}
	slices.Sort(ops)
	return ops
}

func (c *core) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st = seed(c.opts, c.now())
	c.seedRevocations(c.opts.Faults.Seed)
}

// close has nothing to stop: deprovisioning completes lazily on reads, not in a goroutine.
func (c *core) close() {}

func (c *core) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			writeError(w, http.StatusInternalServerError, atomicwork.CodeInternal,
				fmt.Sprintf("simulator bug while serving %s %s: %v", r.Method, r.URL.Path, p))
		}
	}()
	rt, params, allowed := c.match(r)
	if rt == nil {
		if len(allowed) > 0 {
			slices.Sort(allowed)
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, http.StatusMethodNotAllowed, atomicwork.CodeBadRequest,
				fmt.Sprintf("Method %s is not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
			return
		}
		writeError(w, http.StatusNotFound, atomicwork.CodeNotFound,
			fmt.Sprintf("No route %s %s in the published Atomicwork API", r.Method, r.URL.Path))
		return
	}
	x, err := c.newCall(r, rt, params)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	body, err := c.exec(rt, x)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, json.RawMessage(body))
}

// exec runs a route under the store lock. The answer is encoded before the lock is released,
// because it may share maps with the store.
func (c *core) exec(rt *route, x *call) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.settle(c.now(), c.opts.FailRevocationOf)
	v, err := rt.serve(x)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// newCall authenticates the request, resolves X-Workspace-Id and reads the body.
func (c *core) newCall(r *http.Request, rt *route, params map[string]string) (*call, error) {
	home, ok := c.keys[r.Header.Get("X-Api-Key")]
	if !ok {
		return nil, &apiError{http.StatusUnauthorized, atomicwork.CodeUnauthorized, "Invalid API key"}
	}
	x := &call{params: params, query: r.URL.Query(), home: home, ws: home, strict: c.opts.Strict, order: listOrderOf(r.Context())}
	if h := strings.TrimSpace(r.Header.Get("X-Workspace-Id")); h != "" && !rt.discovery {
		id, err := strconv.ParseInt(h, 10, 64)
		if err != nil {
			return nil, errBadRequest("X-Workspace-Id must be a numeric workspace id, got %q", h)
		}
		if err := x.mayUse(id); err != nil {
			return nil, err
		}
		x.ws = id
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		x.body = body
	}
	return x, nil
}

// readBody returns the request body, nil when empty. A non-empty body must be JSON (Q24).
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errBadRequest("reading the request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, &apiError{http.StatusRequestEntityTooLarge, atomicwork.CodeBadRequest,
			fmt.Sprintf("request body exceeds %d bytes", maxBody)}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, &apiError{http.StatusUnsupportedMediaType, atomicwork.CodeBadRequest,
			fmt.Sprintf("Content-Type %q is not supported: send the body as application/json", ct)}
	}
	return b, nil
}

// mayUse checks that the key may act in workspace id (API-NOTES §7 Q4, Q25).
func (x *call) mayUse(id int64) error {
	if id != x.home {
		return errForbidden("this API key cannot access workspace %d", id)
	}
	return nil
}

func (x *call) param(name string) string { return x.params[name] }

// idParam parses an int64 path parameter.
func (x *call) idParam(name string) (int64, error) {
	v := x.params[name]
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errBadRequest("path parameter %s must be a numeric id, got %q", name, v)
	}
	return id, nil
}

// object decodes a JSON object body. In strict mode a key outside known is rejected (Q24).
func (x *call) object(known []string) (*reader, error) {
	fields := map[string]any{}
	if x.body != nil {
		v, err := decodeJSON(x.body)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errBadRequest("the request body must be a JSON object")
		}
		fields = m
	}
	if x.strict {
		for _, k := range sortedKeys(fields) {
			if !slices.Contains(known, k) {
				return nil, errInvalid("unknown field %q (strict mode accepts only the fields of the published API)", k)
			}
		}
	}
	return &reader{fields: fields}, nil
}

// decodeJSON decodes one JSON value, keeping numbers as json.Number so ids stay exact.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, errBadRequest("malformed JSON body: %v", err)
	}
	if !atEOF(d) {
		return nil, errBadRequest("malformed JSON body: unexpected data after the JSON value")
	}
	return v, nil
}

// atEOF reports whether nothing but whitespace follows the decoded value.
func atEOF(d *json.Decoder) bool {
	_, err := d.Token()
	return err == io.EOF
}

// apiError is an answer in the error envelope of API-NOTES §1.8.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func writeAPIError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{http.StatusInternalServerError, atomicwork.CodeInternal, err.Error()}
	}
	writeError(w, ae.status, ae.code, ae.msg)
}

// errBadRequest is for a malformed request: path, query, headers, JSON syntax.
func errBadRequest(format string, a ...any) error {
	return &apiError{http.StatusBadRequest, atomicwork.CodeBadRequest, fmt.Sprintf(format, a...)}
}

// errInvalid is for a well-formed body whose content is wrong: a missing or ill-typed field.
func errInvalid(format string, a ...any) error {
	return &apiError{http.StatusBadRequest, atomicwork.CodeValidationError, fmt.Sprintf(format, a...)}
}

func errNotFound(format string, a ...any) error {
	return &apiError{http.StatusNotFound, atomicwork.CodeNotFound, fmt.Sprintf(format, a...)}
}

func errForbidden(format string, a ...any) error {
	return &apiError{http.StatusForbidden, atomicwork.CodeForbidden, fmt.Sprintf(format, a...)}
}

func errConflict(format string, a ...any) error {
	return &apiError{http.StatusConflict, atomicwork.CodeConflict, fmt.Sprintf(format, a...)}
}

// field is one body key as sent: set when present, null when sent as JSON null.
type field[T any] struct {
	set, null bool
	v         T
}

// given reports a present, non-null value.
func (f field[T]) given() bool { return f.set && !f.null }

// reader reads typed fields of a JSON object body and keeps the first error, so a handler
// validates every field and checks once.
type reader struct {
	fields map[string]any
	err    error
}

func readField[T any](r *reader, key, want string, conv func(any) (T, bool)) field[T] {
	raw, ok := r.fields[key]
	if !ok || r.err != nil {
		return field[T]{}
	}
	if raw == nil {
		return field[T]{set: true, null: true}
	}
	v, ok := conv(raw)
	if !ok {
		r.err = errInvalid("field %s must be %s, got %s", key, want, jsonType(raw))
		return field[T]{}
	}
	return field[T]{set: true, v: v}
}

func (r *reader) str(key string) field[string] { return readField(r, key, "a string", asString) }
func (r *reader) id(key string) field[int64]   { return readField(r, key, "a numeric id", asID) }
func (r *reader) ids(key string) field[[]int64] {
	return readField(r, key, "an array of numeric ids", asIDs)
}
func (r *reader) boolean(key string) field[bool] {
	return readField(r, key, "true or false", asBool)
}
func (r *reader) object(key string) field[map[string]any] {
	return readField(r, key, "a JSON object", asObject)
}
func (r *reader) date(key string) field[string] {
	return readField(r, key, "a date YYYY-MM-DD", asDate)
}
func (r *reader) timestamp(key string) field[time.Time] {
	return readField(r, key, "an RFC 3339 date-time", asTime)
}

// fail records a validation error unless an earlier one is already kept.
func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func asString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// asID accepts a JSON number or a numeric string: [OSS] clients send ids both ways.
func asID(v any) (int64, bool) {
	switch t := v.(type) {
	case json.Number:
		id, err := t.Int64()
		return id, err == nil
	case string:
		id, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		return id, err == nil
	}
	return 0, false
}

func asIDs(v any) ([]int64, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	ids := make([]int64, 0, len(list))
	for _, e := range list {
		id, ok := asID(e)
		if !ok {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

// asBool accepts true/false and the strings "true"/"false" that [OSS] clients send (Q23).
func asBool(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		switch strings.ToLower(t) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

func asObject(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

func asDate(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	_, err := time.Parse(time.DateOnly, s)
	return s, err == nil
}

func asTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t.UTC(), err == nil
}

// jsonType names the JSON type of a decoded value. Error messages name types, not values,
// because values may be personal data.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return "an object"
}

// queryBool parses an optional boolean query parameter.
func (x *call) queryBool(name string) (*bool, error) {
	v := x.query.Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, errBadRequest("query parameter %s must be true or false, got %q", name, v)
	}
	return &b, nil
}

// queryID parses an optional int64 query parameter (0 when absent).
func (x *call) queryID(name string) (int64, error) {
	v := x.query.Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errBadRequest("query parameter %s must be a numeric id, got %q", name, v)
	}
	return id, nil
}

// containsFold reports whether s contains substr, ignoring case; search_key matching.
func containsFold(s, substr string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(substr))
}
