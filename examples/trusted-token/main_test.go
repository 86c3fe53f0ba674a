package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider/providertest"

	"github.com/pkjwt/pkjwt/internal/cli"
)

// testKeyEnv puts a pre-generated key in an environment variable. It uses
// t.Setenv: tests calling it are not parallel.
func testKeyEnv(t *testing.T) *jwks.Key {
	t.Helper()
	pemBytes := testkeys.PEM(testkeys.RSA2048B)
	t.Setenv("PKJWT_TT_KEY", base64.StdEncoding.EncodeToString(pemBytes))
	k, err := jwks.ParsePEM(pemBytes, jwks.KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// trustedClaims returns the claims printed on the "trusted token:" line.
func trustedClaims(t *testing.T, out string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "trusted token: "); ok {
			js, _, _ := strings.Cut(rest, " (")
			var m map[string]any
			if err := json.Unmarshal([]byte(js), &m); err != nil {
				t.Fatalf("trusted token claims %q: %v", js, err)
			}
			return m
		}
	}
	t.Fatalf("no trusted token line in:\n%s", out)
	return nil
}

// TestEmbedded runs the program as the README does, against the embedded
// provider.
func TestEmbedded(t *testing.T) {
	testKeyEnv(t)
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-key-env", "PKJWT_TT_KEY", "-email", "ann@example.com", "-roles", "admin, viewer"}, &stdout, &stderr); err != nil {
		t.Fatalf("run() error = %v\nstdout:\n%s", err, stdout.String())
	}
	out := stdout.String()
	c := trustedClaims(t, out)
	if c["email"] != "ann@example.com" || c["sub"] != "ann@example.com" || c["iss"] != embeddedClientID {
		t.Errorf("claims = %v, want email and sub ann@example.com, iss %s", c, embeddedClientID)
	}
	if roles, _ := c["roles"].([]any); len(roles) != 2 || roles[0] != "admin" || roles[1] != "viewer" {
		t.Errorf("roles = %v, want [admin viewer]", c["roles"])
	}
	if jti, _ := c["jti"].(string); !strings.HasPrefix(jti, "tt-") {
		t.Errorf("jti = %v, want a random tt-… ID", c["jti"])
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 300 {
		t.Errorf("exp - iat = %v s, want 300", exp-iat)
	}
	if !strings.Contains(out, "session token: type Bearer, expires ") || !strings.Contains(out, "[redacted opaque, ") {
		t.Errorf("stdout lacks the redacted session token:\n%s", out)
	}
	if strings.Contains(out, "eyJ") {
		t.Errorf("stdout holds a JWT:\n%s", out)
	}
}

// TestFlags runs against a provider the program did not start, with the
// flags a user gives for a real one, and shows that a token ID is single use.
func TestFlags(t *testing.T) {
	key := testKeyEnv(t)
	op := providertest.New(t, providertest.Config{})
	if err := op.RegisterClient(providertest.Client{
		ID:         "my-app",
		JWKS:       jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testkeys.PublicJWK(key)}},
		GrantTypes: []string{providertest.GrantJWTBearer},
	}); err != nil {
		t.Fatal(err)
	}
	args := []string{"-issuer", op.Issuer(), "-client-id", "my-app", "-key-env", "PKJWT_TT_KEY", "-token-id", "order-4711"}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run(%q) error = %v", args, err)
	}
	c := trustedClaims(t, stdout.String())
	if c["jti"] != "order-4711" || c["aud"] != op.Issuer() || c["iss"] != "my-app" {
		t.Errorf("claims = %v, want jti order-4711, aud the issuer, iss my-app", c)
	}
	if !strings.Contains(stdout.String(), "session token: type Bearer") {
		t.Errorf("stdout lacks the session token:\n%s", stdout.String())
	}

	// The same token ID again is a replay: the provider refuses the grant.
	stdout.Reset()
	err := run(t.Context(), args, &stdout, &stderr)
	if !errors.Is(err, exchange.ErrInvalidGrant) {
		t.Fatalf("second run with the same -token-id: error = %v, want exchange.ErrInvalidGrant", err)
	}
	if !strings.Contains(err.Error(), "new -token-id") {
		t.Errorf("error %q does not say what to do", err)
	}

	// A client without the grant enabled gets a hint to enable it.
	if err := op.RegisterClient(providertest.Client{
		ID:   "no-grant",
		JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testkeys.PublicJWK(key)}},
	}); err != nil {
		t.Fatal(err)
	}
	err = run(t.Context(), []string{"-issuer", op.Issuer(), "-client-id", "no-grant", "-key-env", "PKJWT_TT_KEY"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "jwt-bearer") {
		t.Errorf("run(client without the grant) error = %v, want a hint to enable the JWT bearer grant", err)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) error = %v, want flag.ErrHelp", err)
	}
	for _, args := range [][]string{
		{"-issuer", "https://op.example"},
		{"-issuer", "https://op.example", "-client-id", "x"},
		{"-key-env", "A", "-key-file", "b"},
		{"-email", ""},
		{"extra"},
	} {
		if err := run(t.Context(), args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) error = nil, want an error", args)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"abc", "[redacted opaque, 3 characters]"},
		{"eyJhbGciOi.eyJzdWIi.c2ln", "[redacted JWT, 24 characters]"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFlagErrors: bad values are refused in the flags' terms before a key is
// generated or a provider started (not as WithSubject, WithJTI or
// WithScopes, and not with a hint to "check the provider's logs"), and a
// flag error the flag package printed is not printed again.
func TestFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-sub", " x"}, `-sub " x" starts or ends with white space`},
		{[]string{"-token-id", " "}, `-token-id " " starts or ends with white space`},
		{[]string{"-token-iss", "a\x00"}, "-token-iss"},
		{[]string{"-email", "a@b\n"}, "-email"},
		{[]string{"-scopes", `openid a"b`}, `-scopes: "a\"b" is not a scope`},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) error = %v, want one saying %q", tc.args, err, tc.want)
			continue
		}
		for _, bad := range []string{"With", "assertion:", "exchange:", "provider's logs"} {
			if strings.Contains(err.Error(), bad) {
				t.Errorf("run(%q) error = %v, want no %q", tc.args, err, bad)
			}
		}
		if stdout.Len() != 0 || stderr.Len() != 0 {
			t.Errorf("run(%q) did work before refusing: stdout %q, stderr %q", tc.args, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-bogus"}, &stdout, &stderr)
	if code := cli.ExitCode("trusted-token", err, &stderr); code != 2 || strings.Count(stderr.String(), "-bogus") != 1 {
		t.Errorf("run(-bogus): exit %d, stderr names -bogus %d times; want 2 and once", code, strings.Count(stderr.String(), "-bogus"))
	}
}

// TestHint: a hint only where it is right; an error nothing more can be
// said about gets none.
func TestHint(t *testing.T) {
	t.Parallel()
	if h := hint(&exchange.TokenError{StatusCode: 400, Code: "odd"}, &config{}); h != "" {
		t.Errorf("hint(unknown code) = %q, want none", h)
	}
	if h := hint(&exchange.TokenError{StatusCode: 401, Code: "invalid_client"}, &config{legacyAudience: true}); !strings.Contains(h, "drop -legacy-aud") {
		t.Errorf("hint(invalid_client with -legacy-aud) = %q, want it to suggest dropping -legacy-aud", h)
	}
	if h := hint(&exchange.TokenError{StatusCode: 401, Code: "invalid_client"}, &config{}); !strings.Contains(h, "try -legacy-aud") {
		t.Errorf("hint(invalid_client) = %q, want it to suggest -legacy-aud", h)
	}
}

// TestEmptyRoles: an empty -roles is an empty list in the token, not null.
func TestEmptyRoles(t *testing.T) {
	testKeyEnv(t)
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-key-env", "PKJWT_TT_KEY", "-roles", ""}, &stdout, &stderr); err != nil {
		t.Fatalf("run(-roles '') error = %v", err)
	}
	if !strings.Contains(stdout.String(), `"roles":[]`) {
		t.Errorf("stdout lacks an empty roles list:\n%s", stdout.String())
	}
}
