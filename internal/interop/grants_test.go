package interop_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/exchange"
	"github.com/pkjwt/pkjwt/jwks"
	"github.com/pkjwt/pkjwt/provider"
)

// TestInteropLogin runs the whole login through exchange at the strict
// provider (audience = issuer as a single string, typ
// client-authentication+jwt) with an RSA, an EC and an Ed25519 client key:
// discovery with the private_key_jwt pre-flight, authorization with PKCE,
// the callback with state and iss checked, the code exchange with a fresh
// assertion, and the ID token verified.
func TestInteropLogin(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, id := range []string{clientLoginRS256, clientLoginES256, clientLoginEdDSA} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			key, err := staticKey(id)
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, strictOP, id, key, assertion.ProfileRFC10070)
			res, err := loginWith(t.Context(), c)
			if err != nil {
				t.Fatalf("login(%s): %v", id, err)
			}
			if res.Token.AccessToken == "" || res.Token.RefreshToken == "" {
				t.Errorf("login(%s): access or refresh token missing", id)
			}
			if raw, _ := res.Token.Extra("id_token").(string); raw == "" {
				t.Errorf("login(%s): Token.Extra(\"id_token\") empty", id)
			}
			if res.IDToken.Issuer != env.issuer(strictOP) || res.IDToken.Subject != subject || !slices.Contains(res.IDToken.Audience, id) {
				t.Errorf("login(%s): id token iss/sub/aud = %s/%s/%q, want %s/%s/[%s]", id,
					res.IDToken.Issuer, res.IDToken.Subject, res.IDToken.Audience, env.issuer(strictOP), subject, id)
			}
		})
	}
}

// TestInteropLoginReplayedCallbackRefused replays a callback: the code was
// redeemed once, so the provider refuses it the second time, and the
// library reports invalid_grant.
func TestInteropLoginReplayedCallbackRefused(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientCodeReplay)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, lenientOP, clientCodeReplay, key, assertion.ProfileRFC10070)
	mark := env.refusalMark(t, lenientOP, clientCodeReplay)
	authURL, tx, err := c.AuthCodeURL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cb, err := authorize(t.Context(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Callback(t.Context(), tx, cb.Query()); err != nil {
		t.Fatalf("first callback: %v", err)
	}
	if _, err := c.Callback(t.Context(), tx, cb.Query()); !errors.Is(err, exchange.ErrInvalidGrant) {
		t.Fatalf("second callback: error = %v, want invalid_grant", err)
	}
	refs := env.refusalsSince(t, lenientOP, clientCodeReplay, mark)
	if len(refs) != 1 || refs[0].Error != "invalid_grant" || refs[0].GrantType != "authorization_code" {
		t.Errorf("provider refusals for %s = %+v, want one invalid_grant", clientCodeReplay, refs)
	}
}

// TestInteropRefresh logs in through exchange and refreshes twice through
// its RefreshTokenSource, each refresh with a fresh assertion; the refreshed
// ID tokens are verified and checked against the original (OIDC Core §12.2),
// although oidc-provider repeats the login's nonce in them.
func TestInteropRefresh(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientRefresh)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, strictOP, clientRefresh, key, assertion.ProfileRFC10070)
	res, err := loginWith(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	tok, id := res.Token, res.IDToken
	seen := map[string]bool{tok.AccessToken: true}
	for i := range 2 {
		ts := c.RefreshTokenSource(expired(tok), res.IDToken)
		next, err := ts.TokenContext(t.Context())
		if err != nil {
			t.Fatalf("refresh #%d: %v", i+1, err)
		}
		if next.AccessToken == "" || seen[next.AccessToken] {
			t.Fatalf("refresh #%d: no new access token", i+1)
		}
		seen[next.AccessToken] = true
		if next.RefreshToken == "" {
			t.Fatalf("refresh #%d: refresh token lost", i+1)
		}
		nid := ts.IDToken()
		if nid == nil || nid == id {
			t.Fatalf("refresh #%d: no refreshed ID token", i+1)
		}
		if nid.Subject != subject {
			t.Errorf("refresh #%d: id token sub = %q, want %q", i+1, nid.Subject, subject)
		}
		tok, id = next, nid
	}
}

// TestInteropClientCredentials fetches client-credentials tokens through
// exchange: a TokenSource reuses a valid token, and concurrent fetches each
// carry their own assertion. None may be refused (the final refusal check
// in TestMain enforces that for every client not meant to be refused).
func TestInteropClientCredentials(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientCredentials)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, strictOP, clientCredentials, key, assertion.ProfileRFC10070)

	ts := c.ClientCredentialsTokenSource()
	first, err := ts.TokenContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	again, err := ts.TokenContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if first.AccessToken == "" || again.AccessToken != first.AccessToken {
		t.Error("TokenSource did not reuse the valid token")
	}

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	tokens := make([]string, n)
	for i := range n {
		wg.Go(func() {
			tok, err := c.ClientCredentials(t.Context())
			if err != nil {
				errs[i] = err
				return
			}
			tokens[i] = tok.AccessToken
		})
	}
	wg.Wait()
	seen := map[string]bool{first.AccessToken: true}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("concurrent ClientCredentials %d: %v", i, errs[i])
			continue
		}
		if seen[tokens[i]] {
			t.Errorf("concurrent ClientCredentials %d: access token repeated", i)
		}
		seen[tokens[i]] = true
	}
}

// TestInteropLegacyAudience uses exchange with assertion.ProfileLegacy (aud
// = token endpoint URL, typ JWT): the lenient provider accepts it, the
// strict one refuses it for its audience, and the library reports
// invalid_client.
func TestInteropLegacyAudience(t *testing.T) {
	needInterop(t)
	t.Parallel()
	key, err := staticKey(clientLegacy)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		op         string
		wantRefuse bool
	}{
		{lenientOP, false},
		{strictOP, true},
	} {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, tc.op, clientLegacy, key, assertion.ProfileLegacy)
			mark := env.refusalMark(t, tc.op, clientLegacy)
			_, err := c.ClientCredentials(t.Context())
			if !tc.wantRefuse {
				if err != nil {
					t.Fatalf("legacy assertion at %s: %v", tc.op, err)
				}
				return
			}
			if !isInvalidClient(err) {
				t.Fatalf("legacy assertion at %s: error = %v, want 401 invalid_client", tc.op, err)
			}
			refs := env.refusalsSince(t, tc.op, clientLegacy, mark)
			if len(refs) != 1 || refs[0].Error != "invalid_client" || !strings.Contains(refs[0].Detail, "audience") {
				t.Errorf("provider refusals for %s = %+v, want one invalid_client for the audience", clientLegacy, refs)
			}
		})
	}
}

// TestInteropPreflightRefusesUnadvertisedAlgorithm: oidc-provider's default
// token_endpoint_auth_signing_alg_values_supported lacks ES384, and it
// refuses such assertions (see TestInteropAssertionRules, "ES384 key").
// The library finds out at discovery, before any assertion is sent.
func TestInteropPreflightRefusesUnadvertisedAlgorithm(t *testing.T) {
	needInterop(t)
	t.Parallel()
	_, err := provider.Discover(t.Context(), env.issuer(strictOP), provider.Config{ClientAuthAlgorithm: jwks.ES384})
	var cae *provider.ClientAuthError
	if !errors.Is(err, provider.ErrPrivateKeyJWTUnsupported) || !errors.As(err, &cae) || cae.Algorithm != jwks.ES384 {
		t.Fatalf("Discover with ClientAuthAlgorithm ES384: error = %v, want a *provider.ClientAuthError for ES384", err)
	}
}
