package provider_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// jktOf computes the RFC 7638 thumbprint of k with go-jose, independently
// of the code under test.
func jktOf(t testing.TB, k *jwks.Key) string {
	t.Helper()
	tp, err := (&jose.JSONWebKey{Key: k.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

type proofSpec struct {
	htm, htu, nonce, at, typ string
	iat                      time.Time
	jti                      string
	jwk                      string // raw header member; default the key's public JWK
	noAth                    bool
}

func makeProof(t testing.TB, k *jwks.Key, p proofSpec) string {
	t.Helper()
	claims := map[string]any{"jti": p.jti, "htm": p.htm, "htu": p.htu, "iat": p.iat.Unix()}
	if !p.noAth {
		sum := sha256.Sum256([]byte(p.at))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	jwk := p.jwk
	if jwk == "" {
		jwk = string(k.PublicJWKJSON())
	}
	return signJWT(t, k, map[string]any{"typ": p.typ, "kid": nil}, claims, `"jwk":`+jwk)
}

func TestMiddlewareDPoP(t *testing.T) {
	t.Parallel()
	env := newServiceEnv(t, provider.JWTConfig{})
	pk := testKey(t, testkeys.P256A, "")
	other := testKey(t, testkeys.P256B, "")
	rsaKey := testKey(t, testkeys.RSA2048B, "")
	bound := serviceClaims()
	bound["cnf"] = map[string]any{"jkt": jktOf(t, pk)}
	at := signJWT(t, env.key, nil, bound)
	plain := signJWT(t, env.key, nil, serviceClaims())
	mw := provider.Middleware(env.v, provider.MiddlewareConfig{DPoPAlgorithms: []jwks.Algorithm{jwks.ES256, jwks.EdDSA}, DPoPPublicURL: "http://billing.internal"})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))

	const htu = "http://billing.internal/charge"
	n := 0
	spec := func(mod func(*proofSpec)) proofSpec {
		n++
		p := proofSpec{htm: "POST", htu: htu, at: at, typ: "dpop+jwt", iat: testNow, jti: fmt.Sprint("jti-", n)}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	do := func(auth string, proofs ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), "POST", "http://billing.internal/charge?amount=5", nil)
		req.Header.Set("Authorization", auth)
		for _, p := range proofs {
			req.Header.Add("DPoP", p)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	replayed := makeProof(t, pk, spec(nil))
	if w := do("DPoP "+at, replayed); w.Code != 200 {
		t.Fatalf("valid proof: status %d, %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	for _, tc := range []struct {
		name  string
		auth  string
		proof []string
		code  string
	}{
		{"replayed proof", "DPoP " + at, []string{replayed}, "invalid_dpop_proof"},
		{"bound token as Bearer", "Bearer " + at, nil, "invalid_token"},
		{"unbound token as DPoP", "DPoP " + plain, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.at = plain }))}, "invalid_token"},
		{"no proof", "DPoP " + at, nil, "invalid_dpop_proof"},
		{"two proofs", "DPoP " + at, []string{makeProof(t, pk, spec(nil)), makeProof(t, pk, spec(nil))}, "invalid_dpop_proof"},
		{"htm", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.htm = "GET" }))}, "invalid_dpop_proof"},
		{"htu host", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.htu = "http://evil.example/charge" }))}, "invalid_dpop_proof"},
		{"htu path", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.htu = "http://billing.internal/refund" }))}, "invalid_dpop_proof"},
		{"htu scheme", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.htu = "https://billing.internal/charge" }))}, "invalid_dpop_proof"},
		{"htu with user and password", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.htu = "http://u:p@billing.internal/charge" }))}, "invalid_dpop_proof"},
		{"htu with user", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.htu = "http://u@billing.internal/charge" }))}, "invalid_dpop_proof"},
		{"htu with empty user information", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.htu = "http://@billing.internal/charge" }))}, "invalid_dpop_proof"},
		{"old iat", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.iat = testNow.Add(-2 * time.Minute) }))}, "invalid_dpop_proof"},
		{"future iat", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.iat = testNow.Add(2 * time.Minute) }))}, "invalid_dpop_proof"},
		{"no ath", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.noAth = true }))}, "invalid_dpop_proof"},
		{"ath of another token", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.at = plain }))}, "invalid_dpop_proof"},
		{"another key", "DPoP " + at, []string{makeProof(t, other, spec(nil))}, "invalid_dpop_proof"},
		{"jwk of another key", "DPoP " + at, []string{makeProof(t, other, spec(func(p *proofSpec) { p.jwk = string(pk.PublicJWKJSON()) }))}, "invalid_dpop_proof"},
		{"typ JWT", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) { p.typ = "JWT" }))}, "invalid_dpop_proof"},
		{"alg not allowed", "DPoP " + at, []string{makeProof(t, rsaKey, spec(nil))}, "invalid_dpop_proof"},
		{"private jwk", "DPoP " + at, []string{makeProof(t, pk, spec(func(p *proofSpec) {
			p.jwk = strings.TrimSuffix(string(pk.PublicJWKJSON()), "}") + `,"d":"AAAA"}`
		}))}, "invalid_dpop_proof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(tc.auth, tc.proof...)
			chall := w.Header().Get("WWW-Authenticate")
			if w.Code != 401 || !strings.HasPrefix(chall, "DPoP ") || !strings.Contains(chall, `algs="ES256 EdDSA"`) || !strings.Contains(chall, `error="`+tc.code+`"`) {
				t.Errorf("status %d, WWW-Authenticate %q; want 401 with a DPoP challenge and error %s", w.Code, chall, tc.code)
			}
			if strings.Contains(w.Body.String()+chall, at) {
				t.Error("the response echoes the token")
			}
		})
	}
	// Bearer tokens that are not bound keep working.
	if w := do("Bearer " + plain); w.Code != 200 {
		t.Errorf("unbound Bearer token: status %d", w.Code)
	}
	// Without a token both schemes are offered.
	req := httptest.NewRequestWithContext(context.Background(), "GET", "/", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if got := w.Header().Values("WWW-Authenticate"); len(got) != 2 || got[1] != `DPoP algs="ES256 EdDSA"` {
		t.Errorf("challenges = %q", got)
	}
}

func TestMiddlewareDPoPNonceAndPublicURL(t *testing.T) {
	t.Parallel()
	env := newServiceEnv(t, provider.JWTConfig{})
	pk := testKey(t, testkeys.Ed25519A, "")
	bound := serviceClaims()
	bound["cnf"] = map[string]any{"jkt": jktOf(t, pk)}
	at := signJWT(t, env.key, nil, bound)
	h := provider.Middleware(env.v, provider.MiddlewareConfig{
		DPoPAlgorithms:    []jwks.Algorithm{jwks.EdDSA},
		DPoPPublicURL:     "https://api.example.com",
		DPoPNonceRequired: true,
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	do := func(p proofSpec) *httptest.ResponseRecorder {
		// The proxy terminated TLS: the request arrives over http with
		// an internal host.
		req := httptest.NewRequestWithContext(context.Background(), "GET", "http://10.0.0.7:8080/v1/items", nil)
		req.Header.Set("Authorization", "DPoP "+at)
		req.Header.Set("DPoP", makeProof(t, pk, p))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	p := proofSpec{htm: "GET", htu: "https://api.example.com/v1/items", at: at, typ: "dpop+jwt", iat: testNow, jti: "a"}
	w := do(p)
	nonce := w.Header().Get("DPoP-Nonce")
	if w.Code != 401 || nonce == "" || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Fatalf("no nonce: status %d, %q, nonce %q", w.Code, w.Header().Get("WWW-Authenticate"), nonce)
	}
	p.jti, p.nonce = "b", "not-the-nonce"
	if w := do(p); w.Code != 401 {
		t.Errorf("wrong nonce: status %d", w.Code)
	}
	p.jti, p.nonce = "c", nonce
	if w := do(p); w.Code != 200 {
		t.Errorf("with the nonce: status %d, %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestMiddlewareDPoPConfigRefused(t *testing.T) {
	t.Parallel()
	env := newServiceEnv(t, provider.JWTConfig{})
	for _, cfg := range []provider.MiddlewareConfig{
		{DPoPAlgorithms: []jwks.Algorithm{"HS256"}, DPoPPublicURL: "https://api.example.com"},
		{DPoPAlgorithms: []jwks.Algorithm{jwks.ES256}, DPoPPublicURL: "api.example.com"},
		{DPoPAlgorithms: []jwks.Algorithm{jwks.ES256}, DPoPPublicURL: "https://u:p@api.example.com"},
		{DPoPAlgorithms: []jwks.Algorithm{jwks.ES256}, DPoPPublicURL: "https://api.example.com", DPoPProofWindow: time.Hour},
		// Without DPoPPublicURL the host would be the request's Host
		// header, which the client chooses.
		{DPoPAlgorithms: []jwks.Algorithm{jwks.ES256}},
		{DPoPAlgorithms: []jwks.Algorithm{jwks.ES256}, DPoPNonceRequired: true},
	} {
		var logs strings.Builder
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		h := provider.Middleware(env.v, cfg)(http.NotFoundHandler())
		// The error is logged when the middleware is made, before any
		// request.
		if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "MiddlewareConfig.DPoP") {
			t.Errorf("%+v: log when made = %q, want an error naming the setting", cfg, logs.String())
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequestWithContext(context.Background(), "GET", "/", nil))
		if w.Code != 500 {
			t.Errorf("%+v: status %d, want 500", cfg, w.Code)
		}
	}
}

// TestMiddlewareDPoPHostFromConfig replays at this service (billing) a
// proof made for another (orders) with the other's Host header: the htu's
// host is judged against MiddlewareConfig.DPoPPublicURL, never the request's
// Host, which the client chooses; without DPoPPublicURL the middleware
// refuses to serve.
func TestMiddlewareDPoPHostFromConfig(t *testing.T) {
	t.Parallel()
	env := newServiceEnv(t, provider.JWTConfig{})
	pk := testKey(t, testkeys.P256A, "")
	bound := serviceClaims()
	bound["cnf"] = map[string]any{"jkt": jktOf(t, pk)}
	at := signJWT(t, env.key, nil, bound)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, tc := range []struct {
		name   string
		cfg    provider.MiddlewareConfig
		status int
	}{
		{"no DPoPPublicURL", provider.MiddlewareConfig{DPoPAlgorithms: []jwks.Algorithm{jwks.ES256}}, 500},
		{"DPoPPublicURL of this service", provider.MiddlewareConfig{DPoPAlgorithms: []jwks.Algorithm{jwks.ES256}, DPoPPublicURL: "https://billing.example"}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := provider.Middleware(env.v, tc.cfg)(ok)
			for i, host := range []string{"orders.example", "ORDERS.example:443"} {
				// A proof captured at orders.example ...
				p := makeProof(t, pk, proofSpec{htm: "POST", htu: "https://orders.example/charge", at: at, typ: "dpop+jwt", iat: testNow, jti: fmt.Sprint("captured-", i)})
				// ... replayed at billing with orders' Host header.
				req := httptest.NewRequestWithContext(context.Background(), "POST", "https://billing.example/charge", nil)
				req.Host = host
				req.Header.Set("Authorization", "DPoP "+at)
				req.Header.Set("DPoP", p)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != tc.status {
					t.Errorf("Host %s: status %d, want %d", host, w.Code, tc.status)
				}
			}
			// The proof made for billing is accepted whatever the Host.
			if tc.status == 401 {
				p := makeProof(t, pk, proofSpec{htm: "POST", htu: "https://billing.example/charge", at: at, typ: "dpop+jwt", iat: testNow, jti: "for-billing"})
				req := httptest.NewRequestWithContext(context.Background(), "POST", "http://10.0.0.7:8080/charge", nil)
				req.Header.Set("Authorization", "DPoP "+at)
				req.Header.Set("DPoP", p)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					t.Errorf("proof for billing: status %d, %q", w.Code, w.Header().Get("WWW-Authenticate"))
				}
			}
		})
	}
}

// FuzzMiddlewareDPoPProof feeds arbitrary DPoP headers with a valid bound
// token: none may be accepted except a proof made by the bound key.
func FuzzMiddlewareDPoPProof(f *testing.F) {
	env := newServiceEnv(f, provider.JWTConfig{})
	pk := testKey(f, testkeys.P256A, "")
	bound := serviceClaims()
	bound["cnf"] = map[string]any{"jkt": jktOf(f, pk)}
	at := signJWT(f, env.key, nil, bound)
	h := provider.Middleware(env.v, provider.MiddlewareConfig{DPoPAlgorithms: []jwks.Algorithm{jwks.ES256}, DPoPPublicURL: "http://example.com"})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.Add(makeProof(f, pk, proofSpec{htm: "GET", htu: "http://example.com/", at: at, typ: "dpop+jwt", iat: testNow, jti: "seed"}))
	f.Add("e30.e30.AAAA")
	f.Fuzz(func(t *testing.T, proof string) {
		req := httptest.NewRequestWithContext(context.Background(), "GET", "http://example.com/", nil)
		req.Header.Set("Authorization", "DPoP "+at)
		req.Header.Set("DPoP", proof)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == 200 && !strings.Contains(proof, ".") {
			t.Fatal("accepted a proof that is not a JWS")
		}
	})
}
