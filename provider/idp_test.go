package provider_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// fakeIDP is a small OpenID Provider on a loopback httptest server: a
// discovery document (changeable) and a JWK Set (changeable). It serves the
// tests until providertest covers them.
type fakeIDP struct {
	srv        *httptest.Server
	jwksHits   atomic.Int64
	discovHits atomic.Int64

	// guards meta and set
	mu   sync.Mutex
	meta map[string]any
	set  []byte
}

func newFakeIDP(t testing.TB, keys ...*jwks.Key) *fakeIDP {
	t.Helper()
	f := &fakeIDP{}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.discovHits.Add(1)
		f.mu.Lock()
		b, _ := json.Marshal(f.meta)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		f.jwksHits.Add(1)
		f.mu.Lock()
		b := f.set
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(b)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	u := f.srv.URL
	f.meta = map[string]any{
		"issuer":                                           u,
		"authorization_endpoint":                           u + "/authorize",
		"token_endpoint":                                   u + "/token",
		"jwks_uri":                                         u + "/jwks",
		"userinfo_endpoint":                                u + "/userinfo",
		"end_session_endpoint":                             u + "/logout",
		"revocation_endpoint":                              u + "/revoke",
		"response_types_supported":                         []string{"code"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{"RS256", "ES256", "PS256", "EdDSA"},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "ES256"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"authorization_response_iss_parameter_supported":   true,
	}
	f.setKeys(keys...)
	return f
}

func (f *fakeIDP) issuer() string { return f.srv.URL }

func (f *fakeIDP) setKeys(keys ...*jwks.Key) {
	f.mu.Lock()
	f.set = jwks.NewSet(keys...).JSON()
	f.mu.Unlock()
}

func (f *fakeIDP) edit(fn func(m map[string]any)) {
	f.mu.Lock()
	fn(f.meta)
	f.mu.Unlock()
}

func (f *fakeIDP) discover(t testing.TB, cfg provider.Config) *provider.Provider {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	p, err := provider.Discover(context.Background(), f.issuer(), cfg)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// testKey loads a pre-generated key with a key ID.
func testKey(t testing.TB, name, kid string) *jwks.Key {
	t.Helper()
	k, err := jwks.NewKey(context.Background(), testkeys.Signer(name), jwks.KeyConfig{KeyID: kid})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signJWT signs claims with k. Header members in hdr override or (nil)
// remove the defaults alg, kid and typ.
// extraHeader, when given, is raw JSON members added to the header.
func signJWT(t testing.TB, k *jwks.Key, hdr map[string]any, claims any, extraHeader ...string) string {
	t.Helper()
	h := map[string]any{"alg": string(k.Algorithm()), "kid": k.KeyID(), "typ": "JWT"}
	for n, v := range hdr {
		if v == nil {
			delete(h, n)
		} else {
			h[n] = v
		}
	}
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range extraHeader {
		hb = append(append(hb[:len(hb)-1], ","+m...), '}')
	}
	cb, ok := claims.([]byte)
	if !ok {
		if cb, err = json.Marshal(claims); err != nil {
			t.Fatal(err)
		}
	}
	in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sig, err := k.Sign(context.Background(), []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// idClaims returns valid ID token claims for issuer and client "client-1".
func idClaims(issuer string) map[string]any {
	return map[string]any{
		"iss":       issuer,
		"sub":       "user-42",
		"aud":       "client-1",
		"exp":       testNow.Add(10 * time.Minute).Unix(),
		"iat":       testNow.Add(-time.Minute).Unix(),
		"nonce":     "n-0S6_WzA2Mj",
		"sid":       "session-7",
		"auth_time": testNow.Add(-2 * time.Minute).Unix(),
	}
}
