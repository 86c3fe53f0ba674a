package assertion_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

const (
	testClientID = "s6BhdRkqt3"
	testIssuer   = "https://server.example.com"
	testTokenURL = "https://server.example.com/oauth2/token"
)

// checkJTI fails unless jti is a canonical UUIDv4.
func checkJTI(t testing.TB, claims map[string]any) string {
	t.Helper()
	jti, ok := claims["jti"].(string)
	if !ok {
		t.Fatalf("jti = %#v, want a string", claims["jti"])
	}
	id, err := uuid.Parse(jti)
	if err != nil || id.Version() != 4 || id.Variant() != uuid.RFC4122 || id.String() != jti {
		t.Fatalf("jti %q is not a canonical UUIDv4 (err %v)", jti, err)
	}
	return jti
}

func TestAssertionVerifiesEveryAlgorithmAndProfile(t *testing.T) {
	t.Parallel()
	for _, ac := range allAlgs {
		key := newKey(t, ac.name, ac.alg)
		cert := selfSigned(t, ac.name)
		for _, pc := range []struct {
			name    string
			profile assertion.Profile
			aud     string
			cert    bool
			typ     string
		}{
			{"rfc10070", assertion.ProfileRFC10070, testIssuer, false, "client-authentication+jwt"},
			{"legacy", assertion.ProfileLegacy, testTokenURL, false, "JWT"},
			{"legacy+x5t", assertion.ProfileLegacy, testTokenURL, true, "JWT"},
		} {
			t.Run(string(ac.alg)+"/"+ac.name+"/"+pc.name, func(t *testing.T) {
				t.Parallel()
				cfg := assertion.Config{ClientID: testClientID, Audience: pc.aud, Profile: pc.profile, Now: fixedClock}
				if pc.cert {
					cfg.Certificate = cert
				}
				m, err := assertion.NewMinter(key, cfg)
				if err != nil {
					t.Fatalf("NewMinter() error = %v", err)
				}
				tok, err := m.Assertion(t.Context())
				if err != nil {
					t.Fatalf("Assertion() error = %v", err)
				}
				v := verifyToken(t, tok, key)

				wantHeader := []string{"alg", "kid", "typ"}
				if pc.cert {
					wantHeader = []string{"alg", "kid", "typ", "x5t#S256"}
				}
				if got := keysOf(v.header); !slices.Equal(got, wantHeader) {
					t.Errorf("header members = %q, want %q", got, wantHeader)
				}
				if got := v.headerString(t, "alg"); got != string(ac.alg) {
					t.Errorf("alg = %q, want %q", got, ac.alg)
				}
				if got := v.headerString(t, "kid"); got != key.KeyID() {
					t.Errorf("kid = %q, want %q", got, key.KeyID())
				}
				if got := v.headerString(t, "typ"); got != pc.typ {
					t.Errorf("typ = %q, want %q", got, pc.typ)
				}
				if pc.cert {
					sum := sha256.Sum256(cert.Raw)
					if got, want := v.headerString(t, "x5t#S256"), base64.RawURLEncoding.EncodeToString(sum[:]); got != want {
						t.Errorf("x5t#S256 = %q, want %q", got, want)
					}
				}

				if got, want := keysOf(v.claims), []string{"aud", "exp", "iat", "iss", "jti", "sub"}; !slices.Equal(got, want) {
					t.Errorf("claims = %q, want %q", got, want)
				}
				if v.claims["iss"] != testClientID || v.claims["sub"] != testClientID {
					t.Errorf("iss, sub = %#v, %#v, want %q", v.claims["iss"], v.claims["sub"], testClientID)
				}
				if v.claims["aud"] != pc.aud { // a single JSON string, not an array
					t.Errorf("aud = %#v, want the string %q", v.claims["aud"], pc.aud)
				}
				if got := v.num(t, "iat"); got != fixedNow.Unix() {
					t.Errorf("iat = %d, want %d", got, fixedNow.Unix())
				}
				if got := v.num(t, "exp"); got != fixedNow.Add(5*time.Minute).Unix() {
					t.Errorf("exp = %d, want iat + 300", got)
				}
				checkJTI(t, v.claims)
			})
		}
	}
}

// TestAssertionHeaderForbiddenMembers decodes the raw header of every
// algorithm and profile and refuses any member that lets a verifier fetch or
// embed a key, or that marks extensions critical.
func TestAssertionHeaderForbiddenMembers(t *testing.T) {
	t.Parallel()
	for _, ac := range allAlgs {
		key := newKey(t, ac.name, ac.alg)
		for _, cfg := range []assertion.Config{
			{ClientID: testClientID, Audience: testIssuer},
			{ClientID: testClientID, Audience: testTokenURL, Profile: assertion.ProfileLegacy, Certificate: selfSigned(t, ac.name)},
		} {
			m, err := assertion.NewMinter(key, cfg)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := m.Assertion(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			hb, _ := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
			var h map[string]json.RawMessage
			if err := json.Unmarshal(hb, &h); err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"jku", "x5u", "jwk", "x5c", "crit", "x5t", "b64", "zip", "cty"} {
				if _, ok := h[bad]; ok {
					t.Errorf("%s %v: header has %q", ac.alg, cfg.Profile, bad)
				}
			}
		}
	}
}

func TestAssertionClaimsExact(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.Ed25519A, jwks.EdDSA)
	for _, tc := range []struct {
		name     string
		clientID string
		aud      string
		profile  assertion.Profile
	}{
		{"trailing slash kept", testClientID, "https://server.example.com/", assertion.ProfileRFC10070},
		{"no trailing slash added", testClientID, "https://server.example.com/tenant", assertion.ProfileRFC10070},
		{"port and path", testClientID, "http://127.0.0.1:8080/realms/a%20b", assertion.ProfileRFC10070},
		{"json specials in client id", `cli"ent\id</script>&`, testIssuer, assertion.ProfileRFC10070},
		{"unicode client id", "клиент-ü-\u2028-😀", testIssuer, assertion.ProfileRFC10070},
		{"urn-like client id", "urn:example:client:42", testIssuer, assertion.ProfileRFC10070},
		{"token endpoint with query", testClientID, "https://login.example.com/t/oauth2/v2.0/token?p=b2c", assertion.ProfileLegacy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := assertion.NewMinter(key, assertion.Config{ClientID: tc.clientID, Audience: tc.aud, Profile: tc.profile, Now: fixedClock})
			if err != nil {
				t.Fatalf("NewMinter(%q, %q) error = %v", tc.clientID, tc.aud, err)
			}
			tok, err := m.Assertion(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			v := verifyToken(t, tok, key)
			if v.claims["iss"] != tc.clientID || v.claims["sub"] != tc.clientID {
				t.Errorf("iss, sub = %q, %q, want %q", v.claims["iss"], v.claims["sub"], tc.clientID)
			}
			if v.claims["aud"] != tc.aud {
				t.Errorf("aud = %#v, want %q", v.claims["aud"], tc.aud)
			}
			if m.ClientID() != tc.clientID || m.Audience() != tc.aud || m.Profile() != tc.profile {
				t.Errorf("accessors = %q, %q, %v", m.ClientID(), m.Audience(), m.Profile())
			}
		})
	}
}

func TestAssertionLifetimeAndNotBefore(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.P256A, jwks.ES256)
	for _, tc := range []struct {
		name      string
		lifetime  time.Duration
		allowLong bool
		notBefore bool
		wantExp   int64 // seconds after iat
	}{
		{"default", 0, false, false, 300},
		{"short", 30 * time.Second, false, false, 30},
		{"exactly five minutes", 5 * time.Minute, false, true, 300},
		{"fraction dropped", 90*time.Second + 900*time.Millisecond, false, false, 90},
		{"long with option", 30 * time.Minute, true, false, 1800},
		{"one hour with option", time.Hour, true, true, 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := assertion.NewMinter(key, assertion.Config{ClientID: testClientID, Audience: testIssuer, Lifetime: tc.lifetime, AllowLongLifetime: tc.allowLong, NotBefore: tc.notBefore, Now: fixedClock})
			if err != nil {
				t.Fatalf("NewMinter(lifetime %v) error = %v", tc.lifetime, err)
			}
			tok, err := m.Assertion(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			v := verifyToken(t, tok, key)
			iat := v.num(t, "iat")
			if got := v.num(t, "exp") - iat; got != tc.wantExp {
				t.Errorf("exp - iat = %d, want %d", got, tc.wantExp)
			}
			_, hasNbf := v.claims["nbf"]
			if hasNbf != tc.notBefore {
				t.Fatalf("nbf present = %v, want %v", hasNbf, tc.notBefore)
			}
			if hasNbf && v.num(t, "nbf") != iat {
				t.Errorf("nbf = %d, want iat %d", v.num(t, "nbf"), iat)
			}
		})
	}
}

func TestNewMinterErrors(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.P256A, jwks.ES256)
	good := assertion.Config{ClientID: testClientID, Audience: testIssuer}
	with := func(f func(*assertion.Config)) assertion.Config { c := good; f(&c); return c }
	for _, tc := range []struct {
		name    string
		keys    jwks.KeySource
		cfg     assertion.Config
		wantErr []error
	}{
		{"zero config", key, assertion.Config{}, []error{assertion.ErrMissingClientIDForTest, assertion.ErrMissingAudienceForTest}},
		{"nil key source", nil, good, []error{assertion.ErrNoKeySourceForTest}},
		{"nil *jwks.Key", (*jwks.Key)(nil), good, []error{assertion.ErrNoKeySourceForTest}},
		{"missing client id", key, with(func(c *assertion.Config) { c.ClientID = "" }), []error{assertion.ErrMissingClientIDForTest}},
		{"client id with newline", key, with(func(c *assertion.Config) { c.ClientID = testClientID + "\n" }), []error{assertion.ErrInvalidClientIDForTest}},
		{"client id with leading space", key, with(func(c *assertion.Config) { c.ClientID = " " + testClientID }), []error{assertion.ErrInvalidClientIDForTest}},
		{"client id invalid utf-8", key, with(func(c *assertion.Config) { c.ClientID = "a\xffb" }), []error{assertion.ErrInvalidClientIDForTest}},
		{"client id with NUL", key, with(func(c *assertion.Config) { c.ClientID = "a\x00b" }), []error{assertion.ErrInvalidClientIDForTest}},
		{"missing audience", key, with(func(c *assertion.Config) { c.Audience = "" }), []error{assertion.ErrMissingAudienceForTest}},
		{"missing audience legacy", key, with(func(c *assertion.Config) { c.Audience = ""; c.Profile = assertion.ProfileLegacy }), []error{assertion.ErrMissingAudienceForTest}},
		{"audience not a URL", key, with(func(c *assertion.Config) { c.Audience = "server.example.com" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience relative", key, with(func(c *assertion.Config) { c.Audience = "/oauth2/token" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience other scheme", key, with(func(c *assertion.Config) { c.Audience = "ftp://server.example.com" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience opaque", key, with(func(c *assertion.Config) { c.Audience = "https:server.example.com" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience no host", key, with(func(c *assertion.Config) { c.Audience = "https:///path" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience with fragment", key, with(func(c *assertion.Config) { c.Audience = testIssuer + "#x" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience with empty fragment", key, with(func(c *assertion.Config) { c.Audience = testIssuer + "#" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience with user info", key, with(func(c *assertion.Config) { c.Audience = "https://u:p@server.example.com" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience with trailing newline", key, with(func(c *assertion.Config) { c.Audience = testIssuer + "\n" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"audience with inner space", key, with(func(c *assertion.Config) { c.Audience = testIssuer + "/a b" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"issuer audience with query", key, with(func(c *assertion.Config) { c.Audience = testIssuer + "?tenant=a" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"issuer audience with empty query", key, with(func(c *assertion.Config) { c.Audience = testIssuer + "?" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"legacy audience not a URL", key, with(func(c *assertion.Config) { c.Profile = assertion.ProfileLegacy; c.Audience = "token" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"legacy audience with fragment", key, with(func(c *assertion.Config) { c.Profile = assertion.ProfileLegacy; c.Audience = testTokenURL + "#f" }), []error{assertion.ErrInvalidAudienceForTest}},
		{"undefined profile", key, with(func(c *assertion.Config) { c.Profile = 7 }), []error{assertion.ErrInvalidProfileForTest}},
		{"negative profile", key, with(func(c *assertion.Config) { c.Profile = -1 }), []error{assertion.ErrInvalidProfileForTest}},
		{"negative lifetime", key, with(func(c *assertion.Config) { c.Lifetime = -time.Minute }), []error{assertion.ErrInvalidLifetimeForTest}},
		{"sub-second lifetime", key, with(func(c *assertion.Config) { c.Lifetime = 999 * time.Millisecond }), []error{assertion.ErrInvalidLifetimeForTest}},
		{"one nanosecond", key, with(func(c *assertion.Config) { c.Lifetime = 1 }), []error{assertion.ErrInvalidLifetimeForTest}},
		{"over five minutes without option", key, with(func(c *assertion.Config) { c.Lifetime = 5*time.Minute + time.Second }), []error{assertion.ErrLifetimeTooLongForTest}},
		{"over one hour without option", key, with(func(c *assertion.Config) { c.Lifetime = 2 * time.Hour }), []error{assertion.ErrLifetimeTooLongForTest}},
		{"over one hour with option", key, with(func(c *assertion.Config) { c.Lifetime = time.Hour + time.Second; c.AllowLongLifetime = true }), []error{assertion.ErrLifetimeTooLongForTest}},
		{"certificate with default profile", key, with(func(c *assertion.Config) { c.Certificate = selfSigned(t, testkeys.P256A) }), []error{assertion.ErrCertificateForTest}},
		{"certificate of another key", key, with(func(c *assertion.Config) {
			c.Profile, c.Audience, c.Certificate = assertion.ProfileLegacy, testTokenURL, selfSigned(t, testkeys.P256B)
		}), []error{assertion.ErrCertificateForTest}},
		{"certificate without DER", key, with(func(c *assertion.Config) {
			cert := *selfSigned(t, testkeys.P256A)
			cert.Raw = nil
			c.Profile, c.Audience, c.Certificate = assertion.ProfileLegacy, testTokenURL, &cert
		}), []error{assertion.ErrCertificateForTest}},
		{"everything wrong at once", nil, assertion.Config{ClientID: "\t", Audience: "x", Lifetime: -1, Profile: 9}, []error{
			assertion.ErrNoKeySourceForTest, assertion.ErrInvalidClientIDForTest, assertion.ErrInvalidProfileForTest, assertion.ErrInvalidLifetimeForTest,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := assertion.NewMinter(tc.keys, tc.cfg)
			if err == nil {
				t.Fatalf("NewMinter(%q) = %v, want an error", tc.name, m)
			}
			if m != nil {
				t.Errorf("NewMinter(%q) returned a Minter with an error", tc.name)
			}
			for _, want := range append([]error{assertion.ErrInvalidConfig}, tc.wantErr...) {
				if !errors.Is(err, want) {
					t.Errorf("NewMinter(%q) error = %v, want %v", tc.name, err, want)
				}
			}
			if !strings.HasPrefix(err.Error(), "assertion: ") {
				t.Errorf("NewMinter(%q) error %q lacks the package prefix", tc.name, err)
			}
		})
	}
}

func TestNewMinterAcceptsLoopbackAndLongLifetime(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.Ed25519A, jwks.EdDSA)
	for _, cfg := range []assertion.Config{
		{ClientID: "c", Audience: "http://127.0.0.1:5556"},
		{ClientID: "c", Audience: "http://[::1]:5556/dex"},
		{ClientID: "c", Audience: testIssuer, Lifetime: time.Hour, AllowLongLifetime: true},
		{ClientID: "c", Audience: testTokenURL, Profile: assertion.ProfileLegacy, Certificate: selfSigned(t, testkeys.Ed25519A)},
	} {
		if _, err := assertion.NewMinter(key, cfg); err != nil {
			t.Errorf("NewMinter(%+v) error = %v", cfg, err)
		}
	}
}

// TestAssertionFreshJTI mints 100,000 assertions from parallel goroutines and
// requires every jti to be new.
func TestAssertionFreshJTI(t *testing.T) {
	t.Parallel()
	n := 100_000
	key := newKey(t, testkeys.P256A, jwks.ES256)
	m, err := assertion.NewMinter(key, assertion.Config{ClientID: testClientID, Audience: testIssuer, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 8
	jtis := make([][]string, workers)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			out := make([]string, 0, n/workers)
			for range n / workers {
				tok, err := m.Assertion(t.Context())
				if err != nil {
					errs <- err
					return
				}
				// The jti is the last claim: `…,"jti":"<36 characters>"}`.
				// Slicing keeps the test fast under the race detector;
				// TestAssertionVerifiesEveryAlgorithmAndProfile checks the
				// claims properly.
				parts := strings.SplitN(tok, ".", 3)
				payload, err := base64.RawURLEncoding.DecodeString(parts[1])
				if err != nil {
					errs <- err
					return
				}
				const tail = len(`,"jti":"`) + 36 + len(`"}`)
				if len(payload) < tail || string(payload[len(payload)-tail:][:8]) != `,"jti":"` {
					errs <- fmt.Errorf("payload does not end with the jti")
					return
				}
				c := struct{ JTI string }{string(payload[len(payload)-tail+8 : len(payload)-2])}
				out = append(out, c.JTI)
			}
			jtis[w] = out
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Assertion() error = %v", err)
	}
	seen := make(map[string]struct{}, n)
	for _, out := range jtis {
		for _, j := range out {
			if _, dup := seen[j]; dup {
				t.Fatalf("jti %q repeated", j)
			}
			if len(j) != 36 {
				t.Fatalf("jti %q is not a UUID", j)
			}
			seen[j] = struct{}{}
		}
	}
	if len(seen) != n {
		t.Fatalf("got %d distinct jti, want %d", len(seen), n)
	}
}

// TestAssertionFollowsKeyRotation checks that the header cache never serves a
// previous key's kid or alg after the source changes key.
func TestAssertionFollowsKeyRotation(t *testing.T) {
	t.Parallel()
	k1 := newKey(t, testkeys.P256A, jwks.ES256)
	k2 := newKey(t, testkeys.RSA2048A, jwks.PS256)
	src := &swapSource{}
	src.key.Store(k1)
	m, err := assertion.NewMinter(src, assertion.Config{ClientID: testClientID, Audience: testIssuer, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range []*jwks.Key{k1, k1, k2, k2, k1} {
		src.key.Store(k)
		tok, err := m.Assertion(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		v := verifyToken(t, tok, k)
		if got := v.headerString(t, "kid"); got != k.KeyID() {
			t.Errorf("call %d: kid = %q, want %q", i, got, k.KeyID())
		}
	}
}

func TestAssertionKeySourceErrors(t *testing.T) {
	t.Parallel()
	errNoActive := errors.New("jwks: no active key")
	m, err := assertion.NewMinter(&swapSource{err: errNoActive}, assertion.Config{ClientID: testClientID, Audience: testIssuer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Assertion(t.Context()); !errors.Is(err, errNoActive) {
		t.Errorf("Assertion() error = %v, want %v", err, errNoActive)
	}
	m, err = assertion.NewMinter(&swapSource{}, assertion.Config{ClientID: testClientID, Audience: testIssuer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Assertion(t.Context()); !errors.Is(err, jwks.ErrNoKey) {
		t.Errorf("Assertion() with a nil key error = %v, want %v", err, jwks.ErrNoKey)
	}
}

// TestLegacyCertificateCheckedAfterRotation: the x5t#S256 header must never
// point at a certificate of another key, even after the source rotates.
func TestLegacyCertificateCheckedAfterRotation(t *testing.T) {
	t.Parallel()
	k1 := newKey(t, testkeys.RSA2048A, jwks.RS256)
	k2 := newKey(t, testkeys.RSA2048B, jwks.RS256)
	src := &swapSource{}
	src.key.Store(k1)
	m, err := assertion.NewMinter(src, assertion.Config{ClientID: testClientID, Audience: testTokenURL, Profile: assertion.ProfileLegacy, Certificate: selfSigned(t, testkeys.RSA2048A)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Assertion(t.Context()); err != nil {
		t.Fatalf("Assertion() with the certificate's key error = %v", err)
	}
	src.key.Store(k2)
	if _, err := m.Assertion(t.Context()); !errors.Is(err, assertion.ErrInvalidConfig) || !errors.Is(err, assertion.ErrCertificateForTest) {
		t.Errorf("Assertion() after rotation error = %v, want %v and %v", err, assertion.ErrInvalidConfig, assertion.ErrCertificateForTest)
	}
	// A source that cannot yield a key at construction is checked at use.
	src2 := &swapSource{err: errors.New("not yet")}
	if _, err := assertion.NewMinter(src2, assertion.Config{ClientID: testClientID, Audience: testTokenURL, Profile: assertion.ProfileLegacy, Certificate: selfSigned(t, testkeys.RSA2048A)}); err != nil {
		t.Errorf("NewMinter() with a source not ready error = %v", err)
	}
}

func TestAssertionContextAndSignerErrors(t *testing.T) {
	t.Parallel()
	fs := &failingSigner{Signer: testkeys.Signer(testkeys.P256A)}
	key, err := jwks.NewKey(t.Context(), fs, jwks.KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := assertion.NewMinter(key, assertion.Config{ClientID: testClientID, Audience: testIssuer, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	good, err := m.Assertion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Assertion(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Assertion(canceled) error = %v, want %v", err, context.Canceled)
	}
	fs.fail.Store(true)
	_, err = m.Assertion(t.Context())
	if !errors.Is(err, assertion.ErrSign) {
		t.Fatalf("Assertion() with a failing signer error = %v, want %v", err, assertion.ErrSign)
	}
	// The error names the key but carries nothing of the signing input.
	header := good[:strings.IndexByte(good, '.')]
	if strings.Contains(err.Error(), header) || strings.Contains(err.Error(), "eyJ") {
		t.Errorf("Assertion() error leaks token material: %v", err)
	}
}

// secretSource is a KeySource whose own formatting would leak a secret; the
// Minter must never format it.
type secretSource struct {
	key    *jwks.Key
	secret string
}

func (s *secretSource) SigningKey() (*jwks.Key, error) { return s.key, nil }

func TestMinterRedaction(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.RSA2048A, jwks.RS256)
	pemBytes, err := key.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	const secret = "SECRET-KEY-MATERIAL-0123456789"
	src := &secretSource{key: key, secret: secret}
	m, err := assertion.NewMinter(src, assertion.Config{ClientID: testClientID, Audience: testIssuer})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := assertion.NewTokenMinter(src, assertion.TokenConfig{Issuer: "iss", Audience: []string{"aud"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Assertion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{m, tm} {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "%v %+v %#v %s %q", v, v, v, v, v)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("minter", "m", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("minter", "m", v)
		out := buf.String()
		for _, leak := range []string{secret, string(pemBytes[40:80]), tok[:20]} {
			if strings.Contains(out, leak) {
				t.Errorf("formatting %T leaks %q in %s", v, leak, out)
			}
		}
		if !strings.Contains(out, "aud") {
			t.Errorf("formatting %T says nothing useful: %s", v, out)
		}
	}
	var nilM *assertion.Minter
	if got := fmt.Sprint(nilM); got != "assertion.Minter(nil)" {
		t.Errorf("nil Minter formats as %q", got)
	}
}

func TestProfileName(t *testing.T) {
	t.Parallel()
	for p, want := range map[assertion.Profile]string{
		assertion.ProfileRFC10070: "rfc10070",
		assertion.ProfileLegacy:   "legacy",
		5:                         "Profile(5)",
	} {
		if got := assertion.ProfileName(p); got != want {
			t.Errorf("ProfileName(%d) = %q, want %q", int(p), got, want)
		}
	}
	var zero assertion.Profile
	if zero != assertion.ProfileRFC10070 {
		t.Error("the zero Profile is not ProfileRFC10070")
	}
}

var _ assertion.Source = (*assertion.Minter)(nil)

// TestNewMinterKeepsNoCertificateReference: changing the caller's
// certificate after NewMinter must not change the thumbprint sent.
func TestNewMinterKeepsNoCertificateReference(t *testing.T) {
	t.Parallel()
	key := newKey(t, testkeys.Ed25519A, jwks.EdDSA)
	cert := selfSigned(t, testkeys.Ed25519A)
	sum := sha256.Sum256(cert.Raw)
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	m, err := assertion.NewMinter(key, assertion.Config{ClientID: testClientID, Audience: testTokenURL, Profile: assertion.ProfileLegacy, Certificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	other := selfSigned(t, testkeys.Ed25519B)
	cert.Raw, cert.PublicKey = other.Raw, other.PublicKey
	tok, err := m.Assertion(t.Context())
	if err != nil {
		t.Fatalf("Assertion() after the caller changed its certificate error = %v", err)
	}
	if got := verifyToken(t, tok, key).headerString(t, "x5t#S256"); got != want {
		t.Errorf("x5t#S256 = %q, want the thumbprint at construction %q", got, want)
	}
}

// kmsSigner is a jwks.ContextSigner whose remote call can time out on its
// own deadline.
type kmsSigner struct {
	failingSigner
}

func (k *kmsSigner) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if k.fail.Load() {
		return nil, fmt.Errorf("kms: %w", context.DeadlineExceeded)
	}
	return k.Signer.Sign(rand.Reader, digest, opts)
}

func TestAssertionContextSignerTimeout(t *testing.T) {
	t.Parallel()
	ks := &kmsSigner{failingSigner{Signer: testkeys.Signer(testkeys.P384)}}
	key, err := jwks.NewKey(t.Context(), ks, jwks.KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := assertion.NewMinter(key, assertion.Config{ClientID: testClientID, Audience: testIssuer})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Assertion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	verifyToken(t, tok, key)
	ks.fail.Store(true)
	if _, err := m.Assertion(t.Context()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Assertion() with a timed-out KMS error = %v, want %v", err, context.DeadlineExceeded)
	}
}
