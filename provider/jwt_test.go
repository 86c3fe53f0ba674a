package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// serviceEnv is a caller service publishing its JWKS, and a verifier of
// its tokens at the callee.
type serviceEnv struct {
	key *jwks.Key
	v   *provider.JWTVerifier
}

func newServiceEnv(t testing.TB, cfg provider.JWTConfig) *serviceEnv {
	t.Helper()
	key := testKey(t, testkeys.RSA2048A, "svc-1")
	set := jwks.NewSet(key).JSON()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(set) }))
	t.Cleanup(srv.Close)
	r, err := jwks.NewRemote(srv.URL+"/jwks", jwks.RemoteConfig{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if cfg.Issuer == "" {
		cfg.Issuer = "https://orders.internal"
	}
	if cfg.Audience == "" {
		cfg.Audience = "https://billing.internal"
	}
	cfg.Now = func() time.Time { return testNow }
	v, err := provider.NewJWTVerifier(r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &serviceEnv{key: key, v: v}
}

func serviceClaims() map[string]any {
	return map[string]any{
		"iss": "https://orders.internal", "sub": "orders", "aud": "https://billing.internal",
		"iat": testNow.Unix(), "exp": testNow.Add(5 * time.Minute).Unix(), "jti": "j-1",
		"source": "microservice",
	}
}

func TestJWTVerify(t *testing.T) {
	t.Parallel()
	env := newServiceEnv(t, provider.JWTConfig{RequiredClaims: map[string]string{"source": "microservice"}, MaxLifetime: 10 * time.Minute})
	typed := newServiceEnv(t, provider.JWTConfig{Type: "at+jwt"})
	with := func(kv ...any) map[string]any {
		c := serviceClaims()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	tests := []struct {
		name    string
		v       *provider.JWTVerifier
		hdr     map[string]any
		claims  map[string]any
		wantErr error
	}{
		{name: "valid", claims: serviceClaims()},
		{name: "typ absent", hdr: map[string]any{"typ": nil}, claims: serviceClaims()},
		{name: "typ application/jwt", hdr: map[string]any{"typ": "application/JWT"}, claims: serviceClaims()},
		{name: "typ at+jwt refused by default", hdr: map[string]any{"typ": "at+jwt"}, claims: serviceClaims(), wantErr: provider.ErrUnsupportedHeaderForTest},
		{name: "typ at+jwt expected", v: typed.v, hdr: map[string]any{"typ": "application/at+jwt"}, claims: serviceClaims()},
		{name: "typ JWT when at+jwt expected", v: typed.v, claims: serviceClaims(), wantErr: provider.ErrUnsupportedHeaderForTest},
		{name: "typ absent when at+jwt expected", v: typed.v, hdr: map[string]any{"typ": nil}, claims: serviceClaims(), wantErr: provider.ErrUnsupportedHeaderForTest},
		{name: "required claim missing", claims: with("source", nil), wantErr: provider.ErrClaimMismatch},
		{name: "required claim different", claims: with("source", "browser"), wantErr: provider.ErrClaimMismatch},
		{name: "required claim not a string", claims: with("source", []string{"microservice"}), wantErr: provider.ErrClaimMismatch},
		{name: "lifetime too long", claims: with("exp", testNow.Add(11*time.Minute).Unix()), wantErr: provider.ErrTokenLifetime},
		{name: "wrong issuer", claims: with("iss", "https://orders.internal/"), wantErr: provider.ErrInvalidIssuer},
		{name: "wrong audience", claims: with("aud", []string{"https://payments.internal"}), wantErr: provider.ErrInvalidAudience},
		{name: "audience among several", claims: with("aud", []string{"https://payments.internal", "https://billing.internal"})},
		{name: "expired", claims: with("exp", testNow.Add(-2*time.Minute).Unix(), "iat", testNow.Add(-5*time.Minute).Unix()), wantErr: provider.ErrTokenExpired},
		{name: "iat missing", claims: with("iat", nil), wantErr: provider.ErrMissingIssuedAtForTest},
		{name: "not yet valid", claims: with("nbf", testNow.Add(3*time.Minute).Unix()), wantErr: provider.ErrTokenNotYetValid},
		{name: "alg none", hdr: map[string]any{"alg": "none"}, claims: serviceClaims(), wantErr: provider.ErrUnsupportedAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := tc.v
			if v == nil {
				v = env.v
			}
			tok := signJWT(t, env.key, tc.hdr, tc.claims)
			got, err := v.Verify(t.Context(), tok)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify(%q) error = %v, want nil", tc.name, err)
				}
				var c struct {
					Source string `json:"source"`
				}
				if got.Subject != "orders" || got.ID != "j-1" || got.Claims(&c) != nil || c.Source != "microservice" {
					t.Fatalf("Verify(%q) = %+v", tc.name, got)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
		})
	}
}

func TestNewJWTVerifierConfig(t *testing.T) {
	t.Parallel()
	r, err := jwks.NewRemote("https://idp.example/jwks", jwks.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		name    string
		keys    provider.KeySet
		cfg     provider.JWTConfig
		wantErr []error // nil: no error
	}{
		{"minimal", r, provider.JWTConfig{Issuer: "i", Audience: "a"}, nil},
		{"no keys", nil, provider.JWTConfig{Issuer: "i", Audience: "a"}, []error{provider.ErrInvalidConfig}},
		{"no issuer", r, provider.JWTConfig{Audience: "a"}, []error{provider.ErrInvalidConfig}},
		{"no audience", r, provider.JWTConfig{Issuer: "i"}, []error{provider.ErrInvalidConfig}},
		{"HS256", r, provider.JWTConfig{Issuer: "i", Audience: "a", Algorithms: []jwks.Algorithm{"HS256"}}, []error{provider.ErrInvalidConfig, provider.ErrUnsupportedAlgorithm}},
		{"none", r, provider.JWTConfig{Issuer: "i", Audience: "a", Algorithms: []jwks.Algorithm{"none"}}, []error{provider.ErrInvalidConfig, provider.ErrUnsupportedAlgorithm}},
		{"negative lifetime", r, provider.JWTConfig{Issuer: "i", Audience: "a", MaxLifetime: -1}, []error{provider.ErrInvalidConfig}},
		{"negative leeway", r, provider.JWTConfig{Issuer: "i", Audience: "a", Leeway: -1}, []error{provider.ErrInvalidConfig}},
		{"leeway above five minutes", r, provider.JWTConfig{Issuer: "i", Audience: "a", Leeway: 5*time.Minute + 1}, []error{provider.ErrInvalidConfig}},
		{"negative MaxTokenBytes", r, provider.JWTConfig{Issuer: "i", Audience: "a", MaxTokenBytes: -1}, []error{provider.ErrInvalidConfig}},
	}
	for _, tc := range tests {
		_, err := provider.NewJWTVerifier(tc.keys, tc.cfg)
		if tc.wantErr == nil && err != nil {
			t.Errorf("NewJWTVerifier(%q) error = %v, want nil", tc.name, err)
		}
		if tc.wantErr != nil && err == nil {
			t.Errorf("NewJWTVerifier(%q) error = nil, want %v", tc.name, tc.wantErr)
		}
		for _, want := range tc.wantErr {
			if !errors.Is(err, want) {
				t.Errorf("NewJWTVerifier(%q) error = %v, want %v", tc.name, err, want)
			}
		}
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	env := newServiceEnv(t, provider.JWTConfig{RequiredClaims: map[string]string{"source": "microservice"}})
	h := provider.Middleware(env.v, provider.MiddlewareConfig{Realm: "billing"})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := provider.FromContext(r.Context())
		if !ok {
			t.Error("no token in the request context")
			return
		}
		w.Write([]byte("hello " + tok.Subject))
	}))
	good := signJWT(t, env.key, nil, serviceClaims())
	bad := signJWT(t, env.key, nil, map[string]any{"iss": "https://orders.internal", "aud": "https://billing.internal", "iat": testNow.Unix(), "exp": testNow.Unix() - 600})
	tests := []struct {
		name       string
		auth       []string
		wantStatus int
		wantChall  string
	}{
		{"valid", []string{"Bearer " + good}, 200, ""},
		{"scheme case-insensitive", []string{"bearer " + good}, 200, ""},
		{"no header", nil, 401, `Bearer realm="billing"`},
		{"basic", []string{"Basic dXNlcjpwdw=="}, 401, `Bearer realm="billing"`},
		{"two headers", []string{"Bearer " + good, "Bearer " + good}, 401, `Bearer realm="billing"`},
		{"expired", []string{"Bearer " + bad}, 401, `Bearer realm="billing", error="invalid_token", error_description="the token expired"`},
		{"garbage", []string{"Bearer not.a.jwt"}, 401, `Bearer realm="billing", error="invalid_token", error_description="the token is malformed"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequestWithContext(context.Background(), "GET", "/charge", nil)
			for _, a := range tc.auth {
				req.Header.Add("Authorization", a)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.wantChall {
				t.Fatalf("WWW-Authenticate = %q, want %q", got, tc.wantChall)
			}
			dump := w.Body.String() + strings.Join(w.Header().Values("WWW-Authenticate"), "")
			for _, a := range tc.auth {
				if tok := strings.TrimPrefix(strings.TrimPrefix(a, "Bearer "), "bearer "); len(tok) > 8 && strings.Contains(dump, tok) {
					t.Fatal("the response echoes the token")
				}
			}
		})
	}
}

// TestMiddlewareKeysUnavailable checks that a JWKS outage is 503, not a
// verdict on the token.
func TestMiddlewareKeysUnavailable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }))
	defer srv.Close()
	r, err := jwks.NewRemote(srv.URL, jwks.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v, err := provider.NewJWTVerifier(r, provider.JWTConfig{Issuer: "https://orders.internal", Audience: "https://billing.internal", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	h := provider.Middleware(v, provider.MiddlewareConfig{})(http.NotFoundHandler())
	req := httptest.NewRequestWithContext(context.Background(), "GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+signJWT(t, testKey(t, testkeys.RSA2048A, "k"), nil, serviceClaims()))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", w.Code)
	}
}
