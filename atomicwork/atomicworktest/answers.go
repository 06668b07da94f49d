package atomicworktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Answer modes: answers the published API allows and a careless client mistakes for something
// else (an unknown field for an error, an empty page for the end, 1002.0 for garbage).

// answerPlan is which answer modes were drawn for one request.
type answerPlan struct {
	unknownFields, emptyPage, shortPage, integralFloats bool
}

func (a answerPlan) any() bool {
	return a.unknownFields || a.emptyPage || a.shortPage || a.integralFloats
}

// unknownField is what unknown_fields adds: a name no client knows, with an object value, so a
// client that rejects unknown fields or expects scalars notices.
const unknownField = "x_sim_future"

// rewrite applies the drawn modes that fit a successful JSON answer and reports each one it
// applied to injected. A body that is not JSON passes unchanged.
func (a answerPlan) rewrite(body []byte, injected func(name string)) []byte {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return body
	}
	if env, ok := v.(map[string]any); ok {
		a.cutPage(env, injected)
	}
	if a.unknownFields {
		addUnknownFields(v)
		injected(FaultUnknownFields)
	}
	if a.integralFloats && integralFloats(&v) {
		injected(FaultIntegralFloats)
	}
	out, err := json.Marshal(v)
	if err != nil {
		panic("simulator bug: re-encoding an answer: " + err.Error())
	}
	return append(out, '\n')
}

// cutPage empties or shortens the data of a list page that is not the last one, leaving the
// envelope's counts as they were.
func (a answerPlan) cutPage(env map[string]any, injected func(name string)) {
	data, ok := env["data"].([]any)
	if !ok || !(a.emptyPage || a.shortPage) || !morePagesFollow(env) {
		return
	}
	switch {
	case a.emptyPage:
		env["data"] = []any{}
		injected(FaultEmptyPage)
	case len(data) > 0:
		env["data"] = data[:len(data)-1]
		injected(FaultShortPage)
	}
}

// morePagesFollow reads the envelope as a client should: page below total_pages, or a next_page_token.
func morePagesFollow(env map[string]any) bool {
	if tok, ok := env["next_page_token"].(string); ok && tok != "" {
		return true
	}
	page, err1 := number(env["page"])
	pages, err2 := number(env["total_pages"])
	return err1 == nil && err2 == nil && page < pages
}

func number(v any) (int64, error) {
	n, _ := v.(json.Number)
	return strconv.ParseInt(string(n), 10, 64)
}

// addUnknownFields adds the unknown field to the top-level object, or to the items of a top-level
// array, and to each object item of its data.
func addUnknownFields(v any) {
	add := func(v any) {
		if m, ok := v.(map[string]any); ok {
			m[unknownField] = map[string]any{"a": json.Number("1")}
		}
	}
	switch t := v.(type) {
	case map[string]any:
		add(t)
		if data, ok := t["data"].([]any); ok {
			for _, item := range data {
				add(item)
			}
		}
	case []any:
		for _, item := range t {
			add(item)
		}
	}
}

// integralFloats rewrites every integer in v as N.0 and reports whether it found one.
func integralFloats(v *any) bool {
	found := false
	switch t := (*v).(type) {
	case json.Number:
		if s := string(t); !strings.ContainsAny(s, ".eE") {
			*v, found = json.Number(s+".0"), true
		}
	case map[string]any:
		for k, item := range t {
			if integralFloats(&item) {
				t[k], found = item, true
			}
		}
	case []any:
		for i := range t {
			found = integralFloats(&t[i]) || found
		}
	}
	return found
}

// proxyPage is what a load balancer in front of an API answers when the backend is down.
const proxyPage = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

// writeProxyPage answers 502 with an HTML page instead of the JSON envelope.
func writeProxyPage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write([]byte(proxyPage))
}

// resetConnection closes the connection without an answer. Where the connection cannot be taken
// over (HTTP/2), aborting the handler resets the stream instead.
func resetConnection(w http.ResponseWriter) {
	if sw, ok := w.(*statusWriter); ok {
		sw.noAnswer = true
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
