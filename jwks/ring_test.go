package jwks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pkjwt/pkjwt/internal/clock"
	"github.com/pkjwt/pkjwt/internal/testkeys"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// TestRingFullRotation walks two rotations with an injected clock and checks,
// at every step, which key signs and which keys are published, in order.
func TestRingFullRotation(t *testing.T) {
	t.Parallel()
	k1, k2, k3 := testKey(t, testkeys.RSA2048A), testKey(t, testkeys.P256A), testKey(t, testkeys.Ed25519A)
	clk := clock.NewManual(t0)
	var logs bytes.Buffer
	r, err := NewRing(RingConfig{Now: clk.Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil))},
		Entry{Key: k1, Activate: t0.Add(-72 * time.Hour)})
	if err != nil {
		t.Fatalf("NewRing() error = %v", err)
	}
	type step struct {
		name    string
		at      time.Time
		rotate  *Key
		signs   *Key
		publish []*Key
	}
	lead, grace := defaultLead, defaultGrace
	act2 := t0.Add(lead)
	rot3 := act2.Add(grace).Add(time.Hour) // after k1 has left the set
	act3 := rot3.Add(lead)
	steps := []step{
		{name: "start", at: t0, signs: k1, publish: []*Key{k1}},
		{name: "rotate to k2", at: t0, rotate: k2, signs: k1, publish: []*Key{k1, k2}},
		{name: "just before k2 activates", at: act2.Add(-time.Nanosecond), signs: k1, publish: []*Key{k1, k2}},
		{name: "k2 activates, k1 retires", at: act2, signs: k2, publish: []*Key{k2, k1}},
		{name: "k1 in grace", at: act2.Add(12 * time.Hour), signs: k2, publish: []*Key{k2, k1}},
		{name: "last instant of k1's grace", at: act2.Add(grace - time.Nanosecond), signs: k2, publish: []*Key{k2, k1}},
		{name: "k1 unpublished", at: act2.Add(grace), signs: k2, publish: []*Key{k2}},
		{name: "rotate to k3", at: rot3, rotate: k3, signs: k2, publish: []*Key{k2, k3}},
		{name: "k3 activates", at: act3, signs: k3, publish: []*Key{k3, k2}},
		{name: "k2 unpublished", at: act3.Add(grace), signs: k3, publish: []*Key{k3}},
		{name: "a year later", at: act3.Add(365 * 24 * time.Hour), signs: k3, publish: []*Key{k3}},
	}
	for _, st := range steps {
		clk.Set(st.at)
		if st.rotate != nil {
			if err := r.Rotate(st.rotate); err != nil {
				t.Fatalf("%s: Rotate(%s) error = %v", st.name, st.rotate.KeyID(), err)
			}
		}
		got, err := r.SigningKey()
		if err != nil {
			t.Fatalf("%s: SigningKey() error = %v", st.name, err)
		}
		if got != st.signs {
			t.Errorf("%s: SigningKey() = %v, want %v", st.name, got, st.signs)
		}
		set := r.PublicSet()
		if gotIDs, want := set.KeyIDs(), kids(st.publish); !slices.Equal(gotIDs, want) {
			t.Errorf("%s: PublicSet().KeyIDs() = %q, want %q", st.name, gotIDs, want)
		}
		if want := NewSet(st.publish...); !bytes.Equal(set.JSON(), want.JSON()) || set.entityTag() != want.entityTag() {
			t.Errorf("%s: PublicSet() JSON/ETag differ from NewSet of the same keys", st.name)
		}
	}
	// Every key published must have been signing or about to sign; the logs
	// name the keys by kid only.
	out := logs.String()
	for _, want := range []string{"key rotation scheduled", "signing key changed", k2.KeyID(), k3.KeyID()} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	// The schedule was pruned: k1 left before k3 was rotated in.
	if got := r.Entries(); len(got) != 2 || got[0].Key != k2 || got[1].Key != k3 {
		t.Errorf("Entries() = %v, want k2 then k3", got)
	}
}

func kids(keys []*Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.KeyID()
	}
	return out
}

// TestRingSameSetWhileUnchanged checks that the ring hands out the very same
// *Set (same bytes, same ETag) as long as the published keys do not change,
// and a new ETag when they do.
func TestRingSameSetWhileUnchanged(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(t0)
	r, err := NewRing(RingConfig{Now: clk.Now, Lead: time.Minute, Grace: time.Hour},
		Entry{Key: testKey(t, testkeys.P256A), Activate: t0.Add(-time.Hour), Retire: t0.Add(time.Hour)},
		Entry{Key: testKey(t, testkeys.P256B), Activate: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	s1 := r.PublicSet()
	clk.Advance(30 * time.Minute)
	if s2 := r.PublicSet(); s2 != s1 {
		t.Errorf("PublicSet() changed with no schedule change")
	}
	clk.Advance(29 * time.Minute) // t0+59m: P256B published now
	s3 := r.PublicSet()
	if s3.entityTag() == s1.entityTag() || len(s3.KeyIDs()) != 2 {
		t.Errorf("PublicSet() at publication = %q (etag %s), want two keys and a new ETag", s3.KeyIDs(), s3.entityTag())
	}
	clk.Advance(time.Minute) // t0+1h: P256B signs; order changes
	s4 := r.PublicSet()
	if s4.KeyIDs()[0] != testKey(t, testkeys.P256B).KeyID() {
		t.Errorf("PublicSet() after activation lists %q first, want the signing key", s4.KeyIDs())
	}
	clk.Set(t0) // a clock that steps back is answered correctly too
	if got := r.PublicSet(); got.entityTag() != s1.entityTag() {
		t.Errorf("PublicSet() after the clock stepped back = %q, want %q", got.KeyIDs(), s1.KeyIDs())
	}
}

// TestRingReplicasAgree builds two rings from the same entries in a
// different order and checks that they agree at every boundary and between.
func TestRingReplicasAgree(t *testing.T) {
	t.Parallel()
	es := []Entry{
		{Key: testKey(t, testkeys.RSA2048A), Activate: t0, Retire: t0.Add(48 * time.Hour)},
		{Key: testKey(t, testkeys.RSA2048B), Activate: t0.Add(24 * time.Hour), Retire: t0.Add(72 * time.Hour)},
		{Key: testKey(t, testkeys.RSA2048C), Activate: t0.Add(48 * time.Hour)},
	}
	rev := slices.Clone(es)
	slices.Reverse(rev)
	var now time.Time
	cfg := RingConfig{Now: func() time.Time { return now }}
	a, err := NewRing(cfg, es...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRing(cfg, rev...)
	if err != nil {
		t.Fatal(err)
	}
	for d := -2 * time.Hour; d <= 100*time.Hour; d += 30 * time.Minute {
		now = t0.Add(d)
		ka, ea := a.SigningKey()
		kb, eb := b.SigningKey()
		if ka != kb || (ea == nil) != (eb == nil) {
			t.Errorf("at %s: SigningKey() = %v, %v on one replica and %v, %v on the other", d, ka, ea, kb, eb)
		}
		if !bytes.Equal(a.PublicSet().JSON(), b.PublicSet().JSON()) {
			t.Errorf("at %s: the replicas publish different sets", d)
		}
	}
}

func TestRingNoActiveKey(t *testing.T) {
	t.Parallel()
	k := testKey(t, testkeys.P256A)
	tests := []struct {
		name    string
		entries []Entry
	}{
		{name: "empty ring"},
		{name: "not yet active", entries: []Entry{{Key: k, Activate: t0.Add(time.Minute)}}},
		{name: "retired", entries: []Entry{{Key: k, Activate: t0.Add(-time.Hour), Retire: t0}}},
	}
	for _, tc := range tests {
		r, err := NewRing(RingConfig{Now: clock.Fixed(t0)}, tc.entries...)
		if err != nil {
			t.Fatalf("%s: NewRing() error = %v", tc.name, err)
		}
		if k, err := r.SigningKey(); !errors.Is(err, ErrNoActiveKey) || k != nil {
			t.Errorf("%s: SigningKey() = %v, %v, want nil, ErrNoActiveKey", tc.name, k, err)
		}
		if r.PublicSet() == nil {
			t.Errorf("%s: PublicSet() = nil", tc.name)
		}
	}
}

func TestNewRingRefusals(t *testing.T) {
	t.Parallel()
	a, b := testKey(t, testkeys.P256A), testKey(t, testkeys.P256B)
	tests := []struct {
		name    string
		cfg     RingConfig
		entries []Entry
		wantN   int // number of joined errors
	}{
		{name: "negative lead", cfg: RingConfig{Lead: -time.Second}, wantN: 1},
		{name: "negative grace", cfg: RingConfig{Grace: -time.Second}, wantN: 1},
		{name: "nil key", entries: []Entry{{Activate: t0}}, wantN: 1},
		{name: "no activation", entries: []Entry{{Key: a}}, wantN: 1},
		{name: "retire before activate", entries: []Entry{{Key: a, Activate: t0, Retire: t0.Add(-time.Second)}}, wantN: 1},
		{name: "retire at activate", entries: []Entry{{Key: a, Activate: t0, Retire: t0}}, wantN: 1},
		{name: "duplicate kid", entries: []Entry{{Key: a, Activate: t0}, {Key: a, Activate: t0.Add(time.Hour)}}, wantN: 1},
		{name: "same activation", entries: []Entry{{Key: a, Activate: t0}, {Key: b, Activate: t0}}, wantN: 1},
		{name: "everything at once", cfg: RingConfig{Lead: -1, Grace: -1},
			entries: []Entry{{}, {Key: a, Activate: t0, Retire: t0}}, wantN: 5},
	}
	for _, tc := range tests {
		r, err := NewRing(tc.cfg, tc.entries...)
		if !errors.Is(err, errInvalidRing) || r != nil {
			t.Errorf("NewRing(%s) = %v, %v, want nil, errInvalidRing", tc.name, r, err)
			continue
		}
		joined, ok := err.(interface{ Unwrap() []error })
		if !ok {
			t.Errorf("NewRing(%s) error is not an errors.Join", tc.name)
			continue
		}
		if n := len(joined.Unwrap()); n != tc.wantN {
			t.Errorf("NewRing(%s) reported %d problems, want %d: %v", tc.name, n, tc.wantN, err)
		}
		for _, e := range joined.Unwrap() {
			if !errors.Is(e, errInvalidRing) || !strings.HasPrefix(e.Error(), "jwks: ") {
				t.Errorf("NewRing(%s) part %q does not wrap errInvalidRing or lacks the prefix", tc.name, e)
			}
		}
	}
}

func TestRingRotateRefusals(t *testing.T) {
	t.Parallel()
	a, b, c := testKey(t, testkeys.P256A), testKey(t, testkeys.P256B), testKey(t, testkeys.P384)
	clk := clock.NewManual(t0)
	r, err := NewRing(RingConfig{Now: clk.Now}, Entry{Key: a, Activate: t0.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rotate(nil); !errors.Is(err, errInvalidRing) {
		t.Errorf("Rotate(nil) error = %v, want errInvalidRing", err)
	}
	if err := r.Rotate(a); !errors.Is(err, errInvalidRing) {
		t.Errorf("Rotate(key already in ring) error = %v, want errInvalidRing", err)
	}
	if err := r.Rotate(b); err != nil {
		t.Fatalf("Rotate(b) error = %v", err)
	}
	// A second rotation at the same instant would activate together with b.
	if err := r.Rotate(c); !errors.Is(err, errInvalidRing) {
		t.Errorf("Rotate(c) at the same instant error = %v, want errInvalidRing", err)
	}
	// A key scheduled (with Add) to activate after the rotation would make the
	// rotation meaningless.
	r2, err := NewRing(RingConfig{Now: clk.Now}, Entry{Key: a, Activate: t0}, Entry{Key: b, Activate: t0.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Rotate(c); !errors.Is(err, errInvalidRing) {
		t.Errorf("Rotate(c) before a later scheduled key error = %v, want errInvalidRing", err)
	}
}

// TestRingRotateWhilePending checks a second rotation during the lead time:
// the pending key signs only until the newest activates.
func TestRingRotateWhilePending(t *testing.T) {
	t.Parallel()
	a, b, c := testKey(t, testkeys.P256A), testKey(t, testkeys.P256B), testKey(t, testkeys.P384)
	clk := clock.NewManual(t0)
	r, err := NewRing(RingConfig{Now: clk.Now, Lead: time.Hour}, Entry{Key: a, Activate: t0.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rotate(b); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute)
	if err := r.Rotate(c); err != nil {
		t.Fatal(err)
	}
	for _, st := range []struct {
		at    time.Duration
		signs *Key
		pub   []*Key
	}{
		{at: 30 * time.Minute, signs: a, pub: []*Key{a, c, b}},
		{at: time.Hour, signs: b, pub: []*Key{b, c, a}},
		{at: 90 * time.Minute, signs: c, pub: []*Key{c, b, a}},
	} {
		clk.Set(t0.Add(st.at))
		if k, _ := r.SigningKey(); k != st.signs {
			t.Errorf("at +%s: SigningKey() = %v, want %v", st.at, k, st.signs)
		}
		if got := r.PublicSet().KeyIDs(); !slices.Equal(got, kids(st.pub)) {
			t.Errorf("at +%s: KeyIDs() = %q, want %q", st.at, got, kids(st.pub))
		}
	}
}

func TestRingAdd(t *testing.T) {
	t.Parallel()
	a, b := testKey(t, testkeys.Ed25519A), testKey(t, testkeys.Ed25519B)
	clk := clock.NewManual(t0)
	var logs bytes.Buffer
	r, err := NewRing(RingConfig{Now: clk.Now, Lead: time.Hour, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(Entry{Key: a, Activate: t0}); err != nil {
		t.Fatalf("Add(a) error = %v", err)
	}
	if strings.Contains(logs.String(), "WARN") {
		t.Errorf("Add(first key) logged a warning:\n%s", logs.String())
	}
	if k, err := r.SigningKey(); k != a || err != nil {
		t.Errorf("SigningKey() = %v, %v, want a", k, err)
	}
	for _, tc := range []struct {
		name string
		e    Entry
	}{
		{"nil key", Entry{Activate: t0}},
		{"zero activation", Entry{Key: b}},
		{"duplicate kid", Entry{Key: a, Activate: t0.Add(time.Hour)}},
		{"same activation", Entry{Key: b, Activate: t0}},
	} {
		if err := r.Add(tc.e); !errors.Is(err, errInvalidRing) {
			t.Errorf("Add(%s) error = %v, want errInvalidRing", tc.name, err)
		}
	}
	if err := r.Add(Entry{Key: b, Activate: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "WARN") {
		t.Errorf("Add(b, two hours ahead) logged a warning:\n%s", logs.String())
	}
	c := testKey(t, testkeys.P256A)
	if err := r.Add(Entry{Key: c, Activate: t0.Add(30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"level":"WARN"`) || !strings.Contains(logs.String(), c.KeyID()) {
		t.Errorf("Add(c, half an hour short of the lead) logged no warning:\n%s", logs.String())
	}
	// Add changes no other entry: a keeps signing until b activates, and is
	// not retired, so it stays published.
	clk.Advance(3 * time.Hour)
	if k, _ := r.SigningKey(); k != b {
		t.Errorf("SigningKey() after b activated = %v, want b", k)
	}
	if got := r.PublicSet().KeyIDs(); !slices.Equal(got, kids([]*Key{b, c, a})) {
		t.Errorf("KeyIDs() = %q, want b, c, a", got)
	}
}

// TestRingConcurrent reads the ring from many goroutines while it rotates and
// the clock moves; run with -race.
func TestRingConcurrent(t *testing.T) {
	t.Parallel()
	keys := []*Key{testKey(t, testkeys.P256A), testKey(t, testkeys.P256B), testKey(t, testkeys.P384), testKey(t, testkeys.P521)}
	clk := clock.NewManual(t0)
	r, err := NewRing(RingConfig{Now: clk.Now, Lead: time.Minute, Grace: time.Minute}, Entry{Key: keys[0], Activate: t0})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				k, err := r.SigningKey()
				if err != nil {
					t.Errorf("SigningKey() error = %v", err)
					return
				}
				if !slices.Contains(keys, k) || len(r.PublicSet().KeyIDs()) == 0 {
					t.Errorf("SigningKey() = %v, not a ring key, or an empty set", k)
					return
				}
				if _, err := k.Sign(t.Context(), []byte("x")); err != nil {
					t.Errorf("Sign() error = %v", err)
					return
				}
			}
		})
	}
	for _, k := range keys[1:] {
		if err := r.Rotate(k); err != nil {
			t.Error(err)
		}
		for range 10 {
			clk.Advance(15 * time.Second)
		}
	}
	close(stop)
	wg.Wait()
}

// BenchmarkRingSigningKey measures the lock-free read path readers take on
// every token.
func BenchmarkRingSigningKey(b *testing.B) {
	r, err := NewRing(RingConfig{}, Entry{Key: testKey(b, testkeys.P256A), Activate: time.Now().Add(-time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.SigningKey(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRingDefaultClockInBubble runs a rotation on the default clock
// (time.Now) inside a synctest bubble, whose fake time moves only when every
// goroutine is blocked: time.Sleep here advances that fake clock.
func TestRingDefaultClockInBubble(t *testing.T) {
	t.Parallel()
	a, b := testKey(t, testkeys.P256A), testKey(t, testkeys.P256B)
	synctest.Test(t, func(t *testing.T) {
		r, err := NewRing(RingConfig{Lead: time.Minute, Grace: time.Hour}, Entry{Key: a, Activate: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Rotate(b); err != nil {
			t.Fatal(err)
		}
		check := func(step string, signs *Key, pub ...*Key) {
			t.Helper()
			if k, _ := r.SigningKey(); k != signs {
				t.Errorf("%s: SigningKey() = %v, want %v", step, k, signs)
			}
			if got := r.PublicSet().KeyIDs(); !slices.Equal(got, kids(pub)) {
				t.Errorf("%s: KeyIDs() = %q, want %q", step, got, kids(pub))
			}
		}
		check("rotated", a, a, b)
		time.Sleep(time.Minute - time.Nanosecond)
		check("end of lead", a, a, b)
		time.Sleep(time.Nanosecond)
		check("activated", b, b, a)
		time.Sleep(time.Hour)
		check("grace over", b, b)
	})
}

// TestRingRedaction formats the ring's types and checks that no private
// material of their keys appears.
func TestRingRedaction(t *testing.T) {
	t.Parallel()
	k := testKey(t, testkeys.Ed25519A)
	r, err := NewRing(RingConfig{}, Entry{Key: k, Activate: t0})
	if err != nil {
		t.Fatal(err)
	}
	e := r.Entries()[0]
	set := r.PublicSet()
	h := NewHandler(r, HandlerConfig{})
	j, _ := json.Marshal(e)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "entry", e, "ring", r, "set", set)
	for how, out := range map[string]string{
		"ring":    fmt.Sprintf("%v %+v %#v", r, r, r),
		"entry":   fmt.Sprintf("%v %+v %#v", e, e, e),
		"set":     fmt.Sprintf("%v %+v %#v", set, set, *set),
		"handler": fmt.Sprintf("%v %+v %#v", h, h, *h),
		"json":    string(j),
		"slog":    logs.String(),
	} {
		checkNoKeyBytes(t, how, out)
	}
}
