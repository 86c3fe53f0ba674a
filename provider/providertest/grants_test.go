package providertest_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pkjwt/pkjwt/provider/providertest"
)

// withAuth adds a fresh client assertion to form.
func withAuth(t *testing.T, s *providertest.Server, form url.Values) url.Values {
	form.Set("client_assertion_type", providertest.ClientAssertionType)
	form.Set("client_assertion", assertion(t, s, t0))
	return form
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	_, challenge := pkce()
	base := func() url.Values {
		u, _ := url.Parse(authURL(s, challenge, "st", "n"))
		return u.Query()
	}
	tests := []struct {
		name       string
		mod        func(q url.Values)
		redirected bool   // else ErrNotRedirected
		code       string // error in the callback
		want       error
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nobody") }, false, "", providertest.ErrUnknownClient},
		{"redirect_uri not registered", func(q url.Values) { q.Set("redirect_uri", redirectURI+"/x") }, false, "", providertest.ErrRedirectURI},
		{"redirect_uri prefix match only", func(q url.Values) { q.Set("redirect_uri", "https://app.example/callback?x=1") }, false, "", providertest.ErrRedirectURI},
		{"redirect_uri missing", func(q url.Values) { q.Del("redirect_uri") }, false, "", providertest.ErrRedirectURI},
		{"response_type token", func(q url.Values) { q.Set("response_type", "token") }, true, "unsupported_response_type", providertest.ErrInvalidRequest},
		{"no openid scope", func(q url.Values) { q.Set("scope", "email") }, true, "invalid_scope", providertest.ErrScope},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, true, "invalid_request", providertest.ErrPKCE},
		{"PKCE plain", func(q url.Values) { q.Set("code_challenge_method", "plain") }, true, "invalid_request", providertest.ErrPKCE},
		{"PKCE method missing", func(q url.Values) { q.Del("code_challenge_method") }, true, "invalid_request", providertest.ErrPKCE},
		{"PKCE challenge malformed", func(q url.Values) { q.Set("code_challenge", "short") }, true, "invalid_request", providertest.ErrPKCE},
	}
	for _, tc := range tests {
		q := base()
		tc.mod(q)
		cb, err := s.Authorize(t.Context(), s.AuthorizationEndpoint()+"?"+q.Encode())
		if !tc.redirected {
			if !errors.Is(err, providertest.ErrNotRedirected) {
				t.Errorf("%s: Authorize error = %v, want ErrNotRedirected", tc.name, err)
			}
		} else if err != nil {
			t.Errorf("%s: Authorize error = %v", tc.name, err)
			continue
		} else if got := cb.Query(); got.Get("error") != tc.code || got.Get("code") != "" || got.Get("state") != "st" || got.Get("iss") != s.Issuer() {
			t.Errorf("%s: callback %v, want error %s with state and iss", tc.name, got, tc.code)
		}
		if !errors.Is(lastReason(t, s), tc.want) {
			t.Errorf("%s: reason %v, want %v", tc.name, lastReason(t, s), tc.want)
		}
	}
}

func TestCodeBindings(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	c2 := testClient()
	c2.ID = "client-2"
	if err := s.RegisterClient(c2); err != nil {
		t.Fatal(err)
	}
	type req struct {
		verifier, redirect, client string
	}
	for _, tc := range []struct {
		name string
		mod  func(r *req)
		want error
	}{
		{"wrong verifier", func(r *req) { r.verifier = "x" + r.verifier[1:] }, providertest.ErrPKCE},
		{"no verifier", func(r *req) { r.verifier = "" }, providertest.ErrPKCE},
		{"redirect_uri differs", func(r *req) { r.redirect = redirectURI + "2" }, providertest.ErrRedirectURI},
		{"redirect_uri missing", func(r *req) { r.redirect = "" }, providertest.ErrRedirectURI},
		{"another client", func(r *req) { r.client = "client-2" }, providertest.ErrCodeClientMismatch},
	} {
		verifier, challenge := pkce()
		cb, err := s.Authorize(t.Context(), authURL(s, challenge, "s", "n"))
		if err != nil {
			t.Fatal(err)
		}
		r := req{verifier, redirectURI, clientID}
		tc.mod(&r)
		c := claims(s, t0)
		c["iss"], c["sub"] = r.client, r.client
		form := url.Values{
			"grant_type": {providertest.GrantAuthorizationCode}, "code": {cb.Query().Get("code")},
			"client_assertion_type": {providertest.ClientAssertionType},
			"client_assertion":      {signJWS(t, clientKey(), jose.RS256, clientKID, nil, c)},
		}
		if r.verifier != "" {
			form.Set("code_verifier", r.verifier)
		}
		if r.redirect != "" {
			form.Set("redirect_uri", r.redirect)
		}
		st, body, _ := post(t, s, form, nil)
		if st != 400 || body["error"] != "invalid_grant" || !errors.Is(lastReason(t, s), tc.want) {
			t.Errorf("%s: status %d %v reason %v, want invalid_grant %v", tc.name, st, body, lastReason(t, s), tc.want)
		}
	}
}

func TestCodeExpires(t *testing.T) {
	t.Parallel()
	s, clk := newServer(t, providertest.Config{CodeLifetime: 30 * time.Second})
	verifier, challenge := pkce()
	cb, err := s.Authorize(t.Context(), authURL(s, challenge, "s", "n"))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	form := withAuth(t, s, url.Values{"grant_type": {providertest.GrantAuthorizationCode}, "code": {cb.Query().Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	form.Set("client_assertion", assertion(t, s, clk.Now()))
	if st, _, _ := post(t, s, form, nil); st != 400 || !errors.Is(lastReason(t, s), providertest.ErrInvalidCode) {
		t.Errorf("expired code: status %d reason %v", st, lastReason(t, s))
	}
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	first := login(t, s, t0)
	rt := first["refresh_token"].(string)
	st, second, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {providertest.GrantRefreshToken}, "refresh_token": {rt}}), nil)
	if st != 200 || second["refresh_token"] == rt || second["id_token"] == nil {
		t.Fatalf("refresh: %d %v", st, second)
	}
	_, c := splitJWT(t, second["id_token"].(string))
	if _, ok := c["nonce"]; ok {
		t.Errorf("refreshed ID token carries a nonce")
	}
	// The old refresh token is spent; presenting it revokes the family.
	if st, _, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {providertest.GrantRefreshToken}, "refresh_token": {rt}}), nil); st != 400 || !errors.Is(lastReason(t, s), providertest.ErrInvalidRefreshToken) {
		t.Errorf("reused refresh token: %d %v", st, lastReason(t, s))
	}
	if got := userinfoStatus(t, s, second["access_token"].(string)); got != 401 {
		t.Errorf("userinfo with a token of a revoked family: %d, want 401", got)
	}
	// Scope may narrow, never widen.
	third := login(t, s, t0)
	if st, _, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {providertest.GrantRefreshToken}, "refresh_token": {third["refresh_token"].(string)}, "scope": {"openid admin"}}), nil); st != 400 || !errors.Is(lastReason(t, s), providertest.ErrScope) {
		t.Errorf("widened scope: %d %v", st, lastReason(t, s))
	}
}

func TestGrantTypes(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	limited := testClient()
	limited.ID = "limited"
	limited.GrantTypes = nil // authorization_code and refresh_token
	if err := s.RegisterClient(limited); err != nil {
		t.Fatal(err)
	}
	// client_credentials
	st, body, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {providertest.GrantClientCredentials}, "scope": {"api"}}), nil)
	if st != 200 || body["access_token"] == nil || body["id_token"] != nil || body["refresh_token"] != nil {
		t.Errorf("client_credentials: %d %v", st, body)
	}
	// Unknown and missing grant types, a client not registered for one.
	if st, body, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {"password"}}), nil); st != 400 || body["error"] != "unsupported_grant_type" {
		t.Errorf("password grant: %d %v", st, body)
	}
	if st, body, _ := post(t, s, withAuth(t, s, url.Values{}), nil); st != 400 || body["error"] != "invalid_request" {
		t.Errorf("no grant_type: %d %v", st, body)
	}
	c := claims(s, t0)
	c["iss"], c["sub"] = "limited", "limited"
	form := tokenForm(signJWS(t, clientKey(), jose.RS256, clientKID, nil, c))
	if st, body, _ := post(t, s, form, nil); st != 400 || body["error"] != "unauthorized_client" || !errors.Is(lastReason(t, s), providertest.ErrUnauthorizedClient) {
		t.Errorf("client_credentials for a client without it: %d %v", st, body)
	}
	// A repeated parameter.
	form = withAuth(t, s, url.Values{"grant_type": {providertest.GrantClientCredentials}})
	form.Add("scope", "a")
	form.Add("scope", "b")
	if st, body, _ := post(t, s, form, nil); st != 400 || body["error"] != "invalid_request" {
		t.Errorf("repeated parameter: %d %v", st, body)
	}
}

func TestJWTBearerGrant(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	grant := func(mod func(c map[string]any)) string {
		c := claims(s, t0)
		c["sub"] = "bob"
		if mod != nil {
			mod(c)
		}
		return signJWS(t, clientKey(), jose.RS256, clientKID, map[string]any{"typ": "JWT"}, c)
	}
	good := grant(nil)
	st, body, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {providertest.GrantJWTBearer}, "assertion": {good}}), nil)
	if st != 200 || body["access_token"] == nil {
		t.Fatalf("jwt-bearer: %d %v", st, body)
	}
	for _, tc := range []struct {
		name      string
		assertion string
		want      error
	}{
		{"replayed", good, providertest.ErrReplay},
		{"expired", grant(func(c map[string]any) { c["iat"], c["exp"] = t0.Add(-time.Minute).Unix(), t0.Add(-time.Second).Unix() }), providertest.ErrExpired},
		{"wrong aud", grant(func(c map[string]any) { c["aud"] = "https://elsewhere.example" }), providertest.ErrAudience},
		{"wrong iss", grant(func(c map[string]any) { c["iss"] = "other" }), providertest.ErrIssuer},
		{"no sub", grant(func(c map[string]any) { delete(c, "sub") }), providertest.ErrSubject},
		{"alg none", handJWT(map[string]any{"alg": "none"}, map[string]any{"iss": clientID, "sub": "bob"}, nil), providertest.ErrAlgorithm},
	} {
		st, body, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {providertest.GrantJWTBearer}, "assertion": {tc.assertion}}), nil)
		r := lastReason(t, s)
		if st != 400 || body["error"] != "invalid_grant" || !errors.Is(r, tc.want) || !errors.Is(r, providertest.ErrInvalidGrantAssertion) {
			t.Errorf("%s: %d %v reason %v, want invalid_grant %v", tc.name, st, body, r, tc.want)
		}
	}
}

func TestTokenExchange(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	tok := login(t, s, t0)
	for _, tc := range []struct {
		name, token, typ string
		ok               bool
	}{
		{"access token", tok["access_token"].(string), providertest.TokenTypeAccessToken, true},
		{"ID token", tok["id_token"].(string), providertest.TokenTypeIDToken, true},
		{"refresh token as access token", tok["refresh_token"].(string), providertest.TokenTypeAccessToken, false},
		{"garbage", "garbage", providertest.TokenTypeJWT, false},
	} {
		st, body, _ := post(t, s, withAuth(t, s, url.Values{
			"grant_type": {providertest.GrantTokenExchange}, "subject_token": {tc.token}, "subject_token_type": {tc.typ}, "audience": {"https://api.example"},
		}), nil)
		if tc.ok && (st != 200 || body["issued_token_type"] != providertest.TokenTypeAccessToken) {
			t.Errorf("%s: %d %v", tc.name, st, body)
		}
		if !tc.ok && (st != 400 || !errors.Is(lastReason(t, s), providertest.ErrInvalidSubjectToken)) {
			t.Errorf("%s: %d %v reason %v", tc.name, st, body, lastReason(t, s))
		}
	}
	if st, body, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {providertest.GrantTokenExchange}}), nil); st != 400 || body["error"] != "invalid_request" {
		t.Errorf("no subject token: %d %v", st, body)
	}
}

func TestUserInfoRefusals(t *testing.T) {
	t.Parallel()
	s, clk := newServer(t, providertest.Config{AccessTokenLifetime: time.Minute})
	tok := login(t, s, t0)
	cc, _, _ := func() (map[string]any, int, error) {
		_, b, _ := post(t, s, withAuth(t, s, url.Values{"grant_type": {providertest.GrantClientCredentials}}), nil)
		return b, 0, nil
	}()
	for name, at := range map[string]string{
		"unknown token":                "nope",
		"refresh token":                tok["refresh_token"].(string),
		"client credentials no openid": cc["access_token"].(string),
	} {
		if got := userinfoStatus(t, s, at); got != 401 {
			t.Errorf("%s: status %d, want 401", name, got)
		}
	}
	clk.Advance(time.Minute)
	if got := userinfoStatus(t, s, tok["access_token"].(string)); got != 401 {
		t.Errorf("expired token: status %d, want 401", got)
	}
}

func TestAuthorizePost(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, providertest.Config{})
	_, challenge := pkce()
	u, _ := url.Parse(authURL(s, challenge, "st", "n"))
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.PostForm(s.AuthorizationEndpoint(), u.Query())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		t.Errorf("POST authorize: %d %v %v", resp.StatusCode, loc, err)
	}
}
