package codec

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MinTokenLen is the shortest token the codec server accepts: whoever guesses it can decrypt.
const MinTokenLen = 32

// DefaultSessionTTL is how long a browser stays signed in after /login.
const DefaultSessionTTL = 8 * time.Hour

// Failed token attempts a client may make at once, and how fast it earns another.
const (
	DefaultAuthFailureBurst    = 10
	DefaultAuthFailureInterval = 6 * time.Second
)

// maxThrottledClients bounds the throttle's memory; past it, new clients share one budget.
const (
	maxThrottledClients = 4096
	overflowClient      = "(other clients)"
)

// sessions are the signed-in browsers: the digest of each random session id, with its expiry.
// They live in memory only, so a restart signs every browser out.
type sessions struct {
	mu     sync.Mutex
	ttl    time.Duration
	expiry map[[sha256.Size]byte]time.Time
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, expiry: map[[sha256.Size]byte]time.Time{}}
}

// create starts a session and returns its id (256 random bits, hex).
func (s *sessions) create(now time.Time) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.expiry {
		if !now.Before(exp) {
			delete(s.expiry, k)
		}
	}
	s.expiry[sha256.Sum256([]byte(id))] = now.Add(s.ttl)
	return id, nil
}

// valid reports whether id names a session that has not expired. Ids are looked up by digest,
// so the lookup's timing says nothing about the ids held.
func (s *sessions) valid(id string, now time.Time) bool {
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.expiry[k]
	if ok && !now.Before(exp) {
		delete(s.expiry, k)
		return false
	}
	return ok
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.expiry, sha256.Sum256([]byte(id)))
}

// throttle counts wrong tokens per client address: each costs one of burst attempts, earned back
// one per interval. A client with none left is refused before its token is even looked at, so
// guessing goes no faster than one try per interval.
type throttle struct {
	mu       sync.Mutex
	every    rate.Limit
	burst    int
	interval time.Duration
	clients  map[string]*rate.Limiter
}

func newThrottle(burst int, interval time.Duration) *throttle {
	return &throttle{every: rate.Every(interval), burst: burst, interval: interval, clients: map[string]*rate.Limiter{}}
}

// blocked reports whether client has no attempt left.
func (t *throttle) blocked(client string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	lim := t.limiter(client, now, false)
	return lim != nil && lim.TokensAt(now) < 1
}

// fail records a wrong token from client and reports whether the client is now blocked.
func (t *throttle) fail(client string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	lim := t.limiter(client, now, true)
	lim.AllowN(now, 1)
	return lim.TokensAt(now) < 1
}

// limiter returns client's limiter, creating it if asked. Past maxThrottledClients, clients
// that earned all their attempts back are forgotten, and new ones share the overflow budget.
func (t *throttle) limiter(client string, now time.Time, create bool) *rate.Limiter {
	if lim, ok := t.clients[client]; ok {
		return lim
	}
	if create && len(t.clients) >= maxThrottledClients {
		for c, lim := range t.clients {
			if lim.TokensAt(now) >= float64(t.burst) {
				delete(t.clients, c)
			}
		}
	}
	if len(t.clients) >= maxThrottledClients {
		client = overflowClient
		if lim, ok := t.clients[client]; ok {
			return lim
		}
	}
	if !create {
		return nil
	}
	lim := rate.NewLimiter(t.every, t.burst)
	t.clients[client] = lim
	return lim
}

// clientAddr is the request's peer address without the port. X-Forwarded-For is not trusted: a
// client could name a new address on every guess.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
