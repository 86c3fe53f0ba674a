package flight

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestGroupSharesOneCall checks that callers who find a call in flight wait
// for it and all get its result, and that one giving up does not disturb it.
func TestGroupSharesOneCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var g Group[int]
		var began atomic.Int64
		boom := errors.New("boom")

		// get joins the call in flight or begins one.
		get := func(ctx context.Context) (int, error) {
			mu.Lock()
			if c := g.Current(); c != nil {
				mu.Unlock()
				if err := c.Wait(ctx); err != nil {
					return 0, err
				}
				return c.Result()
			}
			began.Add(1)
			c := g.Begin()
			mu.Unlock()
			mu.Lock()
			g.End(c, 7, nil)
			mu.Unlock()
			return c.Result()
		}

		mu.Lock()
		leader := g.Begin()
		mu.Unlock()
		const callers = 50
		type res struct {
			v   int
			err error
		}
		out := make(chan res, callers)
		for range callers {
			go func() { v, err := get(t.Context()); out <- res{v, err} }()
		}
		ctx, cancel := context.WithCancel(t.Context())
		gaveUp := make(chan error, 1)
		go func() { _, err := get(ctx); gaveUp <- err }()
		synctest.Wait() // every caller waits on the leader's call
		cancel()
		if err := <-gaveUp; !errors.Is(err, context.Canceled) {
			t.Fatalf("get(cancelled) error = %v, want %v", err, context.Canceled)
		}
		mu.Lock()
		g.End(leader, 42, boom)
		mu.Unlock()
		for range callers {
			r := <-out
			if r.v != 42 || !errors.Is(r.err, boom) {
				t.Errorf("a waiter got %d, %v, want 42, %v", r.v, r.err, boom)
			}
		}
		if n := began.Load(); n != 0 {
			t.Errorf("%d callers began a call of their own, want 0", n)
		}
		if g.Current() != nil {
			t.Errorf("Current() = %v after End, want nil", g.Current())
		}
	})
}

func TestWaitContext(t *testing.T) {
	t.Parallel()
	var g Group[string]
	c := g.Begin()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait(cancelled) = %v, want %v", err, context.Canceled)
	}
	select {
	case <-c.Done():
		t.Fatal("Done closed by a waiter giving up")
	default:
	}
	g.End(c, "v", nil)
	if err := c.Wait(ctx); err != nil {
		// Both are ready; either answer is allowed, but the call has ended.
		if v, rerr := c.Result(); v != "v" || rerr != nil {
			t.Fatalf("Result() = %q, %v, want v, nil", v, rerr)
		}
	}
	if v, err := c.Result(); v != "v" || err != nil {
		t.Fatalf("Result() = %q, %v, want v, nil", v, err)
	}
}

func TestSeq(t *testing.T) {
	t.Parallel()
	var g Group[struct{}]
	if g.Seq() != 0 {
		t.Fatalf("Seq() of a new Group = %d, want 0", g.Seq())
	}
	for want := uint64(1); want <= 3; want++ {
		c := g.Begin()
		if c.Seq() != want || g.Seq() != want {
			t.Fatalf("call %d: Call.Seq() = %d, Group.Seq() = %d", want, c.Seq(), g.Seq())
		}
		g.End(c, struct{}{}, nil)
	}
}

func TestMisusePanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    func()
	}{
		{"Begin while in flight", func() {
			var g Group[int]
			g.Begin()
			g.Begin()
		}},
		{"End of another call", func() {
			var g, h Group[int]
			c := h.Begin()
			g.Begin()
			g.End(c, 0, nil)
		}},
		{"End twice", func() {
			var g Group[int]
			c := g.Begin()
			g.End(c, 0, nil)
			g.End(c, 0, nil)
		}},
		{"Result before End", func() {
			var g Group[int]
			g.Begin().Result()
		}},
	}
	for _, tc := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}
