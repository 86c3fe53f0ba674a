package provider

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ReplayCache remembers one-time identifiers — the jti of a DPoP proof or of
// a logout token — until they expire, so that each is accepted once. The
// default is a bounded in-memory cache, right for one process; a deployment
// of several replicas plugs in a shared store (Redis SET NX with an expiry,
// say) so that a proof replayed to another replica is refused too.
// Implementations must be safe for concurrent use.
type ReplayCache interface {
	// Remember records id until the given time and reports whether it was
	// new. It returns false for an id remembered before and not yet
	// expired. An error (the store is unreachable or full) makes the caller
	// refuse the token: the cache fails closed.
	Remember(ctx context.Context, id string, until time.Time) (bool, error)
	// Forget drops id, so that it is new again: the token it was
	// remembered for was accepted, but what it asked for failed and its
	// sender will deliver it again ([IDTokenVerifier.ReleaseLogoutToken]).
	// Forgetting an id that is not remembered is not an error.
	Forget(ctx context.Context, id string) error
}

// errReplayCacheFull is the in-memory cache's answer when every slot holds an
// unexpired identifier.
var errReplayCacheFull = errors.New("provider: replay cache full")

// memoryReplay is the default ReplayCache: at most max identifiers, expired
// ones dropped when room is needed. Full of live identifiers it refuses new
// ones rather than forgetting one that could then be replayed.
type memoryReplay struct {
	max int
	now func() time.Time

	// guards seen
	mu   sync.Mutex
	seen map[string]time.Time
}

func newMemoryReplay(max int, now func() time.Time) *memoryReplay {
	return &memoryReplay{max: max, now: now, seen: make(map[string]time.Time)}
}

func (m *memoryReplay) Remember(_ context.Context, id string, until time.Time) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if exp, ok := m.seen[id]; ok && now.Before(exp) {
		return false, nil
	}
	if len(m.seen) >= m.max {
		for k, exp := range m.seen {
			if !now.Before(exp) {
				delete(m.seen, k)
			}
		}
		if len(m.seen) >= m.max {
			return false, errReplayCacheFull
		}
	}
	m.seen[id] = until
	return true, nil
}

func (m *memoryReplay) Forget(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, id)
	return nil
}
