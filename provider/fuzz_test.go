package provider_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

const fuzzIssuer = "https://idp.example"

// memIDP serves a discovery document and a JWK Set from memory.
type memIDP struct{ discovery, set []byte }

func (m memIDP) RoundTrip(req *http.Request) (*http.Response, error) {
	body := m.set
	if strings.HasSuffix(req.URL.Path, "/openid-configuration") {
		body = m.discovery
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
}

func fuzzMetadata() []byte {
	b, _ := json.Marshal(map[string]any{
		"issuer":                                fuzzIssuer,
		"authorization_endpoint":                fuzzIssuer + "/authorize",
		"token_endpoint":                        fuzzIssuer + "/token",
		"jwks_uri":                              fuzzIssuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
	})
	return b
}

// FuzzDiscover feeds arbitrary discovery documents to Discover. Invariants:
// no panic; an accepted document names the configured issuer and only
// https endpoints.
func FuzzDiscover(f *testing.F) {
	f.Add(fuzzMetadata())
	f.Add([]byte(`{"issuer":"https://idp.example"}`))
	f.Add([]byte(`{"issuer":"https://idp.example","jwks_uri":5}`))
	f.Add([]byte(`{"issuer":"https://evil.example"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"issuer":null}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := provider.Discover(context.Background(), fuzzIssuer, provider.Config{HTTPClient: &http.Client{Transport: memIDP{discovery: doc}}})
		if err != nil {
			return
		}
		defer p.Close()
		if p.Issuer() != fuzzIssuer {
			t.Fatalf("accepted issuer %q", p.Issuer())
		}
		for _, e := range []string{p.Metadata().AuthorizationEndpoint, p.Metadata().TokenEndpoint, p.Metadata().JWKSURL} {
			u, err := url.Parse(e)
			if err != nil || u.Scheme != "https" {
				t.Fatalf("accepted endpoint %q", e)
			}
		}
	})
}

// FuzzVerify feeds arbitrary tokens to the ID token verifier. Invariants:
// no panic, no error carrying the token, and nothing verifies except a
// token whose signed part is byte for byte the one really signed.
func FuzzVerify(f *testing.F) {
	key := testKey(f, testkeys.RSA2048A, "k")
	es := testKey(f, testkeys.P256A, "e")
	p, err := provider.Discover(context.Background(), fuzzIssuer, provider.Config{
		HTTPClient: &http.Client{Transport: memIDP{discovery: fuzzMetadata(), set: jwks.NewSet(key, es).JSON()}},
		Now:        func() time.Time { return testNow },
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { p.Close() })
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1", Algorithms: []jwks.Algorithm{jwks.RS256, jwks.ES256}})
	if err != nil {
		f.Fatal(err)
	}
	good := signJWT(f, key, nil, idClaims(fuzzIssuer))
	goodES := signJWT(f, es, nil, idClaims(fuzzIssuer))
	signed := map[string]bool{
		good[:strings.LastIndexByte(good, '.')]:     true,
		goodES[:strings.LastIndexByte(goodES, '.')]: true,
	}
	f.Add(good)
	f.Add(goodES)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsifQ.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("a.b.c")
	f.Add("..")
	f.Add(`{"payload":""}`)
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := v.Verify(context.Background(), tok, provider.Expected{Nonce: "n-0S6_WzA2Mj"})
		if err != nil {
			if len(tok) > 20 && strings.Contains(err.Error(), tok) {
				t.Fatal("error carries the token")
			}
			return
		}
		if i := strings.LastIndexByte(tok, '.'); i < 0 || !signed[tok[:i]] || got.Subject != "user-42" {
			t.Fatalf("Verify accepted %q", tok)
		}
	})
}

// TestVerifyAllocationBounded checks the "bounded allocation" invariant of
// FuzzVerify deterministically: an oversize token is refused before any
// decoding, and a token at the size limit costs at most a small multiple of
// its size, whatever its content.
func TestVerifyAllocationBounded(t *testing.T) {
	key := testKey(t, testkeys.RSA2048A, "k")
	p, err := provider.Discover(context.Background(), fuzzIssuer, provider.Config{
		HTTPClient: &http.Client{Transport: memIDP{discovery: fuzzMetadata(), set: jwks.NewSet(key).JSON()}},
		Now:        func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	v, err := p.IDTokenVerifier(provider.VerifierConfig{ClientID: "client-1"})
	if err != nil {
		t.Fatal(err)
	}
	good := signJWT(t, key, nil, idClaims(fuzzIssuer))
	v.Verify(t.Context(), good, provider.Expected{Nonce: "n-0S6_WzA2Mj"}) // warm the key cache
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	nested := b64([]byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)))[:provider.DefaultMaxTokenBytesForTest-len(parts[0])-len(parts[2])-2]
	tests := []struct {
		name  string
		token string
		max   float64 // bytes per call
	}{
		{"1 MiB", strings.Repeat("a", 1<<20), 1 << 10},
		{"oversize header", b64([]byte(strings.Repeat(" ", 8<<10))) + ".e30." + parts[2], 1 << 10},
		{"limit-size nested payload", parts[0] + "." + nested + "." + parts[2], 4 * provider.DefaultMaxTokenBytesForTest},
		{"signed, nested 9000 deep", signJWT(t, key, nil, []byte(`{"x":`+strings.Repeat("[", 9000)+strings.Repeat("]", 9000)+`}`)), 4 * provider.DefaultMaxTokenBytesForTest},
		{"signed, strings of brackets", signJWT(t, key, nil, []byte(`{"x":"`+strings.Repeat("[", 9000)+`"}`)), 4 * provider.DefaultMaxTokenBytesForTest},
		{"signed, nested 10001 deep", signJWT(t, key, nil, []byte(`{"x":`+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)+`}`)), 4 * provider.DefaultMaxTokenBytesForTest},
	}
	for _, tc := range tests {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const n = 20
		for range n {
			if _, err := v.Verify(t.Context(), tc.token, provider.Expected{}); err == nil {
				t.Fatalf("Verify(%s) accepted", tc.name)
			}
		}
		runtime.ReadMemStats(&after)
		if per := float64(after.TotalAlloc-before.TotalAlloc) / n; per > tc.max {
			t.Errorf("Verify(%s) allocates %.0f bytes per call, want at most %.0f", tc.name, per, tc.max)
		}
	}
}
