package hrevents

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// receiver is a Handler over the fake, signing with secretA at the fake's clock.
type receiver struct {
	t    *testing.T
	h    *Handler
	fake *fakeTemporal
	logs *syncbuf.Buffer
	reg  *prometheus.Registry
}

func newReceiver(t *testing.T, temporal Temporal, fake *fakeTemporal) *receiver {
	t.Helper()
	logs, reg := &syncbuf.Buffer{}, prometheus.NewRegistry()
	h, err := NewHandler(Config{Secrets: []string{secretA}, Temporal: temporal, Metrics: reg,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Now: func() time.Time { return fake.clock }, Timeout: time.Second})
	require.NoError(t, err)
	return &receiver{t: t, h: h, fake: fake, logs: logs, reg: reg}
}

func (r *receiver) deliver(body string) *httptest.ResponseRecorder {
	return r.deliverWith(body, strconv.FormatInt(r.fake.clock.Unix(), 10), Sign(secretA, r.fake.clock, []byte(body)))
}

func (r *receiver) deliverWith(body, timestamp, signature string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/hr/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if timestamp != "" {
		req.Header.Set(HeaderTimestamp, timestamp)
	}
	if signature != "" {
		req.Header.Set(HeaderSignature, signature)
	}
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	return rec
}

// eventJSON is an event of type typ for employee E-1 with the given employee fields overriding
// a complete record.
func eventJSON(id, typ string, employee map[string]any) string {
	e := map[string]any{"employee_id": "E-1", "email": "ana.diaz@example.com", "first_name": "Ana", "last_name": "Diaz",
		"timezone": "Europe/Berlin", "start_date": "2026-12-01", "last_working_day": "2026-12-18"}
	for k, v := range employee {
		if v == nil {
			delete(e, k)
		} else {
			e[k] = v
		}
	}
	b, _ := json.Marshal(map[string]any{"event_id": id, "type": typ, "occurred_at": "2026-11-20T09:30:00Z", "employee": e})
	return string(b)
}

// without removes a top-level key from a JSON object.
func without(body, key string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	delete(m, key)
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

func TestAcceptedOnlyOnceTemporalHasTheEvent(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	rec := r.deliver(eventJSON("evt-1", TypeHired, nil))
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.Equal(t, map[string]any{"workflow_id": "onboarding-E-1", "run_id": "run-1", "duplicate": false}, decodeBody(t, rec))
	assert.Equal(t, []string{"start onboarding-E-1 rerun=false"}, f.calls)
}

func TestRedeliveryIsADuplicateAndCausesNothing(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	body := eventJSON("evt-1", TypeTerminated, nil)
	require.Equal(t, http.StatusAccepted, r.deliver(body).Code)
	for range 3 {
		rec := r.deliver(body)
		require.Equal(t, http.StatusOK, rec.Code)
		m := decodeBody(t, rec)
		assert.Equal(t, true, m["duplicate"])
		assert.Equal(t, "offboarding-E-1", m["workflow_id"])
		assert.Equal(t, "run-1", m["run_id"])
	}
	assert.Len(t, f.calls, 1, "redeliveries never reach Temporal: %v", f.calls)
}

func TestBadInputStartsNothing(t *testing.T) {
	hired := func(employee map[string]any) string { return eventJSON("evt-1", TypeHired, employee) }
	valid := hired(nil)
	f0 := newFake()
	stale := strconv.FormatInt(f0.clock.Add(-10*time.Minute).Unix(), 10)
	for _, tc := range []struct {
		name      string
		body      string
		timestamp string // "" signs at the clock
		signature string // "" signs with secretA; "-" sends none
		status    int
		code      string
		field     string // named in the message
	}{
		{"malformed JSON", `{"event_id": "evt-1", "type":`, "", "", 400, CodeMalformedJSON, ""},
		{"not an object", `["employee.hired"]`, "", "", 400, CodeMalformedJSON, ""},
		{"unknown type", eventJSON("evt-1", "employee.promoted", nil), "", "", 400, CodeUnknownType, "employee.promoted"},
		{"missing type", without(valid, "type"), "", "", 400, CodeMissingField, "type"},
		{"missing event id", without(valid, "event_id"), "", "", 400, CodeMissingField, "event_id"},
		{"missing occurred_at", without(valid, "occurred_at"), "", "", 400, CodeMissingField, "occurred_at"},
		{"invalid occurred_at", strings.Replace(valid, `2026-11-20T09:30:00Z`, "yesterday", 1), "", "", 400, CodeInvalidField, "occurred_at"},
		{"missing employee", `{"event_id":"evt-1","type":"employee.hired","occurred_at":"2026-11-20T09:30:00Z"}`, "", "", 400, CodeMissingField, "employee"},
		{"employee not an object", `{"event_id":"evt-1","type":"employee.hired","occurred_at":"2026-11-20T09:30:00Z","employee":"E-1"}`, "", "", 400, CodeInvalidField, "employee"},
		{"missing employee_id", hired(map[string]any{"employee_id": nil}), "", "", 400, CodeMissingField, "employee.employee_id"},
		{"email as employee_id", hired(map[string]any{"employee_id": "ana.diaz@example.com"}), "", "", 400, CodeInvalidField, "employee.employee_id"},
		{"invalid date", hired(map[string]any{"start_date": "2026-13-01"}), "", "", 400, CodeInvalidField, "employee.start_date"},
		{"date of another form", hired(map[string]any{"start_date": "01/12/2026"}), "", "", 400, CodeInvalidField, "employee.start_date"},
		{"date not a string", hired(map[string]any{"start_date": 20261201}), "", "", 400, CodeInvalidField, "employee.start_date"},
		{"invalid time zone", hired(map[string]any{"timezone": "Mars/Olympus_Mons"}), "", "", 400, CodeInvalidField, "employee.timezone"},
		{"terminated without last working day", eventJSON("evt-1", TypeTerminated, map[string]any{"last_working_day": nil}), "", "", 400, CodeMissingField, "employee.last_working_day"},
		{"hired without email", hired(map[string]any{"email": nil}), "", "", 400, CodeMissingField, "employee.email"},
		{"hired with a malformed email", hired(map[string]any{"email": "ana.diaz"}), "", "", 400, CodeInvalidField, "email"},
		{"hired without start date", hired(map[string]any{"start_date": nil}), "", "", 400, CodeMissingField, "employee.start_date"},
		{"wrong signature", valid, "", Sign(secretB, f0.clock, []byte(valid)), 401, CodeInvalidSignature, HeaderSignature},
		{"missing signature", valid, "", "-", 401, CodeMissingSignature, HeaderSignature},
		{"stale signature", valid, stale, Sign(secretA, f0.clock.Add(-10*time.Minute), []byte(valid)), 401, CodeStaleTimestamp, HeaderTimestamp},
		{"body over 1 MiB", `{"event_id":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, "", "", 413, CodeBodyTooLarge, "1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			r := newReceiver(t, f, f)
			ts, sig := tc.timestamp, tc.signature
			if ts == "" {
				ts = strconv.FormatInt(f.clock.Unix(), 10)
			}
			switch sig {
			case "":
				sig = Sign(secretA, f.clock, []byte(tc.body))
			case "-":
				sig = ""
			}
			rec := r.deliverWith(tc.body, ts, sig)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			m := decodeBody(t, rec)
			assert.Len(t, m, 2, "the envelope is {error, code}: %v", m)
			assert.Equal(t, tc.code, m["code"])
			assert.Contains(t, m["error"], tc.field)
			assert.Empty(t, f.calls, "a bad delivery reached Temporal")
			logs := r.logs.String()
			assert.Contains(t, logs, `"Outcome":"`+tc.code+`"`)
			for _, pii := range []string{"ana.diaz", "Diaz", `"Ana"`} {
				assert.NotContains(t, logs, pii, "the log holds personal data")
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hr/events", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
	assert.Equal(t, CodeMethodNotAllowed, decodeBody(t, rec)["code"])
}

func TestTemporalDownIs503AndNothingIsLost(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	body := eventJSON("evt-1", TypeHired, nil)
	f.down = true
	rec := r.deliver(body)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "30", rec.Header().Get("Retry-After"))
	assert.Equal(t, CodeTemporalDown, decodeBody(t, rec)["code"])
	assert.Zero(t, f.countRuns("onboarding-E-1"))

	f.down = false // the HR system delivers it again
	rec = r.deliver(body)
	require.Equal(t, http.StatusAccepted, rec.Code, "the failed delivery was not remembered as handled")
	assert.Equal(t, 1, f.countRuns("onboarding-E-1"))
}

// stuckTemporal never answers: the delivery's timeout must.
type stuckTemporal struct{ fakeTemporal }

func (*stuckTemporal) StartOnboarding(ctx context.Context, _ lifecycle.OnboardingInput, _ bool) (Run, error) {
	<-ctx.Done()
	return Run{}, ctx.Err()
}

func TestSlowTemporalIs503(t *testing.T) {
	f := newFake()
	r := newReceiver(t, &stuckTemporal{}, f)
	rec := r.deliver(eventJSON("evt-1", TypeHired, nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
}

func TestEarlyEventIs409AndDeliveredAgainLater(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	cancel := eventJSON("evt-cancel", TypeTerminationCancelled, nil)
	rec := r.deliver(cancel)
	require.Equal(t, http.StatusConflict, rec.Code)
	assert.Equal(t, "30", rec.Header().Get("Retry-After"))
	assert.Equal(t, CodeNotStartedYet, decodeBody(t, rec)["code"])

	require.Equal(t, http.StatusAccepted, r.deliver(eventJSON("evt-term", TypeTerminated, nil)).Code)
	rec = r.deliver(cancel)
	require.Equal(t, http.StatusAccepted, rec.Code, "a 409 is not remembered as handled")
	assert.Equal(t, lifecycle.UpdateCancel, f.latest("offboarding-E-1").updates[1].Name)
}

func TestNothingToDoIs200WithANote(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	rec := r.deliver(eventJSON("evt-1", TypeUpdated, map[string]any{"start_date": "2019-03-01"})) // a mover
	require.Equal(t, http.StatusOK, rec.Code)
	m := decodeBody(t, rec)
	assert.Equal(t, false, m["duplicate"])
	assert.Equal(t, ResultIgnored, m["outcome"])
	assert.Contains(t, m["note"], "never ran")
}

func TestMetricsCountByTypeAndOutcome(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	body := eventJSON("evt-1", TypeHired, nil)
	r.deliver(body)
	r.deliver(body)
	r.deliverWith(body, strconv.FormatInt(f.clock.Unix(), 10), Sign(secretB, f.clock, []byte(body)))
	r.deliver(eventJSON("evt-2", TypeTerminated, map[string]any{"last_working_day": nil}))
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	metrics := rec.Body.String()
	for _, want := range []string{
		`atomicflow_hr_deliveries_total{outcome="applied",type="employee.hired"} 1`,
		`atomicflow_hr_deliveries_total{outcome="duplicate",type="employee.hired"} 1`,
		`atomicflow_hr_deliveries_total{outcome="invalid_signature",type="none"} 1`,
		`atomicflow_hr_deliveries_total{outcome="missing_field",type="employee.terminated"} 1`,
		`atomicflow_hr_delivery_seconds_count{outcome="applied"} 1`,
	} {
		assert.Contains(t, metrics, want)
	}
}

func TestLogsNameTheEventNotThePerson(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	r.deliver(eventJSON("evt-1", TypeHired, map[string]any{"manager_email": "bo.li@example.com", "title": "Backend Engineer"}))
	logs := r.logs.String()
	for _, want := range []string{`"EventId":"evt-1"`, `"EmployeeId":"E-1"`, `"WorkflowId":"onboarding-E-1"`, `"Status":202`} {
		assert.Contains(t, logs, want)
	}
	for _, pii := range []string{"ana.diaz", "Diaz", `"Ana"`, "bo.li", "Backend Engineer"} {
		assert.NotContains(t, logs, pii)
	}
}

func TestSeenForgetsTheLeastRecent(t *testing.T) {
	s := newSeen(2)
	s.add("a", digest{}, Outcome{RunID: "1"})
	s.add("b", digest{}, Outcome{RunID: "2"})
	_, _, _ = s.get("a") // a is now the most recent
	s.add("c", digest{}, Outcome{RunID: "3"})
	_, _, hasB := s.get("b")
	a, _, hasA := s.get("a")
	assert.False(t, hasB)
	assert.True(t, hasA)
	assert.Equal(t, "1", a.RunID)
}

func TestEventIDReusedWithAnotherBodyIs409AndChangesNothing(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	first := eventJSON("evt-1", TypeTerminated, nil)
	require.Equal(t, http.StatusAccepted, r.deliver(first).Code)

	other := eventJSON("evt-1", TypeTerminated, map[string]any{"last_working_day": "2026-12-31"})
	rec := r.deliver(other)
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Header().Get("Retry-After"), "delivering it again cannot help")
	m := decodeBody(t, rec)
	assert.Equal(t, CodeEventIDReused, m["code"])
	assert.Contains(t, m["error"], "evt-1")
	assert.Contains(t, m["error"], "new event_id")
	assert.Len(t, f.calls, 1, "the reused id never reached Temporal: %v", f.calls)
	assert.Len(t, f.latest(offID).updates, 1)

	// The first body, even re-serialised with its keys in another order, is still a duplicate.
	reordered := `{"employee":{"last_working_day":"2026-12-18","start_date":"2026-12-01","timezone":"Europe/Berlin",
		"last_name":"Diaz","first_name":"Ana","email":"ana.diaz@example.com","employee_id":"E-1"},
		"occurred_at":"2026-11-20T10:30:00+01:00","type":"employee.terminated","event_id":"evt-1"}`
	for _, body := range []string{first, reordered} {
		rec = r.deliver(body)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, true, decodeBody(t, rec)["duplicate"])
	}
	rec = r.deliver(other)
	assert.Equal(t, http.StatusConflict, rec.Code, "the remembered body is still the first one")
	assert.Len(t, f.calls, 1)
}

func TestContentTypeOtherThanJSONIs415(t *testing.T) {
	body := eventJSON("evt-1", TypeHired, nil)
	for _, tc := range []struct {
		contentType string
		status      int
	}{
		{"application/json", http.StatusAccepted},
		{"application/json; charset=utf-8", http.StatusAccepted},
		{"Application/JSON; charset=UTF-8", http.StatusAccepted},
		{"", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"application/json; charset=iso-8859-1", http.StatusUnsupportedMediaType},
		{"application/jsonp", http.StatusUnsupportedMediaType},
		{";;", http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.contentType, func(t *testing.T) {
			f := newFake()
			r := newReceiver(t, f, f)
			req := httptest.NewRequest(http.MethodPost, "/hr/events", strings.NewReader(body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header.Set(HeaderTimestamp, strconv.FormatInt(f.clock.Unix(), 10))
			req.Header.Set(HeaderSignature, Sign(secretA, f.clock, []byte(body)))
			rec := httptest.NewRecorder()
			r.h.ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.status == http.StatusAccepted {
				return
			}
			m := decodeBody(t, rec)
			assert.Equal(t, CodeUnsupportedMediaType, m["code"])
			assert.Contains(t, m["error"], "application/json")
			assert.Empty(t, f.calls, "nothing reached Temporal")
		})
	}
}

// TestEveryFieldIsCheckedWithItsJSONName hunts inputs that can never succeed: each is a 400
// naming the JSON field, and reaches nothing.
func TestEveryFieldIsCheckedWithItsJSONName(t *testing.T) {
	long := strings.Repeat("é", lifecycle.MaxTextLen+1)
	event := func(typ string, employee map[string]any) string { return eventJSON("evt-1", typ, employee) }
	hired := func(employee map[string]any) string { return event(TypeHired, employee) }
	for _, tc := range []struct {
		name  string
		body  string
		code  string
		field string
	}{
		{"employee id over 64 characters", hired(map[string]any{"employee_id": strings.Repeat("E", 65)}), CodeInvalidField, "employee.employee_id is 65 characters long"},
		{"employee id over 64 characters, in a cancellation", event(TypeHireCancelled, map[string]any{"employee_id": strings.Repeat("E", 65)}), CodeInvalidField, "employee.employee_id"},
		{"employee id not ASCII", event(TypeTerminationCancelled, map[string]any{"employee_id": "É-1"}), CodeInvalidField, "employee.employee_id"},
		{"employee id with a slash", hired(map[string]any{"employee_id": "E/1"}), CodeInvalidField, "employee.employee_id"},
		{"employee id a number", hired(map[string]any{"employee_id": 1042}), CodeInvalidField, "employee.employee_id must be a string"},
		{"employee id null", hired(map[string]any{"employee_id": json.RawMessage("null")}), CodeMissingField, "employee.employee_id"},
		{"first name over 256 characters", hired(map[string]any{"first_name": long}), CodeInvalidField, "employee.first_name is 257 characters long"},
		{"first name blank", hired(map[string]any{"first_name": "   "}), CodeMissingField, "employee.first_name"},
		{"first name null", hired(map[string]any{"first_name": json.RawMessage("null")}), CodeMissingField, "employee.first_name"},
		{"last name with a newline", hired(map[string]any{"last_name": "Diaz\nDROP"}), CodeInvalidField, "employee.last_name"},
		{"title with a tab", hired(map[string]any{"title": "Backend\tEngineer"}), CodeInvalidField, "employee.title"},
		{"department with a NUL", hired(map[string]any{"department": "Eng\u0000"}), CodeInvalidField, "employee.department"},
		{"department over 256 characters", event(TypeRehired, map[string]any{"department": long}), CodeInvalidField, "employee.department"},
		{"manager email malformed", hired(map[string]any{"manager_email": "bo.li"}), CodeInvalidField, "employee.manager_email"},
		{"email malformed in a termination", event(TypeTerminated, map[string]any{"email": "ana diaz@example.com"}), CodeInvalidField, "employee.email"},
		{"email over 256 characters", event(TypeAccessRevoked, map[string]any{"email": strings.Repeat("a", 250) + "@example.com"}), CodeInvalidField, "employee.email"},
		{"time zone Local", event(TypeTerminated, map[string]any{"timezone": "Local"}), CodeInvalidField, "employee.timezone"},
		{"time zone with spaces", hired(map[string]any{"timezone": " Europe/Berlin"}), CodeInvalidField, "employee.timezone"},
		{"time zone in a cancellation", event(TypeHireCancelled, map[string]any{"timezone": "Europe/Atlantis"}), CodeInvalidField, "employee.timezone"},
		{"last working day not a date", event(TypeTerminationChanged, map[string]any{"last_working_day": "2026-02-30"}), CodeInvalidField, "employee.last_working_day"},
		{"event id over 200 bytes", eventJSON(strings.Repeat("e", 201), TypeHired, nil), CodeInvalidField, "event_id"},
		{"event id with a newline", eventJSON("evt\n1", TypeHired, nil), CodeInvalidField, "event_id"},
		{"event id a number", `{"event_id":7,"type":"employee.hired","occurred_at":"2026-11-20T09:30:00Z","employee":{}}`, CodeInvalidField, "event_id must be a string"},
		{"occurred_at null", `{"event_id":"e","type":"employee.hired","occurred_at":null,"employee":{}}`, CodeMissingField, "occurred_at"},
		{"employee null", `{"event_id":"e","type":"employee.hired","occurred_at":"2026-11-20T09:30:00Z","employee":null}`, CodeMissingField, "employee"},
		{"employee an array", `{"event_id":"e","type":"employee.hired","occurred_at":"2026-11-20T09:30:00Z","employee":[]}`, CodeInvalidField, "employee"},
		{"body null", `null`, CodeMissingField, "event_id"},
		{"body a string", `"employee.hired"`, CodeMalformedJSON, "JSON object"},
		{"body empty", ``, CodeMalformedJSON, "JSON"},
		{"body nested too deep", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), CodeMalformedJSON, "JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			r := newReceiver(t, f, f)
			rec := r.deliver(tc.body)
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			m := decodeBody(t, rec)
			assert.Equal(t, tc.code, m["code"])
			assert.Contains(t, m["error"], tc.field)
			assert.Empty(t, f.calls, "a bad delivery reached Temporal")
			assert.NotContains(t, m["error"], "ana.diaz", "the answer, which is logged, repeats no personal value")
		})
	}
}

func TestStaleChangeIs200Ignored(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	require.Equal(t, http.StatusAccepted, r.deliver(eventJSON("evt-1", TypeTerminated, nil)).Code)
	f.stale = "HR decided a newer change at 2026-11-20T11:00:00Z: this one (2026-11-20T09:30:00Z) changes nothing"
	rec := r.deliver(eventJSON("evt-2", TypeTerminationChanged, map[string]any{"last_working_day": "2026-12-11"}))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, map[string]any{"workflow_id": offID, "run_id": "run-1", "duplicate": false,
		"outcome": ResultIgnored, "note": f.stale}, decodeBody(t, rec))
}

func TestHeldOffboardingSaysHeld(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	body := eventJSON("evt-1", TypeTerminated, map[string]any{"last_working_day": "2024-01-31"})
	rec := r.deliver(body)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.Equal(t, map[string]any{"workflow_id": offID, "run_id": "run-1", "duplicate": false, "held": true}, decodeBody(t, rec))
	assert.Equal(t, lifecycle.UpdateHold, f.latest(offID).updates[0].Name)
	again := decodeBody(t, r.deliver(body))
	assert.Equal(t, true, again["duplicate"])
	assert.Equal(t, true, again["held"])
}
