package jwks_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pkjwt/pkjwt/internal/httpread"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// rtKey loads a pre-generated test key with the given key ID.
func rtKey(t testing.TB, name, kid string, alg jwks.Algorithm) *jwks.Key {
	t.Helper()
	k, err := jwks.NewKey(context.Background(), testkeys.Signer(name), jwks.KeyConfig{KeyID: kid, Algorithm: alg})
	if err != nil {
		t.Fatalf("NewKey(%s): %v", name, err)
	}
	return k
}

// rtToken signs a compact JWS with k; header members in extra are added.
// rawHeader, when given, is raw JSON members added to the header.
func rtToken(t testing.TB, k *jwks.Key, extra map[string]any, payload string, rawHeader ...string) string {
	t.Helper()
	h := map[string]any{"alg": string(k.Algorithm()), "kid": k.KeyID()}
	for n, v := range extra {
		if v == nil {
			delete(h, n)
			continue
		}
		h[n] = v
	}
	hb, _ := json.Marshal(h)
	for _, m := range rawHeader {
		hb = append(append(hb[:len(hb)-1], ","+m...), '}')
	}
	in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sig, err := k.Sign(context.Background(), []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// rtTransport is an in-memory JWKS endpoint. Its responses can be changed
// between calls; it counts requests and records the last Cache-Control.
type rtTransport struct {
	fetches atomic.Int64

	// guards the fields below
	mu           sync.Mutex
	body         []byte
	status       int
	cacheControl string
	gotNoCache   int
	gate         chan struct{} // when non-nil, RoundTrip waits for it
}

func (rt *rtTransport) set(body []byte, status int, cacheControl string) {
	rt.mu.Lock()
	rt.body, rt.status, rt.cacheControl = body, status, cacheControl
	rt.mu.Unlock()
}

func (rt *rtTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.fetches.Add(1)
	rt.mu.Lock()
	body, status, cc, gate := rt.body, rt.status, rt.cacheControl, rt.gate
	if req.Header.Get("Cache-Control") == "no-cache" {
		rt.gotNoCache++
	}
	rt.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if cc != "" {
		h.Set("Cache-Control", cc)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
}

func rtRemote(t testing.TB, rt *rtTransport, cfg jwks.RemoteConfig) *jwks.Remote {
	t.Helper()
	cfg.HTTPClient = &http.Client{Transport: rt}
	r, err := jwks.NewRemote("https://idp.example/jwks", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func rtSetJSON(keys ...*jwks.Key) []byte { return jwks.NewSet(keys...).JSON() }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rtRSAJWK builds an RSA public JWK from a modulus and exponent.
func rtRSAJWK(kid string, n *big.Int, e int, extra string) string {
	return fmt.Sprintf(`{"kty":"RSA","kid":%q,"n":%q,"e":%q%s}`, kid, b64(n.Bytes()), b64(big.NewInt(int64(e)).Bytes()), extra)
}

func TestRemoteKeySkipping(t *testing.T) {
	t.Parallel()
	good := rtKey(t, testkeys.RSA2048A, "good", jwks.RS256)
	goodJWK := string(good.PublicJWKJSON())
	rsaPub := good.Public().(*rsa.PublicKey)
	big8200 := new(big.Int).Lsh(big.NewInt(1), 8200)
	big8200.Add(big8200, big.NewInt(1))
	ec := rtKey(t, testkeys.P256A, "ec", jwks.ES256)
	var ecm map[string]string
	json.Unmarshal(ec.PublicJWKJSON(), &ecm)

	tests := []struct {
		name string
		jwk  string
		want bool // usable
	}{
		{"rsa", goodJWK, true},
		// A published private key is no proof of anything: whoever read it
		// can sign.
		{"rsa with private members skipped", strings.TrimSuffix(goodJWK, "}") + `,"d":"AQAB","p":"AQAB","q":"AQAB","dp":"AQAB","dq":"AQAB","qi":"AQAB"}`, false},
		{"rsa with only d skipped", strings.TrimSuffix(goodJWK, "}") + `,"d":"AQAB"}`, false},
		{"rsa n with a line break", strings.Replace(goodJWK, `"n":"`, `"n":"AQAB\n`, 1), false},
		{"rsa use sig", rtRSAJWK("u", rsaPub.N, rsaPub.E, `,"use":"sig"`), true},
		{"rsa key_ops verify", rtRSAJWK("o", rsaPub.N, rsaPub.E, `,"key_ops":["verify"]`), true},
		{"ec", string(ec.PublicJWKJSON()), true},
		{"ed25519", string(rtKey(t, testkeys.Ed25519A, "ed", "").PublicJWKJSON()), true},
		{"p256 short x padded", string(rtKey(t, testkeys.P256ShortX, "sx", "").PublicJWKJSON()), true},
		{"use enc", rtRSAJWK("e", rsaPub.N, rsaPub.E, `,"use":"enc"`), false},
		{"key_ops without verify", rtRSAJWK("k", rsaPub.N, rsaPub.E, `,"key_ops":["encrypt","sign"]`), false},
		{"alg HS256", rtRSAJWK("h", rsaPub.N, rsaPub.E, `,"alg":"HS256"`), false},
		{"alg none", rtRSAJWK("n", rsaPub.N, rsaPub.E, `,"alg":"none"`), false},
		{"alg ES256 on RSA", rtRSAJWK("m", rsaPub.N, rsaPub.E, `,"alg":"ES256"`), false},
		{"alg unknown", rtRSAJWK("x", rsaPub.N, rsaPub.E, `,"alg":"RSA-OAEP"`), false},
		{"rsa 1024", rtRSAJWK("s", testkeys.Signer(testkeys.RSA1024).Public().(*rsa.PublicKey).N, 65537, ""), false},
		{"rsa 8201 bits", rtRSAJWK("b", big8200, 65537, ""), false},
		{"rsa exponent 1", rtRSAJWK("e1", rsaPub.N, 1, ""), false},
		{"rsa even exponent", rtRSAJWK("e2", rsaPub.N, 65536, ""), false},
		{"rsa missing n", `{"kty":"RSA","e":"AQAB"}`, false},
		{"rsa n not base64url", `{"kty":"RSA","n":"a+b/","e":"AQAB"}`, false},
		{"rsa n with newline", strings.Replace(goodJWK, `"n":"`, `"n":"\n`, 1), false},
		{"oct", `{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}`, false},
		{"secp256k1", fmt.Sprintf(`{"kty":"EC","crv":"secp256k1","x":%q,"y":%q}`, ecm["x"], ecm["y"]), false},
		{"X25519", `{"kty":"OKP","crv":"X25519","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`, false},
		{"ec point not on curve", fmt.Sprintf(`{"kty":"EC","crv":"P-256","x":%q,"y":%q}`, ecm["x"], ecm["x"]), false},
		{"ec wrong coordinate size", fmt.Sprintf(`{"kty":"EC","crv":"P-384","x":%q,"y":%q}`, ecm["x"], ecm["y"]), false},
		{"kty missing", `{"kid":"a"}`, false},
		{"kid not a string", `{"kty":"RSA","kid":5}`, false},
		{"not an object", `"RSA"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := &rtTransport{}
			// The good key is always present, so a set never ends up empty.
			rt.set([]byte(`{"keys":[`+tc.jwk+`,`+string(rtKey(t, testkeys.P256B, "other", "").PublicJWKJSON())+`]}`), 200, "")
			r := rtRemote(t, rt, jwks.RemoteConfig{})
			ks, err := r.Keys(t.Context(), "")
			if err != nil {
				t.Fatalf("Keys(%q) error = %v", tc.name, err)
			}
			if got := len(ks) == 2; got != tc.want {
				t.Fatalf("Keys(%q) returned %d keys, want usable = %v", tc.name, len(ks), tc.want)
			}
			for _, k := range ks {
				switch k.Key.(type) {
				case *rsa.PrivateKey:
					t.Fatalf("Keys(%q) kept a private key", tc.name)
				}
			}
		})
	}
}

func TestRemoteFetchErrors(t *testing.T) {
	t.Parallel()
	k := rtKey(t, testkeys.RSA2048A, "a", jwks.RS256)
	many := `{"keys":[` + strings.Repeat(string(k.PublicJWKJSON())+",", 5) + string(k.PublicJWKJSON()) + `]}`
	tests := []struct {
		name    string
		body    string
		status  int
		cfg     jwks.RemoteConfig
		wantErr []error
	}{
		{name: "status 500", body: `{"keys":[]}`, status: 500, wantErr: []error{jwks.ErrFetch}},
		{name: "status 304 without a set", body: ``, status: 304, wantErr: []error{jwks.ErrFetch}},
		{name: "oversize body", body: string(rtSetJSON(k)), cfg: jwks.RemoteConfig{MaxBodyBytes: 100}, wantErr: []error{jwks.ErrFetch, httpread.ErrTooLarge}},
		{name: "too many keys", body: many, cfg: jwks.RemoteConfig{MaxKeys: 5}, wantErr: []error{jwks.ErrFetch, jwks.ErrMalformedSetForTest}},
		{name: "not json", body: `<html>`, wantErr: []error{jwks.ErrFetch, jwks.ErrMalformedSetForTest}},
		{name: "no keys member", body: `{}`, wantErr: []error{jwks.ErrFetch, jwks.ErrMalformedSetForTest}},
		{name: "keys not an array", body: `{"keys":{}}`, wantErr: []error{jwks.ErrFetch, jwks.ErrMalformedSetForTest}},
		{name: "array document", body: `[]`, wantErr: []error{jwks.ErrFetch, jwks.ErrMalformedSetForTest}},
		{name: "keys member twice", body: `{"keys":[],"keys":[` + string(k.PublicJWKJSON()) + `]}`, wantErr: []error{jwks.ErrFetch, jwks.ErrMalformedSetForTest}},
		{name: "keys member twice, escaped", body: `{"keys":[` + string(k.PublicJWKJSON()) + `],"k\u0065ys":[]}`, wantErr: []error{jwks.ErrFetch, jwks.ErrMalformedSetForTest}},
		{name: "a key with n twice", body: `{"keys":[` + strings.Replace(string(k.PublicJWKJSON()), `"n":`, `"n":"AQAB","n":`, 1) + `]}`, wantErr: []error{jwks.ErrFetch, jwks.ErrMalformedSetForTest}},
		{name: "KID in upper case is not kid", body: `{"keys":[` + strings.Replace(string(k.PublicJWKJSON()), `"kid":`, `"KID":`, 1) + `]}`, wantErr: []error{jwks.ErrUnknownKey}},
		{name: "empty set", body: `{"keys":[]}`, wantErr: []error{jwks.ErrUnknownKey}},
		{name: "only unusable keys", body: `{"keys":[{"kty":"oct","k":"AAAA"}]}`, wantErr: []error{jwks.ErrUnknownKey}},
		{name: "exactly max keys", body: many, cfg: jwks.RemoteConfig{MaxKeys: 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := &rtTransport{}
			rt.set([]byte(tc.body), tc.status, "")
			r := rtRemote(t, rt, tc.cfg)
			_, err := r.Keys(t.Context(), "a")
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("Keys(%q) error = %v, want nil", tc.name, err)
			}
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Keys(%q) error = %v, want %v", tc.name, err, want)
				}
			}
		})
	}
}

func TestNewRemoteConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		cfg  jwks.RemoteConfig
		ok   bool
	}{
		{"defaults", "https://idp.example/jwks", jwks.RemoteConfig{}, true},
		{"one hour", "https://idp.example/jwks", jwks.RemoteConfig{MaxAge: time.Hour}, true},
		{"over one hour", "https://idp.example/jwks", jwks.RemoteConfig{MaxAge: time.Hour + time.Second}, false},
		{"negative max age", "https://idp.example/jwks", jwks.RemoteConfig{MaxAge: -1}, false},
		{"min interval above max age", "https://idp.example/jwks", jwks.RemoteConfig{MaxAge: time.Minute, MinInterval: 2 * time.Minute}, false},
		{"negative body", "https://idp.example/jwks", jwks.RemoteConfig{MaxBodyBytes: -1}, false},
		{"negative refresh after", "https://idp.example/jwks", jwks.RemoteConfig{RefreshAfter: -1}, false},
		{"negative max keys", "https://idp.example/jwks", jwks.RemoteConfig{MaxKeys: -1}, false},
		{"negative timeout", "https://idp.example/jwks", jwks.RemoteConfig{Timeout: -1}, false},
		{"relative url", "/jwks", jwks.RemoteConfig{}, false},
		{"ftp url", "ftp://idp.example/jwks", jwks.RemoteConfig{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := jwks.NewRemote(tc.url, tc.cfg)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, jwks.ErrInvalidConfig)) {
				t.Fatalf("NewRemote(%q) error = %v, want ok = %v (else %v)", tc.name, err, tc.ok, jwks.ErrInvalidConfig)
			}
			if r != nil {
				r.Close()
			}
		})
	}
}

// TestRemoteExpiry checks, in a bubble with a fake clock, that a set is
// refreshed after its freshness, that Cache-Control max-age is honoured
// within [MinInterval, MaxAge], and that a refresh replaces the set.
func TestRemoteExpiry(t *testing.T) {
	a := rtKey(t, testkeys.RSA2048A, "a", jwks.RS256)
	b := rtKey(t, testkeys.RSA2048B, "b", jwks.RS256)
	tests := []struct {
		name         string
		cacheControl string
		cfg          jwks.RemoteConfig
		fresh        time.Duration // the set must be refetched after this long, not before
	}{
		{"no header uses RefreshAfter", "", jwks.RemoteConfig{}, jwks.DefaultRefreshAfterForTest},
		{"max-age honoured", "public, max-age=300", jwks.RemoteConfig{}, 5 * time.Minute},
		{"max-age below the floor", "max-age=5", jwks.RemoteConfig{}, jwks.DefaultMinIntervalForTest},
		{"max-age above the ceiling", "max-age=86400", jwks.RemoteConfig{}, time.Hour},
		{"max-age above a lower MaxAge", "max-age=86400", jwks.RemoteConfig{MaxAge: 10 * time.Minute}, 10 * time.Minute},
		{"no-store", "no-store", jwks.RemoteConfig{MinInterval: 30 * time.Second}, 30 * time.Second},
		{"malformed max-age", "max-age=abc", jwks.RemoteConfig{}, jwks.DefaultRefreshAfterForTest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := &rtTransport{}
				rt.set(rtSetJSON(a), 200, tc.cacheControl)
				r := rtRemote(t, rt, tc.cfg)
				if _, err := r.Keys(t.Context(), "a"); err != nil {
					t.Fatal(err)
				}
				// The provider rotates: a is removed, b added.
				rt.set(rtSetJSON(b), 200, tc.cacheControl)
				time.Sleep(tc.fresh - time.Second)
				if _, err := r.Keys(t.Context(), "a"); err != nil {
					t.Fatalf("Keys(a) %v after the fetch: %v", tc.fresh-time.Second, err)
				}
				if n := rt.fetches.Load(); n != 1 {
					t.Fatalf("fetches = %d before the set expired, want 1", n)
				}
				time.Sleep(time.Second)
				// Past freshness but within MaxAge the old set is served while
				// the refresh runs; at MaxAge the caller waits for the refresh.
				maxAge := tc.cfg.MaxAge
				if maxAge == 0 {
					maxAge = jwks.MaxRemoteAgeForTest
				}
				_, err := r.Keys(t.Context(), "a")
				if tc.fresh < maxAge && err != nil {
					t.Fatalf("Keys(a) while refreshing error = %v, want the stale set", err)
				}
				synctest.Wait()
				if n := rt.fetches.Load(); n != 2 {
					t.Fatalf("fetches = %d after the set expired, want 2", n)
				}
				if _, err := r.Keys(t.Context(), "b"); err != nil {
					t.Fatalf("Keys(b) after refresh: %v", err)
				}
				// a is now an unknown key ID: one refetch, then ErrUnknownKey.
				_, err = r.Keys(t.Context(), "a")
				if !errors.Is(err, jwks.ErrUnknownKey) {
					t.Fatalf("Keys(a) after refresh error = %v, want %v (the refresh replaces the set)", err, jwks.ErrUnknownKey)
				}
				if n := rt.fetches.Load(); n != 3 {
					t.Fatalf("fetches = %d after an unknown key ID, want 3", n)
				}
			})
		})
	}
}

// TestRemoteStale checks that a failed refresh keeps the last good set until
// MaxAge and then fails closed, and that failed fetches are rate limited.
func TestRemoteStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := rtKey(t, testkeys.RSA2048A, "a", jwks.RS256)
		rt := &rtTransport{}
		rt.set(rtSetJSON(a), 200, "max-age=600")
		var logs bytes.Buffer
		r := rtRemote(t, rt, jwks.RemoteConfig{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		if _, err := r.Keys(t.Context(), "a"); err != nil {
			t.Fatal(err)
		}
		rt.set([]byte("oops"), 503, "")
		time.Sleep(10 * time.Minute)
		if _, err := r.Keys(t.Context(), "a"); err != nil {
			t.Fatalf("Keys(a) after a failed refresh within MaxAge: %v, want the last good set", err)
		}
		synctest.Wait() // the background refresh has failed
		if _, err := r.Keys(t.Context(), "a"); err != nil {
			t.Fatalf("Keys(a) after a failed refresh within MaxAge: %v, want the last good set", err)
		}
		if n := rt.fetches.Load(); n != 2 {
			t.Fatalf("fetches = %d, want 2", n)
		}
		if !strings.Contains(logs.String(), "refresh failed") {
			t.Errorf("no log line for the failed refresh: %s", logs.String())
		}
		// Within MinInterval no new attempt is made.
		for range 100 {
			if _, err := r.Keys(t.Context(), "a"); err != nil {
				t.Fatal(err)
			}
		}
		if n := rt.fetches.Load(); n != 2 {
			t.Fatalf("fetches = %d after 100 calls within MinInterval, want 2", n)
		}
		time.Sleep(50*time.Minute - time.Second)
		if _, err := r.Keys(t.Context(), "a"); err != nil {
			t.Fatalf("Keys(a) just before MaxAge: %v", err)
		}
		synctest.Wait()
		time.Sleep(time.Second)
		_, err := r.Keys(t.Context(), "a")
		if !errors.Is(err, jwks.ErrStaleForTest) || !errors.Is(err, jwks.ErrFetch) {
			t.Fatalf("Keys(a) at MaxAge with a failing provider error = %v, want %v and %v", err, jwks.ErrStaleForTest, jwks.ErrFetch)
		}
		// The provider recovers: the next attempt after MinInterval succeeds.
		rt.set(rtSetJSON(a), 200, "")
		if _, err := r.Keys(t.Context(), "a"); !errors.Is(err, jwks.ErrStaleForTest) || !errors.Is(err, jwks.ErrFetch) {
			t.Fatalf("Keys(a) within MinInterval of the failed attempt error = %v, want %v and %v", err, jwks.ErrStaleForTest, jwks.ErrFetch)
		}
		time.Sleep(jwks.DefaultMinIntervalForTest)
		if _, err := r.Keys(t.Context(), "a"); err != nil {
			t.Fatalf("Keys(a) after recovery: %v", err)
		}
	})
}

// TestRemoteUnknownKidRefetch checks that an unknown kid triggers one
// refetch with Cache-Control: no-cache at once, even right after a routine
// fetch, and at most once per MinInterval counted from the previous
// unknown-kid refetch.
func TestRemoteUnknownKidRefetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := rtKey(t, testkeys.RSA2048A, "a", jwks.RS256)
		b := rtKey(t, testkeys.RSA2048B, "b", jwks.RS256)
		c := rtKey(t, testkeys.RSA2048C, "c", jwks.RS256)
		rt := &rtTransport{}
		rt.set(rtSetJSON(a), 200, "max-age=3600")
		r := rtRemote(t, rt, jwks.RemoteConfig{})
		if _, err := r.Keys(t.Context(), "a"); err != nil {
			t.Fatal(err)
		}
		noCache := func() int {
			rt.mu.Lock()
			defer rt.mu.Unlock()
			return rt.gotNoCache
		}
		// A rotation right after the routine fetch: the unknown kid is
		// refetched at once, with no-cache.
		time.Sleep(time.Second)
		rt.set(rtSetJSON(a, b), 200, "max-age=3600")
		if _, err := r.Keys(t.Context(), "b"); err != nil {
			t.Fatalf("Keys(b) one second after the routine fetch: %v", err)
		}
		if n, nc := rt.fetches.Load(), noCache(); n != 2 || nc != 1 {
			t.Fatalf("fetches = %d with %d no-cache, want 2 with 1", n, nc)
		}
		// Another rotation within MinInterval of that refetch: no refetch.
		rt.set(rtSetJSON(a, b, c), 200, "max-age=3600")
		time.Sleep(jwks.DefaultMinIntervalForTest - time.Second)
		if _, err := r.Keys(t.Context(), "c"); !errors.Is(err, jwks.ErrUnknownKey) {
			t.Fatalf("Keys(c) within MinInterval of the refetch error = %v, want %v", err, jwks.ErrUnknownKey)
		}
		for i := range 1000 {
			if _, err := r.Keys(t.Context(), fmt.Sprint("random-", i)); !errors.Is(err, jwks.ErrUnknownKey) {
				t.Fatalf("Keys(random) error = %v, want %v", err, jwks.ErrUnknownKey)
			}
		}
		if n := rt.fetches.Load(); n != 2 {
			t.Fatalf("fetches = %d after 1000 random kids within MinInterval, want 2", n)
		}
		time.Sleep(time.Second)
		if _, err := r.Keys(t.Context(), "c"); err != nil {
			t.Fatalf("Keys(c) MinInterval after the refetch: %v", err)
		}
		if n, nc := rt.fetches.Load(), noCache(); n != 3 || nc != 2 {
			t.Fatalf("fetches = %d with %d no-cache, want 3 with 2", n, nc)
		}
	})
}

// TestRemoteFlood runs 10,000 concurrent verifications with random kids and
// counts at most one fetch per MinInterval after the first.
func TestRemoteFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := rtKey(t, testkeys.RSA2048A, "a", jwks.RS256)
		rt := &rtTransport{}
		rt.set(rtSetJSON(a), 200, "")
		r := rtRemote(t, rt, jwks.RemoteConfig{})
		good := rtToken(t, a, nil, `{"sub":"x"}`)
		if _, err := r.VerifySignature(t.Context(), good); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var unknown, ok atomic.Int64
		for round := range 3 {
			for i := range 10000 {
				wg.Go(func() {
					tok := good
					if i%2 == 1 {
						// Unknown kids fail before any signature check.
						tok = b64([]byte(fmt.Sprintf(`{"alg":"RS256","kid":"r%d-%d"}`, round, i))) + ".e30." + b64(make([]byte, 256)) // a plausible RS256 signature length
					}
					_, err := r.VerifySignature(t.Context(), tok)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, jwks.ErrUnknownKey):
						unknown.Add(1)
					default:
						t.Errorf("VerifySignature error = %v", err)
					}
				})
			}
			wg.Wait()
			if n := rt.fetches.Load(); n > int64(round+2) {
				t.Fatalf("round %d: fetches = %d, want at most %d (the first and one per MinInterval)", round, n, round+2)
			}
			time.Sleep(jwks.DefaultMinIntervalForTest)
		}
		if ok.Load() != 15000 || unknown.Load() != 15000 {
			t.Fatalf("ok = %d, unknown = %d, want 15000 each", ok.Load(), unknown.Load())
		}
	})
}

// TestRemoteWaiterContext checks that callers wait for the fetch in flight
// or their own context, and that a caller giving up does not fail the
// fetch for the others.
func TestRemoteWaiterContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := rtKey(t, testkeys.RSA2048A, "a", jwks.RS256)
		rt := &rtTransport{gate: make(chan struct{})}
		rt.set(rtSetJSON(a), 200, "")
		r := rtRemote(t, rt, jwks.RemoteConfig{})
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 2)
		go func() { _, err := r.Keys(ctx, "a"); errc <- err }() // starts the fetch
		synctest.Wait()
		go func() { _, err := r.Keys(t.Context(), "a"); errc <- err }() // waits for it
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Keys with a cancelled context error = %v, want %v", err, context.Canceled)
		}
		close(rt.gate)
		if err := <-errc; err != nil {
			t.Fatalf("Keys of the waiting caller: %v", err)
		}
		if n := rt.fetches.Load(); n != 1 {
			t.Fatalf("fetches = %d, want 1", n)
		}
	})
}

// TestRemoteTimeoutAndClose checks that a hanging provider is cut off by
// Timeout and that Close stops a fetch in flight.
func TestRemoteTimeoutAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &rtTransport{gate: make(chan struct{})}
		r := rtRemote(t, rt, jwks.RemoteConfig{Timeout: 5 * time.Second})
		start := time.Now()
		_, err := r.Keys(t.Context(), "a")
		if !errors.Is(err, jwks.ErrFetch) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Keys against a hanging provider error = %v, want %v and %v", err, jwks.ErrFetch, context.DeadlineExceeded)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Fatalf("Keys returned after %v, want 5s", d)
		}
		time.Sleep(time.Minute)
		errc := make(chan error, 1)
		go func() { _, err := r.Keys(t.Context(), "a"); errc <- err }()
		synctest.Wait()
		r.Close()
		if err := <-errc; !errors.Is(err, jwks.ErrClosedForTest) || !errors.Is(err, jwks.ErrFetch) {
			t.Fatalf("Keys during Close error = %v, want %v and %v", err, jwks.ErrClosedForTest, jwks.ErrFetch)
		}
		if _, err := r.Keys(t.Context(), "a"); !errors.Is(err, jwks.ErrClosedForTest) || !errors.Is(err, jwks.ErrFetch) {
			t.Fatalf("Keys after Close error = %v, want %v and %v", err, jwks.ErrClosedForTest, jwks.ErrFetch)
		}
	})
}

func TestRemoteVerifySignature(t *testing.T) {
	t.Parallel()
	rs := rtKey(t, testkeys.RSA2048A, "rs", jwks.RS256)
	ps := rtKey(t, testkeys.RSA3072, "ps", jwks.PS256)
	es := rtKey(t, testkeys.P256A, "es", jwks.ES256)
	ed := rtKey(t, testkeys.Ed25519A, "ed", jwks.EdDSA)
	attacker := rtKey(t, testkeys.RSA2048C, "rs", jwks.RS256)
	rt := &rtTransport{}
	rt.set(rtSetJSON(rs, ps, es, ed), 200, "")
	r := rtRemote(t, rt, jwks.RemoteConfig{})

	good := rtToken(t, rs, nil, `{"sub":"alice"}`)
	hs := func(alg string) string {
		h := b64([]byte(`{"alg":"` + alg + `","kid":"rs"}`))
		return h + "." + b64([]byte(`{}`)) + "." + b64([]byte("sig"))
	}
	parts := strings.Split(good, ".")
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"RS256", good, nil},
		{"PS256", rtToken(t, ps, nil, `{}`), nil},
		{"ES256", rtToken(t, es, nil, `{}`), nil},
		{"EdDSA", rtToken(t, ed, nil, `{}`), nil},
		{"no kid tries the keys that fit", rtToken(t, es, map[string]any{"kid": nil}, `{}`), nil},
		{"jwk header is not trusted", rtToken(t, attacker, map[string]any{"jwk": json.RawMessage(attacker.PublicJWKJSON())}, `{}`), jwks.ErrSignature},
		{"jku header is not fetched", rtToken(t, attacker, map[string]any{"jku": "https://attacker.example/jwks"}, `{}`), jwks.ErrSignature},
		{"wrong key", rtToken(t, attacker, nil, `{}`), jwks.ErrSignature},
		{"alg none", hs("none"), jwks.ErrRefusedAlgorithmForTest},
		{"alg NONE", hs("NONE"), jwks.ErrRefusedAlgorithmForTest},
		{"alg HS256", hs("HS256"), jwks.ErrRefusedAlgorithmForTest},
		{"alg hs256", hs("hs256"), jwks.ErrRefusedAlgorithmForTest},
		{"alg rs256", hs("rs256"), jwks.ErrRefusedAlgorithmForTest},
		{"alg does not fit the signature length", rtToken(t, rs, map[string]any{"alg": "ES256"}, `{}`), jwks.ErrMalformedJWSForTest},
		{"alg does not fit the kid's key", rtToken(t, es, map[string]any{"kid": rs.KeyID()}, `{}`), jwks.ErrUnknownKey},
		{"header alg twice", rtToken(t, rs, nil, `{}`, `"alg":"RS256"`), jwks.ErrMalformedJWSForTest},
		{"header ALG only", rtToken(t, rs, map[string]any{"alg": nil, "ALG": "RS256"}, `{}`), jwks.ErrRefusedAlgorithmForTest},
		{"crit", rtToken(t, rs, map[string]any{"crit": []string{"exp"}, "exp": 1}, `{}`), jwks.ErrMalformedJWSForTest},
		{"two segments", parts[0] + "." + parts[1], jwks.ErrMalformedJWSForTest},
		{"four segments", good + ".x", jwks.ErrMalformedJWSForTest},
		{"json serialization", `{"payload":"e30","signatures":[]}`, jwks.ErrMalformedJWSForTest},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], jwks.ErrMalformedJWSForTest},
		{"line break", parts[0] + "." + parts[1] + "\n." + parts[2], jwks.ErrMalformedJWSForTest},
		{"header not json", b64([]byte("xx")) + "." + parts[1] + "." + parts[2], jwks.ErrMalformedJWSForTest},
		{"oversize", strings.Repeat("a", 70<<10) + "..", jwks.ErrMalformedJWSForTest},
		{"tampered payload", parts[0] + "." + b64([]byte(`{"sub":"mallory"}`)) + "." + parts[2], jwks.ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := r.VerifySignature(t.Context(), tc.token)
			if tc.wantErr == nil && err != nil || !errors.Is(err, tc.wantErr) {
				t.Fatalf("VerifySignature(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			// A signature that does not verify is ErrSignature alone, not
			// one of its precise causes.
			if tc.wantErr == jwks.ErrSignature && (errors.Is(err, jwks.ErrMalformedJWSForTest) || errors.Is(err, jwks.ErrRefusedAlgorithmForTest)) {
				t.Fatalf("VerifySignature(%q) error = %v, want a bad signature, not a malformed token or a refused algorithm", tc.name, err)
			}
		})
	}
	payload, err := r.VerifySignature(t.Context(), good)
	if err != nil || string(payload) != `{"sub":"alice"}` {
		t.Fatalf("VerifySignature payload = %q, %v", payload, err)
	}
}

// TestRemoteDefaultClient checks the default client against a real loopback
// server: it follows a same-origin redirect and refuses one to another
// origin.
func TestRemoteDefaultClient(t *testing.T) {
	t.Parallel()
	a := rtKey(t, testkeys.RSA2048A, "a", jwks.RS256)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(rtSetJSON(a)) }))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) { w.Write(rtSetJSON(a)) })
	mux.Handle("/same", http.RedirectHandler("/jwks", http.StatusFound))
	mux.Handle("/cross", http.RedirectHandler(other.URL+"/jwks", http.StatusFound))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		path string
		ok   bool
	}{{"/jwks", true}, {"/same", true}, {"/cross", false}} {
		r, err := jwks.NewRemote(srv.URL+tc.path, jwks.RemoteConfig{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Keys(t.Context(), "a")
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, jwks.ErrFetch)) {
			t.Errorf("Keys via %s error = %v, want ok = %v", tc.path, err, tc.ok)
		}
		r.Close()
	}
}

// TestRemoteStaleWhileRevalidate checks that a hanging provider does not
// stall callers whose key is in a set past its freshness but within MaxAge.
func TestRemoteStaleWhileRevalidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := rtKey(t, testkeys.RSA2048A, "a", jwks.RS256)
		rt := &rtTransport{}
		rt.set(rtSetJSON(a), 200, "max-age=300")
		r := rtRemote(t, rt, jwks.RemoteConfig{})
		if _, err := r.Keys(t.Context(), "a"); err != nil {
			t.Fatal(err)
		}
		gate := make(chan struct{})
		rt.mu.Lock()
		rt.gate = gate
		rt.mu.Unlock()
		time.Sleep(5 * time.Minute)
		start := time.Now()
		for range 100 {
			if _, err := r.Keys(t.Context(), "a"); err != nil {
				t.Fatalf("Keys(a) during a hanging refresh: %v", err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("Keys waited %v for the refresh", d)
		}
		synctest.Wait() // the refresh is blocked at the provider
		if n := rt.fetches.Load(); n != 2 {
			t.Fatalf("fetches = %d, want 2 (one refresh in flight)", n)
		}
		close(gate)
		synctest.Wait()
		if n := rt.fetches.Load(); n != 2 {
			t.Fatalf("fetches = %d after the refresh, want 2", n)
		}
	})
}
