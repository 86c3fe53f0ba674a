package clock

import (
	"sync"
	"testing"
	"time"
)

func TestOr(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := Or(Fixed(fixed))(); !got.Equal(fixed) {
		t.Errorf("Or(Fixed(t))() = %v, want %v", got, fixed)
	}
	before := time.Now()
	got := Or(nil)()
	if got.Before(before) || got.After(time.Now()) {
		t.Errorf("Or(nil)() = %v, want the current time", got)
	}
}

func TestManual(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := NewManual(start)
	if got := m.Now(); !got.Equal(start) {
		t.Errorf("Now() = %v, want %v", got, start)
	}
	m.Advance(90 * time.Second)
	if got := m.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Errorf("Now() after Advance = %v", got)
	}
	m.Set(start)
	if got := m.Now(); !got.Equal(start) {
		t.Errorf("Now() after Set = %v", got)
	}
}

// TestManualConcurrent is meaningful under -race.
func TestManualConcurrent(t *testing.T) {
	t.Parallel()
	m := NewManual(time.Unix(0, 0))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				m.Advance(time.Millisecond)
				_ = m.Now()
			}
		})
	}
	wg.Wait()
	if got := m.Now(); !got.Equal(time.Unix(4, 0)) {
		t.Errorf("Now() = %v after 4000 ms of Advance, want %v", got, time.Unix(4, 0))
	}
}
