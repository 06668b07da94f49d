package hrevents

import (
	"container/list"
	"crypto/sha256"
	"encoding/json"
	"sync"
)

// seen remembers the answers given to the latest event ids, with a digest of each event, so a
// redelivery is answered at once with duplicate: true and never reaches Temporal, and an id reused
// for another event is refused (409 EVENT_ID_REUSED). It is a bounded LRU in memory: a restart or
// an event older than the last size ids forgets it. For a redelivery that is safe, because
// Temporal de-duplicates too (the event id is the update id; starts use the deterministic
// workflow id): it is answered as new and still changes nothing. A reused id is then no longer
// recognised (see Handler).
type seen struct {
	mu    sync.Mutex
	size  int
	order *list.List // of *seenEntry, most recent first
	byID  map[string]*list.Element
}

type seenEntry struct {
	id     string
	digest digest
	out    Outcome
}

// digest identifies an event's content: the SHA-256 of its parsed form, so a redelivery that an
// HR system serialised again (other key order, spacing or time offset) is still the same event.
type digest [sha256.Size]byte

func digestOf(ev Event) digest {
	b, _ := json.Marshal(ev) // an Event always encodes: strings and a UTC time
	return sha256.Sum256(b)
}

func newSeen(size int) *seen {
	return &seen{size: size, order: list.New(), byID: make(map[string]*list.Element, size)}
}

// get returns the outcome first given to id, and the digest of the event it was given to.
func (s *seen) get(id string) (Outcome, digest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byID[id]
	if !ok {
		return Outcome{}, digest{}, false
	}
	s.order.MoveToFront(el)
	e := el.Value.(*seenEntry)
	return e.out, e.digest, true
}

// add records the final outcome of id for the event with digest d, forgetting the least recent
// id when full. The first event recorded for an id stays its event.
func (s *seen) add(id string, d digest, out Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byID[id]; ok {
		s.order.MoveToFront(el)
		return
	}
	s.byID[id] = s.order.PushFront(&seenEntry{id: id, digest: d, out: out})
	if s.order.Len() > s.size {
		oldest := s.order.Back()
		s.order.Remove(oldest)
		delete(s.byID, oldest.Value.(*seenEntry).id)
	}
}
