package hrevents

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingReader serves n bytes of 'x' and counts what was read of them.
type countingReader struct {
	left int
	read atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.left)
	for i := range n {
		p[i] = 'x'
	}
	c.left -= n
	c.read.Add(int64(n))
	return n, nil
}

func limitsRequest(f *fakeRuns, body io.Reader, contentLength int64, signature string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/hr/events", body)
	req.ContentLength = contentLength
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(f.clock.Unix(), 10))
	if signature != "" {
		req.Header.Set(HeaderSignature, signature)
	}
	return req
}

// A forged signature: well formed, so only the body can refute it.
const forged = "v1=0000000000000000000000000000000000000000000000000000000000000000"

func TestBodyOverTheLimitIs413WithoutReadingItAll(t *testing.T) {
	for _, tc := range []struct {
		name          string
		contentLength int64
		maxRead       int64
	}{
		{"declared larger", 8 * MaxBodyBytes, 0},
		{"chunked, no length", -1, MaxBodyBytes + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			r := newReceiver(t, f, f)
			body := &countingReader{left: 8 * MaxBodyBytes}
			rec := httptest.NewRecorder()
			r.h.ServeHTTP(rec, limitsRequest(f, body, tc.contentLength, forged))
			require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, rec.Body.String())
			assert.Equal(t, CodeBodyTooLarge, decodeBody(t, rec)["code"])
			assert.LessOrEqual(t, body.read.Load(), tc.maxRead, "the receiver read past the limit")
			assert.Empty(t, f.calls)
		})
	}
}

func TestUnsignedBodyIsRefusedUnread(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	body := &countingReader{left: MaxBodyBytes}
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, limitsRequest(f, body, -1, ""))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, CodeMissingSignature, decodeBody(t, rec)["code"])
	assert.Zero(t, body.read.Load(), "an unsigned body was read")
}

func TestForgedSignatureOverAStreamedBodyIs401(t *testing.T) {
	f := newFake()
	r := newReceiver(t, f, f)
	body := eventJSON("evt-1", TypeHired, nil)
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, limitsRequest(f, io.MultiReader(strings.NewReader(body)), -1, forged+","+Sign(secretB, f.clock, []byte(body))))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, CodeInvalidSignature, decodeBody(t, rec)["code"])
	assert.Empty(t, f.calls)
}

// blockingBody holds its reader until released: a delivery whose body is still arriving.
type blockingBody struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingBody) Read([]byte) (int, error) {
	close(b.started)
	<-b.release
	return 0, io.EOF
}

func TestLargeDeliveriesOverTheInFlightCapAre503AtOnceSmallOnesStillServed(t *testing.T) {
	f := newFake()
	h, err := NewHandler(Config{Secrets: []string{secretA}, Runs: f, Metrics: prometheus.NewRegistry(),
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return f.clock }, MaxInFlight: 1, RetryAfter: 7 * time.Second})
	require.NoError(t, err)

	slow := &blockingBody{started: make(chan struct{}), release: make(chan struct{})}
	first := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, limitsRequest(f, slow, MaxBodyBytes, forged))
		first <- rec.Code
	}()
	<-slow.started // a large body, still arriving, holds the only slot

	large := &countingReader{left: 4 * SmallBodyBytes}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, limitsRequest(f, large, 4*SmallBodyBytes, forged))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	assert.Equal(t, "7", rec.Header().Get("Retry-After"))
	assert.Equal(t, CodeBusy, decodeBody(t, rec)["code"])
	assert.Zero(t, large.read.Load(), "a large delivery over the cap was read")

	chunked := &countingReader{left: 4 * SmallBodyBytes}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, limitsRequest(f, chunked, -1, forged))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "an unknown length past the small buffer needs a slot: %s", rec.Body.String())
	assert.Equal(t, int64(SmallBodyBytes), chunked.read.Load(), "only the small buffer was read")

	for i, declared := range []bool{false, true} { // chunked, and with its Content-Length
		body := eventJSON("evt-small-"+strconv.Itoa(i), TypeHired, map[string]any{"employee_id": "E-" + strconv.Itoa(i)})
		req := limitsRequest(f, io.MultiReader(strings.NewReader(body)), -1, Sign(secretA, f.clock, []byte(body)))
		if declared {
			req.ContentLength = int64(len(body))
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusAccepted, rec.Code, "a small delivery needs no slot: %s", rec.Body.String())
	}

	close(slow.release)
	assert.Equal(t, http.StatusUnauthorized, <-first, "the slow (forged) delivery is answered once its body ends")
	body := eventJSON("evt-large", TypeHired, map[string]any{"employee_id": "E-9"})
	padded := body[:len(body)-1] + strings.Repeat(" ", 2*SmallBodyBytes) + "}"
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, limitsRequest(f, strings.NewReader(padded), int64(len(padded)), Sign(secretA, f.clock, []byte(padded))))
	assert.Equal(t, http.StatusAccepted, rec.Code, "the slot is free again, and a large body is signed over all of it: %s", rec.Body.String())
}
