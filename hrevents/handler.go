package hrevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/atomicflow/atomicflow/runs"
)

// MaxBodyBytes is the largest delivery accepted; a larger one is answered 413.
const MaxBodyBytes = 1 << 20

// Defaults of Config.
const (
	DefaultTimeout    = 5 * time.Second
	DefaultRetryAfter = 30 * time.Second
	DefaultRemember   = 10_000
	// DefaultMaxInFlight bounds the large bodies held at once: with MaxBodyBytes each, 8 MiB.
	// Real events are far smaller than SmallBodyBytes and need no slot.
	DefaultMaxInFlight = 8
)

// CodeBusy (503): every body slot is taken; the delivery was not read.
const CodeBusy = "receiver_busy"

// Config configures a Handler; Secrets, Runs, Logger and Metrics are required.
type Config struct {
	// Secrets are the webhook secrets: one, or two while they are rotated.
	Secrets []string
	// Runs is how events reach Temporal.
	Runs Runs
	// Logger gets one line per delivery, without the body or anything personal.
	Logger *slog.Logger
	// Metrics is where the delivery metrics are registered (served at /metrics by the starter).
	Metrics prometheus.Registerer
	// Timeout bounds the Temporal calls of one delivery, so the HR system gets an answer before it
	// gives up (DefaultTimeout when zero).
	Timeout time.Duration
	// RetryAfter is the Retry-After of 503 answers and of 409s for an event that came too early
	// (DefaultRetryAfter when zero).
	RetryAfter time.Duration
	// Remember is how many event ids the duplicate cache holds (DefaultRemember when zero).
	Remember int
	// MaxPastDays: a termination whose last working day ended more than this many days ago is
	// held, not offboarded at once (DefaultMaxPastDays when zero).
	MaxPastDays int
	// MaxInFlight is how many bodies over SmallBodyBytes are read at once (DefaultMaxInFlight
	// when zero); a large delivery over it is answered 503 with Retry-After at once, unread.
	MaxInFlight int
	// Now is the clock of signatures and dates (time.Now when nil).
	Now func() time.Time
}

// Handler serves POST /hr/events: verify, parse, de-duplicate, route, answer.
//
// An event id seen before with another event is refused (409 EVENT_ID_REUSED) only while the
// in-memory cache remembers it. After a restart (or once Remember newer ids pushed it out) the
// reuse goes unseen: an update to the same running workflow gets Temporal's answer to the first
// update with that id (the update id is the event id), so its new content is dropped; a start,
// or an update to another workflow, is applied as a new event.
type Handler struct {
	verifier   *Verifier
	router     *Router
	seen       *seen
	metrics    *metrics
	logger     *slog.Logger
	timeout    time.Duration
	retryAfter time.Duration
	// slots holds one token per large body being read and parsed.
	slots chan struct{}
}

// NewHandler checks cfg and registers the metrics.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v, err := NewVerifier(cfg.Secrets, cfg.Now)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	return &Handler{
		verifier: v, router: NewRouter(cfg.Runs, cfg.Now, orDefault(cfg.MaxPastDays, DefaultMaxPastDays)), metrics: m, logger: cfg.Logger,
		timeout: orDefault(cfg.Timeout, DefaultTimeout), retryAfter: orDefault(cfg.RetryAfter, DefaultRetryAfter),
		seen:  newSeen(orDefault(cfg.Remember, DefaultRemember)),
		slots: make(chan struct{}, orDefault(cfg.MaxInFlight, DefaultMaxInFlight)),
	}, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// delivery is what the log line and the metrics say about one request.
type delivery struct {
	event Event
	typ   string
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	d := delivery{typ: typeNone}
	out, err := h.handle(w, r, &d)
	h.answer(w, d, out, err, time.Since(start))
}

func (h *Handler) handle(w http.ResponseWriter, r *http.Request, d *delivery) (Outcome, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return Outcome{}, &Problem{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "use POST"}
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return Outcome{}, err
	}
	ev, err := h.readEvent(w, r)
	if ev.Type != "" {
		d.typ = ev.Type
	}
	if err != nil {
		return Outcome{}, err
	}
	d.event = ev
	sum := digestOf(ev)
	if out, first, ok := h.seen.get(ev.ID); ok {
		if first != sum {
			return Outcome{}, &Problem{Status: http.StatusConflict, Code: CodeEventIDReused, Message: "event_id " + ev.ID +
				" was already used for another event (a different body), which was handled: nothing was changed; " +
				"send each new event with a new event_id (a redelivery must carry the same event)"}
		}
		out.Note = "event " + ev.ID + " was handled before (outcome " + out.Result + ")"
		out.Result = ResultDuplicate
		return out, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	out, err := h.router.Route(ctx, ev)
	if err == nil {
		h.seen.add(ev.ID, sum, out) // final answers only: a 409 or 503 must reach Temporal again
	}
	return out, err
}

// SmallBodyBytes: a body up to this size (every real HR event) is read into a small buffer
// without a slot, so large bodies holding every slot do not keep valid deliveries out; the
// connection cap bounds these buffers.
const SmallBodyBytes = 16 << 10

// Body buffers, reused so a burst of deliveries does not become garbage per delivery. A large one
// has one byte more than MaxBodyBytes, which tells a body over the limit.
var (
	smallBodies = sync.Pool{New: func() any { b := make([]byte, SmallBodyBytes); return &b }}
	largeBodies = sync.Pool{New: func() any { b := make([]byte, MaxBodyBytes+1); return &b }}
)

// readEvent verifies the signature headers, reads the body at most MaxBodyBytes into a pooled
// buffer and the HMACs at once, checks the signature and parses the event. A body over
// SmallBodyBytes is read holding one of MaxInFlight slots. An unsigned delivery, one declaring a
// body over the limit and a large one finding no free slot are answered without reading the body.
func (h *Handler) readEvent(w http.ResponseWriter, r *http.Request) (Event, error) {
	signed, err := h.verifier.Begin(r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature))
	if err != nil {
		return Event{}, err
	}
	if r.ContentLength > MaxBodyBytes {
		return Event{}, errTooLarge
	}
	src := io.TeeReader(http.MaxBytesReader(w, r.Body, MaxBodyBytes), signed)
	var head []byte                        // what the small buffer read of a body of unknown length
	if r.ContentLength <= SmallBodyBytes { // small or unknown (-1): start small
		small := smallBodies.Get().(*[]byte)
		defer smallBodies.Put(small)
		n, err := io.ReadFull(src, *small)
		if err != nil || int64(n) == r.ContentLength {
			return finishBody(signed, (*small)[:n], err)
		}
		head = *small
	}
	// A large body: declared so, or an unknown length that filled the small buffer.
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		return Event{}, &Problem{Status: http.StatusServiceUnavailable, Code: CodeBusy,
			Message: "the receiver is reading as many large deliveries as it may at once: deliver it again after Retry-After seconds"}
	}
	large := largeBodies.Get().(*[]byte)
	defer largeBodies.Put(large)
	n := copy(*large, head)
	m, err := io.ReadFull(src, (*large)[n:])
	return finishBody(signed, (*large)[:n+m], err)
}

// finishBody judges how the body's read ended, then checks the signature and parses body, which
// Parse copies from (the buffer is reused).
func finishBody(signed *Signed, body []byte, readErr error) (Event, error) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(readErr, &tooLarge):
		return Event{}, errTooLarge
	case readErr != nil && !errors.Is(readErr, io.ErrUnexpectedEOF) && !errors.Is(readErr, io.EOF):
		return Event{}, badRequest(CodeUnreadableBody, "the body could not be read")
	}
	if err := signed.Check(); err != nil {
		return Event{}, err
	}
	return Parse(body)
}

var errTooLarge = &Problem{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge, Message: "the body is larger than 1 MiB: send one event per delivery"}

// checkContentType admits application/json, in UTF-8 (the only encoding of JSON, RFC 8259).
func checkContentType(header string) error {
	mediaType, params, err := mime.ParseMediaType(header)
	charset, hasCharset := params["charset"]
	if err != nil || mediaType != "application/json" || (hasCharset && !strings.EqualFold(charset, "utf-8")) {
		return &Problem{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType,
			Message: fmt.Sprintf("Content-Type %.60q is not accepted: send the event as application/json (UTF-8)", header)}
	}
	return nil
}

// answer is the JSON body of a delivery Temporal took.
type answer struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Duplicate  bool   `json:"duplicate"`
	// Held: the offboarding started or was put on hold, and revokes nothing until confirmed.
	Held bool `json:"held,omitempty"`
	// Outcome and Note say why a 200 changed nothing; a 202 has neither.
	Outcome string `json:"outcome,omitempty"`
	Note    string `json:"note,omitempty"`
}

// answer writes the response, the log line and the metrics.
func (h *Handler) answer(w http.ResponseWriter, d delivery, out Outcome, err error, took time.Duration) {
	status, outcome := http.StatusAccepted, out.Result
	var body any = answer{WorkflowID: out.WorkflowID, RunID: out.RunID, Held: out.Held}
	if err != nil {
		p := h.problem(err)
		status, outcome, body = p.Status, p.Code, map[string]string{"error": p.Message, "code": p.Code}
		// Retry-After only where delivering again can succeed: not for a reused event id.
		if p.Code == CodeNotStartedYet || status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(int(h.retryAfter.Round(time.Second)/time.Second)))
		}
	} else if out.Result != ResultApplied {
		status = http.StatusOK
		body = answer{WorkflowID: out.WorkflowID, RunID: out.RunID, Duplicate: out.Result == ResultDuplicate, Held: out.Held,
			Outcome: out.Result, Note: out.Note}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body) // the sender hung up: nothing to do

	h.metrics.observe(d.typ, outcome, took.Seconds())
	attrs := []any{"Status", status, "Outcome", outcome, "Type", d.typ, "Duration", took.Round(time.Microsecond).String()}
	if d.event.ID != "" {
		attrs = append(attrs, "EventId", d.event.ID, "EmployeeId", d.event.Employee.EmployeeID)
	}
	if out.WorkflowID != "" {
		attrs = append(attrs, "WorkflowId", out.WorkflowID, "RunId", out.RunID)
	}
	switch {
	case err != nil && status >= 500:
		h.logger.Error("HR delivery failed", append(attrs, "Error", err)...)
	case err != nil:
		h.logger.Warn("HR delivery refused", append(attrs, "Error", err)...)
	default:
		h.logger.Info("HR delivery", attrs...)
	}
}

// problem maps a handling error to its answer.
func (h *Handler) problem(err error) *Problem {
	var p *Problem
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, runs.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &Problem{Status: http.StatusServiceUnavailable, Code: CodeTemporalDown,
			Message: "Temporal did not take the event in time; nothing was lost: deliver it again after Retry-After seconds"}
	}
	return &Problem{Status: http.StatusInternalServerError, Code: CodeTemporalError,
		Message: "Temporal refused the event; the receiver's log has the reason: deliver it again later"}
}
