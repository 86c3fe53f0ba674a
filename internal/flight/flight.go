// Package flight is the module's one single-flight helper: at most one call
// of a function runs at a time on behalf of many callers, who wait for it
// (or for their own context) and share its result.
//
// A [Group] has no lock of its own. Its owner guards it with the mutex that
// guards the state the call refreshes, so that "look at the state, then
// join or begin a call" is one critical section, and runs the call itself
// without holding that mutex:
//
//	o.mu.Lock()
//	if c := o.flight.Current(); c != nil {
//		o.mu.Unlock()
//		if err := c.Wait(ctx); err != nil { … } // ctx ended first
//		v, err := c.Result()
//		…
//	}
//	c := o.flight.Begin()
//	o.mu.Unlock()
//	v, err := work(ctx) // no lock over I/O
//	o.mu.Lock()
//	o.state = v
//	o.flight.End(c, v, err)
//	o.mu.Unlock()
package flight

import "context"

// Call is one call begun by a [Group]. Its methods are safe for concurrent
// use without the owner's lock.
type Call[T any] struct {
	done chan struct{}
	seq  uint64
	val  T
	err  error
}

// Done returns a channel closed when the call has ended.
func (c *Call[T]) Done() <-chan struct{} { return c.done }

// Seq returns the call's sequence number in its Group: 1 for the first
// call begun, then 2, and so on. A caller that noted [Group.Seq] on arrival
// knows that a call with a greater Seq began after it arrived.
func (c *Call[T]) Seq() uint64 { return c.seq }

// Wait blocks until the call has ended or ctx is done, whichever comes
// first. It returns nil when the call ended (its result is then [Call.Result])
// and ctx.Err() otherwise; giving up does not affect the call.
func (c *Call[T]) Wait(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Result returns what [Group.End] recorded. It may be called only once the
// call has ended ([Call.Done] closed, or [Call.Wait] returned nil).
func (c *Call[T]) Result() (T, error) {
	select {
	case <-c.done:
	default:
		panic("flight: Result of a call that has not ended")
	}
	return c.val, c.err
}

// Group holds at most one [Call] in flight. The zero value is ready to use.
// A Group must not be copied after first use, and every method must be
// called with the owner's mutex held (see the package documentation).
type Group[T any] struct {
	cur *Call[T]
	seq uint64
}

// Current returns the call in flight, or nil when there is none.
func (g *Group[T]) Current() *Call[T] { return g.cur }

// Seq returns the number of calls begun so far.
func (g *Group[T]) Seq() uint64 { return g.seq }

// Begin begins a new call and makes it the one in flight. It panics when a
// call is already in flight: join that one instead.
func (g *Group[T]) Begin() *Call[T] {
	if g.cur != nil {
		panic("flight: Begin while a call is in flight")
	}
	g.seq++
	g.cur = &Call[T]{done: make(chan struct{}), seq: g.seq}
	return g.cur
}

// End records the result of c, which must be the call in flight, ends it
// (waking every waiter) and leaves the Group with no call in flight. It
// panics when c is not the call in flight.
func (g *Group[T]) End(c *Call[T], v T, err error) {
	if g.cur != c || c == nil {
		panic("flight: End of a call that is not in flight")
	}
	g.cur = nil
	c.val, c.err = v, err
	close(c.done)
}
