package atomicwork

import (
	"context"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"golang.org/x/time/rate"
)

// Pacer paces a Client's HTTP calls (Config.Pacer): the client waits on it before every call and
// tells it how each one was answered. Give every client of one API key the same pacer: the API
// limits the key, whatever number of activities share it.
type Pacer interface {
	// Wait blocks until a call may be sent, or returns ctx's error.
	Wait(ctx context.Context) error
	// Observe reports an answer: its HTTP status and its Retry-After (0 when absent).
	Observe(status int, retryAfter time.Duration)
}

// AIMD settings of AdaptivePacer.
const (
	// pacerDecrease multiplies the rate the API admitted when it answers 429 (TCP CUBIC's 0.7:
	// halving would leave a key at half its limit for most of each cycle).
	pacerDecrease = 0.7
	// pacerIncrease is the additive increase per second, as a share of the rate set by the last
	// decrease: back above the rate before it in about 9 s.
	pacerIncrease = 0.05
	// pacerMinRate (requests/s) and pacerMinStep (requests/s per second) keep a key that the API
	// admitted nothing from moving.
	pacerMinRate = 1
	pacerMinStep = 1
	// pacerSpread is how many seconds' worth of calls may leave at once (the limiter's burst), so
	// calls are spread evenly within each second instead of leaving in a clump.
	pacerSpread = 0.02
	// pacerGrace is the shortest pause after a 429: the answers of calls already on their way
	// arrive meanwhile, so one overrun counts as one decrease, not one per call in flight.
	pacerGrace = 250 * time.Millisecond
	// Answers are counted in slots over the last pacerSlots*pacerSlotLen (5 s): the rate the API
	// admitted over the last second of them, the share of 429s over all of them.
	pacerSlots      = 50
	pacerSlotLen    = 100 * time.Millisecond
	pacerSecondSlot = int(time.Second / pacerSlotLen)
	// After each decrease the pacer probes: if, over at least probeAnswers answers and probeFor,
	// the share of 429s is not under probeNoise nor, beyond chance (pacerZ), half of what it was,
	// slowing down does not cure them: they are refusals at random (an API's faults, a proxy),
	// not the key's limit. The rate goes back to the highest of the last noiseMemory (an earlier
	// probe may have taken noise for the limit by chance), and while 429s come at about that
	// share (up to noiseSlack times it, or pacerZ standard deviations of chance above it over the
	// window's answers) and until noiseMemory after the last of them, they pause nobody and slow
	// nothing (each refused call still waits its own Retry-After, in its retry); a probe that
	// finds slowing down cured them forgets the noise.
	probeAnswers = 20
	probeFor     = time.Second
	probeNoise   = 0.05
	noiseSlack   = 1.5
	pacerZ       = 3
	noiseMemory  = time.Minute
)

// PacerOptions configure an AdaptivePacer.
type PacerOptions struct {
	// Max is the most requests per second the pacer ever lets through (ATOMICWORK_RPS), where it
	// starts. 0 means no known limit: it starts unlimited and learns the limit from 429s.
	Max float64
	// OnRate hears the rate each time it changes (0 = unlimited): for a metrics gauge.
	OnRate func(rps float64)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// AdaptivePacer is a Pacer for one API key: a token bucket (golang.org/x/time/rate) whose rate
// follows AIMD. A 429 pauses every caller for its Retry-After (at least pacerGrace), then sets
// the rate to pacerDecrease times what the API admitted in the second before it; each answer
// that is not a 429 adds to the rate, pacerIncrease of the decreased rate per second, up to
// Max. A probe after each decrease tells the key's limit from random refusals that slowing
// down does not cure (see probeAnswers): those pause nobody. It is safe for concurrent use.
type AdaptivePacer struct {
	max    rate.Limit // rate.Inf without Max
	onRate func(float64)
	now    func() time.Time

	mu  sync.Mutex
	lim *rate.Limiter
	// gen changes when lim is replaced or a pause begins: a caller that waited on the old
	// schedule takes a new turn.
	gen         uint64
	pausedUntil time.Time
	// overrun is the 429 episode in progress: the decrease happens when its pause ends.
	overrun    bool
	admittedAt int // answers admitted from a second before the episode's first 429 until now
	step       float64
	grownAt    time.Time
	slots      [pacerSlots]answerCount
	slotOf     [pacerSlots]int64 // which slot number each slot holds
	// probe is the check after a decrease; noise the share of 429s it found slowing down does
	// not cure, remembered until noiseUntil.
	probe      probe
	noise      float64
	noiseUntil time.Time
	// peak is the highest rate since peakAt, which a noise verdict brings back.
	peak   rate.Limit
	peakAt time.Time
}

// answerCount counts one slot's answers.
type answerCount struct{ admitted, limited int }

// probe is the check after a decrease: the rate and 429 share before it, the answers since.
type probe struct {
	active bool
	from   time.Time
	rate   rate.Limit
	before answerCount // the window's answers when the episode began
	answerCount
}

// NewAdaptivePacer returns a pacer at o.Max, or unlimited until the first 429 without it.
func NewAdaptivePacer(o PacerOptions) *AdaptivePacer {
	p := &AdaptivePacer{max: rate.Inf, onRate: o.OnRate, now: o.Now}
	if p.now == nil {
		p.now = time.Now
	}
	if o.Max > 0 {
		p.max = rate.Limit(o.Max)
	}
	p.lim = rate.NewLimiter(p.max, burstFor(p.max))
	p.peak, p.peakAt = p.max, p.now()
	p.report()
	return p
}

// Rate is the pacer's current rate in requests per second; 0 = unlimited.
func (p *AdaptivePacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return rps(p.lim.Limit())
}

// Wait blocks until the caller's turn, which a 429 meanwhile postpones.
func (p *AdaptivePacer) Wait(ctx context.Context) error {
	for {
		at, gen, turn := p.reserve(p.now())
		if err := sleepUntil(ctx, at.Sub(p.now())); err != nil {
			return err
		}
		if turn && p.still(gen, p.now()) {
			return nil
		}
	}
}

// reserve books the next turn at now: when it comes, and whether it is a turn (or only the end
// of a pause, after which the caller books again).
func (p *AdaptivePacer) reserve(now time.Time) (at time.Time, gen uint64, turn bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.pausedUntil) {
		return p.pausedUntil, p.gen, false
	}
	if p.overrun {
		p.decrease(now)
	}
	r := p.lim.ReserveN(now, 1) // never refused: the burst is at least 1
	return now.Add(r.DelayFrom(now)), p.gen, true
}

// still reports whether a turn booked in generation gen may go at now.
func (p *AdaptivePacer) still(gen uint64, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return gen == p.gen && !now.Before(p.pausedUntil)
}

// Observe counts an admitted answer, or starts or extends a 429 episode.
func (p *AdaptivePacer) Observe(status int, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	switch {
	case status == http.StatusTooManyRequests:
		p.limited(now, retryAfter)
	case status > 0:
		p.admitted(now)
	}
}

func (p *AdaptivePacer) limited(now time.Time, retryAfter time.Duration) {
	p.count(now, answerCount{limited: 1})
	if p.probe.active {
		p.probe.limited++
		p.checkProbe(now)
		return // the probe decides whether slowing down helps; it does not slow down further
	}
	if p.isNoise(now) {
		p.noiseUntil = now.Add(noiseMemory) // still there: still remembered
		return
	}
	if !p.overrun {
		p.overrun, p.admittedAt = true, p.lastSecond(now)
		p.probe = probe{rate: p.lim.Limit(), before: p.over(now, pacerSlots)}
	}
	if until := now.Add(max(retryAfter, pacerGrace)); until.After(p.pausedUntil) {
		p.pausedUntil = until
		p.gen++
	}
}

func (p *AdaptivePacer) admitted(now time.Time) {
	p.count(now, answerCount{admitted: 1})
	if p.probe.active {
		p.probe.admitted++
		p.checkProbe(now)
	}
	if p.overrun {
		p.admittedAt++ // sent before the episode began
		return
	}
	p.grow(now)
}

// count adds c to now's slot.
func (p *AdaptivePacer) count(now time.Time, c answerCount) {
	slot := now.UnixNano() / int64(pacerSlotLen)
	i := slot % pacerSlots
	if p.slotOf[i] != slot {
		p.slotOf[i], p.slots[i] = slot, answerCount{}
	}
	p.slots[i].admitted += c.admitted
	p.slots[i].limited += c.limited
}

// over sums the answers of the last n slots up to now.
func (p *AdaptivePacer) over(now time.Time, n int) answerCount {
	slot := now.UnixNano() / int64(pacerSlotLen)
	var sum answerCount
	for i := range pacerSlots {
		if s := p.slotOf[i]; s > slot-int64(n) && s <= slot {
			sum.admitted += p.slots[i].admitted
			sum.limited += p.slots[i].limited
		}
	}
	return sum
}

// lastSecond counts the answers admitted in the second up to now.
func (p *AdaptivePacer) lastSecond(now time.Time) int { return p.over(now, pacerSecondSlot).admitted }

func (c answerCount) answers() int { return c.admitted + c.limited }

func (c answerCount) share() float64 {
	if c.answers() == 0 {
		return 0
	}
	return float64(c.limited) / float64(c.answers())
}

// within reports whether c's 429s are no more than a share of noise gives: noiseSlack times it,
// or what chance adds to it over so few answers (pacerZ standard deviations of a binomial).
func (c answerCount) within(noise float64) bool {
	n := float64(c.answers())
	expected := noise * n
	return float64(c.limited) <= max(expected*noiseSlack, expected+pacerZ*math.Sqrt(n*noise*(1-noise)))
}

// fewer reports whether c's share of 429s is below before's beyond chance: by pacerZ standard
// errors of the difference of two shares, each of probeAnswers answers or more (fewer say nothing).
func (c answerCount) fewer(before answerCount) bool {
	if before.answers() < probeAnswers || c.answers() < probeAnswers {
		return false
	}
	n1, n2 := float64(before.answers()), float64(c.answers())
	pooled := float64(before.limited+c.limited) / (n1 + n2)
	se := math.Sqrt(pooled * (1 - pooled) * (1/n1 + 1/n2))
	return before.share()-c.share() > pacerZ*se
}

// isNoise reports whether the 429s of the window are no more than the share slowing down did
// not cure.
func (p *AdaptivePacer) isNoise(now time.Time) bool {
	return p.noise > 0 && now.Before(p.noiseUntil) && p.over(now, pacerSlots).within(p.noise)
}

// checkProbe ends the probe once it has enough answers: 429s that slowing down made rare, or
// halved beyond chance, were the limit; else they are noise, and the rate before the decrease
// comes back.
func (p *AdaptivePacer) checkProbe(now time.Time) {
	pr := p.probe
	if pr.answers() < probeAnswers || now.Sub(pr.from) < probeFor {
		return
	}
	p.probe.active = false
	if after := pr.share(); after < probeNoise || (2*after < pr.before.share() && pr.fewer(pr.before)) {
		p.noise = 0 // slowing down cured them: the key's limit
		return
	}
	p.noise, p.noiseUntil = pr.share(), now.Add(noiseMemory)
	p.setLimiter(now, max(pr.rate, p.peak))
}

// decrease ends a 429 episode: the rate becomes pacerDecrease times the lower of the rate in
// force and the rate the API admitted, on a new limiter (the old one's queue of turns goes).
func (p *AdaptivePacer) decrease(now time.Time) {
	// Answers that came after the first 429 were sent before it: all count in that second.
	admitted := rate.Limit(p.admittedAt)
	next := max(pacerMinRate, min(p.lim.Limit(), admitted)*pacerDecrease)
	p.overrun = false
	p.setLimiter(now, next)
	p.probe.active, p.probe.from, p.probe.answerCount = true, now, answerCount{}
}

// setLimiter puts the rate at r on a new limiter (the old one's queue of turns goes), from which
// the additive increase starts.
func (p *AdaptivePacer) setLimiter(now time.Time, r rate.Limit) {
	p.notePeak(now, p.lim.Limit()) // in force until now
	p.lim = rate.NewLimiter(r, burstFor(r))
	p.gen++
	p.step = max(pacerMinStep, float64(min(r, 1e9))*pacerIncrease)
	p.grownAt = now
	p.notePeak(now, r)
	p.report()
}

// grow adds the additive increase earned since the last change, up to max.
func (p *AdaptivePacer) grow(now time.Time) {
	cur := p.lim.Limit()
	if cur >= p.max || !now.After(p.grownAt) {
		return
	}
	next := min(p.max, cur+rate.Limit(p.step*now.Sub(p.grownAt).Seconds()))
	p.grownAt = now
	p.lim.SetLimitAt(now, next)
	p.lim.SetBurstAt(now, burstFor(next))
	p.notePeak(now, next)
	p.report()
}

// notePeak keeps peak the highest rate of about the last noiseMemory: a newer one as high
// replaces it, and one older than noiseMemory gives way to the rate now.
func (p *AdaptivePacer) notePeak(now time.Time, r rate.Limit) {
	if r >= p.peak || now.Sub(p.peakAt) > noiseMemory {
		p.peak, p.peakAt = r, now
	}
}

func (p *AdaptivePacer) report() {
	if p.onRate != nil {
		p.onRate(rps(p.lim.Limit()))
	}
}

func rps(l rate.Limit) float64 {
	if l == rate.Inf {
		return 0
	}
	return float64(l)
}

func burstFor(l rate.Limit) int {
	if l == rate.Inf {
		return 1
	}
	return max(1, int(math.Ceil(float64(l)*pacerSpread)))
}

func sleepUntil(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait waits for the client's pacer, if any, before a call.
func (c *Client) wait(ctx context.Context, cl call) error {
	if c.pacer == nil {
		return nil
	}
	if err := c.pacer.Wait(ctx); err != nil {
		return &TransportError{Op: cl.op, Method: cl.method, Path: cl.path.public, Err: err}
	}
	return nil
}

// observe tells the client's pacer, if any, how a call was answered (nothing without an answer).
func (c *Client) observe(resp *resty.Response, err error) {
	if c.pacer == nil || err != nil || resp == nil || resp.RawResponse == nil {
		return
	}
	c.pacer.Observe(resp.StatusCode(), ParseRetryAfter(resp.Header().Get("Retry-After"), time.Now()))
}
