package auth

import (
	"container/heap"
	"sync"
	"time"
)

// maxSeenJTIs bounds the replay set of a FITVerifier. A FIT lives about a
// minute, so this covers well over a thousand invocations a second.
const maxSeenJTIs = 100_000

// jtiSet remembers the jti of every accepted Forge Invocation Token until
// the token can no longer be accepted (exp + leeway), so a second use is
// refused. It is per process: a replay to another replica is not seen.
// When full it forgets the entries closest to expiry first. Its zero value
// is ready to use.
type jtiSet struct {
	mu    sync.Mutex
	until map[string]time.Time
	order jtiHeap
}

// use records jti as used until the given time. It reports false, and
// records nothing, when jti was already used and has not expired.
func (s *jtiSet) use(jti string, until, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.until == nil {
		s.until = map[string]time.Time{}
	}
	for len(s.order) > 0 && !now.Before(s.order[0].until) {
		s.pop()
	}
	if u, ok := s.until[jti]; ok && now.Before(u) {
		return false
	}
	for len(s.until) >= maxSeenJTIs && len(s.order) > 0 {
		s.pop()
	}
	s.until[jti] = until
	heap.Push(&s.order, jtiEntry{jti: jti, until: until})
	return true
}

// pop drops the entry that expires first (and its map entry, unless the
// jti was recorded again since).
func (s *jtiSet) pop() {
	e := heap.Pop(&s.order).(jtiEntry)
	if u, ok := s.until[e.jti]; ok && u.Equal(e.until) {
		delete(s.until, e.jti)
	}
}

type jtiEntry struct {
	jti   string
	until time.Time
}

// jtiHeap is a min-heap of entries by expiry.
type jtiHeap []jtiEntry

func (h jtiHeap) Len() int           { return len(h) }
func (h jtiHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h jtiHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jtiHeap) Push(x any)        { *h = append(*h, x.(jtiEntry)) }
func (h *jtiHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
