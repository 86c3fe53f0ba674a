package jwks_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// rotIdP is an in-memory identity provider whose JWKS endpoint answers
// after a fixed latency. It rotates instantly: the new key is published and
// used for signing at the same moment.
type rotIdP struct {
	t       testing.TB
	all     []*jwks.Key // every signing key, in order of rotation
	latency time.Duration
	maxAge  string // Cache-Control of the JWKS responses

	fetches   atomic.Int64
	refetches atomic.Int64 // requests with Cache-Control: no-cache

	// guards the fields below
	mu        sync.Mutex
	keys      []*jwks.Key // published; the last one signs
	rotations int
	// rotateOnFetch, when set, makes the next routine (not no-cache) JWKS
	// request rotate right after it read the published set, so that its
	// response carries the set of before the rotation.
	rotateOnFetch bool
	fetchTimes    []time.Time
}

// rotKeys are the successive signing keys; each rotation adds the next one.
var rotKeys = []struct{ name, kid string }{
	{testkeys.Ed25519A, "k1"}, {testkeys.Ed25519B, "k2"}, {testkeys.P256A, "k3"},
}

func newRotIdP(t testing.TB, latency time.Duration, maxAge string) *rotIdP {
	p := &rotIdP{t: t, latency: latency, maxAge: maxAge}
	for i := range rotKeys {
		p.all = append(p.all, rotKey(t, i))
	}
	p.keys = p.all[:1]
	return p
}

func rotKey(t testing.TB, i int) *jwks.Key {
	alg := jwks.EdDSA
	if rotKeys[i].name == testkeys.P256A {
		alg = jwks.ES256
	}
	return rtKey(t, rotKeys[i].name, rotKeys[i].kid, alg)
}

// rotate publishes the next key and signs with it from now on.
func (p *rotIdP) rotate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rotateLocked()
}

func (p *rotIdP) rotateLocked() {
	p.rotations++
	p.keys = p.all[:p.rotations+1]
}

// mint signs a login's ID token with the current key.
func (p *rotIdP) mint(i int) string {
	p.mu.Lock()
	k := p.keys[len(p.keys)-1]
	p.mu.Unlock()
	return rtToken(p.t, k, nil, fmt.Sprintf(`{"sub":"user-%d"}`, i))
}

func (p *rotIdP) RoundTrip(req *http.Request) (*http.Response, error) {
	p.fetches.Add(1)
	noCache := req.Header.Get("Cache-Control") == "no-cache"
	if noCache {
		p.refetches.Add(1)
	}
	p.mu.Lock()
	p.fetchTimes = append(p.fetchTimes, time.Now())
	body := rtSetJSON(p.keys...)
	if p.rotateOnFetch && !noCache {
		p.rotateOnFetch = false
		p.rotateLocked()
	}
	p.mu.Unlock()
	select {
	case <-time.After(p.latency):
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	h := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {p.maxAge}}
	return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
}

// TestRemoteRotationNoFailedLogins reproduces the load test of the rotation
// outage, scaled down in a synctest bubble: 2,000 logins, 64 at a time
// every half second, each verifying the ID token the provider just signed.
// The provider rotates twice, each time signing with the new key the
// moment it publishes it:
//
//   - once between two routine refreshes, less than MinInterval after the
//     last one (the unknown key ID must be refetched at once);
//   - once while a routine refresh is in flight, so that the refresh
//     returns the set of before the rotation to callers already waiting on
//     it with the new key ID (they must refetch rather than give up).
//
// No login may fail.
func TestRemoteRotationNoFailedLogins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			logins      = 2000
			concurrency = 64
			tick        = 500 * time.Millisecond
		)
		idp := newRotIdP(t, 50*time.Millisecond, "max-age=4")
		r := rotRemote(t, idp, jwks.RemoteConfig{MinInterval: 2 * time.Second})
		start := time.Now()

		var failed atomic.Int64
		var firstErr sync.Once
		var wg sync.WaitGroup
		for w := range concurrency {
			wg.Go(func() {
				for j := 0; ; j++ {
					i := w + concurrency*j
					if i >= logins {
						return
					}
					time.Sleep(time.Until(start.Add(time.Duration(j) * tick)))
					tok := idp.mint(i)
					payload, err := r.VerifySignature(t.Context(), tok)
					if err == nil && string(payload) != fmt.Sprintf(`{"sub":"user-%d"}`, i) {
						err = fmt.Errorf("payload %q", payload)
					}
					if err != nil {
						failed.Add(1)
						firstErr.Do(func() { t.Logf("login %d at %v: %v", i, time.Since(start), err) })
					}
				}
			})
		}
		// Rotation 1, between ticks: the last routine fetch was at the
		// 4.5 s tick, less than MinInterval ago.
		wg.Go(func() {
			time.Sleep(5250 * time.Millisecond)
			idp.rotate()
		})
		// Rotation 2, during the next routine refresh after 7 s.
		wg.Go(func() {
			time.Sleep(7 * time.Second)
			idp.mu.Lock()
			idp.rotateOnFetch = true
			idp.mu.Unlock()
		})
		wg.Wait()

		idp.mu.Lock()
		rotations := idp.rotations
		idp.mu.Unlock()
		if rotations != 2 {
			t.Fatalf("the provider rotated %d times, want 2", rotations)
		}
		t.Logf("%d logins over %v, %d fetches (%d unknown-kid refetches)", logins, time.Since(start), idp.fetches.Load(), idp.refetches.Load())
		if n := failed.Load(); n != 0 {
			t.Fatalf("%d of %d logins failed across two instant rotations, want 0", n, logins)
		}
	})
}

func rotRemote(t testing.TB, rt http.RoundTripper, cfg jwks.RemoteConfig) *jwks.Remote {
	t.Helper()
	cfg.HTTPClient = &http.Client{Transport: rt}
	r, err := jwks.NewRemote("https://idp.example/jwks", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestRemoteRandomKidFloodCooldown sends 10,000 concurrent verifications
// with random key IDs in each of three cooldown periods, spread over the
// period, against a warm cache. Unknown-kid refetches are rate limited by
// the previous unknown-kid refetch: exactly one fetch per cooldown, never
// two within MinInterval, and the tokens with the published key ID keep
// verifying.
func TestRemoteRandomKidFloodCooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			flood    = 10000
			periods  = 3
			cooldown = jwks.DefaultMinIntervalForTest
		)
		idp := newRotIdP(t, 50*time.Millisecond, "")
		r := rotRemote(t, idp, jwks.RemoteConfig{})
		good := idp.mint(0)
		if _, err := r.VerifySignature(t.Context(), good); err != nil {
			t.Fatalf("VerifySignature(warm-up): %v", err)
		}
		base := idp.fetches.Load()
		start := time.Now()
		var wg sync.WaitGroup
		var unknown, ok atomic.Int64
		for p := range periods {
			for i := range flood {
				wg.Go(func() {
					at := time.Duration(p)*cooldown + time.Duration(i)*cooldown/flood
					time.Sleep(time.Until(start.Add(at)))
					tok := good
					if i%10 != 0 {
						tok = b64(fmt.Appendf(nil, `{"alg":"EdDSA","kid":"r%d-%d"}`, p, i)) + ".e30." + b64(make([]byte, 64)) // a plausible EdDSA signature length
					}
					_, err := r.VerifySignature(t.Context(), tok)
					switch {
					case err == nil && tok == good:
						ok.Add(1)
					case errors.Is(err, jwks.ErrUnknownKey) && tok != good:
						unknown.Add(1)
					default:
						t.Errorf("VerifySignature(good = %v) error = %v", tok == good, err)
					}
				})
			}
		}
		wg.Wait()
		if got, want := ok.Load(), int64(periods*flood/10); got != want {
			t.Errorf("verified %d good tokens, want %d", got, want)
		}
		if got, want := unknown.Load(), int64(periods*flood*9/10); got != want {
			t.Errorf("%d random key IDs reported unknown, want %d", got, want)
		}
		if n := idp.fetches.Load() - base; n != periods {
			t.Errorf("fetches during %d cooldowns of random key IDs = %d, want %d (one per cooldown)", periods, n, periods)
		}
		idp.mu.Lock()
		times := idp.fetchTimes[1:]
		idp.mu.Unlock()
		for i := 1; i < len(times); i++ {
			if d := times[i].Sub(times[i-1]); d < cooldown {
				t.Errorf("fetches %d and %d are %v apart, less than the cooldown %v", i, i+1, d, cooldown)
			}
		}
	})
}
