package hrevents

import (
	"container/list"
	"sync"
)

// seen remembers the answers given to the latest event ids, so a redelivery is answered at once
// with duplicate: true and never reaches Temporal. It is a bounded LRU in memory: a restart or
// an event older than the last size ids forgets it. That is safe, because Temporal de-duplicates
// too (the event id is the update id; starts use the deterministic workflow id); such a
// redelivery is answered as new and still changes nothing.
type seen struct {
	mu    sync.Mutex
	size  int
	order *list.List // of *seenEntry, most recent first
	byID  map[string]*list.Element
}

type seenEntry struct {
	id  string
	out Outcome
}

func newSeen(size int) *seen {
	return &seen{size: size, order: list.New(), byID: make(map[string]*list.Element, size)}
}

// get returns the outcome first given to id.
func (s *seen) get(id string) (Outcome, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byID[id]
	if !ok {
		return Outcome{}, false
	}
	s.order.MoveToFront(el)
	return el.Value.(*seenEntry).out, true
}

// add records the final outcome of id, forgetting the least recent id when full.
func (s *seen) add(id string, out Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byID[id]; ok {
		s.order.MoveToFront(el)
		return
	}
	s.byID[id] = s.order.PushFront(&seenEntry{id: id, out: out})
	if s.order.Len() > s.size {
		oldest := s.order.Back()
		s.order.Remove(oldest)
		delete(s.byID, oldest.Value.(*seenEntry).id)
	}
}
