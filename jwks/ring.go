package jwks

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for [RingConfig].
const (
	// defaultLead is how long before its activation a key is published when
	// RingConfig.Lead is zero. One hour outlasts the JWKS caches of common
	// verifiers (go-oidc, identity providers that cache a client's JWKS,
	// consumers that follow the "at most an hour" guidance) and a
	// [Handler]'s own max-age, so that no verifier meets a token signed with
	// a key it has not fetched yet.
	defaultLead = time.Hour
	// defaultGrace is how long a retired key stays published when
	// RingConfig.Grace is zero: one day, so that tokens and assertions signed
	// just before the retirement still verify everywhere.
	defaultGrace = 24 * time.Hour
)

// Entry schedules one key in a [Ring].
//
// The key is published from Activate minus the ring's Lead, signs from
// Activate until Retire (unless a key activated later takes over), and stays
// published until Retire plus the ring's Grace.
type Entry struct {
	// Key is the signing key. Required.
	Key *Key
	// Activate is when the key may start signing. Required: the zero time is
	// an error. A time in the past is fine: the key is active at once.
	Activate time.Time
	// Retire is when the key stops signing. Zero means never. When set, it
	// must be after Activate.
	Retire time.Time
}

// RingConfig configures a [Ring]. The zero value is valid and uses the
// defaults.
type RingConfig struct {
	// Lead is how long before its activation a key is published. Zero means
	// one hour; negative is an error. Set it longer than the
	// longest time any verifier caches your JWK Set, including the max-age
	// your [Handler] sends.
	Lead time.Duration
	// Grace is how long after its retirement a key stays published. Zero
	// means 24 hours; negative is an error. Set it longer
	// than the lifetime of anything signed with the key.
	Grace time.Duration
	// Now returns the current time. Nil means time.Now. Tests inject a fixed
	// or manual clock.
	Now func() time.Time
	// Logger receives rotation events (a key scheduled, the signing key or
	// the published set changing). Nil discards them. No key material is
	// ever logged: only key IDs, algorithms and times.
	Logger *slog.Logger
}

// Ring is a schedule of signing keys that rotates without downtime. At any
// moment its signing key is the most recently activated key that has not
// retired, and its public set holds every key whose publication window
// (Activate-Lead to Retire+Grace) contains the moment.
//
// Everything a Ring answers is a pure function of its entries, its Lead and
// Grace, and the time: replicas given the same entries publish the same set
// (byte for byte, with the same ETag) and sign with the same key at the same
// moment without talking to each other. [Ring.Rotate], which reads the local
// clock, is for a single process; replicas should share entries instead.
//
// A Ring is safe for concurrent use. Readers ([Ring.SigningKey],
// [Ring.PublicSet]) take no lock: they read an immutable snapshot behind an
// atomic pointer, which [Ring.Rotate] and [Ring.Add] replace. The zero Ring
// is not usable: create one with [NewRing].
type Ring struct {
	lead, grace time.Duration
	now         func() time.Time
	log         *slog.Logger

	// guards the read-modify-write of sched in Rotate and Add; readers only
	// Load sched
	mu    sync.Mutex
	sched atomic.Pointer[schedule]
}

var (
	_ KeySource = (*Ring)(nil)
	_ SetSource = (*Ring)(nil)
)

// schedule is an immutable, sorted list of entries plus a cache of its last
// evaluation.
type schedule struct {
	entries []Entry // sorted by Activate; never modified
	seed    *view   // the previous schedule's view, to reuse its Set and log changes
	view    atomic.Pointer[view]
}

// view is the ring's state during [from, until).
type view struct {
	from, until       time.Time
	hasFrom, hasUntil bool
	signing           *Key // nil: no active key
	set               *Set
	nextActivate      time.Time // the next activation after the view's start, for messages
}

func (v *view) covers(t time.Time) bool {
	return (!v.hasFrom || !t.Before(v.from)) && (!v.hasUntil || t.Before(v.until))
}

// NewRing returns a ring holding entries. It validates the configuration and
// every entry and reports all problems at once (errors.Join), each wrapping
// ErrInvalidConfig. A ring without entries is valid: its SigningKey returns
// ErrNoActiveKey until a key is added.
func NewRing(cfg RingConfig, entries ...Entry) (*Ring, error) {
	var errs []error
	if cfg.Lead < 0 {
		errs = append(errs, fmt.Errorf("jwks: ring Lead is negative (%s); use zero for the default of %s: %w", cfg.Lead, defaultLead, errInvalidRing))
	}
	if cfg.Grace < 0 {
		errs = append(errs, fmt.Errorf("jwks: ring Grace is negative (%s); use zero for the default of %s: %w", cfg.Grace, defaultGrace, errInvalidRing))
	}
	r := &Ring{lead: cfg.Lead, grace: cfg.Grace, now: cfg.Now, log: cfg.Logger}
	if r.lead == 0 {
		r.lead = defaultLead
	}
	if r.grace == 0 {
		r.grace = defaultGrace
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	es := make([]Entry, len(entries))
	for i, e := range entries {
		es[i] = normalize(e)
	}
	errs = append(errs, validateEntries(es)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sortEntries(es)
	r.sched.Store(&schedule{entries: es})
	return r, nil
}

// normalize drops monotonic clock readings, so that every comparison is on
// wall-clock time, as on every other replica.
func normalize(e Entry) Entry {
	e.Activate = e.Activate.Round(0)
	e.Retire = e.Retire.Round(0)
	return e
}

func sortEntries(es []Entry) {
	slices.SortStableFunc(es, func(a, b Entry) int { return a.Activate.Compare(b.Activate) })
}

func entryName(i int, e Entry) string {
	if e.Key == nil {
		return fmt.Sprintf("entry %d", i)
	}
	return fmt.Sprintf("entry %d (kid %q)", i, shortLabel(e.Key.kid))
}

// validateEntries returns every problem in es, each wrapping errInvalidRing.
func validateEntries(es []Entry) []error {
	var errs []error
	for i, e := range es {
		if e.Key == nil {
			errs = append(errs, fmt.Errorf("jwks: %s has no key: %w", entryName(i, e), errInvalidRing))
		}
		if e.Activate.IsZero() {
			errs = append(errs, fmt.Errorf("jwks: %s has no activation time: %w", entryName(i, e), errInvalidRing))
		}
		if !e.Retire.IsZero() && !e.Retire.After(e.Activate) {
			errs = append(errs, fmt.Errorf("jwks: %s retires at %s, not after it activates at %s: %w",
				entryName(i, e), fmtTime(e.Retire), fmtTime(e.Activate), errInvalidRing))
		}
		for j := range i {
			o := es[j]
			if e.Key != nil && o.Key != nil && e.Key.kid == o.Key.kid {
				errs = append(errs, fmt.Errorf("jwks: entries %d and %d share kid %q; every key needs its own key ID: %w", j, i, shortLabel(e.Key.kid), errInvalidRing))
			}
			if !e.Activate.IsZero() && e.Activate.Equal(o.Activate) {
				errs = append(errs, fmt.Errorf("jwks: %s and %s both activate at %s, so the signing key would be ambiguous: %w",
					entryName(j, o), entryName(i, e), fmtTime(e.Activate), errInvalidRing))
			}
		}
	}
	return errs
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// publishFrom is when e enters the public set.
func (r *Ring) publishFrom(e Entry) time.Time { return e.Activate.Add(-r.lead) }

// unpublishAt is when e leaves the public set; ok is false when it never does.
func (r *Ring) unpublishAt(e Entry) (t time.Time, ok bool) {
	if e.Retire.IsZero() {
		return time.Time{}, false
	}
	return e.Retire.Add(r.grace), true
}

// evaluate computes the ring's state at t from the entries alone. prev, when
// non-nil, lends its Set if the published keys are the same.
func (r *Ring) evaluate(es []Entry, t time.Time, prev *view) *view {
	v := &view{}
	bound := func(b time.Time) {
		if !b.After(t) {
			if !v.hasFrom || b.After(v.from) {
				v.from, v.hasFrom = b, true
			}
		} else if !v.hasUntil || b.Before(v.until) {
			v.until, v.hasUntil = b, true
		}
	}
	var published []Entry
	for _, e := range es {
		pub := r.publishFrom(e)
		unpub, retires := r.unpublishAt(e)
		bound(pub)
		bound(e.Activate)
		if retires {
			bound(e.Retire)
			bound(unpub)
		}
		if !t.Before(e.Activate) && (!retires || t.Before(e.Retire)) {
			v.signing = e.Key // entries are sorted: the last active one wins
		}
		if !t.Before(pub) && (!retires || t.Before(unpub)) {
			published = append(published, e)
		}
		if e.Activate.After(t) && v.nextActivate.IsZero() {
			v.nextActivate = e.Activate
		}
	}
	// The signing key first (verifiers that wrongly take the first key still
	// work), then the others, most recently activated first.
	keys := make([]*Key, 0, len(published))
	if v.signing != nil {
		keys = append(keys, v.signing)
	}
	for i := len(published) - 1; i >= 0; i-- {
		if k := published[i].Key; k != v.signing {
			keys = append(keys, k)
		}
	}
	if prev != nil && sameKeys(prev.set, keys) {
		v.set = prev.set
	} else {
		v.set = NewSet(keys...)
	}
	return v
}

func sameKeys(s *Set, keys []*Key) bool {
	return s != nil && slices.Equal(s.keys, keys)
}

// viewAt returns the ring's state at t, from the cache when it covers t.
func (r *Ring) viewAt(t time.Time) *view {
	s := r.sched.Load()
	old := s.view.Load()
	if old != nil && old.covers(t) {
		return old
	}
	prev := old
	if prev == nil {
		prev = s.seed
	}
	v := r.evaluate(s.entries, t, prev)
	if s.view.CompareAndSwap(old, v) {
		r.logChange(prev, v)
	}
	return v
}

func (r *Ring) logChange(prev, v *view) {
	if prev == nil {
		return
	}
	if prev.signing != v.signing {
		switch {
		case v.signing == nil:
			r.log.Warn("jwks: no active signing key", "previous_kid", kidOf(prev.signing))
		default:
			r.log.Info("jwks: signing key changed", "kid", v.signing.kid, "alg", string(v.signing.alg), "previous_kid", kidOf(prev.signing))
		}
	}
	if prev.set != v.set && prev.set.entityTag() != v.set.entityTag() {
		r.log.Info("jwks: published key set changed", "kids", v.set.KeyIDs(), "etag", v.set.entityTag())
	}
}

func kidOf(k *Key) string {
	if k == nil {
		return ""
	}
	return k.kid
}

// SigningKey returns the key to sign with now: the most recently activated
// key that has not retired. It returns an error wrapping ErrNoActiveKey when
// there is none. It does no I/O and takes no lock.
func (r *Ring) SigningKey() (*Key, error) {
	t := r.now()
	v := r.viewAt(t)
	if v.signing == nil {
		if !v.nextActivate.IsZero() {
			return nil, fmt.Errorf("jwks: no key is active at %s; the next activates at %s: %w", fmtTime(t), fmtTime(v.nextActivate), ErrNoActiveKey)
		}
		return nil, fmt.Errorf("jwks: no key is active at %s and none is scheduled: %w", fmtTime(t), ErrNoActiveKey)
	}
	return v.signing, nil
}

// PublicSet returns the set to publish now: every key whose publication
// window contains the current time, the signing key first. The same
// published keys always give the same *Set, hence the same bytes and ETag.
// It never returns nil.
func (r *Ring) PublicSet() *Set { return r.viewAt(r.now()).set }

// Entries returns a copy of the ring's schedule, sorted by activation time.
// Entries that [Ring.Rotate] or [Ring.Add] set a retirement for carry it.
func (r *Ring) Entries() []Entry { return slices.Clone(r.sched.Load().entries) }

// Rotate starts a rotation to k in one call: k is published now, activates
// after the ring's Lead, and every key that would still be signing at that
// moment retires then (and stays published for Grace after). Keys whose
// publication ended before now are dropped from the schedule.
//
// Rotate reads the local clock, so replicas that each call it get slightly
// different schedules; give replicas the same entries ([NewRing]) instead.
// A rotation while another is pending is allowed: the pending key then signs
// only until k activates. On a ring with no active key, k signs only after
// Lead; to start signing at once, use [Ring.Add] with Activate set to now.
//
// Errors wrap ErrInvalidConfig: k is nil, its key ID is already in the ring,
// or a key already activates at or after k would, so k would not take over.
func (r *Ring) Rotate(k *Key) error {
	if k == nil {
		return fmt.Errorf("jwks: rotate to a nil key: %w", errInvalidRing)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now().Round(0)
	act := now.Add(r.lead)
	old := r.sched.Load()
	for _, e := range old.entries {
		if e.Key.kid == k.kid {
			return fmt.Errorf("jwks: rotate: kid %q is already in the ring: %w", shortLabel(k.kid), errInvalidRing)
		}
		if !e.Activate.Before(act) {
			return fmt.Errorf("jwks: rotate: key %q activates at %s, at or after the new key would (%s): %w",
				shortLabel(e.Key.kid), fmtTime(e.Activate), fmtTime(act), errInvalidRing)
		}
	}
	es := r.live(old.entries, now)
	var retiring []string
	for i, e := range es {
		if e.Retire.IsZero() || e.Retire.After(act) {
			es[i].Retire = act
			retiring = append(retiring, e.Key.kid)
		}
	}
	es = append(es, Entry{Key: k, Activate: act})
	r.store(old, es)
	r.log.Info("jwks: key rotation scheduled", "kid", k.kid, "alg", string(k.alg),
		"publish", now, "activate", act, "retiring", retiring)
	return nil
}

// Add schedules one more entry, as given to [NewRing]: unlike [Ring.Rotate],
// it changes no other entry. Keys whose publication ended before now are
// dropped from the schedule. Errors wrap ErrInvalidConfig.
//
// An entry that activates less than Lead from now while another key is
// signing takes over before verifiers that cache the set have seen it; Add
// allows it (to replace a compromised key at once, say) and logs a warning.
func (r *Ring) Add(e Entry) error {
	e = normalize(e)
	if errs := validateEntries([]Entry{e}); len(errs) > 0 {
		return errors.Join(errs...)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now().Round(0)
	old := r.sched.Load()
	es := append(r.live(old.entries, now), e)
	if errs := validateEntries(es); len(errs) > 0 {
		return errors.Join(errs...)
	}
	sortEntries(es)
	if e.Activate.Before(now.Add(r.lead)) {
		if cur := r.evaluate(old.entries, now, nil).signing; cur != nil {
			r.log.Warn("jwks: key activates less than the lead time after it is published; verifiers with a cached set may reject its signatures until they refetch",
				"kid", e.Key.kid, "activate", e.Activate, "lead", r.lead, "current_kid", cur.kid)
		}
	}
	r.store(old, es)
	attrs := []any{"kid", e.Key.kid, "alg", string(e.Key.alg), "publish", r.publishFrom(e), "activate", e.Activate}
	if !e.Retire.IsZero() {
		attrs = append(attrs, "retire", e.Retire)
	}
	r.log.Info("jwks: key scheduled", attrs...)
	return nil
}

// live returns a copy of es without the entries no longer published at now.
func (r *Ring) live(es []Entry, now time.Time) []Entry {
	out := make([]Entry, 0, len(es)+1)
	for _, e := range es {
		if end, ok := r.unpublishAt(e); ok && !now.Before(end) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// store swaps in a new schedule; r.mu is held.
func (r *Ring) store(old *schedule, es []Entry) {
	seed := old.view.Load()
	if seed == nil {
		seed = old.seed
	}
	r.sched.Store(&schedule{entries: es, seed: seed})
}
