package atomicworktest

import (
	"net/http"
	"strings"
	"sync"
)

// LandWrites is a client transport for tests of listings under concurrent writes: before each
// assets/list call it applies up to four of the writes still in flight (queued with Later), so a
// batch's writes land while a listing pages, between its calls.
type LandWrites struct {
	Next  http.RoundTripper
	Apply func(id int64)

	mu      sync.Mutex
	pending []int64
}

// Later queues writes: they land during the next list calls.
func (l *LandWrites) Later(ids ...int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, ids...)
}

// RoundTrip applies some pending writes before an assets/list call, then sends the request.
func (l *LandWrites) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/assets/list") {
		l.mu.Lock()
		n := min(len(l.pending), 4)
		batch := l.pending[:n]
		l.pending = l.pending[n:]
		l.mu.Unlock()
		for _, id := range batch {
			l.Apply(id)
		}
	}
	return l.Next.RoundTrip(r)
}
