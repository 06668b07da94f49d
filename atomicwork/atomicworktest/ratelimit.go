package atomicworktest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/atomicflow/atomicflow/atomicwork"
)

// rateLimiter is a token bucket per API key (API-NOTES §1.9, §7 Q19). A rejected request takes no
// token, so a client that waits for Retry-After gets through.
type rateLimiter struct {
	// now is the wall clock, not Options.Now: tests freeze the data clock, and throughput is real time.
	now func() time.Time

	mu      sync.Mutex
	rps     float64
	burst   int
	buckets map[string]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

// newRateLimiter returns a limiter for rps requests per second per key; rps 0 means unlimited and
// burst 0 means max(1, ceil(rps)).
func newRateLimiter(rps float64, burst int, now func() time.Time) *rateLimiter {
	l := &rateLimiter{now: now, buckets: map[string]*tokenBucket{}}
	l.rps, l.burst = rps, effectiveBurst(rps, burst)
	return l
}

// validateLimits checks a rate and burst before they reach the limiter.
func validateLimits(rps float64, burst int) error {
	if math.IsNaN(rps) || math.IsInf(rps, 0) || rps < 0 {
		return fmt.Errorf("rps must be a non-negative number of requests per second (0 = unlimited), got %v", rps)
	}
	if burst < 0 {
		return fmt.Errorf("burst must be 0 (the default, max(1, ceil(rps))) or positive, got %d", burst)
	}
	return nil
}

func effectiveBurst(rps float64, burst int) int {
	switch {
	case rps == 0:
		return 0
	case burst > 0:
		return burst
	default:
		return max(1, int(math.Ceil(rps)))
	}
}

// allow takes a token from key's bucket, or reports how long until one is available.
func (l *rateLimiter) allow(key string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rps == 0 {
		return true, 0
	}
	now := l.now()
	b, found := l.buckets[key]
	if !found {
		b = &tokenBucket{tokens: float64(l.burst), last: now}
		l.buckets[key] = b
	}
	b.refill(now, l.rps, l.burst)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rps * float64(time.Second))
}

func (b *tokenBucket) refill(now time.Time, rps float64, burst int) {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(float64(burst), b.tokens+elapsed.Seconds()*rps)
	}
	b.last = now
}

// set changes the limits at run time. Buckets keep the tokens they earned at the old rate, capped
// at the new burst, so lowering the limit takes effect at once without a free burst.
func (l *rateLimiter) set(rps float64, burst int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	newBurst := effectiveBurst(rps, burst)
	for key, b := range l.buckets {
		if rps == 0 {
			delete(l.buckets, key)
			continue
		}
		b.refill(now, l.rps, l.burst)
		b.tokens = math.Min(b.tokens, float64(newBurst))
	}
	l.rps, l.burst = rps, newBurst
}

// limits returns the rate and the burst in force (the effective burst, never 0 while limited).
func (l *rateLimiter) limits() (rps float64, burst int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rps, l.burst
}

// reset refills every bucket.
func (l *rateLimiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.buckets)
}

// writeRateLimited answers 429 with the envelope and Retry-After in whole seconds, rounded up and
// at least 1, so a client that waits that long finds a token.
func writeRateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, atomicwork.CodeRateLimited, "Too many requests")
}
