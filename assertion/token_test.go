package assertion_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

type partnerClaims struct {
	Email string   `json:"email"`
	Roles []string `json:"roles,omitempty"`
	Admin bool     `json:"admin"`
}

func TestMintVerifiesEveryAlgorithm(t *testing.T) {
	t.Parallel()
	for _, ac := range allAlgs {
		t.Run(string(ac.alg)+"/"+ac.name, func(t *testing.T) {
			t.Parallel()
			key := newKey(t, ac.name, ac.alg)
			m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{Issuer: "project-1", Audience: []string{"crossmint.com"}, Now: fixedClock})
			if err != nil {
				t.Fatal(err)
			}
			for _, claims := range []any{
				nil,
				map[string]any{},
				map[string]any{"email": "ada@example.com", "n": 1.5, "nested": map[string]any{"iss": "inner is fine"}},
				partnerClaims{Email: "ada@example.com", Roles: []string{"admin"}},
				&partnerClaims{Email: "grace@example.com"},
				(*partnerClaims)(nil),
				map[string]string(nil),
				json.RawMessage(`{"source":"microservice"}`),
			} {
				tok, err := m.Mint(t.Context(), claims, assertion.WithSubject("user-42"))
				if err != nil {
					t.Fatalf("Mint(%T) error = %v", claims, err)
				}
				v := verifyToken(t, tok, key)
				if got := keysOf(v.header); !slices.Equal(got, []string{"alg", "kid", "typ"}) {
					t.Errorf("header members = %q", got)
				}
				if typ := v.headerString(t, "typ"); typ != "JWT" {
					t.Errorf("typ = %q, want JWT", typ)
				}
				if v.claims["iss"] != "project-1" || v.claims["sub"] != "user-42" || v.claims["aud"] != "crossmint.com" {
					t.Errorf("iss, sub, aud = %v, %v, %#v", v.claims["iss"], v.claims["sub"], v.claims["aud"])
				}
				if v.num(t, "iat") != fixedNow.Unix() || v.num(t, "exp") != fixedNow.Unix()+300 {
					t.Errorf("iat, exp = %d, %d, want now and now+300", v.num(t, "iat"), v.num(t, "exp"))
				}
				checkJTI(t, v.claims)
				// The custom claims round-trip.
				want := map[string]any{}
				if b, _ := json.Marshal(claims); string(b) != "null" {
					if err := json.Unmarshal(b, &want); err != nil {
						t.Fatal(err)
					}
				}
				var got map[string]any
				if err := json.Unmarshal(v.rawClaims, &got); err != nil {
					t.Fatal(err)
				}
				for k, w := range want {
					if gb, wb := mustJSON(t, got[k]), mustJSON(t, w); gb != wb {
						t.Errorf("claim %q = %s, want %s", k, gb, wb)
					}
				}
				if len(got) != len(want)+6 {
					t.Errorf("claims %q: %d members, want %d", keysOf(got), len(got), len(want)+6)
				}
			}
		})
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMintOptionsAndDefaults(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.Ed25519A, jwks.EdDSA)
	m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{
		Issuer:    "https://billing.internal",
		Subject:   "default-sub",
		Audience:  []string{"a1", "a2"},
		Type:      "at+jwt",
		Lifetime:  2 * time.Minute,
		NotBefore: true,
		Now:       fixedClock,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		opts     []assertion.Option
		wantSub  any
		wantAud  any
		wantLife int64
		wantJTI  string // "" = random UUID
	}{
		{"defaults", nil, "default-sub", []any{"a1", "a2"}, 120, ""},
		{"zero option ignored", []assertion.Option{{}}, "default-sub", []any{"a1", "a2"}, 120, ""},
		{"subject", []assertion.Option{assertion.WithSubject("u1")}, "u1", []any{"a1", "a2"}, 120, ""},
		{"last subject wins", []assertion.Option{assertion.WithSubject("u1"), assertion.WithSubject("u2")}, "u2", []any{"a1", "a2"}, 120, ""},
		{"single audience is a string", []assertion.Option{assertion.WithAudience("only")}, "default-sub", "only", 120, ""},
		{"audience list", []assertion.Option{assertion.WithAudience("x", "y", "z")}, "default-sub", []any{"x", "y", "z"}, 120, ""},
		{"last audience wins", []assertion.Option{assertion.WithAudience("x"), assertion.WithAudience("y")}, "default-sub", "y", 120, ""},
		{"lifetime", []assertion.Option{assertion.WithLifetime(10 * time.Minute)}, "default-sub", []any{"a1", "a2"}, 600, ""},
		{"last lifetime wins", []assertion.Option{assertion.WithLifetime(time.Hour), assertion.WithLifetime(time.Second)}, "default-sub", []any{"a1", "a2"}, 1, ""},
		{"jti", []assertion.Option{assertion.WithJTI("tok_123")}, "default-sub", []any{"a1", "a2"}, 120, "tok_123"},
		{"last jti wins", []assertion.Option{assertion.WithJTI("a"), assertion.WithJTI("b\"c")}, "default-sub", []any{"a1", "a2"}, 120, "b\"c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := m.Mint(t.Context(), map[string]any{"k": "v"}, tc.opts...)
			if err != nil {
				t.Fatalf("Mint(%s) error = %v", tc.name, err)
			}
			v := verifyToken(t, tok, key)
			if typ := v.headerString(t, "typ"); typ != "at+jwt" {
				t.Errorf("typ = %q, want at+jwt", typ)
			}
			if v.claims["sub"] != tc.wantSub {
				t.Errorf("sub = %#v, want %#v", v.claims["sub"], tc.wantSub)
			}
			if mustJSON(t, v.claims["aud"]) != mustJSON(t, tc.wantAud) {
				t.Errorf("aud = %#v, want %#v", v.claims["aud"], tc.wantAud)
			}
			if got := v.num(t, "exp") - v.num(t, "iat"); got != tc.wantLife {
				t.Errorf("exp - iat = %d, want %d", got, tc.wantLife)
			}
			if v.num(t, "nbf") != v.num(t, "iat") {
				t.Errorf("nbf != iat")
			}
			if tc.wantJTI == "" {
				checkJTI(t, v.claims)
			} else if v.claims["jti"] != tc.wantJTI {
				t.Errorf("jti = %#v, want %q", v.claims["jti"], tc.wantJTI)
			}
		})
	}
}

func TestMintOmitJTIAndNoSubject(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.P256A, jwks.ES256)
	m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{Issuer: "i", Audience: []string{"a"}, OmitJTI: true, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Mint(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := verifyToken(t, tok, key)
	if got := keysOf(v.claims); !slices.Equal(got, []string{"aud", "exp", "iat", "iss"}) {
		t.Errorf("claims = %q, want aud exp iat iss", got)
	}
	tok, err = m.Mint(t.Context(), nil, assertion.WithJTI("explicit"))
	if err != nil {
		t.Fatal(err)
	}
	if v := verifyToken(t, tok, key); v.claims["jti"] != "explicit" {
		t.Errorf("jti = %#v, want explicit", v.claims["jti"])
	}
}

// dupClaims marshals to an object that repeats a member.
type dupClaims struct{}

func (dupClaims) MarshalJSON() ([]byte, error) { return []byte(`{"a":1,"a":2}`), nil }

type audClaims struct {
	Email string `json:"email"`
	Aud   string `json:"aud"`
}

func TestMintClaimErrors(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.Ed25519A, jwks.EdDSA)
	m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{Issuer: "i", Audience: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		claims  any
		wantErr error
	}{
		{"iss", map[string]any{"iss": "evil"}, assertion.ErrClaimCollisionForTest},
		{"sub", map[string]any{"sub": "evil"}, assertion.ErrClaimCollisionForTest},
		{"aud", map[string]string{"aud": "evil"}, assertion.ErrClaimCollisionForTest},
		{"exp", map[string]any{"exp": 9999999999}, assertion.ErrClaimCollisionForTest},
		{"nbf", map[string]any{"nbf": 0}, assertion.ErrClaimCollisionForTest},
		{"iat", map[string]any{"iat": 0}, assertion.ErrClaimCollisionForTest},
		{"jti", map[string]any{"jti": "x"}, assertion.ErrClaimCollisionForTest},
		// encoding/json matches member names case-insensitively, so a Go
		// verifier would read "ISS" or "Exp" as the registered claim.
		{"upper ISS", map[string]any{"ISS": "evil"}, assertion.ErrClaimCollisionForTest},
		{"mixed Exp", map[string]any{"Exp": 1}, assertion.ErrClaimCollisionForTest},
		{"long s in sub", map[string]any{"\u017fub": "evil"}, assertion.ErrClaimCollisionForTest},
		{"struct field aud", audClaims{Email: "e", Aud: "evil"}, assertion.ErrClaimCollisionForTest},
		{"raw message", json.RawMessage(`{"x":1,"exp":2}`), assertion.ErrClaimCollisionForTest},
		{"repeated member", dupClaims{}, assertion.ErrMalformedClaimsForTest},
		{"string", "claims", assertion.ErrMalformedClaimsForTest},
		{"array", []string{"a"}, assertion.ErrMalformedClaimsForTest},
		{"number", 42, assertion.ErrMalformedClaimsForTest},
		{"unmarshalable", map[string]any{"c": make(chan int)}, assertion.ErrMalformedClaimsForTest},
		{"non-string keys", map[bool]int{true: 1}, assertion.ErrMalformedClaimsForTest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := m.Mint(t.Context(), tc.claims)
			if !errors.Is(err, assertion.ErrInvalidClaims) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Mint(%s) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if tok != "" {
				t.Errorf("Mint(%s) returned a token with an error", tc.name)
			}
		})
	}
}

func TestNewTokenMinterErrors(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.P256A, jwks.ES256)
	good := assertion.TokenConfig{Issuer: "iss", Audience: []string{"aud"}}
	with := func(f func(*assertion.TokenConfig)) assertion.TokenConfig { c := good; f(&c); return c }
	for _, tc := range []struct {
		name    string
		keys    jwks.KeySource
		cfg     assertion.TokenConfig
		wantErr []error
	}{
		{"zero config", key, assertion.TokenConfig{}, []error{assertion.ErrMissingIssuerForTest}},
		{"nil key source", nil, good, []error{assertion.ErrNoKeySourceForTest}},
		{"nil *jwks.Key", (*jwks.Key)(nil), good, []error{assertion.ErrNoKeySourceForTest}},
		{"issuer with newline", key, with(func(c *assertion.TokenConfig) { c.Issuer = "iss\n" }), []error{assertion.ErrInvalidIssuerForTest}},
		{"issuer invalid utf-8", key, with(func(c *assertion.TokenConfig) { c.Issuer = "\xc3" }), []error{assertion.ErrInvalidIssuerForTest}},
		{"subject with space", key, with(func(c *assertion.TokenConfig) { c.Subject = "u " }), []error{assertion.ErrInvalidSubjectForTest}},
		{"empty audience value", key, with(func(c *assertion.TokenConfig) { c.Audience = []string{"a", ""} }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience with control", key, with(func(c *assertion.TokenConfig) { c.Audience = []string{"a\x7f"} }), []error{assertion.ErrInvalidAudienceForTest}},
		{"client assertion type", key, with(func(c *assertion.TokenConfig) { c.Type = "client-authentication+jwt" }), []error{assertion.ErrInvalidTypeForTest}},
		{"client assertion media type", key, with(func(c *assertion.TokenConfig) { c.Type = "application/Client-Authentication+JWT" }), []error{assertion.ErrInvalidTypeForTest}},
		{"type with space", key, with(func(c *assertion.TokenConfig) { c.Type = "at jwt" }), []error{assertion.ErrInvalidTypeForTest}},
		{"type with quote", key, with(func(c *assertion.TokenConfig) { c.Type = `a"b` }), []error{assertion.ErrInvalidTypeForTest}},
		{"type non-ascii", key, with(func(c *assertion.TokenConfig) { c.Type = "jwté" }), []error{assertion.ErrInvalidTypeForTest}},
		{"negative lifetime", key, with(func(c *assertion.TokenConfig) { c.Lifetime = -time.Second }), []error{assertion.ErrInvalidLifetimeForTest}},
		{"sub-second lifetime", key, with(func(c *assertion.TokenConfig) { c.Lifetime = time.Millisecond }), []error{assertion.ErrInvalidLifetimeForTest}},
		{"over one hour", key, with(func(c *assertion.TokenConfig) { c.Lifetime = time.Hour + time.Second }), []error{assertion.ErrLifetimeTooLongForTest}},
		{"all at once", nil, assertion.TokenConfig{Issuer: " x", Type: "client-authentication+jwt", Lifetime: 2 * time.Hour}, []error{
			assertion.ErrNoKeySourceForTest, assertion.ErrInvalidIssuerForTest, assertion.ErrInvalidTypeForTest, assertion.ErrLifetimeTooLongForTest,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := assertion.NewTokenMinter(tc.keys, tc.cfg)
			if err == nil {
				t.Fatalf("NewTokenMinter(%s) = %v, want an error", tc.name, m)
			}
			for _, want := range append([]error{assertion.ErrInvalidConfig}, tc.wantErr...) {
				if !errors.Is(err, want) {
					t.Errorf("NewTokenMinter(%s) error = %v, want %v", tc.name, err, want)
				}
			}
			if !strings.HasPrefix(err.Error(), "assertion: ") {
				t.Errorf("NewTokenMinter(%s) error %q lacks the package prefix", tc.name, err)
			}
		})
	}
}

func TestMintOptionErrors(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.P256A, jwks.ES256)
	withAud, err := assertion.NewTokenMinter(key, assertion.TokenConfig{Issuer: "iss", Audience: []string{"aud"}})
	if err != nil {
		t.Fatal(err)
	}
	noAud, err := assertion.NewTokenMinter(key, assertion.TokenConfig{Issuer: "iss"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		m       *assertion.TokenMinter
		opts    []assertion.Option
		wantErr error
	}{
		{"no audience anywhere", noAud, nil, assertion.ErrMissingAudienceForTest},
		{"empty WithAudience", withAud, []assertion.Option{assertion.WithAudience()}, assertion.ErrMissingAudienceForTest},
		{"empty audience value", withAud, []assertion.Option{assertion.WithAudience("a", "")}, assertion.ErrInvalidAudienceForTest},
		{"empty subject", withAud, []assertion.Option{assertion.WithSubject("")}, assertion.ErrInvalidSubjectForTest},
		{"subject with newline", withAud, []assertion.Option{assertion.WithSubject("u\n")}, assertion.ErrInvalidSubjectForTest},
		{"zero lifetime", withAud, []assertion.Option{assertion.WithLifetime(0)}, assertion.ErrInvalidLifetimeForTest},
		{"negative lifetime", withAud, []assertion.Option{assertion.WithLifetime(-time.Minute)}, assertion.ErrInvalidLifetimeForTest},
		{"lifetime over an hour", withAud, []assertion.Option{assertion.WithLifetime(61 * time.Minute)}, assertion.ErrLifetimeTooLongForTest},
		{"last lifetime wins, bad", withAud, []assertion.Option{assertion.WithLifetime(time.Minute), assertion.WithLifetime(0)}, assertion.ErrInvalidLifetimeForTest},
		{"empty jti", withAud, []assertion.Option{assertion.WithJTI("")}, assertion.ErrInvalidJTIForTest},
		{"jti invalid utf-8", withAud, []assertion.Option{assertion.WithJTI("\xff")}, assertion.ErrInvalidJTIForTest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := tc.m.Mint(t.Context(), nil, tc.opts...)
			if !errors.Is(err, assertion.ErrInvalidClaims) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Mint(%s) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if tok != "" {
				t.Errorf("Mint(%s) returned a token with an error", tc.name)
			}
		})
	}
	// With an audience option, a minter without a default audience works.
	tok, err := noAud.Mint(t.Context(), nil, assertion.WithAudience("svc"))
	if err != nil {
		t.Fatal(err)
	}
	if v := verifyToken(t, tok, key); v.claims["aud"] != "svc" {
		t.Errorf("aud = %#v, want svc", v.claims["aud"])
	}
}

func TestNewTokenMinterCopiesAudience(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.P256A, jwks.ES256)
	aud := []string{"a", "b"}
	m, err := assertion.NewTokenMinter(key, assertion.TokenConfig{Issuer: "i", Audience: aud})
	if err != nil {
		t.Fatal(err)
	}
	opt := []string{"x", "y"}
	o := assertion.WithAudience(opt...)
	aud[0], opt[0] = "changed", "changed"
	tok, err := m.Mint(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := verifyToken(t, tok, key); mustJSON(t, v.claims["aud"]) != `["a","b"]` {
		t.Errorf("aud = %v after the caller changed its slice", v.claims["aud"])
	}
	tok, err = m.Mint(t.Context(), nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if v := verifyToken(t, tok, key); mustJSON(t, v.claims["aud"]) != `["x","y"]` {
		t.Errorf("aud = %v after the caller changed the option's slice", v.claims["aud"])
	}
}

func TestMintContextAndKeySourceErrors(t *testing.T) {
	t.Parallel()
	errNotYet := errors.New("jwks: no active key")
	m, err := assertion.NewTokenMinter(&swapSource{err: errNotYet}, assertion.TokenConfig{Issuer: "i", Audience: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Mint(t.Context(), nil); !errors.Is(err, errNotYet) {
		t.Errorf("Mint() error = %v, want %v", err, errNotYet)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Mint(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Mint(canceled) error = %v, want %v", err, context.Canceled)
	}
}
