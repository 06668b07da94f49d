package atomicwork

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// The pacer's tests run on a fake clock, one caller at a time (drive) or booking many turns at
// one instant: they check the schedule the pacer hands out, never how long anything took.

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func (c *fakeClock) advanceTo(t time.Time) {
	if t.After(c.t) {
		c.t = t
	}
}

var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// drive sends n calls through p one after another on clk, each at its turn, and answers each with
// answer; it returns the send times and the times of the 429s with their Retry-After.
func drive(p *AdaptivePacer, clk *fakeClock, n int, answer func(now time.Time) (int, time.Duration)) (sent []time.Time, limited []limit) {
	for len(sent) < n {
		at, gen, turn := p.reserve(clk.Now())
		clk.advanceTo(at)
		if !turn || !p.still(gen, clk.Now()) {
			continue
		}
		sent = append(sent, clk.Now())
		status, ra := answer(clk.Now())
		if status == http.StatusTooManyRequests {
			limited = append(limited, limit{at: clk.Now(), retryAfter: ra})
		}
		p.Observe(status, ra)
		clk.advanceTo(clk.Now().Add(time.Millisecond)) // the answer's latency
	}
	return sent, limited
}

type limit struct {
	at         time.Time
	retryAfter time.Duration
}

// perSecond counts times in consecutive one-second windows from the first.
func perSecond(times []time.Time) []int {
	var counts []int
	for _, t := range times {
		i := int(t.Sub(times[0]) / time.Second)
		for len(counts) <= i {
			counts = append(counts, 0)
		}
		counts[i]++
	}
	return counts
}

func ok(time.Time) (int, time.Duration) { return http.StatusOK, 0 }

// apiAt answers like the simulator: a token bucket of rps with a burst of rps, 429 with
// Retry-After of at least a second when empty.
func apiAt(rps float64) func(time.Time) (int, time.Duration) {
	bucket := rate.NewLimiter(rate.Limit(rps), int(rps))
	return func(now time.Time) (int, time.Duration) {
		if bucket.AllowN(now, 1) {
			return http.StatusOK, 0
		}
		return http.StatusTooManyRequests, time.Second
	}
}

func TestPacerNeverExceedsMax(t *testing.T) {
	const max = 50
	clk := &fakeClock{t: epoch}
	p := NewAdaptivePacer(PacerOptions{Max: max, Now: clk.Now})
	burst := burstFor(max)

	sent, _ := drive(p, clk, 3000, ok)
	for i, n := range perSecond(sent) {
		assert.LessOrEqual(t, n, max+burst, "second %d", i)
	}
	assert.Equal(t, float64(max), p.Rate(), "successes never raise it above the maximum")

	// A thousand callers booking at the same instant are spread over 20 seconds.
	var turns []time.Time
	for range 1000 {
		at, _, turn := p.reserve(clk.Now())
		require.True(t, turn)
		turns = append(turns, at)
	}
	for i, n := range perSecond(turns) {
		assert.LessOrEqual(t, n, max+burst, "second %d", i)
	}
	assert.GreaterOrEqual(t, turns[len(turns)-1].Sub(turns[0]), 999*time.Second/max-time.Millisecond)
}

func TestPacerMaxAfter429s(t *testing.T) {
	const max = 50
	clk := &fakeClock{t: epoch}
	var rates []float64
	p := NewAdaptivePacer(PacerOptions{Max: max, Now: clk.Now, OnRate: func(r float64) { rates = append(rates, r) }})
	// Another client shares the key: the API admits 30 of our calls a second.
	sent, limited := drive(p, clk, 3000, apiAt(30))
	require.NotEmpty(t, limited)
	assert.Less(t, p.Rate(), float64(max), "429s lowered the rate")
	for i, n := range perSecond(sent) {
		assert.LessOrEqual(t, n, max+burstFor(max), "second %d", i)
	}
	for _, r := range rates {
		assert.LessOrEqual(t, r, float64(max))
		assert.Positive(t, r, "limited from the start")
	}
	// Then the other client stops: the rate climbs back to the maximum, not beyond.
	drive(p, clk, 3000, ok)
	assert.Equal(t, float64(max), p.Rate())
}

func TestPacerLearnsTheLimit(t *testing.T) {
	clk := &fakeClock{t: epoch}
	p := NewAdaptivePacer(PacerOptions{Now: clk.Now})
	assert.Zero(t, p.Rate(), "no configured limit: unlimited until the API says otherwise")

	// Unlimited: a hundred callers at one instant all go at once.
	for range 100 {
		at, _, turn := p.reserve(clk.Now())
		require.True(t, turn)
		require.Equal(t, clk.Now(), at)
	}

	const limit = 50
	sent, limited := drive(p, clk, 5000, apiAt(limit))
	require.NotEmpty(t, limited, "the first burst overran the API")
	assert.Positive(t, p.Rate(), "a 429 set a rate")
	assert.Less(t, float64(len(limited)), 0.01*float64(len(sent)), "under 1%% of the calls were refused")
	elapsed := sent[len(sent)-1].Sub(sent[0]).Seconds()
	assert.Greater(t, float64(len(sent)-len(limited))/elapsed, 0.75*limit, "the API's limit is mostly used")

	// Every 429's Retry-After held back every call.
	for _, l := range limited {
		for _, s := range sent {
			if s.After(l.at) && s.Before(l.at.Add(l.retryAfter)) {
				t.Fatalf("a call at %s went during the pause of the 429 at %s", s.Sub(epoch), l.at.Sub(epoch))
			}
		}
	}
}

func TestPacerPauseHoldsEveryCaller(t *testing.T) {
	clk := &fakeClock{t: epoch}
	p := NewAdaptivePacer(PacerOptions{Max: 10, Now: clk.Now})
	_, booked, turn := p.reserve(clk.Now()) // a caller with a turn, not yet sent
	require.True(t, turn)

	p.Observe(http.StatusTooManyRequests, 3*time.Second)
	assert.False(t, p.still(booked, clk.Now()), "a booked turn does not go during the pause")
	at, _, turn := p.reserve(clk.Now())
	assert.False(t, turn)
	assert.Equal(t, epoch.Add(3*time.Second), at, "new callers wait for Retry-After")

	clk.advanceTo(at)
	at, gen, turn := p.reserve(clk.Now())
	assert.True(t, turn)
	assert.True(t, p.still(gen, at))
	assert.Equal(t, float64(pacerMinRate), p.Rate(), "nothing was admitted: the lowest rate")

	// A 429 without Retry-After still pauses for the grace, then decreases.
	p = NewAdaptivePacer(PacerOptions{Now: clk.Now})
	for range 40 {
		p.Observe(http.StatusOK, 0)
	}
	p.Observe(http.StatusTooManyRequests, 0)
	at, _, turn = p.reserve(clk.Now())
	assert.False(t, turn)
	assert.Equal(t, clk.Now().Add(pacerGrace), at)
	clk.advanceTo(at)
	p.reserve(clk.Now())
	assert.InDelta(t, 40*pacerDecrease, p.Rate(), 1e-9, "0.7 of what the API admitted in the second before")
}

// recordingPacer records what the client tells it.
type recordingPacer struct {
	mu       sync.Mutex
	waits    int
	observed []observation
	err      error
}

type observation struct {
	status     int
	retryAfter time.Duration
}

func (p *recordingPacer) Wait(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waits++
	return p.err
}

func (p *recordingPacer) Observe(status int, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observed = append(p.observed, observation{status, retryAfter})
}

func TestClientPacesEveryCall(t *testing.T) {
	answers := []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { w.Write([]byte(`{"id":7,"email":"a@example.com"}`)) },
		func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":"Too many requests","code":"RATE_LIMITED"}`))
		},
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusTooManyRequests) }, // no Retry-After
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) },
	}
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		answers[int(served.Add(1)-1)%len(answers)](w)
	}))
	t.Cleanup(srv.Close)
	pacer := &recordingPacer{}
	c, err := New(Config{BaseURL: srv.URL, APIKey: "k", Pacer: pacer})
	require.NoError(t, err)

	for range answers {
		_, _ = c.GetUser(t.Context(), 7)
	}
	assert.Equal(t, len(answers), pacer.waits, "one wait per call")
	assert.Equal(t, []observation{
		{http.StatusOK, 0}, {http.StatusTooManyRequests, 7 * time.Second}, {http.StatusTooManyRequests, 0},
		{http.StatusServiceUnavailable, 0}, {http.StatusNotFound, 0},
	}, pacer.observed)

	// A wait that ends with its context sends nothing.
	pacer.err = context.Canceled
	_, err = c.GetUser(t.Context(), 7)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled))
	assert.Equal(t, Canceled, Classify(err))
	assert.Equal(t, int32(len(answers)), served.Load(), "the call never left")
}

func TestAdaptivePacerWaitEndsWithContext(t *testing.T) {
	p := NewAdaptivePacer(PacerOptions{Max: 1})
	p.Observe(http.StatusTooManyRequests, time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, p.Wait(ctx), context.Canceled)
}

// randomRefusals answers like an API with faults: a seeded share of 429s (Retry-After 1 s),
// whatever the rate.
func randomRefusals(share float64) func(time.Time) (int, time.Duration) {
	r := rand.New(rand.NewPCG(13, 0))
	return func(time.Time) (int, time.Duration) {
		if r.Float64() < share {
			return http.StatusTooManyRequests, time.Second
		}
		return http.StatusOK, 0
	}
}

// 429s that slowing down does not reduce (an API's random refusals: issue 13's heavy faults) are
// learnt as noise after one probe: the pacer goes back to its rate and pauses nobody for them,
// where a pause of every caller and a decrease per refusal collapsed a worker to a call a second.
func TestPacerLearnsThatRandomRefusalsAreNoLimit(t *testing.T) {
	for _, max := range []float64{0, 200} {
		t.Run(fmt.Sprintf("max %g", max), func(t *testing.T) {
			clk := &fakeClock{t: epoch}
			p := NewAdaptivePacer(PacerOptions{Max: max, Now: clk.Now})
			drive(p, clk, 200, randomRefusals(0.2)) // the first refusals: a pause, a decrease, the probe
			assert.Equal(t, max, p.Rate(), "back at the rate before the refusals")

			start := clk.Now()
			sent, limited := drive(p, clk, 4000, randomRefusals(0.2))
			require.Greater(t, len(limited), 400, "the API kept refusing a fifth of the calls")
			// Unpaced, 4,000 calls of 1 ms take 4 s; at 200/s they take 20 s.
			ideal := time.Duration(float64(len(sent)) * float64(time.Millisecond))
			if max > 0 {
				ideal = time.Duration(float64(len(sent)) / max * float64(time.Second))
			}
			assert.Less(t, clk.Now().Sub(start), ideal*3/2, "random refusals slow the key by little")
			assert.Equal(t, max, p.Rate())
		})
	}
}

// A real limit is still learnt after noise: a rate the API admits less of brings the 429 share
// above the noise's, the pacer slows down, and its probe finds that slowing down cured them.
func TestPacerStillLearnsALimitAfterNoise(t *testing.T) {
	clk := &fakeClock{t: epoch}
	p := NewAdaptivePacer(PacerOptions{Now: clk.Now})
	drive(p, clk, 300, randomRefusals(0.2))
	require.Zero(t, p.Rate(), "noise learnt: unlimited again")

	const limit = 50
	api := apiAt(limit)
	_, learning := drive(p, clk, 1000, api)
	require.NotEmpty(t, learning)
	assert.Positive(t, p.Rate(), "the limit set a rate")
	sent, limited := drive(p, clk, 3000, api)
	assert.Less(t, float64(len(limited)), 0.01*float64(len(sent)), "under 1%% refused once the limit is learnt")
}

// answers plays a fixed sequence of answers (429 with Retry-After 1 s, or 200), then 200s.
func answers(seq string) func(time.Time) (int, time.Duration) {
	i := 0
	return func(time.Time) (int, time.Duration) {
		defer func() { i++ }()
		if i < len(seq) && seq[i] == 'x' {
			return http.StatusTooManyRequests, time.Second
		}
		return http.StatusOK, 0
	}
}

// trickle sends the calls of answer one by one, spaced by gap (a batch's last asset retrying
// alone, or its serial reads), each at its turn.
func trickle(p *AdaptivePacer, clk *fakeClock, n int, gap time.Duration, answer func(time.Time) (int, time.Duration)) {
	for range n {
		drive(p, clk, 1, answer)
		clk.advanceTo(clk.Now().Add(gap))
	}
}

// A few 429s among a few answers are chance, not a limit: at the end of a flaky batch (its last
// asset retrying alone) they must not leave the key at a call a second for the next batch, nor,
// at a batch's start (its first serial reads), teach a limit from ten answers that happened to
// pass. Both crawled: the next batch at a call a second more per second (30 s for 600 calls).
func TestPacerLearnsNoLimitFromAFewAnswers(t *testing.T) {
	unpaced := func(t *testing.T, p *AdaptivePacer, clk *fakeClock, n int, answer func(time.Time) (int, time.Duration)) {
		t.Helper()
		start := clk.Now()
		drive(p, clk, n, answer)
		// Unpaced, n calls of 1 ms take n ms; a pause and a probe take about a second each.
		assert.Less(t, clk.Now().Sub(start), time.Duration(n)*time.Millisecond+4*time.Second, "the next calls go about unpaced")
	}
	t.Run("the end of a flaky batch", func(t *testing.T) {
		clk := &fakeClock{t: epoch}
		p := NewAdaptivePacer(PacerOptions{Now: clk.Now})
		drive(p, clk, 300, randomRefusals(0.2)) // the noise is learnt
		clk.advanceTo(clk.Now().Add(6 * time.Second))
		trickle(p, clk, 3, 300*time.Millisecond, answers("x.."))
		clk.advanceTo(clk.Now().Add(time.Second))
		unpaced(t, p, clk, 600, ok)
	})
	t.Run("the start of a flaky batch", func(t *testing.T) {
		clk := &fakeClock{t: epoch}
		p := NewAdaptivePacer(PacerOptions{Now: clk.Now})
		trickle(p, clk, 14, 100*time.Millisecond, answers("x............."))
		unpaced(t, p, clk, 2000, randomRefusals(0.2))
	})
}
