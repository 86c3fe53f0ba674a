package interop_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/pkjwt/pkjwt/assertion"
	"github.com/pkjwt/pkjwt/internal/testkeys"
	"github.com/pkjwt/pkjwt/jwks"
)

// These tests prove the server side of the relying-party features of the
// baseline instances (strict and lenient): discovery, userinfo,
// introspection, revocation, RP-initiated and back-channel logout, and the
// JWT bearer and token exchange grants of server.mjs. They speak raw HTTP,
// with client assertions from the assertion package.

// endpoint returns the named member of op's discovery document, which must
// be a URL under the issuer.
func endpoint(t *testing.T, op, name string) string {
	t.Helper()
	doc, err := discoveryDocument(t.Context(), op)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := doc[name].(string)
	if !strings.HasPrefix(u, env.issuer(op)+"/") {
		t.Fatalf("%s discovery: %s = %q, want a URL under %s", op, name, u, env.issuer(op))
	}
	return u
}

// stringList returns the discovery member name as a string list.
func stringList(doc map[string]any, name string) []string {
	raw, _ := doc[name].([]any)
	var out []string
	for _, v := range raw {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// newExtraRP returns a raw relying party for a client of extraClients at op,
// with RFC 10070 client assertions (aud = issuer, typ
// client-authentication+jwt).
func newExtraRP(t *testing.T, op, clientID string) *rp {
	t.Helper()
	key, err := extraKey(clientID)
	if err != nil {
		t.Fatal(err)
	}
	return newRP(t, op, clientID, key, assertion.ProfileRFC10070)
}

// grantAssertion mints a JWT bearer grant assertion for r's client: iss =
// client_id, sub = the interop user, aud = the issuer, signed with the
// client's key, unless cfg or opts say otherwise.
func grantAssertion(t *testing.T, r *rp, key jwks.KeySource, edit func(*assertion.TokenConfig), opts ...assertion.Option) string {
	t.Helper()
	cfg := assertion.TokenConfig{Issuer: r.oauth.ClientID, Subject: subject, Audience: []string{r.md.Issuer}}
	if edit != nil {
		edit(&cfg)
	}
	m, err := assertion.NewTokenMinter(key, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Mint(t.Context(), nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tokenRequest POSTs form with client_id and a fresh client assertion to
// r's token endpoint.
func (r *rp) tokenRequest(ctx context.Context, form url.Values) (*rawResponse, error) {
	f, err := r.withClientAuth(ctx, form)
	if err != nil {
		return nil, err
	}
	return postForm(ctx, r.md.TokenEndpoint, f, nil)
}

// jwtBearerToken redeems a fresh grant assertion of r's client for an
// access token, and fails the test unless that succeeds.
func jwtBearerToken(t *testing.T, r *rp) string {
	t.Helper()
	key, err := extraKey(r.oauth.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.tokenRequest(t.Context(), url.Values{"grant_type": {grantJWTBearer}, "assertion": {grantAssertion(t, r, key, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.str("access_token") == "" {
		t.Fatalf("jwt-bearer grant: status %d: %s", resp.Status, resp.Body)
	}
	return resp.str("access_token")
}

// introspect asks op's introspection endpoint about token as r's client.
func introspect(t *testing.T, r *rp, token string) map[string]any {
	t.Helper()
	f, err := r.withClientAuth(t.Context(), url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := postForm(t.Context(), endpoint(t, r.op, "introspection_endpoint"), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.json() == nil {
		t.Fatalf("introspection: status %d: %s", resp.Status, resp.Body)
	}
	return resp.json()
}

// userinfoSub calls op's userinfo endpoint with a bearer token and returns
// the sub of its JSON answer.
func userinfoSub(t *testing.T, op, token string) string {
	t.Helper()
	resp, err := bearerGet(t.Context(), endpoint(t, op, "userinfo_endpoint"), "Bearer", token, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.Status != 200 || mt != "application/json" {
		t.Fatalf("userinfo: status %d, content type %q: %s", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
	}
	return resp.str("sub")
}

// verifyProviderJWT checks a JWT the provider signed (a signed userinfo
// response, a logout token) against its jwks_uri and returns the claims.
func verifyProviderJWT(t *testing.T, op, raw string, algs ...jose.SignatureAlgorithm) map[string]any {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := getJSON(t.Context(), endpoint(t, op, "jwks_uri"), &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		t.Fatalf("provider JWT: %v", err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("provider JWT: kid %q not in the provider's set", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("provider JWT: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestInteropServerRPDiscovery checks that both baseline instances announce
// the RP features and the extension grants.
func TestInteropServerRPDiscovery(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			for _, name := range []string{"introspection_endpoint", "revocation_endpoint", "end_session_endpoint", "userinfo_endpoint"} {
				endpoint(t, op, name)
			}
			doc, err := discoveryDocument(t.Context(), op)
			if err != nil {
				t.Fatal(err)
			}
			if doc["backchannel_logout_supported"] != true || doc["backchannel_logout_session_supported"] != true {
				t.Errorf("backchannel_logout_supported/session_supported = %v/%v, want true/true",
					doc["backchannel_logout_supported"], doc["backchannel_logout_session_supported"])
			}
			grants := stringList(doc, "grant_types_supported")
			for _, g := range []string{"authorization_code", "refresh_token", "client_credentials", grantJWTBearer, grantTokenExchange} {
				if !slices.Contains(grants, g) {
					t.Errorf("grant_types_supported = %q, missing %s", grants, g)
				}
			}
			if algs := stringList(doc, "userinfo_signing_alg_values_supported"); !slices.Contains(algs, "ES256") {
				t.Errorf("userinfo_signing_alg_values_supported = %q, want ES256 in it", algs)
			}
		})
	}
}

// TestInteropServerJWTBearer redeems a JWT bearer grant assertion (RFC 7523
// §2.1) at both baseline instances: the access token is the user's
// (userinfo and introspection say so).
func TestInteropServerJWTBearer(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			r := newExtraRP(t, op, clientGrants)
			key, err := extraKey(clientGrants)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := r.tokenRequest(t.Context(), url.Values{"grant_type": {grantJWTBearer}, "assertion": {grantAssertion(t, r, key, nil)}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 {
				t.Fatalf("jwt-bearer: status %d: %s", resp.Status, resp.Body)
			}
			at := resp.str("access_token")
			if at == "" || resp.str("token_type") != "Bearer" || resp.str("scope") != "openid" {
				t.Fatalf("jwt-bearer: access token empty or token_type/scope = %q/%q, want Bearer/openid",
					resp.str("token_type"), resp.str("scope"))
			}
			if sub := userinfoSub(t, op, at); sub != subject {
				t.Errorf("userinfo sub = %q, want %q", sub, subject)
			}
			info := introspect(t, r, at)
			if info["active"] != true || info["sub"] != subject || info["client_id"] != clientGrants {
				t.Errorf("introspection = %v, want active, sub %s, client_id %s", info, subject, clientGrants)
			}
		})
	}
}

// TestInteropServerJWTBearerRefused shows that server.mjs's JWT bearer grant
// is strict: each rule of RFC 7523 §3 it enforces refuses one assertion
// with invalid_grant (or invalid_scope).
func TestInteropServerJWTBearerRefused(t *testing.T) {
	needInterop(t)
	t.Parallel()
	other, err := loadKey(testkeys.RSA2048C, jwks.RS256)
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name  string
		ops   []string // nil: both
		make  func(t *testing.T, r *rp, key jwks.KeySource) url.Values
		error string
	}
	bearer := func(a string) url.Values { return url.Values{"grant_type": {grantJWTBearer}, "assertion": {a}} }
	cases := []tc{
		{name: "audience elsewhere", make: func(t *testing.T, r *rp, key jwks.KeySource) url.Values {
			return bearer(grantAssertion(t, r, key, func(c *assertion.TokenConfig) { c.Audience = []string{"https://elsewhere.example"} }))
		}, error: "invalid_grant"},
		{name: "audience array", ops: []string{strictOP}, make: func(t *testing.T, r *rp, key jwks.KeySource) url.Values {
			return bearer(grantAssertion(t, r, key, func(c *assertion.TokenConfig) { c.Audience = []string{r.md.Issuer, "https://elsewhere.example"} }))
		}, error: "invalid_grant"},
		{name: "audience token endpoint", ops: []string{strictOP}, make: func(t *testing.T, r *rp, key jwks.KeySource) url.Values {
			return bearer(grantAssertion(t, r, key, func(c *assertion.TokenConfig) { c.Audience = []string{r.md.TokenEndpoint} }))
		}, error: "invalid_grant"},
		{name: "unknown subject", make: func(t *testing.T, r *rp, key jwks.KeySource) url.Values {
			return bearer(grantAssertion(t, r, key, func(c *assertion.TokenConfig) { c.Subject = "someone-else" }))
		}, error: "invalid_grant"},
		{name: "no subject", make: func(t *testing.T, r *rp, key jwks.KeySource) url.Values {
			return bearer(grantAssertion(t, r, key, func(c *assertion.TokenConfig) { c.Subject = "" }))
		}, error: "invalid_grant"},
		{name: "issuer not the client", make: func(t *testing.T, r *rp, key jwks.KeySource) url.Values {
			return bearer(grantAssertion(t, r, key, func(c *assertion.TokenConfig) { c.Issuer = clientGrants }))
		}, error: "invalid_grant"},
		{name: "key not the client's", make: func(t *testing.T, r *rp, _ jwks.KeySource) url.Values {
			return bearer(grantAssertion(t, r, other, nil))
		}, error: "invalid_grant"},
		{name: "expired", make: func(t *testing.T, r *rp, key jwks.KeySource) url.Values {
			return bearer(grantAssertion(t, r, key, func(c *assertion.TokenConfig) {
				c.Now = func() time.Time { return time.Now().Add(-time.Hour) }
			}))
		}, error: "invalid_grant"},
		{name: "no jti", make: func(t *testing.T, r *rp, key jwks.KeySource) url.Values {
			return bearer(grantAssertion(t, r, key, func(c *assertion.TokenConfig) { c.OmitJTI = true }))
		}, error: "invalid_grant"},
		{name: "client assertion as grant", make: func(t *testing.T, r *rp, _ jwks.KeySource) url.Values {
			a, err := r.minter.Assertion(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return bearer(a)
		}, error: "invalid_grant"},
		{name: "typ client-authentication+jwt", make: func(t *testing.T, r *rp, _ jwks.KeySource) url.Values {
			// A grant assertion valid in every other way, typed as a client
			// assertion: the assertion package refuses to mint it.
			key, err := extraKey(clientGrantProbe)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().Unix()
			a, err := signJWS(t.Context(), key, map[string]any{"typ": "client-authentication+jwt"}, map[string]any{
				"iss": clientGrantProbe, "sub": subject, "aud": r.md.Issuer, "iat": now, "exp": now + 60, "jti": rand.Text(),
			})
			if err != nil {
				t.Fatal(err)
			}
			return bearer(a)
		}, error: "invalid_grant"},
		{name: "scope beyond openid", make: func(t *testing.T, r *rp, key jwks.KeySource) url.Values {
			f := bearer(grantAssertion(t, r, key, nil))
			f.Set("scope", "openid offline_access")
			return f
		}, error: "invalid_scope"},
		{name: "no assertion", make: func(*testing.T, *rp, jwks.KeySource) url.Values {
			return url.Values{"grant_type": {grantJWTBearer}}
		}, error: "invalid_request"},
	}
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			r := newExtraRP(t, op, clientGrantProbe)
			key, err := extraKey(clientGrantProbe)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				if c.ops != nil && !slices.Contains(c.ops, op) {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					resp, err := r.tokenRequest(t.Context(), c.make(t, r, key))
					if err != nil {
						t.Fatal(err)
					}
					if resp.Status != 400 || resp.str("error") != c.error {
						t.Errorf("status %d, error %q, want 400 %s: %s", resp.Status, resp.str("error"), c.error, resp.Body)
					}
				})
			}
			t.Run("DPoP proof", func(t *testing.T) {
				// The extension grants issue bearer tokens only: a proof is
				// refused, not ignored.
				f, err := r.withClientAuth(t.Context(), url.Values{"grant_type": {grantJWTBearer}, "assertion": {grantAssertion(t, r, key, nil)}})
				if err != nil {
					t.Fatal(err)
				}
				proof, err := newDPoPProver(t).proof(t.Context(), http.MethodPost, r.md.TokenEndpoint, "")
				if err != nil {
					t.Fatal(err)
				}
				resp, err := postForm(t.Context(), r.md.TokenEndpoint, f, http.Header{"Dpop": {proof}})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != 400 || resp.str("error") != "invalid_request" {
					t.Errorf("status %d, error %q, want 400 invalid_request: %s", resp.Status, resp.str("error"), resp.Body)
				}
			})
			t.Run("replay", func(t *testing.T) {
				a := grantAssertion(t, r, key, nil)
				for i, want := range []int{200, 400} {
					resp, err := r.tokenRequest(t.Context(), url.Values{"grant_type": {grantJWTBearer}, "assertion": {a}})
					if err != nil {
						t.Fatal(err)
					}
					if resp.Status != want {
						t.Fatalf("use #%d: status %d, want %d: %s", i+1, resp.Status, want, resp.Body)
					}
				}
			})
		})
	}
}

// TestInteropServerTokenExchange exchanges an access token (RFC 8693) at
// both baseline instances: the new token is the same user's, and the
// response names its issued_token_type.
func TestInteropServerTokenExchange(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			r := newExtraRP(t, op, clientGrants)
			subjectToken := jwtBearerToken(t, r)
			resp, err := r.tokenRequest(t.Context(), url.Values{
				"grant_type":         {grantTokenExchange},
				"subject_token":      {subjectToken},
				"subject_token_type": {tokenTypeAccessToken},
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 {
				t.Fatalf("token exchange: status %d: %s", resp.Status, resp.Body)
			}
			at := resp.str("access_token")
			if at == "" || at == subjectToken {
				t.Fatal("token exchange: no new access token")
			}
			if resp.str("issued_token_type") != tokenTypeAccessToken || resp.str("token_type") != "Bearer" {
				t.Errorf("issued_token_type/token_type = %q/%q, want %s/Bearer", resp.str("issued_token_type"), resp.str("token_type"), tokenTypeAccessToken)
			}
			if sub := userinfoSub(t, op, at); sub != subject {
				t.Errorf("userinfo sub = %q, want %q", sub, subject)
			}
		})
	}
}

// TestInteropServerTokenExchangeRefused shows the token exchange rules of
// server.mjs: each refuses one request.
func TestInteropServerTokenExchangeRefused(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			r := newExtraRP(t, op, clientGrantProbe)
			subjectToken := jwtBearerToken(t, r)
			exchange := func(edit func(url.Values)) url.Values {
				f := url.Values{
					"grant_type":         {grantTokenExchange},
					"subject_token":      {subjectToken},
					"subject_token_type": {tokenTypeAccessToken},
				}
				edit(f)
				return f
			}
			cases := []struct {
				name, error string
				form        url.Values
			}{
				{"subject token type refresh token", "invalid_request", exchange(func(f url.Values) {
					f.Set("subject_token_type", "urn:ietf:params:oauth:token-type:refresh_token")
				})},
				{"unknown subject token", "invalid_request", exchange(func(f url.Values) { f.Set("subject_token", rand.Text()) })},
				{"requested id token", "invalid_request", exchange(func(f url.Values) {
					f.Set("requested_token_type", "urn:ietf:params:oauth:token-type:id_token")
				})},
				{"scope beyond the subject token's", "invalid_scope", exchange(func(f url.Values) { f.Set("scope", "openid offline_access") })},
				{"actor token", "invalid_request", exchange(func(f url.Values) {
					f.Set("actor_token", subjectToken)
					f.Set("actor_token_type", tokenTypeAccessToken)
				})},
				{"audience", "invalid_target", exchange(func(f url.Values) { f.Set("audience", "https://elsewhere.example") })},
				{"no subject token", "invalid_request", exchange(func(f url.Values) { f.Del("subject_token") })},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					resp, err := r.tokenRequest(t.Context(), c.form)
					if err != nil {
						t.Fatal(err)
					}
					if resp.Status != 400 || resp.str("error") != c.error {
						t.Errorf("status %d, error %q, want 400 %s: %s", resp.Status, resp.str("error"), c.error, resp.Body)
					}
				})
			}
			t.Run("revoked subject token", func(t *testing.T) {
				revoked := jwtBearerToken(t, r)
				f, err := r.withClientAuth(t.Context(), url.Values{"token": {revoked}, "token_type_hint": {"access_token"}})
				if err != nil {
					t.Fatal(err)
				}
				resp, err := postForm(t.Context(), endpoint(t, op, "revocation_endpoint"), f, nil)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != 200 {
					t.Fatalf("revocation: status %d: %s", resp.Status, resp.Body)
				}
				resp, err = r.tokenRequest(t.Context(), url.Values{
					"grant_type":         {grantTokenExchange},
					"subject_token":      {revoked},
					"subject_token_type": {tokenTypeAccessToken},
				})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != 400 || resp.str("error") != "invalid_request" {
					t.Errorf("status %d, error %q, want 400 invalid_request: %s", resp.Status, resp.str("error"), resp.Body)
				}
			})
		})
	}
}

// TestInteropServerUserinfo logs in and calls userinfo: JSON for a plain
// client, a JWT signed with ES256 for the client registered with
// userinfo_signed_response_alg.
func TestInteropServerUserinfo(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			t.Run("json", func(t *testing.T) {
				t.Parallel()
				r := newExtraRP(t, op, clientRPTokens)
				res, err := r.login(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if sub := userinfoSub(t, op, res.token.AccessToken); sub != subject {
					t.Errorf("userinfo sub = %q, want %q", sub, subject)
				}
			})
			t.Run("signed", func(t *testing.T) {
				t.Parallel()
				r := newExtraRP(t, op, clientRPUserinfoJWT)
				res, err := r.login(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				resp, err := bearerGet(t.Context(), endpoint(t, op, "userinfo_endpoint"), "Bearer", res.token.AccessToken, nil)
				if err != nil {
					t.Fatal(err)
				}
				if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.Status != 200 || mt != "application/jwt" {
					t.Fatalf("userinfo: status %d, content type %q, want 200 application/jwt", resp.Status, resp.Header.Get("Content-Type"))
				}
				claims := verifyProviderJWT(t, op, string(resp.Body), jose.ES256)
				if claims["iss"] != env.issuer(op) || claims["aud"] != clientRPUserinfoJWT || claims["sub"] != subject {
					t.Errorf("signed userinfo iss/aud/sub = %v/%v/%v, want %s/%s/%s", claims["iss"], claims["aud"], claims["sub"],
						env.issuer(op), clientRPUserinfoJWT, subject)
				}
			})
		})
	}
}

// TestInteropServerIntrospectionRevocation introspects a login's tokens,
// revokes the access token and introspects it again.
func TestInteropServerIntrospectionRevocation(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			r := newExtraRP(t, op, clientRPTokens)
			res, err := r.login(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for name, tok := range map[string]string{"access": res.token.AccessToken, "refresh": res.token.RefreshToken} {
				if info := introspect(t, r, tok); info["active"] != true || info["sub"] != subject || info["client_id"] != clientRPTokens {
					t.Errorf("introspection of the %s token = %v, want active, sub %s, client_id %s", name, info, subject, clientRPTokens)
				}
			}
			f, err := r.withClientAuth(t.Context(), url.Values{"token": {res.token.AccessToken}})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := postForm(t.Context(), endpoint(t, op, "revocation_endpoint"), f, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 {
				t.Fatalf("revocation: status %d: %s", resp.Status, resp.Body)
			}
			if info := introspect(t, r, res.token.AccessToken); info["active"] != false {
				t.Errorf("introspection after revocation = %v, want active false", info)
			}
		})
	}
}

// loginUA is rp.login with a given user agent, whose cookies keep the
// provider's session for a logout.
func (r *rp) loginUA(ctx context.Context, ua *userAgent) (*loginResult, error) {
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	cb, err := ua.authorize(ctx, r.oauth.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce)))
	if err != nil {
		return nil, err
	}
	q := cb.Query()
	if q.Get("error") != "" || q.Get("state") != state || q.Get("iss") != r.md.Issuer {
		return nil, fmt.Errorf("callback error %q, or state or iss differs", q.Get("error"))
	}
	auth, err := r.clientAuth(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := r.oauth.Exchange(context.WithValue(ctx, oauth2.HTTPClient, r.hc), q.Get("code"),
		append(authOptions(auth), oauth2.VerifierOption(verifier))...)
	if err != nil {
		return nil, fmt.Errorf("code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("code exchange: no id_token in the response")
	}
	return &loginResult{token: tok, idToken: raw, nonce: nonce}, nil
}

// logoutTokensFrom returns the logout tokens received for clientID whose
// payload names iss as issuer (the receiver is shared by both providers).
// The payloads are read unverified, only to sort them.
func logoutTokensFrom(clientID, iss string) []string {
	var out []string
	for _, raw := range env.backchannel.logoutTokens(clientID) {
		parts := strings.Split(raw, ".")
		if len(parts) != 3 {
			continue
		}
		var claims struct {
			Iss string `json:"iss"`
		}
		if b, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256}); err == nil {
			if json.Unmarshal(b.UnsafePayloadWithoutVerification(), &claims) == nil && claims.Iss == iss {
				out = append(out, raw)
			}
		}
	}
	return out
}

// TestInteropServerLogout logs in, then logs out through the end session
// endpoint with id_token_hint, post_logout_redirect_uri and state: the
// confirmation page is passed without a person, the provider redirects to
// the registered URI with the state, POSTs a verifiable logout token to the
// client's backchannel_logout_uri, logs both events, and revokes the
// login's grant.
func TestInteropServerLogout(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			r := newExtraRP(t, op, clientRPLogout)
			ua, err := newUserAgent()
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.loginUA(t.Context(), ua)
			if err != nil {
				t.Fatal(err)
			}
			before := len(logoutTokensFrom(clientRPLogout, env.issuer(op)))
			state := rand.Text()
			loc, err := ua.endSession(t.Context(), endpoint(t, op, "end_session_endpoint"), url.Values{
				"id_token_hint":            {res.idToken},
				"post_logout_redirect_uri": {postLogoutRedirectURI},
				"state":                    {state},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(loc.String(), postLogoutRedirectURI) || loc.Query().Get("state") != state {
				t.Errorf("logout ended at %s, want %s with the state", loc.Redacted(), postLogoutRedirectURI)
			}

			toks := logoutTokensFrom(clientRPLogout, env.issuer(op))
			if len(toks) != before+1 {
				t.Fatalf("back-channel logout tokens from %s: %d, want %d", op, len(toks), before+1)
			}
			claims := verifyProviderJWT(t, op, toks[len(toks)-1], jose.RS256, jose.ES256)
			events, _ := claims["events"].(map[string]any)
			if claims["aud"] != clientRPLogout || claims["sub"] != subject || claims["sid"] == nil || claims["jti"] == nil ||
				events["http://schemas.openid.net/event/backchannel-logout"] == nil || claims["nonce"] != nil {
				t.Errorf("logout token claims = %v, want aud %s, sub %s, sid, jti, the back-channel event and no nonce", claims, clientRPLogout, subject)
			}

			log, err := env.serverLog(t.Context(), op)
			if err != nil {
				t.Fatal(err)
			}
			var ended, sent bool
			for _, ev := range log {
				ended = ended || ev.Event == "end_session.success" && ev.ClientID == clientRPLogout
				sent = sent || ev.Event == "backchannel.success" && ev.ClientID == clientRPLogout && ev.Sub == subject
			}
			if !ended || !sent {
				t.Errorf("server log = %+v, want end_session.success and backchannel.success for %s", log, clientRPLogout)
			}
			if info := introspect(t, r, res.token.AccessToken); info["active"] != false {
				t.Errorf("introspection of the access token after logout = %v, want active false", info)
			}
		})
	}
}

// TestInteropServerLogoutUnregisteredRedirect asks for a logout with a
// post_logout_redirect_uri the client did not register: the provider
// refuses before any confirmation page.
func TestInteropServerLogoutUnregisteredRedirect(t *testing.T) {
	needInterop(t)
	t.Parallel()
	for _, op := range baselineOPs {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			ua, err := newUserAgent()
			if err != nil {
				t.Fatal(err)
			}
			_, err = ua.endSession(t.Context(), endpoint(t, op, "end_session_endpoint"), url.Values{
				"client_id":                {clientRPLogout},
				"post_logout_redirect_uri": {"http://127.0.0.1/elsewhere"},
			})
			if err == nil || !strings.Contains(err.Error(), "status 400") {
				t.Errorf("endSession with an unregistered post_logout_redirect_uri: %v, want status 400", err)
			}
		})
	}
}
