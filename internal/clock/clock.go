// Package clock provides the time sources the library injects into its
// types, so that tests can fix or step time.
package clock

import (
	"sync"
	"time"
)

// Or returns now when it is non-nil, and time.Now otherwise.
func Or(now func() time.Time) func() time.Time {
	if now != nil {
		return now
	}
	return time.Now
}

// Fixed returns a clock that always reads t.
func Fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// Manual is a clock that moves only when told to. It is safe for concurrent use.
type Manual struct {
	// guards t
	mu sync.Mutex
	t  time.Time
}

// NewManual returns a Manual clock reading t.
func NewManual(t time.Time) *Manual { return &Manual{t: t} }

// Now returns the clock's current time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.t = m.t.Add(d)
	m.mu.Unlock()
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.t = t
	m.mu.Unlock()
}
